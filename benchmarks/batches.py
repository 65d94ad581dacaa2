"""A replay batch and an interleaved timer for update benchmarks (shared by the modules)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping

import torch

from svnr_rl.agents import Agent
from svnr_rl.envs.base import TaskSpec
from svnr_rl.replay import Batch


def replay_batch(spec: TaskSpec, b: int, terminated: float = 0.0) -> Batch:
    """A replay batch with non-terminal transitions, so every method computes its V(s')."""
    g = torch.Generator().manual_seed(0)
    n, o, s, a = spec.n_agents, spec.obs_dim, spec.state_dim, spec.action_dim
    return Batch(
        obs=torch.randn(b, n, o, generator=g),
        state=torch.randn(b, s, generator=g),
        action=torch.rand(b, n, a, generator=g) * 1.8 - 0.9,
        reward=torch.randn(b, generator=g),
        next_obs=torch.randn(b, n, o, generator=g),
        next_state=torch.randn(b, s, generator=g),
        terminated=torch.full((b,), terminated),
    )


def interleaved_update_ms(
    agents: Mapping[str, Agent], batch: Batch, alpha: float, *, rounds: int, warmup: int
) -> dict[str, float]:
    """Median milliseconds of one ``update`` per agent, measured round by round in turn so that
    every agent sees the same machine load (the ratios are what the benchmarks report)."""
    for _ in range(warmup):
        for a in agents.values():
            a.update(batch, alpha)
    times: dict[str, list[float]] = {m: [] for m in agents}
    for _ in range(rounds):
        for m, a in agents.items():
            t0 = time.perf_counter()
            a.update(batch, alpha)
            times[m].append(time.perf_counter() - t0)
    return {m: 1e3 * statistics.median(t) for m, t in times.items()}
