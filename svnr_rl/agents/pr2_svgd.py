r"""``pr2-svgd``: our former PR2, an amortized maximum-entropy (SVGD) sampler for the agent's own
action, level 1.

**Why it is kept.** Until PR2 was re-implemented in its paper form (:mod:`svnr_rl.agents.pr2`,
``algo.method=pr2``: a deterministic own policy with exploration noise), this module *was*
``pr2``; the committed Table 2 runs of ``docs/results/table2`` used it.  It stays, under its own
name and with unchanged numerics (draw for draw), so those results remain reproducible
(``algo.method=pr2-svgd``) and so the two readings of PR2 can be compared.  It differs from the
paper form in two places: the own policy is a noise-conditioned sampler trained towards the
soft marginal ``exp(tilde Q_i / alpha)`` (so it explores, and acts at test, through the shared
alpha schedule) instead of a deterministic actor with exploration noise, and the critic target
is the joint soft value (no target actors) instead of the soft marginal at the target actors'
actions.  The opponent model and its SVGD step are the same code as ``pr2``'s
(:mod:`svnr_rl.agents.opponent`).

Agent ``i`` owns

* a policy ``pi_i(u_i | o_i)``: a noise-conditioned sampler ``u_i = f_i(xi_i, o_i)`` that reads
  only its own noise (decentralized, uncoordinated execution);
* a conditional opponent model ``rho_i(u_{-i} | o_i, u_i)``: a sampler
  ``u_{-i} = g_i(eta, o_i, u_i)`` with its own training noise ``eta``, the level-1 belief
  "how the others respond to my action".

The joint policy of agent ``i``'s reasoning factorizes as
``pi(u_i, u_{-i} | s) = pi_i(u_i | s) rho_i(u_{-i} | s, u_i)``; for the soft optimal joint
``exp(Q(s, u) / alpha)`` the two factors are its conditional and its marginal (PR2, Sec. 4)

.. math::

   \rho_i(u_{-i} \mid s, u_i) &\propto \exp\big(Q(s, u_i, u_{-i}) / \alpha\big), \\
   \pi_i(u_i \mid s) &\propto \exp\big(\tilde Q_i(s, u_i) / \alpha\big), \qquad
   \tilde Q_i(s, u_i) = \alpha \log \int \exp\big(Q(s, u_i, u_{-i}) / \alpha\big)\, du_{-i},

so the policy maximizes ``E_{pi_i}[E_{rho_i}[Q] + alpha H(rho_i)] + alpha H(pi_i)``.  The score
of the marginal is the conditional mean of the partial derivative,

.. math:: \nabla_{u_i} \tilde Q_i(s, u_i) / \alpha
          = \mathbb E_{\rho_i(u_{-i} \mid s, u_i)}\big[\partial_{u_i} Q(s, u_i, u_{-i})\big]
          / \alpha,

which the opponent model makes computable.  Both samplers are trained by amortized SVGD
(Eq. 12) towards their targets, with the squashed score of
:func:`svnr_rl.critic.squashed_score`:

* **opponent model**: at each replay state, one own action ``u_i ~ pi_i`` -- the agent's *own
  sampled* action, not the buffer's -- and ``M`` opponent particles; the SVGD direction over
  ``u_{-i}`` towards ``exp(Q(s, u_i, .) / alpha)``;
* **policy**: ``M`` particles ``u_i``, one opponent sample ``u_{-i} ~ rho_i(. | o_i, u_i)`` per
  particle (held fixed), the score ``partial_{u_i} Q(s, u_i, u_{-i}) / alpha`` (a one-sample
  estimate of the marginal's score above), the SVGD direction over ``u_i``.  Differentiating
  through the opponent sampler as well (``d/du_i Q(u_i, g(eta, u_i))``) is not the marginal's
  score; it lets the policy climb wherever the opponent model's map amplifies the critic's
  extrapolation error, and on Max of Three it sent agents to the action bounds.

Both losses are evaluated on the *current* observations of the batch (the older public code
evaluates the policy loss on next observations and feeds buffer actions to the opponent
model, NOTES.md).  The critic target is the importance-sampled joint soft value of
:func:`svnr_rl.critic.uniform_soft_value`.  ``alpha`` follows the one shared schedule;
the opponent models use the shared network size and learning rate (``algo.hidden``,
``algo.policy_lr``) and sit in the actor optimizer, so they are checkpointed with it.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from svnr_core.stein import svgd_direction
from svnr_rl.agents.base import Agent
from svnr_rl.agents.masql import own_noise_only
from svnr_rl.agents.opponent import OpponentModel, assemble_joint, opponent_svgd_loss
from svnr_rl.critic import squashed_score, uniform_soft_value
from svnr_rl.nets import Sampler
from svnr_rl.replay import Batch

__all__ = ["PR2SVGDAgent"]


class PR2SVGDAgent(Agent):
    """Level-1 PR2 with an SVGD-trained own sampler (see the module docstring)."""

    name: ClassVar[str] = "pr2-svgd"
    noise_conditioned: ClassVar[bool] = True

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        own_noise_only(self)
        if self.n_agents < 2:
            raise ValueError("pr2-svgd needs at least 2 agents (an opponent to model)")
        self.opponents = nn.ModuleList(
            OpponentModel(self.spec.obs_dim, self.action_dim, self.n_agents, self.cfg.hidden)
            for _ in range(self.n_agents)
        ).to(self.device, self.dtype)
        self.actor_opt.add_param_group({"params": list(self.opponents.parameters())})

    def build_actor(self, i: int) -> Sampler:
        return Sampler(
            self.spec.obs_dim,
            self.n_agents,
            self.noise_dim,
            self.action_dim,
            self.cfg.hidden,
            mask_input=False,
        )

    def extra_modules(self) -> dict[str, nn.Module]:
        return {"opponents": self.opponents}

    def next_value(self, batch: Batch, alpha: float) -> Tensor:
        return uniform_soft_value(
            self.critic_target,
            batch.next_state,
            alpha,
            self.cfg.value_samples,
            self.joint_dim,
            self.gen,
        )

    def _randn(self, *shape: int) -> Tensor:
        return torch.randn(shape, generator=self.gen, device=self.device, dtype=self.dtype)

    def own_particles(self, i: int, obs_i: Tensor, m: int) -> Tensor:
        """``m`` samples of ``pi_i`` per state: ``obs_i [B, o] -> [B, m, a]``."""
        b = obs_i.shape[0]
        xi = self._randn(b, m, self.n_agents, self.noise_dim)
        obs_m = obs_i.unsqueeze(1).expand(b, m, obs_i.shape[-1])
        out: Tensor = self.actors[i](obs_m, xi, self.static_mask[i])
        return out

    def opponent_loss(
        self, i: int, obs_i: Tensor, state: Tensor, own: Tensor, alpha: float
    ) -> Tensor:
        """SVGD surrogate of ``rho_i`` at the agent's own sampled actions ``own [B, a]``."""
        b, m = obs_i.shape[0], self.cfg.num_particles
        rho: OpponentModel = self.opponents[i]  # type: ignore[assignment]
        own_m = own.detach().unsqueeze(1).expand(b, m, self.action_dim)
        obs_m = obs_i.unsqueeze(1).expand(b, m, obs_i.shape[-1])
        others: Tensor = rho(obs_m, own_m, self._randn(b, m, rho.noise_dim))  # [B, m, (N-1) a]
        s = state.unsqueeze(1).expand(b, m, state.shape[-1])
        return opponent_svgd_loss(lambda x: self.critic.q_min(s, x), own_m, others, i, alpha)

    def policy_loss(
        self, i: int, obs_i: Tensor, state: Tensor, alpha: float
    ) -> tuple[Tensor, Tensor]:
        """SVGD surrogate of ``pi_i`` towards ``exp(tilde Q_i / alpha)``; also returns the
        particles ``[B, M, a]`` (their first one feeds the opponent update)."""
        b, m = obs_i.shape[0], self.cfg.num_particles
        rho: OpponentModel = self.opponents[i]  # type: ignore[assignment]
        u = self.own_particles(i, obs_i, m)  # [B, m, a]
        obs_m = obs_i.unsqueeze(1).expand(b, m, obs_i.shape[-1])
        eta = self._randn(b, m, rho.noise_dim)
        s = state.unsqueeze(1).expand(b, m, state.shape[-1])

        with torch.no_grad():  # the opponents' answer to each particle, held fixed
            others = rho(obs_m, u, eta)

        def q_given_others(x: Tensor) -> Tensor:
            out: Tensor = self.critic.q_min(s, assemble_joint(x, others, i, self.n_agents))
            return out

        score = squashed_score(q_given_others, u, alpha)
        direction: Tensor = alpha * svgd_direction(u.detach(), score)
        return -(u * direction).sum(-1).mean(), u

    def policy_step(self, batch: Batch, alpha: float) -> float:
        bp = min(self.cfg.policy_states, batch.obs.shape[0])
        obs, state = batch.obs[:bp], batch.state[:bp]
        total = obs.new_zeros(())
        for i in range(self.n_agents):
            lp, u = self.policy_loss(i, obs[:, i], state, alpha)
            lo = self.opponent_loss(i, obs[:, i], state, u[:, 0], alpha)
            total = total + lp + lo
        self.actor_opt.zero_grad(set_to_none=True)
        total.backward()  # type: ignore[no-untyped-call]
        if self.cfg.grad_clip > 0:
            nn.utils.clip_grad_norm_(
                [*self.actors.parameters(), *self.opponents.parameters()], self.cfg.grad_clip
            )
        self.actor_opt.step()
        return float(total.detach())
