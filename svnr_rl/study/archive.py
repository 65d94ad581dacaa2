"""A study's finished runs in a form small enough to commit, and back.

A long study (the TPE protocol of Table 2 takes several sessions of two cores) must survive
the loss of its runs folder, which holds checkpoints and is never committed.  Its finished
state fits in a few text files per run: ``config.json``, ``trial.json``, ``status.json``,
``summary.json`` and ``metrics.csv`` are all a report reads and all a rerun needs to reuse a
finished trial (:func:`svnr_rl.study.trials.finished_summary`); checkpoints, plots and sample
dumps are left out.  The Optuna journal and ``commands.log`` go with them.  A report may
derive a text file from a finished run's checkpoint after the run was archived
(``gather_diagnostics.json``, :mod:`svnr_rl.gather_diagnostics`): a later ``archive`` adds
such a file to the archived run, since the archive has no checkpoint to derive it from, but
never replaces a file the archived run already has.

``archive`` copies runs -> archive, ``restore`` archive -> runs; both copy only *completed*
runs of the study's own folders (:func:`study_folders`: ``TASK/METHOD/seedK`` of its seeds and
``tune/TASK/METHOD/`` of its tasks and methods; studies may share a runs folder to reuse each
other's runs, and one study's archive must not carry another's), so an interrupted run is
retrained from its start by the next invocation (the same result: a run is a function of its
config).  The journal and the command log are append-only, so the longer of the two copies
is kept when one extends the other; two that diverge (the archive of another tuning) are an
error and nothing is copied.
Order matters for consistency: the journal is copied *before* the run folders, so every
trial the copied journal has told has its runs among the copied folders.
"""

from __future__ import annotations

import filecmp
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from svnr_rl.atomic_file import write_atomic
from svnr_rl.config import ConfigError
from svnr_rl.run_status import is_completed
from svnr_rl.study.report import COMMANDS_LOG
from svnr_rl.study.spec import StudySpec
from svnr_rl.study.tuning import JOURNAL

__all__ = ["KEPT_SUFFIXES", "Copied", "copy_finished", "study_folders"]

#: the files of a finished run folder worth keeping (its top level only)
KEPT_SUFFIXES = (".json", ".csv")
#: append-only files of a runs folder's top level
_LOGS = (JOURNAL, COMMANDS_LOG)


@dataclass(frozen=True)
class Copied:
    """What :func:`copy_finished` did: run folders copied, already there, logs copied, and
    files added to run folders that were already there (derived after they were copied)."""

    runs: int
    unchanged: int
    logs: tuple[str, ...]
    added_files: int = 0


def _whole_lines(path: Path) -> bytes | None:
    """The complete lines of an append-only log (a line being written by a running study
    is left out), or ``None`` if there is no such file."""
    if not path.is_file():
        return None
    data = path.read_bytes()
    return data[: data.rfind(b"\n") + 1]


def _log_update(src: Path, dst: Path) -> bytes | None:
    """The new content of the append-only log ``dst`` from ``src``: ``src``'s lines when
    ``dst`` is missing or a strict prefix of them, ``None`` when ``dst`` already holds them."""
    a = _whole_lines(src)
    if a is None:
        return None
    b = _whole_lines(dst)
    if b is None:
        return a
    if b.startswith(a):
        return None
    if a.startswith(b):
        return a
    raise ConfigError(
        f"{src} and {dst} diverge (neither extends the other): they record different "
        "studies; nothing was copied"
    )


def study_folders(spec: StudySpec) -> list[tuple[str, ...]]:
    """The folders, relative to the runs folder, under which ``spec`` puts its runs: the grid's
    ``TASK/METHOD/seedK`` (:func:`svnr_rl.study.trials.grid_trials`) and the tuning's
    ``tune/TASK/METHOD/trialNNNN/seedK`` (:mod:`svnr_rl.study.tuning`), for each of its tasks
    and methods; the grid's only for the study's own seeds, since studies sharing a runs folder
    share a ``TASK/METHOD`` when they run the same method on the same task with other seeds."""
    pairs = [(t.key, m.key) for t in spec.tasks for m in spec.methods]
    grid = [(*p, f"seed{s}") for p in pairs for s in spec.seeds]
    return [*grid, *(("tune", *p) for p in pairs)]


def _finished_runs(root: Path, folders: Sequence[tuple[str, ...]] | None) -> list[Path]:
    """Every completed run folder under ``root`` (a folder with a completed ``status.json``
    and a ``summary.json``), relative to ``root``; only those under one of ``folders`` unless
    that is ``None``."""
    out = []
    for status in sorted(root.rglob("status.json")):
        rd = status.parent
        rel = rd.relative_to(root)
        if folders is not None and not any(rel.parts[: len(f)] == f for f in folders):
            continue
        if is_completed(rd) and (rd / "summary.json").is_file():
            out.append(rel)
    return out


def copy_finished(src: Path, dst: Path, folders: Sequence[tuple[str, ...]] | None = None) -> Copied:
    """Copy the journal, the command log and every completed run's text files from ``src``
    to ``dst`` (see the module docstring); with ``folders`` (e.g. :func:`study_folders`) only
    the runs under them.  A run folder already complete in ``dst`` keeps its files (a finished
    run never changes); only text files it lacks are added (see the module docstring)."""
    if not src.is_dir():
        raise ConfigError(f"{src}: no such folder")
    updates = {name: _log_update(src / name, dst / name) for name in _LOGS}  # check all first
    logs = tuple(name for name, data in updates.items() if data is not None)
    for name in logs:
        data = updates[name]
        assert data is not None
        write_atomic(dst / name, data)
    copied = unchanged = added = 0
    for rel in _finished_runs(src, folders):
        target = dst / rel
        files = [f for f in sorted((src / rel).iterdir()) if f.suffix in KEPT_SUFFIXES]
        if is_completed(target) and (target / "summary.json").is_file():
            unchanged += 1
            for f in files:
                if not (target / f.name).exists():
                    write_atomic(target / f.name, f.read_bytes())
                    added += 1
            continue
        # status.json last: a folder is "completed" only once everything else is in place
        files.sort(key=lambda f: f.name == "status.json")
        for f in files:
            if not (target / f.name).is_file() or not filecmp.cmp(f, target / f.name):
                write_atomic(target / f.name, f.read_bytes())
        copied += 1
    return Copied(copied, unchanged, logs, added)
