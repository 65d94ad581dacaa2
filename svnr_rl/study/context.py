"""What a report section reads: the study, its folders, and the completed runs of every
task x method of the evaluation grid (:func:`svnr_rl.study.report.collect`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from svnr_rl.study.spec import StudySpec
from svnr_rl.study.trials import Trial

__all__ = ["Cell", "ReportContext", "fmt"]


def fmt(mean: float, std: float) -> str:
    return f"{mean:.2f} ± {std:.2f}"


@dataclass(frozen=True)
class Cell:
    """The completed runs of one task x method of the evaluation grid."""

    task: str
    method: str
    trials: tuple[Trial, ...]
    summaries: tuple[dict[str, Any], ...]
    failures: tuple[tuple[Trial, str], ...]

    def values(self, metric: str) -> NDArray[np.float64]:
        return np.array([float(s[metric]) for s in self.summaries])


@dataclass(frozen=True)
class ReportContext:
    """What a section writer needs: the study, its folders and the collected cells."""

    spec: StudySpec
    runs: Path
    out: Path
    cells: dict[tuple[str, str], Cell]

    def cell(self, task: str, method: str) -> Cell:
        return self.cells[(task, method)]

    def completed(self) -> list[tuple[Trial, dict[str, Any]]]:
        return [
            (t, s) for c in self.cells.values() for t, s in zip(c.trials, c.summaries, strict=True)
        ]
