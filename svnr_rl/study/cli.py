"""``python -m svnr_rl study run|tune|report|archive|restore FILE``: run a study file on Ray,
tune it with Optuna's TPE, rewrite its report from its run folders, or copy its finished runs
(text files only, no checkpoints) to a folder small enough to commit and back.

Runs go to ``--runs`` (default ``runs/studies/NAME``), the report to ``--out`` (default
``results/studies/NAME``, never ``docs/``: committing results is an explicit step).  A
rerun reuses finished trials and resumes interrupted ones, so the same command continues an
interrupted study.  Exit status: 0 done, 1 a trial failed (recorded, the others ran), 2
invalid input (nothing ran), 130 interrupted (finished trials and checkpoints are kept).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from svnr_rl.cli_style import DEFAULT_RESULTS, DEVICES, HelpFormatter, bounded_int

if TYPE_CHECKING:
    from svnr_rl.study.spec import StudySpec
    from svnr_rl.study.trials import Outcome

__all__ = ["add_arguments", "main"]

_PROG = "python -m svnr_rl study"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``study`` command's arguments (shared by ``python -m svnr_rl study``)."""
    p.add_argument(
        "action",
        choices=("run", "tune", "report", "archive", "restore"),
        help="run: train the grid; tune: TPE per task x method, then the best on the "
        "evaluation seeds; report: rewrite the report from the run folders; archive: copy "
        "the finished runs and the tuning journal to --archive (no checkpoints: small "
        "enough to commit); restore: copy them back, so that a fresh checkout continues "
        "the study",
    )
    p.add_argument("file", metavar="FILE", help="study file (TOML), e.g. studies/table2.toml")
    p.add_argument("--runs", metavar="DIR", help="run folders (default: runs/studies/NAME)")
    p.add_argument(
        "--out", metavar="DIR", help=f"report folder (default: {DEFAULT_RESULTS}/studies/NAME)"
    )
    p.add_argument(
        "--workers",
        type=bounded_int(1, 4096),
        default=None,
        help="trials at once (local Ray: one CPU each; default: 2, or 1 on a one-CPU machine; "
        "more than the CPUs is refused)",
    )
    p.add_argument(
        "--address",
        metavar="ADDR",
        help="join an existing Ray cluster (e.g. auto, or ray://HOST:10001) instead of "
        "starting a local one",
    )
    p.add_argument("--device", default="cpu", choices=DEVICES, help="training device")
    p.add_argument(
        "--only",
        metavar="KEYS",
        help="run/tune: only these task and method keys (comma-separated; e.g. "
        "max-of-three-1.5 or max-of-three-1.5,svnr,masql), so that a long study finishes one "
        "task first; the report still covers the whole file",
    )
    p.add_argument(
        "--archive",
        metavar="DIR",
        help="archive/restore: the committed copy of the finished runs (e.g. "
        "docs/results/NAME/archive)",
    )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=_PROG, description=__doc__, formatter_class=HelpFormatter)
    add_arguments(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(args_list)
    except SystemExit as exc:  # --help, or a usage error argparse has printed
        return exc.code if isinstance(exc.code, int) else 2
    return run_command(args, " ".join([_PROG, *(shlex.quote(a) for a in args_list)]))


def _resolve_machine(args: argparse.Namespace) -> None:
    """Fill in the default worker count (2, at most the CPUs of a local Ray) and refuse,
    before Ray starts, what a local Ray on this machine cannot run: a CUDA device that is not
    there, more workers than CPUs.  (A cluster named by ``--address`` is not checked here: its
    own resources decide.)"""
    from svnr_rl.config import ConfigError

    cpus = os.cpu_count() or 1
    if args.workers is None:
        args.workers = 2 if args.address else min(2, cpus)
    if args.address:
        return
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(
                "--device cuda: this machine has no CUDA device (torch.cuda.is_available() is "
                "False); use --device cpu or auto, or --address a Ray cluster with GPUs"
            )
    if args.workers > cpus:
        raise ConfigError(
            f"--workers {args.workers}: this machine has {cpus} CPU(s) and a local Ray runs one "
            f"trial per CPU; use --workers {cpus} or fewer, or --address a cluster"
        )


def _check_writable(folder: Path, flag: str) -> None:
    """Create ``folder`` and write a probe file in it, so that a report folder that cannot be
    written fails before any trial trains rather than after all of them."""
    from svnr_rl.config import ConfigError

    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"{flag} {str(folder)!r}: cannot write there ({exc.strerror})") from None


def _counts(outcomes: Sequence[Outcome]) -> list[tuple[str, int]]:
    """How many runs of an invocation were trained, resumed, reused and failed."""
    return [
        (a, sum(o.action == a for o in outcomes))
        for a in ("trained", "resumed", "reused", "failed")
    ]


