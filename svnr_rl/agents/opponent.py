r"""The conditional opponent model of PR2 and its amortized SVGD step, shared by ``pr2`` and
``pr2-svgd`` (and :func:`assemble_joint` by ROMMEO).

Agent ``i``'s level-1 belief "how the others answer my action" is a sampler

.. math:: u_{-i} = g_{\phi_i}(o_i, u_i, \eta) = \tanh\big(\mathrm{MLP}_{\phi_i}([o_i, u_i,
          \eta])\big), \qquad \eta \sim \mathcal N(0, I_{(N-1) a}),

whose target (PR2, Wen et al. 2019, Sec. 4.3, the variational opponent conditional) is the
soft-optimal conditional of the joint Boltzmann policy

.. math:: \rho_i^*(u_{-i} \mid s, u_i) \propto \exp\big(Q(s, u_i, u_{-i}) / \alpha\big)
          = \exp\big((Q(s, u_i, u_{-i}) - \tilde Q_i(s, u_i)) / \alpha\big),

``tilde Q_i(s, u_i) = alpha log int exp(Q / alpha) du_{-i}`` the soft marginal (constant in
``u_{-i}``, so it drops out of the score).  The model is fitted by amortized SVGD (Feng et al.,
2017; our paper's Eq. 12 on the opponents' coordinates): with ``M`` particles
``u_{-i}^l = g(o_i, u_i, eta_l)`` at one conditioning action ``u_i``, the direction

.. math:: \Delta u_{-i}^l = \alpha\, \hat\phi(u_{-i}^l), \qquad
          \hat\phi = \mathrm{svgd}\big(\{u_{-i}^l\},\;
          \nabla_{u_{-i}}[Q(s, u_i, u_{-i}) / \alpha + \textstyle\sum \log(1 - u_{-i}^2
          + 10^{-6})]\big)

(the tanh change of variables of soft Q-learning, :func:`svnr_rl.critic.squashed_score`) is
pushed into ``phi_i`` by the surrogate ``-mean_l <u_{-i}^l, Delta u_{-i}^l>`` (gradient
``-Delta`` on the particles; PR2's code ascends the same surrogate).  The conditioning action
is the agent's *own current* action (``pr2``: ``mu_i(o_i)``; ``pr2-svgd``: a sample of its
sampler), never the replay buffer's (the public code's defect, NOTES.md).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from svnr_core.stein import svgd_direction
from svnr_rl.critic import squashed_score
from svnr_rl.nets import Sampler

__all__ = ["OpponentModel", "assemble_joint", "drop_own", "opponent_svgd_loss"]


def assemble_joint(own: Tensor, others: Tensor, i: int, n: int) -> Tensor:
    """The joint action ``[..., N a]`` from agent ``i``'s ``own [..., a]`` and the others'
    ``others [..., (N-1) a]`` (agents ``j != i`` in increasing order)."""
    a = own.shape[-1]
    if others.shape[-1] != (n - 1) * a:
        raise ValueError(
            f"others must have {(n - 1) * a} coordinates for {n} agents; got {others.shape[-1]}"
        )
    return torch.cat([others[..., : i * a], own, others[..., i * a :]], dim=-1)


def drop_own(joint: Tensor, i: int, a: int) -> Tensor:
    """The others' coordinates ``[..., (N-1) a]`` of a joint vector ``[..., N a]`` (inverse of
    :func:`assemble_joint` on the opponents' part)."""
    return torch.cat([joint[..., : i * a], joint[..., (i + 1) * a :]], dim=-1)


class OpponentModel(nn.Module):
    """``rho_i(u_{-i} | o_i, u_i)``: ``tanh(MLP([o_i, u_i, eta]))`` with ``eta ~ N(0, I)``."""

    def __init__(
        self, obs_dim: int, action_dim: int, n_agents: int, hidden: tuple[int, ...]
    ) -> None:
        super().__init__()
        self.out_dim = (n_agents - 1) * action_dim
        self.noise_dim = self.out_dim
        self.sampler = Sampler(
            obs_dim + action_dim, 1, self.noise_dim, self.out_dim, hidden, mask_input=False
        )

    def forward(self, obs_i: Tensor, own: Tensor, eta: Tensor) -> Tensor:
        """``obs_i [..., o]``, ``own [..., a]``, ``eta [..., (N-1) a]`` -> ``u_{-i}``
        ``[..., (N-1) a]``."""
        out: Tensor = self.sampler(
            torch.cat([obs_i, own], dim=-1), eta.unsqueeze(-2), obs_i.new_ones(1)
        )
        return out


def opponent_svgd_loss(
    q_fn: Callable[[Tensor], Tensor], own: Tensor, others: Tensor, i: int, alpha: float
) -> Tensor:
    """Amortized SVGD surrogate of agent ``i``'s opponent model (see the module docstring).

    ``own [..., M, a]`` are the conditioning actions (detached here: the opponent step must not
    move the agent's policy), ``others [..., M, (N-1) a]`` the model's particles *with* their
    graph to ``phi_i``, ``q_fn`` maps joint actions ``[..., M, N a]`` to ``Q`` ``[..., M]``.
    The loss's gradient on ``others`` is ``-alpha svgd(others, score) / numel`` per particle,
    so a gradient step moves ``g_phi`` along the Stein direction.
    """
    n = others.shape[-1] // own.shape[-1] + 1
    joint = assemble_joint(own.detach(), others.detach(), i, n)
    score = drop_own(squashed_score(q_fn, joint, alpha), i, own.shape[-1])
    # Eq. 9's direction E[k grad Q + alpha grad k] = alpha * svgd(score of Q / alpha)
    direction: Tensor = alpha * svgd_direction(others.detach(), score)
    return -(others * direction).sum(-1).mean()
