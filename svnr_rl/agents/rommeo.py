r"""ROMMEO (Tian et al., 2019): regularized opponent model with a maximum-entropy objective.

Agent ``i`` owns three tanh-Gaussian (SAC-style) networks of the shared size ``algo.hidden``:

* the opponent model ``rho_i(u_{-i} | o_i)``,
* the conditional policy ``pi_i(u_i | o_i, u_{-i})``,
* the prior ``P_i(u_{-i} | o_i)``, fitted by maximum likelihood to the actions the other agents
  actually took (replay).

ROMMEO's objective for agent ``i`` (Tian et al., Eq. 5, with the temperature on the entropy)

.. math::

   J_i = \mathbb E\Big[\textstyle\sum_t r_t + \alpha\, \mathcal H\big(\pi_i(\cdot \mid s_t,
         u_{-i,t})\big) - \mathrm{KL}\big(\rho_i(\cdot \mid s_t) \,\|\, P_i(\cdot \mid s_t)\big)
         \Big]

gives, with ``u_{-i} ~ rho_i`` and ``u_i ~ pi_i(. | s, u_{-i})`` both reparameterized,

* **policy loss** ``E[alpha log pi_i(u_i | s, u_{-i}) - Q(s, u_i, u_{-i})]`` (gradient to
  ``pi_i``);
* **opponent loss** ``E[log rho_i(u_{-i} | s) - log P_i(u_{-i} | s) + alpha log pi_i(u_i | s,
  u_{-i}) - Q(s, u_i, u_{-i})]`` (gradient to ``rho_i``, through ``u_{-i}`` and through the
  dependence of ``u_i`` on ``u_{-i}``; ``P_i``'s parameters are held fixed in it, the prior
  term :func:`prior_term` ``log rho - log P`` keeps its gradient in ``u_{-i}``);
* **prior loss** ``-E_{replay}[log P_i(u^{buffer}_{-i} | s)]``.

The two policy-side losses share one sample and are the single expression
``log rho - log P + alpha log pi - Q`` differentiated with respect to ``(pi_i, rho_i)``.  The
critic target is ROMMEO's soft value
``V(s') = E[Q_bar(s', u') - alpha log pi_i - log rho_i + log P_i]``, one sample per agent,
averaged over the agents (one shared critic instead of one per agent, see docs/baselines.md).

**Execution** (decentralized): agent ``i`` samples ``u_{-i} ~ rho_i(. | o_i)`` and then
``u_i ~ pi_i(. | o_i, u_{-i})`` with its own row of the common noise; at test time the means
(``tanh`` of the Gaussian means), as in SAC.  ``alpha`` follows the one shared schedule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from svnr_rl.agents.base import Agent
from svnr_rl.agents.masql import own_noise_only
from svnr_rl.agents.opponent import assemble_joint
from svnr_rl.nets import Sampler, mlp
from svnr_rl.replay import Batch

__all__ = [
    "LOG_STD_MAX",
    "LOG_STD_MIN",
    "ROMMEOAgent",
    "RommeoActor",
    "TanhGaussian",
    "prior_term",
    "tanh_gaussian_log_prob",
]

#: SAC's clamp of the log standard deviation
LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0
#: distance from +-1 at which replay actions are clipped before ``atanh`` (prior fit)
ATANH_CLIP = 1e-6


def tanh_gaussian_log_prob(mean: Tensor, log_std: Tensor, z: Tensor) -> Tensor:
    r"""``log p(u)`` of ``u = tanh(z)``, ``z ~ N(mean, diag(exp(log_std))^2)``, summed over the
    last axis:

    .. math:: \sum_d \Big[-\tfrac12 \big(\tfrac{z_d - m_d}{\sigma_d}\big)^2 - \log \sigma_d
              - \tfrac12 \log 2\pi - \log\big(1 - \tanh^2 z_d\big)\Big],

    with the exact, overflow-free ``log(1 - tanh^2 z) = 2 (log 2 - z - softplus(-2 z))``.
    """
    var_term = ((z - mean) * torch.exp(-log_std)).pow(2)
    gauss = -0.5 * var_term - log_std - 0.5 * math.log(2.0 * math.pi)
    log_jac = 2.0 * (math.log(2.0) - z - F.softplus(-2.0 * z))
    return (gauss - log_jac).sum(-1)


def prior_term(log_rho: Tensor, log_prior: Tensor) -> Tensor:
    """ROMMEO's regularizer at one sample ``u_{-i} ~ rho``: ``log rho(u_{-i}) - log P(u_{-i})``,
    the one-sample estimate of ``KL(rho || P)``."""
    return log_rho - log_prior


class TanhGaussian(nn.Module):
    """``u = tanh(mean + exp(log_std) eps)`` with ``(mean, log_std) = MLP(x)``."""

    def __init__(self, in_dim: int, out_dim: int, hidden: Sequence[int]) -> None:
        super().__init__()
        self.out_dim = out_dim
        self.net = mlp(in_dim, hidden, 2 * out_dim)

    def params(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mean, log_std = self.net(x).chunk(2, dim=-1)
        return mean, log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)

    def sample(self, x: Tensor, eps: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Reparameterized ``(u, z, log p(u))`` for standard normal ``eps [..., out_dim]``."""
        mean, log_std = self.params(x)
        z = mean + torch.exp(log_std) * eps
        return torch.tanh(z), z, tanh_gaussian_log_prob(mean, log_std, z)

    def log_prob_pre_tanh(self, x: Tensor, z: Tensor) -> Tensor:
        mean, log_std = self.params(x)
        return tanh_gaussian_log_prob(mean, log_std, z)

    def log_prob(self, x: Tensor, u: Tensor) -> Tensor:
        """``log p(u)`` at given actions in ``[-1, 1]`` (clipped ``ATANH_CLIP`` inside)."""
        z = torch.atanh(u.clamp(-1.0 + ATANH_CLIP, 1.0 - ATANH_CLIP))
        return self.log_prob_pre_tanh(x, z)


