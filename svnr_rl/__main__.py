"""Command line of svnr_rl: train, evaluate, resume, inspect runs, reproduce the results.

  train       train a new run (default: SVNR on Max of Three, s2 = 1.5, on the CPU)
  evaluate    decentralized test episodes of a run folder or checkpoint
  resume      continue an interrupted or killed run from its latest checkpoint
  status      where runs stand (running, stopped, interrupted, failed, completed)
  experiment  the results tables and figures (long; resumable)
  table       the paper's Table 2 with every method (long; resumable; see `table --help`)
  anchor      stable-baselines3's SAC beside this backbone on one task (see `anchor --help`)

Invalid input prints one `error: ...` line naming the problem and exits with status 2, before
any run folder exists; Ctrl-C exits with status 130 and keeps the last checkpoint.
"""

from __future__ import annotations

# Only the standard library at import time: `--help` and argument errors must answer without
# importing torch (seconds on a busy machine).  Everything else is imported by the handlers.
import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from svnr_rl.cli_style import (
    DEFAULT_RESULTS,
    DEVICES,
    MAX_SEED,
    MAX_TEST_EPISODES,
    HelpFormatter,
    bounded_int,
    deferred_interrupt,
)

if TYPE_CHECKING:
    from svnr_rl.config import Config

__all__ = ["main"]


def _build_parser() -> argparse.ArgumentParser:
    from svnr_rl.config import TASKS

    p = argparse.ArgumentParser(
        prog="python -m svnr_rl", description=__doc__, formatter_class=HelpFormatter
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_: str, description: str) -> argparse.ArgumentParser:
        import textwrap

        return sub.add_parser(
            name,
            help=help_,
            description=textwrap.fill(description, 88),
            formatter_class=HelpFormatter,
        )

    t = command(
        "train",
        "train a new run (default: SVNR on Max of Three, s2 = 1.5)",
        "Train a new run: the task's preset, then --config FILE, then every --set.  The task "
        "may be named by --task, by env.task in the file or by --set env.task=...; where more "
        "than one names it they must agree, and the preset is the named task's.",
    )
    t.add_argument(
        "--task",
        default=None,
        choices=TASKS,
        metavar="TASK",
        help=f"the task and its preset, one of: {', '.join(TASKS)} "
        "(default: env.task of --config, else max-of-three)",
    )
    t.add_argument(
        "--s2", type=float, default=None, help="Max of Three basin width (paper: 3.0, 2.0, 1.5)"
    )
    t.add_argument("--config", default=None, metavar="FILE", help="config file (.json or .toml)")
    t.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SEC.KEY=VALUE",
        help="override a config field (repeatable), e.g. --set algo.num_particles=16",
    )
    t.add_argument(
        "--seed",
        type=bounded_int(0, MAX_SEED),
        default=None,
        help="training seed (train.seed; default: the preset's, 0)",
    )
    t.add_argument("--device", default=None, choices=DEVICES, help="train.device (default: cpu)")
    t.add_argument(
        "--steps",
        type=bounded_int(1, 10**10),
        default=None,
        help="total environment steps (train.total_env_steps; rounded up to whole evaluation "
        "intervals, with a note; default: the preset's)",
    )
    t.add_argument(
        "--out", default=None, metavar="DIR", help="folder of run folders (default: runs)"
    )
    t.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="show a progress bar",
    )

    e = command(
        "evaluate",
        "decentralized test episodes of a run or checkpoint",
        "Decentralized test episodes (each agent acts alone on its own observation, App. J) of "
        "a run folder's checkpoint or of a checkpoint file; prints the task, method and seed.",
    )
    e.add_argument("target", help="run folder or checkpoint file (.pt)")
    e.add_argument(
        "--which",
        choices=("latest", "best"),
        default="latest",
        help="which checkpoint of a run folder: the last one or the one with the best test return",
    )
    e.add_argument(
        "--episodes",
        type=bounded_int(1, MAX_TEST_EPISODES),
        default=100,
        help="number of test episodes",
    )
    e.add_argument(
        "--seed",
        type=bounded_int(0, MAX_SEED),
        default=12345,
        help="seed of the test episodes and of the agents' common noise",
    )
    e.add_argument(
        "--device", default=None, choices=DEVICES, help="device (default: the run's train.device)"
    )

    r = command(
        "resume",
        "continue an interrupted or killed run",
        "Continue a run from its latest checkpoint; the finish is bit-identical to an "
        "uninterrupted run.  A run that has already trained to its length is left untouched "
        "(pass --steps to extend it).",
    )
    r.add_argument("run", help="run folder")
    r.add_argument(
        "--steps",
        type=bounded_int(1, 10**10),
        default=None,
        help="new total environment steps (default: the run's)",
    )
    r.add_argument(
        "--device", default=None, choices=DEVICES, help="device (default: the run's train.device)"
    )
    r.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: as the run was started)",
    )

    s = command(
        "status",
        "where runs stand",
        "State of run folders: running, stopped (its process is gone, e.g. kill -9), "
        "interrupted, failed or completed, with environment steps and the last test return.",
    )
    s.add_argument("runs", nargs="+", metavar="RUN", help="run folder(s)")

    from svnr_rl.experiment import EXPERIMENTS

    names = [x.name for x in EXPERIMENTS]
    defaults = [x.name for x in EXPERIMENTS if x.default]
    x = command(
        "experiment",
        "produce the results tables and figures (long)",
        "Train (or reuse, or resume) the runs of the named experiments and write results.md "
        "and its figures.  Finished runs are reused; interrupted ones resume.",
    )
    x.add_argument(
        "--out",
        default=DEFAULT_RESULTS,
        metavar="DIR",
        help="where results.md and the figures go (the committed ones are in docs/results)",
    )
    x.add_argument(
        "--runs", default="runs/experiment", metavar="DIR", help="where the run folders go"
    )
    x.add_argument(
        "--seeds", type=bounded_int(1, 1000), default=5, help="seeds 0..S-1 of each experiment"
    )
    x.add_argument(
        "--only",
        action="append",
        default=[],
        choices=names,
        metavar="NAME",
        help=f"experiment to run (repeatable); one of: {', '.join(names)} "
        f"(default: {', '.join(defaults)})",
    )
    x.add_argument("--device", default="cpu", choices=DEVICES, help="training device")
    x.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="show a progress bar per run",
    )

    # Table 2 has its own parser (svnr_rl/table.py); `main` hands everything after `table` to it.
    sub.add_parser("table", help="Table 2: methods x tasks x seeds (see `table --help`)")
    sub.add_parser(
        "anchor", help="stable-baselines3 SAC beside this backbone (see `anchor --help`)"
    )
    return p


