"""The argument parser of ``python -m svnr_rl`` (the handlers are in :mod:`svnr_rl.__main__`).

Only the standard library at import time: ``--help`` and argument errors must answer without
importing torch (seconds on a busy machine).
"""

from __future__ import annotations

import argparse

from svnr_rl.cli_style import (
    DEVICES,
    MAX_SEED,
    MAX_TEST_EPISODES,
    HelpFormatter,
    bounded_int,
)

__all__ = ["build_parser"]


def build_parser(description: str = "") -> argparse.ArgumentParser:
    from svnr_rl.config import METHODS, TASKS

    p = argparse.ArgumentParser(
        prog="python -m svnr_rl", description=description, formatter_class=HelpFormatter
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
    t.add_argument(
        "--method",
        default=None,
        choices=METHODS,
        metavar="NAME",
        help=f"algo.method, one of: {', '.join(METHODS)} (default: the preset's, svnr)",
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
        help="show a progress bar (only when stderr is a terminal)",
    )
    t.add_argument(
        "--print-config",
        action="store_true",
        help="print the resolved configuration (JSON, as the run folder's config.json) and "
        "exit without training",
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

    from svnr_rl.study.cli import add_arguments

    add_arguments(
        command(
            "study",
            "run, tune or report a study file (experiments as data; long; resumable)",
            "Run a study file's grid of tasks x methods x seeds on Ray (local by default, "
            "--address for a cluster), tune it with Optuna's TPE, or rewrite its report from "
            "the run folders.  Finished trials are reused and interrupted ones resumed, so the "
            "same command continues an interrupted study.  Study files: studies/*.toml; how to "
            "write one: docs/studies.md.",
        )
    )

    sub.add_parser(
        "anchor", help="stable-baselines3 SAC beside this backbone (see `anchor --help`)"
    )
    return p
