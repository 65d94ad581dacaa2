"""A replay batch for timing updates (shared by the benchmark modules)."""

from __future__ import annotations

import torch

from svnr_rl.envs.base import TaskSpec
from svnr_rl.replay import Batch


def replay_batch(spec: TaskSpec, b: int) -> Batch:
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
        terminated=torch.zeros(b),
    )
