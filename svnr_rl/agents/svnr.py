"""SVNR: amortized message-passing SVGD policy updates (Sec. 5, Eq. 8-11, Algorithm 1, App. D).

**Acting.**  Agent ``i`` samples ``u_i = f_{psi_i}(xi_i, xi_{C_i}, o_i)`` from the common noise
(App. J); the joint sample is one draw of ``p_psi(u | s)``.

**Critic target** (Eq. 11).  ``V(s') = alpha log E_q[exp(Q(s', u')/alpha) / q(u')]`` estimated
with ``K = value_samples`` samples: from the uniform law on ``[-1, 1]^D``
(``log q = -D log 2``, soft Q-learning) or, with ``value_proposal = "policy"``, from the
samplers themselves with ``log q = 0`` (Eq. 11 read literally, ``E_{u' ~ p}``).

**Policy update** (Eq. 9, 10).  For ``policy_states`` replay states, ``M = num_particles``
joint particles ``u^l = f_psi(xi^l, s)`` (fresh noise; every agent's particle ``l`` uses the same
``xi^l``, so the particles are joint samples).  With the critic's gradient and the tanh
change-of-variables correction (soft Q-learning), the score of the target
``pi(u) ~ exp(Q(s, u)/alpha)`` on the squashed actions is

.. math:: g^l = \\nabla_u \\big[Q(s, u^l)/\\alpha
          + \\textstyle\\sum_d \\log(1 - (u^l_d)^2 + 10^{-6})\\big].

For each agent ``i`` the local-kernel Stein direction over ``S_i = {i} + C_i`` (Eq. 5/13) is
:func:`svnr_core.stein.local_kernel_direction` on the detached particles; Eq. 9's
``E[k grad_{u_i} Q + alpha grad_{u_i} k]`` is ``alpha`` times it.  Eq. 10 pushes the direction
into ``psi_i`` only: the surrogate ``-mean_l <u^l_i, Delta f_i^l>`` (gradient ``-Delta f_i``
on ``u_i``, i.e. ``u_i.backward(-Delta f_i)``) reaches only agent ``i``'s parameters, since
``u_i`` depends on no other agent's parameters.  All ``M`` particles are both kernel centres and
moved points (amortized SVGD, Feng et al. 2017).
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from svnr_core.stein import local_kernel_direction
from svnr_rl.agents.base import Agent
from svnr_rl.critic import soft_value_estimate, squashed_score, uniform_soft_value
from svnr_rl.replay import Batch

__all__ = ["SVNRAgent"]


class SVNRAgent(Agent):
    """Stein Variational Negotiated Reasoning (see the module docstring)."""

    name: ClassVar[str] = "svnr"
    noise_conditioned: ClassVar[bool] = True

    def sample_particles(self, obs: Tensor, mask: Tensor, m: int) -> Tensor:
        """``m`` joint samples per state: ``obs [B, N, obs_dim] -> u [B, m, N, action_dim]``."""
        b = obs.shape[0]
        xi = torch.randn(
            (b, m, self.n_agents, self.noise_dim),
            generator=self.gen,
            device=self.device,
            dtype=self.dtype,
        )
        obs_m = obs.unsqueeze(1).expand(b, m, *obs.shape[1:])
        return self.act(
            obs_m.reshape(b * m, *obs.shape[1:]),
            xi.reshape(b * m, *xi.shape[2:]),
            mask,
            explore=True,
        ).reshape(b, m, self.n_agents, self.action_dim)

    def next_value(self, batch: Batch, alpha: float) -> Tensor:
        b, k, d = batch.next_state.shape[0], self.cfg.value_samples, self.joint_dim
        if self.cfg.value_proposal == "uniform":
            return uniform_soft_value(self.critic_target, batch.next_state, alpha, k, d, self.gen)
        u = self.sample_particles(batch.next_obs, self.update_mask(), k).reshape(b, k, d)
        s = batch.next_state.unsqueeze(1).expand(b, k, batch.next_state.shape[-1])
        return soft_value_estimate(self.critic_target.q_min(s, u), alpha, 0.0)

    def stein_direction(self, state: Tensor, u: Tensor, alpha: float, mask: Tensor) -> Tensor:
        """Eq. 9's ``Delta f`` ``[B, M, D]`` for particles ``u [B, M, D]`` at ``state [B, S]``."""
        b, m, _ = u.shape
        s = state.unsqueeze(1).expand(b, m, state.shape[-1])
        score = squashed_score(lambda y: self.critic.q_min(s, y), u, alpha)
        x = u.detach()
        a = self.action_dim
        parts = []
        for i in range(self.n_agents):
            phi = local_kernel_direction(
                x,
                score,
                update=list(range(i * a, (i + 1) * a)),
                condition=self.condition_coords(mask, i),
            )
            parts.append(phi)
        return alpha * torch.cat(parts, dim=-1)

    def policy_step(self, batch: Batch, alpha: float) -> float:
        bp = min(self.cfg.policy_states, batch.obs.shape[0])
        mask = self.update_mask()
        u = self.sample_particles(batch.obs[:bp], mask, self.cfg.num_particles).flatten(2)
        direction = self.stein_direction(batch.state[:bp], u, alpha, mask)
        # Eq. 10: grad wrt psi_i of -E[<Delta f_i, f_i>] = -E[Delta f_i df_i/dpsi_i]
        loss = -(u * direction).sum(-1).mean()
        self.actor_opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        self.clip_actor_grads()
        self.actor_opt.step()
        return float(loss.detach())