def _file_data(path: str) -> dict[str, Any]:
    from svnr_rl.config import read_config_file

    return read_config_file(path)


def _named_task(args: argparse.Namespace, data: dict[str, Any]) -> str:
    """The task: from --task, env.task of the file, or --set env.task; they must agree."""
    from svnr_rl.config import TASKS, ConfigError, _parse_value

    named: dict[str, object] = {}
    if args.task is not None:
        named["--task"] = args.task
    env = data.get("env")
    if isinstance(env, dict) and "task" in env:
        named[f"env.task in {args.config}"] = env["task"]
    for item in args.overrides:
        key, sep, text = item.partition("=")
        if sep and key.strip() == "env.task":
            named["--set env.task"] = _parse_value(text.strip())
    if len({repr(v) for v in named.values()}) > 1:
        listed = ", ".join(f"{k} = {v!r}" for k, v in named.items())
        raise ConfigError(f"env.task: named differently in two places ({listed}); name it once")
    task = next(iter(named.values()), "max-of-three")
    if not isinstance(task, str) or task not in TASKS:
        raise ConfigError(f"env.task: must be one of {', '.join(TASKS)}; got {task!r}")
    return task


def _train_config(args: argparse.Namespace) -> tuple[Config, list[str]]:
    from svnr_rl.config import (
        ConfigError,
        apply_overrides,
        config_from_dict,
        preset,
        resolve_run_length,
    )

    data = _file_data(args.config) if args.config else {}
    task = _named_task(args, data)
    if args.s2 is not None and task != "max-of-three":
        raise ConfigError(f"--s2 applies only to the task max-of-three; the task is {task}")
    cfg = preset(task)
    if data:
        try:
            cfg = config_from_dict(data, cfg)
        except ConfigError as exc:
            raise ConfigError(f"config file {args.config!r}: {exc}") from None
    extra = list(args.overrides)
    if args.s2 is not None:
        extra.append(f"env.s2={args.s2!r}")
    if args.seed is not None:
        extra.append(f"train.seed={args.seed}")
    if args.device is not None:
        extra.append(f'train.device="{args.device}"')
    if args.steps is not None:
        extra.append(f"train.total_env_steps={args.steps}")
    if args.out is not None:
        extra.append(f"train.out_dir={_json_str(args.out)}")
    if not args.progress:
        extra.append("train.progress=false")
    return resolve_run_length(apply_overrides(cfg, extra))


def _json_str(s: str) -> str:
    import json

    return json.dumps(s)


def _note(lines: list[str]) -> None:
    for line in lines:
        print(f"note: {line}", file=sys.stderr)


def _describe(cfg: Config) -> str:
    task = cfg.env.task + (f" (s2 = {cfg.env.s2:g})" if cfg.env.task == "max-of-three" else "")
    return f"task {task}, method {cfg.algo.method}, seed {cfg.train.seed}"


