"""A run's numbers on disk: ``metrics.csv`` (one row per segment), TensorBoard, ``summary.json``.

Only deterministic columns enter ``metrics.csv`` (no wall time), so that two runs of one seed,
or an interrupted and resumed run and an uninterrupted one, write identical files.  Floats are
written with ``repr`` so that a row read back is the same number.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from svnr_rl.atomic_file import write_atomic
from svnr_rl.config import Config
from svnr_rl.evaluate import EvalResult

__all__ = [
    "METRIC_COLUMNS",
    "TARGET_RETURN",
    "SegmentTally",
    "log_to_tensorboard",
    "open_tensorboard",
    "run_summary",
    "steps_to_target",
    "write_metrics_csv",
    "write_summary",
]

METRIC_COLUMNS = (
    "segment",
    "env_steps",
    "updates",
    "episodes",
    "alpha",
    "train_return",
    "eval_return_mean",
    "eval_return_std",
    "critic_loss",
    "policy_loss",
)
#: counters, written as integers; the other columns are floats
_INT_COLUMNS = ("segment", "env_steps", "updates", "episodes")
#: target test return for "steps needed" (the issue's bar for the differential games; 4.5 of
#: the terminal Particle Gather's best return 5).  The iterated Particle Gather has none yet: its
#: test return is a 25-step sum, on another scale than the paper's figure (docs/environments.md).
TARGET_RETURN = {"max-of-three": 9.5, "two-modalities": 9.5, "particle-gather-terminal": 4.5}


#: summary keys of the final test that a task's episode figure must not overwrite
_FIXED_KEYS = frozenset(
    {
        "final_test_return_mean",
        "final_test_return_std",
        "final_test_last_reward_mean",
        "final_test_last_reward_std",
    }
)


def _mean(xs: list[float]) -> float:
    return float(np.mean(xs)) if xs else math.nan


@dataclass
class SegmentTally:
    """What one segment's steps and updates gather for its metrics row."""

    #: the schedule's temperature of the last update (of the segment's start before any update)
    alpha: float
    returns: list[float] = field(default_factory=list)
    critic_losses: list[float] = field(default_factory=list)
    policy_losses: list[float] = field(default_factory=list)

    def row(
        self,
        *,
        segment: int,
        env_steps: int,
        updates: int,
        episodes: int,
        alpha: float,
        test: EvalResult,
    ) -> dict[str, float]:
        """The metrics row, in :data:`METRIC_COLUMNS` order; ``alpha`` is what the agent
        reports (a learned temperature, or the schedule's)."""
        return {
            "segment": segment,
            "env_steps": env_steps,
            "updates": updates,
            "episodes": episodes,
            "alpha": alpha,
            "train_return": _mean(self.returns),
            "eval_return_mean": test.mean,
            "eval_return_std": test.std,
            "critic_loss": _mean(self.critic_losses),
            "policy_loss": _mean(self.policy_losses),
        }


def write_metrics_csv(run_dir: Path, rows: Sequence[Mapping[str, float]]) -> None:
    """Rewrite ``metrics.csv`` from all rows so far (atomically: a reader never sees half)."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(METRIC_COLUMNS)
    for row in rows:
        w.writerow(
            [int(row[k]) if k in _INT_COLUMNS else repr(float(row[k])) for k in METRIC_COLUMNS]
        )
    write_atomic(run_dir / "metrics.csv", buf.getvalue())


def open_tensorboard(run_dir: Path, enabled: bool, purge_step: int | None) -> Any:
    """A TensorBoard writer under ``run_dir/tb``, or ``None`` when disabled.  A resume passes
    the checkpoint's environment steps as ``purge_step``: events written after it are dropped."""
    if not enabled:
        return None
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir=str(run_dir / "tb"), purge_step=purge_step)


def log_to_tensorboard(writer: Any, row: Mapping[str, float], env_steps: int) -> None:
    """The row's values at ``env_steps`` (its position columns are the x axis, not curves)."""
    for k, v in row.items():
        if k not in ("segment", "env_steps"):
            writer.add_scalar(k, v, env_steps)
    writer.flush()


def steps_to_target(task: str, rows: Sequence[Mapping[str, float]]) -> int | None:
    """Environment steps of the first evaluation at or above the task's target return."""
    target = TARGET_RETURN.get(task)
    if target is None:
        return None
    for row in rows:
        if row["eval_return_mean"] >= target:
            return int(row["env_steps"])
    return None


def run_summary(
    cfg: Config,
    final: EvalResult,
    *,
    best_eval: float,
    env_steps: int,
    updates: int,
    steps_to_target: int | None,
    wall_time: float,
    device: str,
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    """The contents of ``summary.json``: final test return, gap, cost, figures' numbers.

    Each per-episode figure of the task (:attr:`EvalResult.info_means`) is written as
    ``final_test_<key>_mean`` (e.g. ``final_test_miscoordinated_mean``), unless that name is
    already one of the keys above (those keep their meaning).
    """
    return {
        "task": cfg.env.task,
        "method": cfg.algo.method,
        "seed": cfg.train.seed,
        "final_test_return_mean": final.mean,
        "final_test_return_std": final.std,
        "final_test_last_reward_mean": final.last_reward_mean,
        "final_test_last_reward_std": final.last_reward_std,
        **{
            f"final_test_{key}_mean": value
            for key, value in final.info_means.items()
            if f"final_test_{key}_mean" not in _FIXED_KEYS
        },
        "eval_episodes": final.episodes,
        "optimum": final.optimum,
        "gap_to_optimum": final.gap,
        "best_test_return": best_eval,
        "env_steps": env_steps,
        "updates": updates,
        "steps_to_target": steps_to_target,
        "target_return": TARGET_RETURN.get(cfg.env.task),
        "wall_time_s": wall_time,
        "env_steps_per_s": env_steps / wall_time if wall_time > 0 else None,
        "device": device,
        **extra,
    }


def write_summary(run_dir: Path, summary: Mapping[str, Any]) -> None:
    write_atomic(run_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
