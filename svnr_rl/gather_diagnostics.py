"""Particle Gather diagnostics: what fixed policies score, and what a run's critic saw and
believes.

* :func:`random_policy_outcomes`, :func:`steer_to_landmark_outcomes` -- episode returns of
  uniform random actions and of uncoordinated steering (every agent heads straight for the
  landmark, :func:`steer_actions`);
* :func:`gather_diagnostics` -- the rewards in a run's replay buffer and its critic's ``Q``
  against the true returns (``[-2, 5]`` per episode);
* :func:`soft_value_bound` -- the largest soft value any state-action can have, so that a
  larger mean ``Q`` is overestimation.

Report sections of studies call these (:mod:`svnr_rl.study.sections`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "JOINT_DIM",
    "REWARD_MAX",
    "GatherDiagnostics",
    "gather_diagnostics",
    "random_policy_outcomes",
    "soft_value_bound",
    "steer_actions",
    "steer_to_landmark_outcomes",
]

REWARD_MAX = 5.0  # the largest return of an episode (a joint arrival)
JOINT_DIM = 4  # joint action coordinates of Particle Gather


@dataclass(frozen=True)
class GatherDiagnostics:
    """What a Particle Gather run's critic saw and believes, read from its last checkpoint.

    ``joint_arrivals`` / ``lone_arrivals``: replay transitions with reward ``+5`` / ``-2``
    (each ends one episode); ``q_mean`` / ``q_max``: the critic ``Q(s, u)`` on 1024 replay
    transitions (drawn with ``torch.Generator().manual_seed(0)``) divided by
    ``algo.reward_scale``, to compare with the true returns, which lie in ``[-2, 5]``;
    ``alpha``: the temperature at the last update.
    """

    transitions: int
    joint_arrivals: int
    lone_arrivals: int
    q_mean: float
    q_max: float
    alpha: float


def gather_diagnostics(run_dir: Path) -> GatherDiagnostics:
    """:class:`GatherDiagnostics` of the run folder ``run_dir`` (its ``latest.pt``)."""
    import torch

    from svnr_rl.checkpoint import load_checkpoint
    from svnr_rl.config import config_from_dict
    from svnr_rl.train import Trainer

    data = load_checkpoint(run_dir / "checkpoints" / "latest.pt")
    cfg = config_from_dict(data["config"])
    if cfg.env.task != "particle-gather":
        raise ValueError(
            f"run_dir: {str(run_dir)!r} is a {cfg.env.task!r} run, not Particle Gather"
        )
    trainer = Trainer(cfg, run_dir)
    trainer.load_state(data)
    reward = data["replay"]["data"]["reward"][: trainer.replay.size]
    batch = trainer.replay.sample(1024, torch.Generator().manual_seed(0))
    with torch.no_grad():
        q = trainer.agent.critic.q_min(batch.state, batch.action.flatten(1)) / cfg.algo.reward_scale
    return GatherDiagnostics(
        transitions=trainer.replay.size,
        joint_arrivals=int((reward == 5.0).sum()),
        lone_arrivals=int((reward == -2.0).sum()),
        q_mean=float(q.mean()),
        q_max=float(q.max()),
        alpha=cfg.alpha.value(trainer._clock()),
    )


def random_policy_outcomes(
    task: str, num_envs: int = 64, steps: int = 4000, **params: Any
) -> dict[float, int]:
    """Episode returns of uniformly random actions: ``{return: count}`` (seeded, reproducible);
    ``params`` are the task's parameters (e.g. ``arrival_radius`` of Particle Gather)."""
    return _outcomes(task, None, num_envs, steps, params)


def steer_to_landmark_outcomes(
    num_envs: int = 64, steps: int = 4000, **params: Any
) -> dict[float, int]:
    """Particle Gather returns when every agent steers its particle to the landmark:
    ``a = clip(-2 p - v, -1, 1)`` per axis (``p``, ``v``: the particle's position relative to
    the landmark and its velocity, from the shared observation).  No coordination at all:
    both particles head straight in, and +5 comes only when they happen to arrive at the
    same step."""
    return _outcomes("particle-gather", steer_actions, num_envs, steps, params)


def steer_actions(state: NDArray[np.float64]) -> NDArray[np.float64]:
    """The steer-to-landmark actions ``[B, 4, 1]`` of Particle Gather states ``[B, 8]``."""
    # state [B, 8] = [p0 (2), v0 (2), p1 (2), v1 (2)] -> actions [B, 4, 1] (p0_x, p0_y, p1_x, p1_y)
    pos, vel = state[:, [0, 1, 4, 5]], state[:, [2, 3, 6, 7]]
    out: NDArray[np.float64] = np.clip(-2.0 * pos - vel, -1.0, 1.0)[..., None]
    return out


def _outcomes(
    task: str,
    policy: Callable[[NDArray[np.float64]], NDArray[np.float64]] | None,
    num_envs: int,
    steps: int,
    params: dict[str, Any],
) -> dict[float, int]:
    """``{return: count}`` of ``policy(state)`` (uniform random actions when ``None``)."""
    from svnr_rl.envs.registry import make_batched

    env = make_batched(task, num_envs, **params)
    step = env.reset(0)
    rng = np.random.default_rng(0)
    shape = (num_envs, env.spec.n_agents, env.spec.action_dim)
    counts: dict[float, int] = {}
    for _ in range(steps):
        actions = rng.uniform(-1.0, 1.0, shape) if policy is None else policy(step.state)
        step = env.step(actions)
        for r in step.episode_return[np.logical_or(step.terminated, step.truncated)]:
            counts[float(r)] = counts.get(float(r), 0) + 1
    env.close()
    return counts


def soft_value_bound(alpha: float, gamma: float) -> float:
    """The largest soft value of a Particle Gather state-action at temperature ``alpha``:
    the largest return, 5, plus the largest entropy bonus the uniform soft value adds,
    ``alpha D log 2`` per step (``D = 4``) forever, ``alpha D log 2 / (1 - gamma)``.  A mean
    ``Q`` above it is overestimation, whatever the method's soft value."""
    return REWARD_MAX + alpha * JOINT_DIM * math.log(2.0) / (1.0 - gamma)
