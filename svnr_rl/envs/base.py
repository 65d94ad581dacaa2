"""The one batched interface that the training layer uses for every task.

Conventions (the single place where they are written down):

* ``B`` environments are stepped together; ``N`` agents; each agent has ``action_dim`` action
  coordinates and an ``obs_dim`` local observation; the critic sees a ``state_dim`` global state.
* **Actions are normalised to ``[-1, 1]``** on this interface, shaped ``[B, N, action_dim]``.
  A task scales them to its native units itself (the differential games multiply by
  ``TaskSpec.action_scale = 10``).  Out-of-range values are clipped to ``[-1, 1]``; NaN or
  infinite values and wrong shapes raise ``ValueError`` naming the problem.
* ``step`` resets finished environments automatically.  The returned ``obs``/``state`` are
  then those of the *new* episode, while ``final_obs``/``final_state`` keep the last
  observation of the finished one (what a critic target needs).  Rows of unfinished
  environments in ``final_*`` equal ``obs``/``state``.
* ``episode_info`` may add per-episode figures of a task (name -> ``[B]``, 0 where no episode
  ended); tasks that have none leave it empty.  Particle Gather reports the length, per-step
  mean reward and last-step reward of each finished episode there; the coordination games
  (:mod:`svnr_core.coordination_games`) their 0/1 miscoordination figures.  Evaluation averages
  every key over the test episodes (``EvalResult.info_means``).
* Everything is ``float64`` numpy on the CPU; the learner moves batches to its device.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class TaskSpec:
    """Static description of a task.

    ``optimum_value`` is the best achievable test return where it is known (the differential
    games), else ``None``; evaluation reports the gap to it.
    """

    name: str
    n_agents: int
    obs_dim: int
    state_dim: int
    action_dim: int
    episode_limit: int
    action_scale: float = 1.0
    reward_range: tuple[float, float] = (-np.inf, np.inf)
    optimum_value: float | None = None


@dataclass(frozen=True)
class BatchStep:
    """What ``reset`` and ``step`` return; leading axis ``B`` everywhere."""

    obs: FloatArray  # [B, N, obs_dim]
    state: FloatArray  # [B, state_dim]
    reward: FloatArray  # [B]  (shared team reward; zeros after reset)
    terminated: BoolArray  # [B]
    truncated: BoolArray  # [B]
    final_obs: FloatArray  # [B, N, obs_dim]
    final_state: FloatArray  # [B, state_dim]
    episode_return: FloatArray  # [B] return of the episode that just ended (0 where none did)
    #: further figures of the episodes that just ended, name -> [B] (0 where none did)
    episode_info: dict[str, FloatArray] = field(default_factory=dict)


@runtime_checkable
class BatchedEnv(Protocol):
    """``B`` copies of one task stepped together, with automatic reset."""

    spec: TaskSpec
    num_envs: int

    def reset(self, seed: int) -> BatchStep:
        """Reset all environments; environment ``b`` is seeded deterministically from ``seed``."""
        ...

    def step(self, actions: FloatArray) -> BatchStep:
        """Advance every environment one step; ``actions`` has shape ``[B, N, action_dim]``."""
        ...

    def close(self) -> None:
        """Release simulator resources (a no-op for pure numpy tasks)."""
        ...


def check_actions(actions: object, num_envs: int, spec: TaskSpec) -> FloatArray:
    """Validate and clip normalised actions; the one check every task applies.

    Returns a float64 copy clipped to ``[-1, 1]``.  Raises ``ValueError`` for a wrong shape
    or a NaN/infinite entry, naming the first offending index.
    """
    arr = np.asarray(actions, dtype=np.float64)
    expected = (num_envs, spec.n_agents, spec.action_dim)
    if arr.shape != expected:
        raise ValueError(
            f"{spec.name}: actions must have shape [batch, agents, action_dim] = {expected}; "
            f"got {arr.shape}"
        )
    finite = np.isfinite(arr)
    if not finite.all():
        idx = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(f"{spec.name}: action{idx} = {arr[idx]!r} is not finite")
    return np.clip(arr, -1.0, 1.0)


def check_action_keys(live_agents: list[str], actions: object) -> None:
    """The PettingZoo-side check every ``ParallelEnv.step`` applies to its action dict."""
    if not live_agents:
        raise ValueError("step() called with no live agents: call reset() first")
    if not isinstance(actions, dict):
        raise ValueError(f"actions must be a dict agent -> action; got {type(actions).__name__}")
    unknown = set(actions) - set(live_agents)
    if unknown:
        raise ValueError(f"actions for unknown or finished agents {sorted(unknown)}")