class RommeoActor(nn.Module):
    """What agent ``i`` executes with: its opponent model ``rho_i`` and policy ``pi_i``."""

    def __init__(self, obs_dim: int, action_dim: int, n_agents: int, hidden: Sequence[int]) -> None:
        super().__init__()
        self.action_dim = action_dim
        self.others_dim = (n_agents - 1) * action_dim
        self.opponent = TanhGaussian(obs_dim, self.others_dim, hidden)
        self.policy = TanhGaussian(obs_dim + self.others_dim, action_dim, hidden)

    def joint_sample(
        self, obs_i: Tensor, eps_others: Tensor, eps_own: Tensor
    ) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """``(own, log_pi, others, z_others, log_rho)``: ``u_{-i} ~ rho``, then
        ``u_i ~ pi(. | u_{-i})``."""
        others, z_o, log_rho = self.opponent.sample(obs_i, eps_others)
        own, _, log_pi = self.policy.sample(torch.cat([obs_i, others], dim=-1), eps_own)
        return own, log_pi, others, z_o, log_rho

    def forward(self, obs_i: Tensor, eps: Tensor) -> Tensor:
        """Own action from the own noise row ``eps [..., (N-1) a + a]`` (zeros: the means)."""
        own, *_ = self.joint_sample(obs_i, eps[..., : self.others_dim], eps[..., self.others_dim :])
        return own


