r"""PR2-AC (Wen, Yang, Luo, Wang, Pan, "Probabilistic Recursive Reasoning for Multi-Agent
Reinforcement Learning", ICLR 2019), level-1 recursive reasoning, in the paper's form.

Agent ``i`` owns

* a **deterministic policy** ``u_i = mu_i(o_i) = tanh(MLP(o_i))`` on its local observation (a
  DDPG-style actor; PR2's Algorithm 1 acts with ``mu_i(s) + N_t``, exploration noise from a
  random process).  Here the noise is MADDPG's (:mod:`svnr_rl.agents.maddpg`, inherited): the
  agent's own row of the common noise stream, ``u_i + 0.1 xi_i`` clipped to ``[-1, 1]``, and
  none at test, so execution is deterministic and decentralized;
* a **target actor** ``mu_bar_i`` (Polyak-averaged, ``algo.polyak``), as the paper's target
  policy ``mu_{theta_bar_i}``;
* a **conditional opponent model** ``rho_i(u_{-i} | o_i, u_i)`` (PR2 Sec. 4.3: the level-1
  belief "how the others answer my action"), trained by amortized SVGD towards the soft-optimal
  conditional ``exp(Q(s, u_i, .) / alpha)`` at the agent's own current action ``mu_i(o_i)``
  (:func:`svnr_rl.agents.opponent.opponent_svgd_loss`, shared with ``pr2-svgd``).

The temperature ``alpha`` (the one shared schedule) enters only the opponent model and the soft
marginal of the joint critic over the others' actions,

.. math:: \tilde Q_i(s, u_i) = \alpha \log \int \exp\big(Q(s, u_i, u_{-i}) / \alpha\big)\,
          du_{-i}, \qquad
          \nabla_{u_i} \tilde Q_i(s, u_i) = \mathbb E_{\rho_i^*(u_{-i} \mid s, u_i)}
          \big[\partial_{u_i} Q(s, u_i, u_{-i})\big],

``rho_i^* ∝ exp(Q / alpha)``; the own policy has no entropy term.  Per update, on the shared
replay batch (one index set for all agents):

* **critic target** (PR2 Algorithm 1, ``y_i = r + gamma Q_bar_i(s', mu_bar_i(s'))`` with the
  soft marginal of the target critic at the target actor's action): with ``K =
  algo.value_samples`` proposals ``u_{-i}^k`` uniform on ``[-1, 1]^{(N-1) a}`` (importance
  sampling, as PR2's code),

  .. math:: V_i(s') = \alpha\Big(\log \tfrac1K \textstyle\sum_k
            \exp\big(Q_{\bar\theta}(s', \bar\mu_i(o'_i), u_{-i}^k) / \alpha\big)
            + (N-1) a \log 2\Big), \qquad V(s') = \tfrac1N \textstyle\sum_i V_i(s'),

  the constants inside ``alpha`` (:func:`svnr_rl.critic.soft_value_estimate`), and our one
  centralized critic regresses on the mean of the agents' targets (Eq. 11);
* **actor** (PR2's deterministic policy gradient with the opponent conditional): for
  ``policy_batch_size`` replay states and ``M = algo.num_particles`` opponent samples
  ``u_{-i}^l ~ rho_i(. | o_i, mu_i(o_i))`` held fixed,

  .. math:: \nabla_{\theta_i} J = \mathbb E_s\Big[\nabla_{\theta_i}\mu_i(o_i)\,
            \tfrac1M \textstyle\sum_l \partial_{u_i} Q(s, u_i, u_{-i}^l)
            \big|_{u_i = \mu_i(o_i)}\Big]
            \approx \nabla_{\theta_i} \mathbb E_s\big[\tilde Q_i(s, \mu_i(o_i))\big],

  the loss ``-mean_{s,l} Q(s, mu_i(o_i), u_{-i}^l)`` (:func:`pr2_actor_loss`).  The opponent
  samples are *not* differentiated through ``rho_i``'s dependence on ``u_i``: with ``rho_i =
  rho_i^*`` the estimate is then the gradient of the soft marginal (the identity above), while
  the extra term would follow the model's map wherever the critic extrapolates;
* **opponent model**: the SVGD step of :mod:`svnr_rl.agents.opponent` on the same ``M``
  particles, conditioned on ``mu_i(o_i)`` (detached);
* **targets**: Polyak averaging of the critic and the actors.

Fixed defects of the public code (NOTES.md; ``ml3705454/mapr2``, ``maci/learners/mavb_ac.py``):
the actor loss there is evaluated on the *next* observations and its opponent samples are
conditioned on the *buffer's* action; here both use the current observations and the agent's
own current action ``mu_i(o_i)``.  That code also forms the actor loss as a log-mean-exp of the
critic over samples that are already drawn from ``rho_i ∝ exp(Q / alpha)`` (re-weighting them a
second time) and adds the importance constants outside ``alpha``; here the mean (the paper's
estimator) and the constants inside ``alpha``.

**Level 1 only.**  The paper's PR2-AC is level 1 (an agent's policy plus the others' conditional
answer to it; the code's ``k = 0``).  The level-``k`` policies of the public code (``k >= 1``:
an own policy conditioned on an imagined opponent action over a uniform level-0 base) belong to
the follow-up GR2 and are not implemented; Table 9's "recursive steps k" is not tuned here.

**One agent** (gym tasks): there is no opponent to model, the soft marginal over an empty set
is ``Q`` itself, and the method reduces exactly to DDPG (MADDPG's update with one agent); no
opponent networks are built.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from svnr_rl.agents.maddpg import MADDPGAgent
from svnr_rl.agents.masql import own_noise_only
from svnr_rl.agents.opponent import OpponentModel, assemble_joint, opponent_svgd_loss
from svnr_rl.critic import soft_value_estimate
from svnr_rl.nets import Sampler
from svnr_rl.replay import Batch

__all__ = ["PR2Agent", "pr2_actor_loss"]


def pr2_actor_loss(q_fn: Callable[[Tensor], Tensor], own: Tensor, others: Tensor, i: int) -> Tensor:
    """``-mean Q(s, u_i, u_{-i}^l)`` for ``own [..., M, a]`` (carrying the actor's graph; the same
    ``mu_i(o_i)`` repeated ``M`` times) and opponent samples ``others [..., M, (N-1) a]``, which
    are held fixed: the gradient in ``u_i`` is ``-mean_l partial_{u_i} Q`` (module docstring)."""
    n = others.shape[-1] // own.shape[-1] + 1
    return -q_fn(assemble_joint(own, others.detach(), i, n)).mean()


class PR2Agent(MADDPGAgent):
    """PR2-AC, level 1 (see the module docstring); acting and target actors as MADDPG's."""

    name: ClassVar[str] = "pr2"
    noise_conditioned: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        own_noise_only(self)  # no negotiation sets: each agent reads its own exploration noise
        n = self.n_agents
        self.opponents = nn.ModuleList(
            OpponentModel(self.spec.obs_dim, self.action_dim, n, self.cfg.hidden)
            for _ in range(n if n > 1 else 0)
        ).to(self.device, self.dtype)
        if n > 1:  # same optimizer and learning rate as the actors, so one checkpoint entry
            self.actor_opt.add_param_group({"params": list(self.opponents.parameters())})

    def build_actor(self, i: int) -> Sampler:
        """``mu_i(o_i) = tanh(MLP(o_i))``: no noise input and no mask input (the topology is
        ignored, whatever ``algo.topology`` says)."""
        return Sampler(
            self.spec.obs_dim, self.n_agents, 0, self.action_dim, self.cfg.hidden, mask_input=False
        )

    def extra_modules(self) -> dict[str, nn.Module]:
        return {**super().extra_modules(), "opponents": self.opponents}

    def _mu(self, actors: nn.ModuleList, obs: Tensor) -> Tensor:
        """Every agent's deterministic action ``[B, N, a]`` at its own ``obs[:, i]``."""
        none = obs.new_zeros(())  # the actors take no noise
        return torch.stack(
            [a(obs[:, i], none, self.static_mask[i]) for i, a in enumerate(actors)], dim=1
        )

    def opponent_proposals(self, b: int, k: int) -> Tensor:
        """Importance proposals ``[B, N, K, (N-1) a]``, uniform on ``[-1, 1]`` (the critic's
        action box)."""
        shape = (b, self.n_agents, k, self.joint_dim - self.action_dim)
        u = torch.rand(shape, generator=self.gen, device=self.device, dtype=self.dtype)
        return 2.0 * u - 1.0

    def next_value(self, batch: Batch, alpha: float) -> Tensor:
        n, a = self.n_agents, self.action_dim
        if n == 1:  # DDPG: the soft marginal over no opponents is Q itself
            return super().next_value(batch, alpha)
        b, k = batch.next_obs.shape[0], self.cfg.value_samples
        own = self._mu(self.actors_target, batch.next_obs)  # mu_bar_i(o'_i), [B, N, a]
        others = self.opponent_proposals(b, k)
        joint = torch.stack(
            [
                assemble_joint(own[:, i].unsqueeze(1).expand(b, k, a), others[:, i], i, n)
                for i in range(n)
            ],
            dim=1,
        )  # [B, N, K, D]
        s = batch.next_state[:, None, None, :].expand(b, n, k, batch.next_state.shape[-1])
        q = self.critic_target.q_min(s, joint)  # [B, N, K]
        v_i = soft_value_estimate(q, alpha, -(n - 1) * a * math.log(2.0))  # [B, N]
        return v_i.mean(-1)

    def opponent_particles(self, i: int, obs_i: Tensor, own: Tensor) -> Tensor:
        """``M`` samples of ``rho_i(. | o_i, u_i)`` per state, ``[B, M, (N-1) a]``, with their
        graph to ``phi_i``; ``own [B, M, a]`` is the (detached) conditioning action."""
        rho: OpponentModel = self.opponents[i]  # type: ignore[assignment]
        b, m = own.shape[0], own.shape[1]
        eta = torch.randn(
            (b, m, rho.noise_dim), generator=self.gen, device=self.device, dtype=self.dtype
        )
        out: Tensor = rho(obs_i.unsqueeze(1).expand(b, m, obs_i.shape[-1]), own, eta)
        return out

    def policy_losses(self, batch: Batch, alpha: float) -> tuple[Tensor, Tensor]:
        """``(actor loss, opponent-model surrogate)`` summed over agents, on the first
        ``policy_states`` states of ``batch`` (current observations)."""
        bp, m = min(self.cfg.policy_states, batch.obs.shape[0]), self.cfg.num_particles
        obs, state = batch.obs[:bp], batch.state[:bp]
        s = state.unsqueeze(1).expand(bp, m, state.shape[-1])

        def q_fn(x: Tensor) -> Tensor:
            out: Tensor = self.critic.q_min(s, x)
            return out

        mu = self._mu(self.actors, obs)  # [bp, N, a], with the actors' graph
        actor = obs.new_zeros(())
        opponent = obs.new_zeros(())
        for i in range(self.n_agents):
            own = mu[:, i].unsqueeze(1).expand(bp, m, self.action_dim)
            others = self.opponent_particles(i, obs[:, i], own.detach())
            actor = actor + pr2_actor_loss(q_fn, own, others, i)
            opponent = opponent + opponent_svgd_loss(q_fn, own, others, i, alpha)
        return actor, opponent

    def policy_step(self, batch: Batch, alpha: float) -> float:
        if self.n_agents == 1:  # DDPG
            return super().policy_step(batch, alpha)
        actor, opponent = self.policy_losses(batch, alpha)
        self.actor_opt.zero_grad(set_to_none=True)
        # the two losses reach disjoint parameters (actor: theta_i; surrogate: phi_i)
        (actor + opponent).backward()  # type: ignore[no-untyped-call]
        if self.cfg.grad_clip > 0:
            nn.utils.clip_grad_norm_(
                [*self.actors.parameters(), *self.opponents.parameters()], self.cfg.grad_clip
            )
        self.actor_opt.step()
        return float(actor.detach())
