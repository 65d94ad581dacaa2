r"""MASAC: independent tanh-Gaussian actors, a centralized twin critic, a learned temperature.

The general-purpose maximum-entropy baseline of cooperative MARL (SAC, Haarnoja et al. 2018,
with one actor per agent on its local observation and one critic on the global state and the
joint action; the form of BenchMARL's and EPyMARL's MASAC).  With one agent it is SAC.

Agent ``i`` acts with ``u_i = tanh(m_i(o_i) + sigma_i(o_i) * xi_i)``, ``xi_i`` its own row of
the common noise (``tanh(m_i(o_i))`` at test, as SAC evaluates).  Every agent has its own
temperature ``alpha_i = exp(log alpha_i)``.  With ``u' ~ pi(. | o')`` (all agents sampled
together, one sample per state):

* **critic target** (Eq. 11 with SAC's clipped double-Q):
  ``y = c r + gamma (1 - d) [min_k Q_bar_k(s', u') - sum_i alpha_i log pi_i(u'_i | o'_i)]``;
* **policy loss** ``E_s[sum_i alpha_i log pi_i(u_i | o_i) - min_k Q_k(s, u)]``, ``u ~ pi(. |
  o)`` reparameterized, each actor's gradient through its own ``u_i`` (the critic held fixed);
* **temperature loss** ``-E[log alpha_i (log pi_i(u_i | o_i) + H_target)]`` with SAC's target
  entropy ``H_target = -dim(u_i)``: ``alpha_i`` falls while the policy's entropy is above the
  target and rises below it.

The shared alpha schedule (``alpha.*``) is not used: the temperature is MASAC's own, starting
at ``algo.init_alpha``; the loop records the mean ``alpha_i`` in ``metrics.csv``.  The critic
always has two heads (``algo.twin_critic`` is implied).  ``algo.topology`` is ignored (each agent
reads only its own noise row).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from svnr_rl.agents.base import Agent
from svnr_rl.agents.masql import own_noise_only
from svnr_rl.agents.rommeo import TanhGaussian
from svnr_rl.nets import Sampler
from svnr_rl.replay import Batch

__all__ = ["MASACAgent", "temperature_loss"]


def temperature_loss(log_alpha: Tensor, log_pi: Tensor, target_entropy: float) -> Tensor:
    """SAC's temperature objective ``-E[log alpha (log pi + H_target)]`` (``log_pi`` detached),
    for ``log_alpha [N]`` and ``log_pi [B, N]``: the batch mean per agent, summed over agents.

    Its gradient in ``log alpha`` is ``-E[log pi] - H_target = H(pi) - H_target``: gradient
    descent lowers ``alpha`` while the entropy exceeds the target.
    """
    return -(log_alpha * (log_pi.detach() + target_entropy)).mean(0).sum()


class _Temperatures(nn.Module):
    """``log alpha_i`` of every agent, one learnable parameter vector (checkpointed)."""

    def __init__(self, n_agents: int, init_alpha: float) -> None:
        super().__init__()
        self.log_alpha = nn.Parameter(torch.full((n_agents,), math.log(init_alpha)))


class MASACAgent(Agent):
    """MASAC on the shared backbone (see the module docstring)."""

    name: ClassVar[str] = "masac"
    noise_conditioned: ClassVar[bool] = False
    critic_heads: ClassVar[int] = 2

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        own_noise_only(self)
        self.temperatures = _Temperatures(self.n_agents, self.cfg.init_alpha).to(
            self.device, self.dtype
        )
        self.alpha_opt = torch.optim.Adam(self.temperatures.parameters(), lr=self.cfg.policy_lr)
        #: SAC's heuristic target entropy, ``-dim(u_i)`` per agent
        self.target_entropy = -float(self.action_dim)

    def build_actor(self, i: int) -> TanhGaussian:  # type: ignore[override]
        """Agent ``i``'s tanh-Gaussian policy on its local observation."""
        return TanhGaussian(self.spec.obs_dim, self.action_dim, self.cfg.hidden)

    def extra_modules(self) -> dict[str, nn.Module]:
        return {"temperatures": self.temperatures}

    @property
    def alphas(self) -> Tensor:
        """``alpha_i`` of every agent (no gradient)."""
        return self.temperatures.log_alpha.detach().exp()

    def reported_alpha(self, scheduled: float) -> float:
        return float(self.alphas.mean())

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
        policy: TanhGaussian = actor  # type: ignore[assignment]
        if not explore:
            mean, _ = policy.params(obs_i)
            return torch.tanh(mean)
        u, _, _ = policy.sample(obs_i, noise[..., i, :])
        return u

    def sample_joint(self, obs: Tensor) -> tuple[Tensor, Tensor]:
        """``(u [B, N a], log pi [B, N])``: every agent samples from its policy at ``obs[:, i]``."""
        eps = torch.randn(
            (obs.shape[0], self.n_agents, self.action_dim),
            generator=self.gen,
            device=self.device,
            dtype=self.dtype,
        )
        us, logps = [], []
        for i in range(self.n_agents):
            policy: TanhGaussian = self.actors[i]  # type: ignore[assignment]
            u, _, logp = policy.sample(obs[:, i], eps[:, i])
            us.append(u)
            logps.append(logp)
        return torch.cat(us, dim=-1), torch.stack(logps, dim=-1)

    def next_value(self, batch: Batch, alpha: float) -> Tensor:
        u, logp = self.sample_joint(batch.next_obs)
        q = self.critic_target.q_min(batch.next_state, u)
        return q - (self.alphas * logp).sum(-1)

    def policy_step(self, batch: Batch, alpha: float) -> float:
        u, logp = self.sample_joint(batch.obs)
        self.critic.requires_grad_(False)
        try:
            q = self.critic.q_min(batch.state, u)
        finally:
            self.critic.requires_grad_(True)
        loss = ((self.alphas * logp).sum(-1) - q).mean()
        self.actor_opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        self.clip_actor_grads()
        self.actor_opt.step()
        t_loss = temperature_loss(self.temperatures.log_alpha, logp, self.target_entropy)
        self.alpha_opt.zero_grad(set_to_none=True)
        t_loss.backward()  # type: ignore[no-untyped-call]
        self.alpha_opt.step()
        return float(loss.detach())

    def state_dict(self) -> dict[str, Any]:
        out = super().state_dict()
        out["alpha_opt"] = self.alpha_opt.state_dict()
        return out

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        super().load_state_dict(sd)
        self.alpha_opt.load_state_dict(sd["alpha_opt"])