def _cmd_train(args: argparse.Namespace) -> int:
    cfg, notes = _train_config(args)
    _note(notes)
    from svnr_rl.train import train

    res = train(cfg)
    f = res.final
    print(
        f"final test return: {f.mean:.4f} +- {f.std:.4f} over {f.episodes} episodes "
        "(decentralized execution)"
    )
    if f.gap is not None:
        print(f"optimum: {f.optimum:.4f}   gap to optimum: {f.gap:.4f}")
    if res.steps_to_target is not None:
        print(f"first reached the target return at {res.steps_to_target} environment steps")
    print(f"{res.env_steps} environment steps, {res.updates} updates, {res.wall_time_s:.1f} s")
    print(f"results in: {res.run_dir}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from svnr_rl.train import evaluate_checkpoint

    res, ckpt, cfg = evaluate_checkpoint(
        Path(args.target),
        which=args.which,
        episodes=args.episodes,
        seed=args.seed,
        device=args.device,
    )
    print(f"checkpoint: {ckpt}")
    print(f"run: {_describe(cfg)}")
    print(
        f"test return: {res.mean:.4f} +- {res.std:.4f} over {res.episodes} episodes "
        "(decentralized execution)"
    )
    if res.gap is not None:
        print(f"optimum: {res.optimum:.4f}   gap to optimum: {res.gap:.4f}")
    return 0


def _cmd_resume(args: argparse.Namespace) -> int:
    from svnr_rl.train import resume

    over: dict[str, object] = {}
    if args.steps is not None:
        over["total_env_steps"] = args.steps
    if args.device is not None:
        over["device"] = args.device
    if args.progress is not None:
        over["progress"] = args.progress
    res = resume(args.run, overrides=over)
    if res.already_finished:
        print(
            f"the run had already trained to its length ({res.env_steps} environment steps); "
            "nothing was written (pass --steps N to train it further)"
        )
    f = res.final
    print(f"final test return: {f.mean:.4f} +- {f.std:.4f} over {f.episodes} episodes")
    if f.gap is not None:
        print(f"optimum: {f.optimum:.4f}   gap to optimum: {f.gap:.4f}")
    print(f"results in: {res.run_dir}")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    import csv

    from svnr_rl.config import ConfigError
    from svnr_rl.run_status import read_status

    rows = []
    for name in args.runs:
        rd = Path(name)
        if not (rd / "config.json").is_file():
            raise ConfigError(f"{name!r} is not a run folder (no config.json)")
        st = read_status(rd)
        state = str(st.get("state", "unknown"))
        steps = f"{st.get('env_steps', '?')}/{st.get('total_env_steps', '?')}"
        last = "-"
        metrics = rd / "metrics.csv"
        if metrics.is_file():
            with metrics.open(newline="") as fh:
                table = list(csv.DictReader(fh))
            if table:
                last = f"{float(table[-1]['eval_return_mean']):.4f}"
        hint = ""
        if state in ("stopped", "interrupted", "failed"):
            hint = f"   continue: python -m svnr_rl resume {rd}"
        rows.append(f"{rd}: {state}, env steps {steps}, last test return {last}{hint}")
    print("\n".join(rows))
    return 0


def _cmd_experiment(args: argparse.Namespace) -> int:
    from svnr_rl.experiment import run_experiments

    run_experiments(
        Path(args.out),
        Path(args.runs),
        seeds=args.seeds,
        only=args.only,
        device=args.device,
        progress=args.progress,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for invalid input, 130 when interrupted)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["table"]:
            from svnr_rl.table import main as table_main

            return table_main(argv[1:], prog="python -m svnr_rl table")
        if argv[:1] == ["anchor"]:
            from svnr_rl.anchor import main as anchor_main

            return anchor_main(argv[1:])
        try:
            args = _build_parser().parse_args(argv)
        except SystemExit as exc:  # --help (0), or a usage error argparse has printed (2)
            return exc.code if isinstance(exc.code, int) else 2
        handlers = {
            "train": _cmd_train,
            "evaluate": _cmd_evaluate,
            "resume": _cmd_resume,
            "status": _cmd_status,
            "experiment": _cmd_experiment,
        }
        from svnr_rl.config import ConfigError
        from svnr_rl.errors import CheckpointError

        if args.command in ("train", "evaluate", "resume", "experiment"):
            with deferred_interrupt():  # torch and friends: see deferred_interrupt
                import svnr_rl.train  # noqa: F401
        try:
            return handlers[args.command](args)
        except (ConfigError, CheckpointError) as exc:
            print(f"error: {_short(str(exc))}", file=sys.stderr)
            return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _short(msg: str, limit: int = 600) -> str:
    """One error line, never an echo of a whole file: long messages are cut in the middle."""
    msg = " ".join(msg.split())
    return msg if len(msg) <= limit else msg[: limit - 40] + " ... " + msg[-35:]


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # before main's own handler is in place
        sys.exit(130)
