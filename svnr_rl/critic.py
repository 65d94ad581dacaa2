"""Centralized soft Q critic on the global state and the joint action (Sec. 5, Eq. 11).

``Q_theta(s, u)`` with ``s`` the global state (the critic sees it even where the samplers see
only local observations, App. M.1) and ``u`` the flattened joint action in ``[-1, 1]^D``.
``heads = 2`` gives twin critics (two independent MLPs); consumers reduce them with the minimum.

The regression target of Eq. 11 is ``y = c r + gamma (1 - terminated) V(s')`` with the
importance-sampled soft value

.. math:: V(s') = \\alpha \\Big(\\log \\frac{1}{K} \\sum_{k=1}^{K}
          \\exp\\big(Q_{\\bar\\theta}(s', u'_k)/\\alpha - \\log q(u'_k)\\big)\\Big),

computed by :func:`svnr_core.soft_bellman.importance_sampled_soft_value` (alpha multiplies the
whole log-mean-exp, the importance constants included; NOTES.md) on the target network
``Q_theta_bar``, which follows ``theta`` by Polyak averaging (:func:`polyak_update`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from svnr_core.soft_bellman import importance_sampled_soft_value
from svnr_rl.nets import mlp

__all__ = ["Critic", "polyak_update", "soft_value_estimate"]


class Critic(nn.Module):
    """``Q(s, u) -> [..., heads]``; ``state [..., state_dim]``, ``joint_action [..., D]``."""

    def __init__(
        self, state_dim: int, joint_action_dim: int, hidden: Sequence[int], heads: int
    ) -> None:
        super().__init__()
        self.heads = nn.ModuleList(
            mlp(state_dim + joint_action_dim, hidden, 1) for _ in range(heads)
        )

    def forward(self, state: Tensor, joint_action: Tensor) -> Tensor:
        x = torch.cat([state, joint_action], dim=-1)
        return torch.cat([h(x) for h in self.heads], dim=-1)

    def q_min(self, state: Tensor, joint_action: Tensor) -> Tensor:
        """The minimum over the heads, ``[...]`` (the value used by targets and policies)."""
        q: Tensor = self(state, joint_action)
        return q.amin(dim=-1)


def soft_value_estimate(q_samples: Tensor, alpha: float, log_proposal: float | Tensor) -> Tensor:
    """Eq. 11's ``V`` from ``q_samples [..., K]`` (see the module docstring)."""
    out: Tensor = importance_sampled_soft_value(q_samples, alpha, log_proposal, axis=-1)
    return out


@torch.no_grad()
def polyak_update(target: nn.Module, source: nn.Module, rate: float) -> None:
    """``theta_bar <- (1 - rate) theta_bar + rate theta`` (``rate = 1``: hard copy)."""
    for pt, ps in zip(target.parameters(), source.parameters(), strict=True):
        pt.lerp_(ps, rate)
