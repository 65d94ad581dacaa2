"""What a training checkpoint holds, and putting it back: the exact-resume contract.

A checkpoint is the whole state a segment of training depends on: the counters (the common
noise and the segment's environment seeds are functions of them), the networks and optimizers,
the replay buffer and its sampling generator, the global RNG states, the metrics and the joint
actions recorded so far, and the resolved config.  The keys below *are* the file format
(:data:`svnr_rl.checkpoint.CHECKPOINT_FORMAT`): renaming one would stop existing run folders from
resuming.  Writing and safe loading are :mod:`svnr_rl.checkpoint`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import torch

from svnr_rl.agents import Agent
from svnr_rl.checkpoint import (
    CheckpointError,
    capture_global_rng,
    restore_global_rng,
    save_checkpoint,
)
from svnr_rl.config import Config, ConfigError, config_from_dict, config_to_dict, resolve_run_length
from svnr_rl.replay import ReplayBuffer

__all__ = [
    "CheckpointedRun",
    "capture",
    "checkpoint_config",
    "checkpoint_path",
    "restore",
    "save_segment_checkpoints",
]


class CheckpointedRun(Protocol):
    """The parts of a :class:`svnr_rl.loop.Trainer` that a checkpoint holds."""

    cfg: Config
    segment: int
    vec_steps: int
    env_steps: int
    updates: int
    episodes: int
    update_credit: float
    best_eval: float
    wall_time: float
    agent: Agent
    replay: ReplayBuffer
    replay_gen: torch.Generator
    metrics: list[dict[str, float]]
    record: list[list[float]]


def capture(run: CheckpointedRun) -> dict[str, Any]:
    """Everything a resume needs, as tensors and plain containers (weights-only loadable)."""
    return {
        "config": config_to_dict(run.cfg),
        "counters": {
            "segment": run.segment,
            "vec_steps": run.vec_steps,
            "env_steps": run.env_steps,
            "updates": run.updates,
            "episodes": run.episodes,
            "update_credit": run.update_credit,
        },
        "best_eval": run.best_eval,
        "wall_time": run.wall_time,
        "agent": run.agent.state_dict(),
        "replay": run.replay.state_dict(),
        "replay_gen": run.replay_gen.get_state(),
        "rng": capture_global_rng(),
        "metrics": run.metrics,
        "record": torch.tensor(run.record, dtype=torch.float64),
    }


def restore(run: CheckpointedRun, data: dict[str, Any]) -> None:
    """Put :func:`capture`'s ``data`` back into ``run``; a malformed payload raises
    :class:`CheckpointError`."""
    try:
        c = data["counters"]
        run.segment, run.vec_steps = int(c["segment"]), int(c["vec_steps"])
        run.env_steps, run.updates = int(c["env_steps"]), int(c["updates"])
        run.episodes = int(c["episodes"])
        # absent from checkpoints written before algo.update_to_data existed
        run.update_credit = float(c.get("update_credit", 0.0))
        run.best_eval = float(data["best_eval"])
        run.wall_time = float(data["wall_time"])
        run.agent.load_state_dict(data["agent"])
        run.replay.load_state_dict(data["replay"])
        run.replay_gen.set_state(data["replay_gen"])
        restore_global_rng(data["rng"])
        run.metrics = [dict(r) for r in data["metrics"]]
        run.record = data["record"].tolist()
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"checkpoint contents do not match this run ({exc})") from None


def checkpoint_path(run_dir: Path, which: str = "latest") -> Path:
    """``run_dir/checkpoints/{which}.pt`` (``latest`` or ``best``)."""
    return run_dir / "checkpoints" / f"{which}.pt"


def save_segment_checkpoints(run_dir: Path, payload: dict[str, Any], *, improved: bool) -> None:
    """``latest.pt`` after every segment; ``best.pt`` too when the test return improved."""
    save_checkpoint(checkpoint_path(run_dir, "latest"), payload)
    if improved:
        save_checkpoint(checkpoint_path(run_dir, "best"), payload)


def checkpoint_config(data: dict[str, Any], ckpt: Path) -> Config:
    """The resolved config a loaded checkpoint was written with (CheckpointError if none)."""
    try:
        raw = data["config"]
        return resolve_run_length(config_from_dict(raw))[0]
    except (KeyError, TypeError, ConfigError) as exc:
        raise CheckpointError(f"checkpoint {str(ckpt)!r} holds no valid config ({exc})") from None
