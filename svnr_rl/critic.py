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

import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import torch
from array_api_compat import array_namespace
from torch import Tensor, nn

from svnr_core.soft_bellman import importance_sampled_soft_value
from svnr_rl.nets import mlp

__all__ = [
    "TANH_EPS",
    "Critic",
    "QFunction",
    "polyak_update",
    "soft_value_estimate",
    "squashed_score",
    "tanh_log_factor",
    "uniform_soft_value",
]

ArrayT = TypeVar("ArrayT")

#: the tanh correction's epsilon (soft Q-learning): ``log(1 - u^2 + 1e-6)``
TANH_EPS = 1e-6


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


class QFunction(Protocol):
    """What the soft value needs of a critic (:class:`svnr_rl.critic.Critic` is one)."""

    def q_min(self, state: Tensor, joint_action: Tensor) -> Tensor: ...


def uniform_soft_value(
    critic: QFunction, next_state: Tensor, alpha: float, k: int, d: int, gen: torch.Generator
) -> Tensor:
    """Eq. 11's ``V(s')`` ``[B]`` with ``k`` proposals uniform on ``[-1, 1]^d``.

    ``log q(u) = -d log 2`` enters :func:`soft_value_estimate`, which puts it
    inside ``alpha`` (``V = alpha (logsumexp(Q / alpha) - log k + d log 2)``).  For a critic
    that is constant ``c`` in ``u`` this is exactly ``c + alpha d log 2``: the log-volume of the
    action box, the entropy of the uniform policy.
    """
    if k < 1:
        raise ValueError(f"k (value samples) must be >= 1; got {k}")
    b = next_state.shape[0]
    u = (
        2.0 * torch.rand((b, k, d), generator=gen, device=next_state.device, dtype=next_state.dtype)
        - 1.0
    )
    s = next_state.unsqueeze(1).expand(b, k, next_state.shape[-1])
    return soft_value_estimate(critic.q_min(s, u), alpha, -d * math.log(2.0))


def tanh_log_factor(a: ArrayT) -> ArrayT:
    """``sum_d log(1 - a_d^2 + TANH_EPS)`` over the last axis of normalised actions ``a``: the
    soft Q-learning ``tanh`` factor of :func:`squashed_score`'s target, on numpy arrays (the
    exact references of the reports) or torch tensors alike."""
    x: Any = a
    xp = array_namespace(x)
    out: ArrayT = xp.sum(xp.log(1.0 - x * x + TANH_EPS), axis=-1)
    return out


def squashed_score(q_fn: Callable[[Tensor], Tensor], u: Tensor, alpha: float) -> Tensor:
    r"""Score of the squashed Boltzmann target at actions ``u [..., D]`` (no parameter grads).

    .. math:: \nabla_u \Big[q(u) / \alpha + \textstyle\sum_d \log(1 - u_d^2 + 10^{-6})\Big],

    the soft Q-learning change of variables for a ``tanh`` output, with ``q = q_fn(u)`` of shape
    ``u.shape[:-1]`` (e.g. ``lambda x: critic.q_min(state, x)``; PR2 composes the critic with
    its opponent model).  Uses :func:`torch.autograd.grad` with respect to ``u`` only, so no
    ``.grad`` of any network is touched.  Coordinates that do not move (e.g. agent ``i``'s own
    action in PR2's opponent update) are simply ignored by the caller.
    """
    x = u.detach().requires_grad_(True)
    log_p = q_fn(x) / alpha + tanh_log_factor(x)
    (score,) = torch.autograd.grad(log_p.sum(), x)
    return score
