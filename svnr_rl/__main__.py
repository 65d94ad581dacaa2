"""Command line: ``python -m svnr_rl {train, evaluate, resume, experiment, table}``.

* ``train`` -- with no arguments, SVNR on Max of Three (``s2 = 1.5``) on the CPU; ``--task``
  picks a paper preset, ``--config FILE`` (JSON/TOML) and ``--set section.field=value`` change
  any field.  Prints the final test return, the gap to the optimum and the run folder.
* ``evaluate RUN_OR_CHECKPOINT`` -- decentralized execution episodes, mean +- std.
* ``resume RUN`` -- continue an interrupted run from its latest checkpoint.
* ``experiment`` -- the results tables of ``docs/results/`` (long; resumable).
* ``table`` -- the paper's Table 2 with every method (:mod:`svnr_rl.table`; resumable).

Invalid input (unknown or invalid config entries, a task that does not exist, a missing or
corrupted checkpoint) prints ``error: ...`` and exits with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from svnr_rl.checkpoint import CheckpointError
from svnr_rl.config import TASKS, Config, ConfigError, apply_overrides, load_config_file, preset

__all__ = ["main"]


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m svnr_rl", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a new run (default: SVNR on Max of Three, s2=1.5)")
    t.add_argument("--task", default="max-of-three", help=f"one of: {', '.join(TASKS)}")
    t.add_argument("--s2", type=float, default=None, help="Max of Three basin width (3.0/2.0/1.5)")
    t.add_argument("--config", default=None, help="config file (.json or .toml)")
    t.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SEC.KEY=VALUE",
        help="override a config field, e.g. --set algo.num_particles=16",
    )
    t.add_argument("--seed", type=int, default=None)
    t.add_argument("--device", default=None, help="cpu | cuda | auto")
    t.add_argument("--steps", type=int, default=None, help="total environment steps")
    t.add_argument("--out", default=None, help="folder of run folders (default: runs)")
    t.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    e = sub.add_parser("evaluate", help="decentralized test episodes of a run or checkpoint")
    e.add_argument("target", help="run folder or checkpoint file (.pt)")
    e.add_argument("--which", choices=("latest", "best"), default="latest")
    e.add_argument("--episodes", type=int, default=100)
    e.add_argument("--seed", type=int, default=12345)
    e.add_argument("--device", default=None, help="cpu | cuda | auto")

    r = sub.add_parser("resume", help="continue an interrupted run")
    r.add_argument("run", help="run folder")
    r.add_argument("--steps", type=int, default=None, help="new total environment steps")
    r.add_argument("--device", default=None)
    r.add_argument("--no-progress", action="store_true")

    x = sub.add_parser("experiment", help="produce the results tables and figures (long)")
    x.add_argument("--out", default="docs/results", help="where results.md and figures go")
    x.add_argument("--runs", default="runs/experiment", help="where the run folders go")
    x.add_argument("--seeds", type=int, default=5)
    x.add_argument("--only", action="append", default=[], help="experiment name(s) to run")
    x.add_argument("--device", default="cpu")
    x.add_argument("--progress", action="store_true")

    # Table 2 has its own parser (svnr_rl/table.py); everything after `table` goes to it.
    # Listed here for `--help`; `main` hands everything after `table` to that parser.
    sub.add_parser("table", help="Table 2: methods x tasks x seeds (see `table --help`)")
    return p


def _train_config(args: argparse.Namespace) -> Config:
    if args.task not in TASKS:
        raise ConfigError(f"--task: unknown task {args.task!r}; valid tasks: {', '.join(TASKS)}")
    if args.s2 is not None and args.task != "max-of-three":
        raise ConfigError("--s2 applies only to --task max-of-three")
    cfg = preset(args.task, s2=args.s2)
    if args.config:
        cfg = load_config_file(args.config, cfg)
    extra = list(args.overrides)
    if args.seed is not None:
        extra.append(f"train.seed={args.seed}")
    if args.device is not None:
        extra.append(f'train.device="{args.device}"')
    if args.steps is not None:
        extra.append(f"train.total_env_steps={args.steps}")
    if args.out is not None:
        extra.append(f"train.out_dir={_json_str(args.out)}")
    if args.no_progress:
        extra.append("train.progress=false")
    return apply_overrides(cfg, extra)


def _json_str(s: str) -> str:
    import json

    return json.dumps(s)


def _cmd_train(args: argparse.Namespace) -> int:
    from svnr_rl.train import train

    cfg = _train_config(args)
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

    target = Path(args.target)
    if args.episodes < 1:
        raise ConfigError(f"--episodes must be >= 1; got {args.episodes}")
    res, ckpt = evaluate_checkpoint(
        target, which=args.which, episodes=args.episodes, seed=args.seed, device=args.device
    )
    print(f"checkpoint: {ckpt}")
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
    if args.no_progress:
        over["progress"] = False
    res = resume(args.run, overrides=over)
    f = res.final
    print(f"final test return: {f.mean:.4f} +- {f.std:.4f} over {f.episodes} episodes")
    if f.gap is not None:
        print(f"optimum: {f.optimum:.4f}   gap to optimum: {f.gap:.4f}")
    print(f"results in: {res.run_dir}")
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
    if argv[:1] == ["table"]:
        from svnr_rl.table import main as table_main

        return table_main(argv[1:], prog="python -m svnr_rl table")
    args = _build_parser().parse_args(argv)
    handlers = {
        "train": _cmd_train,
        "evaluate": _cmd_evaluate,
        "resume": _cmd_resume,
        "experiment": _cmd_experiment,
    }
    try:
        return handlers[args.command](args)
    except (ConfigError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
