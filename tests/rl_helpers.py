"""Shared tiny configurations for the svnr_rl tests (seconds per run)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from svnr_rl.config import Config, apply_overrides, preset
from svnr_rl.envs.base import TaskSpec
from svnr_rl.replay import Batch

TINY = [
    "env.num_envs=8",
    "env.eval_num_envs=8",
    "algo.batch_size=32",
    "algo.learning_starts=32",
    "algo.num_particles=4",
    "algo.policy_batch_size=4",
    "algo.value_samples=4",
    "algo.hidden=[16]",
    "algo.critic_hidden=[16]",
    "train.total_env_steps=192",
    "train.eval_interval=64",
    "train.eval_episodes=8",
    "train.progress=false",
    "train.tensorboard=false",
    "train.record_every=1",
]

#: the same settings as ``--set`` arguments of the command line
TINY_SET = [a for item in TINY for a in ("--set", item)]


def tiny_config(out: Path, *extra: str, task: str = "max-of-three") -> Config:
    """A seconds-long config of ``task`` writing run folders under ``out``."""
    return apply_overrides(preset(task), [*TINY, f'train.out_dir="{out}"', *extra])


def random_batch(spec: TaskSpec, b: int, dtype: torch.dtype = torch.float32) -> Batch:
    """A replay batch of ``b`` random transitions of ``spec``'s shapes (seeded, not terminal);
    actions inside (-0.9, 0.9) so that squashed scores stay finite."""
    g = torch.Generator().manual_seed(0)
    n, o, s, a = spec.n_agents, spec.obs_dim, spec.state_dim, spec.action_dim
    return Batch(
        obs=torch.randn(b, n, o, generator=g, dtype=dtype),
        state=torch.randn(b, s, generator=g, dtype=dtype),
        action=torch.rand(b, n, a, generator=g, dtype=dtype) * 1.8 - 0.9,
        reward=torch.randn(b, generator=g, dtype=dtype),
        next_obs=torch.randn(b, n, o, generator=g, dtype=dtype),
        next_state=torch.randn(b, s, generator=g, dtype=dtype),
        terminated=torch.zeros(b, dtype=dtype),
    )


class QuadraticCritic(nn.Module):
    """``Q(s, u) = c0 - k ||u - centre||^2`` (one head), independent of ``s``, differentiable
    in ``u``: a critic whose gradients the tests can compute by hand."""

    def __init__(self, centre: Tensor, k: float, c0: float = 0.0) -> None:
        super().__init__()
        self.centre, self.k, self.c0 = centre, k, c0

    def forward(self, state: Tensor, u: Tensor) -> Tensor:
        q: Tensor = self.c0 - self.k * ((u - self.centre) ** 2).sum(-1)
        return q.unsqueeze(-1)

    def q_min(self, state: Tensor, u: Tensor) -> Tensor:
        return self.forward(state, u).squeeze(-1)