class ROMMEOAgent(Agent):
    """ROMMEO-AC on the shared critic (see the module docstring)."""

    name: ClassVar[str] = "rommeo"
    noise_conditioned: ClassVar[bool] = True

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        own_noise_only(self)
        self.priors = nn.ModuleList(
            TanhGaussian(self.spec.obs_dim, (self.n_agents - 1) * self.action_dim, self.cfg.hidden)
            for _ in range(self.n_agents)
        ).to(self.device, self.dtype)
        self.actor_opt.add_param_group({"params": list(self.priors.parameters())})

    def build_actor(self, i: int) -> RommeoActor:  # type: ignore[override]
        """Opponent model and conditional policy of agent ``i``; its noise row has ``D`` entries
        (``(N-1) a`` for ``rho_i`` then ``a`` for ``pi_i``)."""
        if self.n_agents < 2:
            raise ValueError("ROMMEO needs at least 2 agents (an opponent to model)")
        if self.cfg.noise_dim not in (0, self.joint_dim):
            raise ValueError(
                f"algo.noise_dim must be 0 or {self.joint_dim} (the joint action size) for "
                f"ROMMEO; got {self.cfg.noise_dim}"
            )
        self.noise_dim = self.joint_dim
        return RommeoActor(self.spec.obs_dim, self.action_dim, self.n_agents, self.cfg.hidden)

    def extra_modules(self) -> dict[str, nn.Module]:
        return {"priors": self.priors}

    def prior(self, i: int) -> TanhGaussian:
        """Agent ``i``'s prior ``P_i(u_{-i} | o_i)``."""
        out: TanhGaussian = self.priors[i]  # type: ignore[assignment]
        return out

    @classmethod
    def act_one(
        cls,
        actor: Sampler,
        i: int,
        obs_i: Tensor,
        noise: Tensor,
        mask_row: Tensor,
        *,
        explore: bool,
    ) -> Tensor:
        eps = noise[..., i, :]
        if not explore:
            eps = torch.zeros_like(eps)
        out: Tensor = actor(obs_i, eps)
        return out

    def _eps(self, b: int) -> Tensor:
        return torch.randn(
            (b, self.joint_dim), generator=self.gen, device=self.device, dtype=self.dtype
        )

    def agent_terms(self, i: int, obs_i: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """One reparameterized joint sample of agent ``i``'s reasoning at ``obs_i [B, o]``:
        ``(joint [B, D], log_pi, log_rho, log_P, others)``; ``log_P`` at ``rho``'s sample."""
        actor: RommeoActor = self.actors[i]  # type: ignore[assignment]
        eps = self._eps(obs_i.shape[0])
        own, log_pi, others, z_o, log_rho = actor.joint_sample(
            obs_i, eps[..., : actor.others_dim], eps[..., actor.others_dim :]
        )
        log_prior = self.prior(i).log_prob_pre_tanh(obs_i, z_o)
        joint = assemble_joint(own, others, i, self.n_agents)
        return joint, log_pi, log_rho, log_prior, others

    def next_value(self, batch: Batch, alpha: float) -> Tensor:
        values = []
        for i in range(self.n_agents):
            joint, log_pi, log_rho, log_prior, _ = self.agent_terms(i, batch.next_obs[:, i])
            q = self.critic_target.q_min(batch.next_state, joint)
            values.append(q - alpha * log_pi - prior_term(log_rho, log_prior))
        return torch.stack(values).mean(0)

    def policy_losses(self, batch: Batch, alpha: float) -> tuple[Tensor, Tensor]:
        """``(policy + opponent loss, prior loss)`` summed over agents (see module docstring)."""
        obs, state = batch.obs, batch.state
        a = self.action_dim
        pol = obs.new_zeros(())
        pri = obs.new_zeros(())
        self.critic.requires_grad_(False)
        self.priors.requires_grad_(False)
        try:
            for i in range(self.n_agents):
                joint, log_pi, log_rho, log_prior, _ = self.agent_terms(i, obs[:, i])
                q = self.critic.q_min(state, joint)
                pol = pol + (prior_term(log_rho, log_prior) + alpha * log_pi - q).mean()
        finally:
            self.critic.requires_grad_(True)
            self.priors.requires_grad_(True)
        for i in range(self.n_agents):
            acted = batch.action.flatten(1)
            others = torch.cat([acted[:, : i * a], acted[:, (i + 1) * a :]], dim=-1)
            pri = pri - self.prior(i).log_prob(obs[:, i], others).mean()
        return pol, pri

    def policy_step(self, batch: Batch, alpha: float) -> float:
        pol, pri = self.policy_losses(batch, alpha)
        self.actor_opt.zero_grad(set_to_none=True)
        (pol + pri).backward()  # type: ignore[no-untyped-call]
        if self.cfg.grad_clip > 0:
            nn.utils.clip_grad_norm_(
                [*self.actors.parameters(), *self.priors.parameters()], self.cfg.grad_clip
            )
        self.actor_opt.step()
        return float(pol.detach())
