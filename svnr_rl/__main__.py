"""Command line of svnr_rl: train, evaluate, resume, inspect runs, reproduce the results.

  train       train a new run (default: SVNR on Max of Three, s2 = 1.5, on the CPU)
  evaluate    decentralized test episodes of a run folder or checkpoint
  resume      continue an interrupted or killed run from its latest checkpoint
  status      where runs stand (running, stopped, interrupted, failed, completed)
  study       run, tune or report a study file: tables, tuning, figures (long; resumable)
  anchor      stable-baselines3's SAC beside this backbone on one task (see `anchor --help`)

Invalid input prints one `error: ...` line naming the problem and exits with status 2, before
any run folder exists; Ctrl-C exits with status 130 and keeps the last checkpoint.
"""

from __future__ import annotations

# Only the standard library at import time: `--help` and argument errors must answer without
# importing torch (seconds on a busy machine).  Everything else is imported by the handlers.
import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from svnr_rl.cli_style import (
    deferred_interrupt,
)

if TYPE_CHECKING:
    from svnr_rl.config import Config

__all__ = ["main"]


def _build_parser() -> argparse.ArgumentParser:
    from svnr_rl.cli_parser import build_parser

    return build_parser(__doc__ or "")


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
    if args.method is not None:
        extra.append(f'algo.method="{args.method}"')
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
    if args.print_config:
        from svnr_rl.config import config_to_dict

        print(json.dumps(config_to_dict(cfg), indent=2))
        return 0
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
    from svnr_rl.study.trials import recorded_trainer_factory
    from svnr_rl.train import resume

    over: dict[str, object] = {}
    if args.steps is not None:
        over["total_env_steps"] = args.steps
    if args.device is not None:
        over["device"] = args.device
    if args.progress is not None:
        over["progress"] = args.progress
    res = resume(args.run, overrides=over, trainer_factory=recorded_trainer_factory(Path(args.run)))
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


def _cmd_study(args: argparse.Namespace) -> int:
    import shlex

    from svnr_rl.study.cli import run_command

    return run_command(args, " ".join(["python -m svnr_rl", *map(shlex.quote, args.argv)]))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for invalid input, 130 when interrupted)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["anchor"]:
            from svnr_rl.anchor import main as anchor_main

            return anchor_main(argv[1:])
        try:
            args = _build_parser().parse_args(argv)
        except SystemExit as exc:  # --help (0), or a usage error argparse has printed (2)
            return exc.code if isinstance(exc.code, int) else 2
        args.argv = argv
        handlers = {
            "train": _cmd_train,
            "evaluate": _cmd_evaluate,
            "resume": _cmd_resume,
            "status": _cmd_status,
            "study": _cmd_study,
        }
        from svnr_rl.config import ConfigError
        from svnr_rl.errors import CheckpointError

        if args.command in ("train", "evaluate", "resume"):
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