def run_command(args: argparse.Namespace, command: str) -> int:
    """Execute parsed ``study`` arguments; ``command`` is recorded in the report."""
    from svnr_rl.config import ConfigError
    from svnr_rl.study.engine import EngineError, Progress, run_all
    from svnr_rl.study.report import log_command, write_report
    from svnr_rl.study.spec import load_study
    from svnr_rl.study.trials import grid_trials, validate

    t0 = time.perf_counter()
    try:
        spec = load_study(args.file)
        runs = Path(args.runs or f"runs/studies/{spec.name}")
        out = Path(args.out or f"{DEFAULT_RESULTS}/studies/{spec.name}")
        if args.action in ("archive", "restore"):
            return _copy_runs(args, runs, spec)
        if args.action == "tune" and spec.tune is None:
            raise ConfigError(f"{args.file}: has no [tune] table; use `study run`")
        if args.action == "run" and spec.tune is not None:
            raise ConfigError(
                f"{args.file}: tunes its methods ([tune]); use `study tune` (the grid's "
                "configurations come from the tuning)"
            )
        spec_run = _only(spec, args.only) if args.only else spec
        trials = grid_trials(spec_run, runs, args.device)
        if args.action == "run":
            for t in trials:  # every config and folder is checked before anything trains
                validate(t)
        if args.action == "tune":
            from svnr_rl.study.tuning import check_space

            check_space(spec_run, runs)
        outcomes = []
        if args.action != "report":
            # after every other check (bad input writes nothing), before Ray starts
            _resolve_machine(args)
        _check_writable(out, "--out")
        if args.action != "report":
            total = len(trials)
            if spec_run.tune is not None:
                total += (
                    len(spec_run.tasks)
                    * len(spec_run.methods)
                    * spec_run.tune.trials
                    * len(spec_run.tune.tuning_seeds)
                )
            progress = Progress(total=total, metric=spec.metric)
            print(f"study {spec.name}: {total} runs under {runs}", flush=True)
            # logged at once too: a machine that goes down (kill -9, power) cannot log the
            # end, and a report built from the runs this invocation finished must name it
            log_command(runs, command, 0.0, [("started", 1)])
            try:
                if args.action == "run":
                    outcomes = run_all(trials, args.workers, args.address, progress)
                else:
                    from svnr_rl.study.tuning import tune_study

                    outcomes = tune_study(
                        spec_run, runs, args.workers, args.address, progress, args.device
                    )
            except (KeyboardInterrupt, EngineError) as exc:
                # a stopped invocation trained runs too: the report must name its command
                stop = "interrupted" if isinstance(exc, KeyboardInterrupt) else "stopped"
                counts = [*_counts(progress.outcomes), (stop, 1)]
                log_command(runs, command, time.perf_counter() - t0, counts)
                raise
            log_command(runs, command, time.perf_counter() - t0, _counts(outcomes))
        path = write_report(spec, runs, out)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted; finished runs are kept. Continue with: {command}", file=sys.stderr)
        return 130
    except EngineError as exc:
        print(f"error: {exc}. Continue with: {command}", file=sys.stderr)
        return 1
    print(f"report: {path} ({time.perf_counter() - t0:.0f} s)")
    return 1 if any(o.action == "failed" for o in outcomes) else 0


def _only(spec: StudySpec, only: str) -> StudySpec:
    """``spec`` narrowed to the task and method keys of ``--only`` (a list of neither kind
    keeps all of that kind)."""
    from svnr_rl.config import ConfigError

    keys = [k.strip() for k in only.split(",") if k.strip()]
    tasks = {t.key for t in spec.tasks}
    methods = {m.key for m in spec.methods}
    unknown = [k for k in keys if k not in tasks | methods]
    if unknown or not keys:
        raise ConfigError(
            f"--only {only!r}: unknown key(s) {', '.join(unknown) or '(none given)'}; tasks: "
            f"{', '.join(sorted(tasks))}; methods: {', '.join(sorted(methods))}"
        )
    return dataclasses.replace(
        spec,
        tasks=tuple(t for t in spec.tasks if t.key in keys) or spec.tasks,
        methods=tuple(m for m in spec.methods if m.key in keys) or spec.methods,
    )


def _copy_runs(args: argparse.Namespace, runs: Path, spec: StudySpec) -> int:
    """``archive`` (runs -> archive) or ``restore`` (archive -> runs): the finished runs of
    ``spec``'s own tasks and methods (``--only`` narrows them further)."""
    from svnr_rl.config import ConfigError
    from svnr_rl.study.archive import copy_finished, study_folders

    if not args.archive:
        raise ConfigError(f"{args.action} needs --archive DIR")
    archive = Path(args.archive)
    src, dst = (runs, archive) if args.action == "archive" else (archive, runs)
    done = copy_finished(src, dst, study_folders(_only(spec, args.only) if args.only else spec))
    logs = f", {' and '.join(done.logs)} updated" if done.logs else ""
    added = f", {done.added_files} files they lacked added" if done.added_files else ""
    print(
        f"{args.action}: {done.runs} finished runs copied from {src} to {dst} "
        f"({done.unchanged} already there{added}{logs})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
