r"""MASQL (Wei et al., 2018): a joint soft-Q sampler per agent, uncoordinated execution.

MASQL extends soft Q-learning (Haarnoja et al., 2017) to ``N`` agents: each agent ``i`` learns
the joint soft Q function and an amortized sampler of the *joint* Boltzmann policy

.. math:: \pi^*(u \mid s) \propto \exp\big(Q(s, u) / \alpha\big), \qquad
          u = g_{\phi_i}(\xi_i, o_i) \in (-1, 1)^D,\; \xi_i \sim \mathcal N(0, I_D),

and at execution it draws a joint action with its *own* noise ``xi_i`` and executes only its own
part ``u_i``.  The joint action actually executed is ``(g_1(xi_1)_1, ..., g_N(xi_N)_N)``: a
product of marginals of ``N`` independent joint samples, i.e. the agents do not coordinate
their samples (the execution-time relative over-generalization of the paper, Sec. 3, Fig. 1
right).  This is the method as defined, not a defect.

Shared with every method (see :mod:`svnr_rl.agents.base`): the centralized critic ``Q(s, u)``
(here it plays the role of every agent's joint Q, which coincide in a fully cooperative game),
the replay, the loop and the network sizes; ``alpha`` follows the one shared schedule.

**Critic target** (Eq. 11, soft Q-learning): the soft value of the next state by importance
sampling from the uniform law on ``[-1, 1]^D``,

.. math:: V(s') = \alpha\Big(\log \tfrac{1}{K}\textstyle\sum_k \exp\big(Q_{\bar\theta}(s', u'_k)
          /\alpha\big) + D \log 2\Big),

with the importance constant ``D log 2`` *inside* ``alpha``
(:func:`uniform_soft_value`; the older public code samples ``u'`` on ``[-10, 10]`` and adds the
constants outside ``alpha``, NOTES.md).

**Policy update** (amortized SVGD, Eq. 12 on the joint action): for ``policy_states``
replay states, ``M = num_particles`` joint particles of each agent's sampler, the score of the
squashed target :func:`squashed_score`, the full SVGD direction
:func:`svnr_core.stein.svgd_direction` (all ``D`` coordinates in one kernel), scaled by
``alpha`` as in Eq. 9, pushed into ``phi_i`` by the surrogate ``-<u, Delta g>``.

The helpers :func:`uniform_soft_value`, :func:`squashed_score` and :func:`own_noise_only` are
shared with :mod:`svnr_rl.agents.pr2`, :mod:`svnr_rl.agents.pr2_svgd` and
:mod:`svnr_rl.agents.rommeo`.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from svnr_core.stein import svgd_direction
from svnr_rl.agents.base import Agent
from svnr_rl.critic import squashed_score, uniform_soft_value
from svnr_rl.nets import Sampler
from svnr_rl.replay import Batch

__all__ = ["MASQLAgent", "own_noise_only"]


def own_noise_only(agent: Agent) -> None:
    """Make ``agent`` ignore ``algo.topology``: every agent reads only its own noise row.

    The baselines have no negotiation sets; their structure (who models whom) is fixed by the
    method.  Sets ``C_i = {}`` and the identity mask, so that the common noise stream and the
    decentralized executors (:mod:`svnr_rl.evaluate`) hand each agent ``xi_i`` alone.
    """
    n = agent.n_agents
    agent.sets = [[] for _ in range(n)]
    agent.dynamic_topology = False
    agent.static_mask = torch.eye(n, dtype=agent.dtype, device=agent.device)


class MASQLAgent(Agent):
    """Multi-agent soft Q-learning with joint samplers (see the module docstring)."""

    name: ClassVar[str] = "masql"
    noise_conditioned: ClassVar[bool] = True

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        own_noise_only(self)

    def build_actor(self, i: int) -> Sampler:
        """Agent ``i``'s joint sampler ``g_i(xi_i, o_i) in (-1, 1)^D`` with ``xi_i in R^D``.

        Its noise is the agent's own row of the common stream, so the per-agent noise size is
        the joint action size (``algo.noise_dim`` if set).
        """
        # The base class sized the noise for one agent's action; a joint sampler needs D.
        self.noise_dim = self.cfg.noise_dim or self.joint_dim
        return Sampler(
            self.spec.obs_dim, 1, self.noise_dim, self.joint_dim, self.cfg.hidden, mask_input=False
        )

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
        n = noise.shape[-2]
        a = actor.action_dim // n
        joint: Tensor = actor(obs_i, noise[..., i : i + 1, :], noise.new_ones(1))
        return joint[..., i * a : (i + 1) * a]

    def next_value(self, batch: Batch, alpha: float) -> Tensor:
        return uniform_soft_value(
            self.critic_target,
            batch.next_state,
            alpha,
            self.cfg.value_samples,
            self.joint_dim,
            self.gen,
        )

    def joint_particles(self, obs: Tensor, m: int) -> Tensor:
        """``m`` joint samples of every agent's sampler: ``obs [B, N, o] -> [N, B, m, D]``."""
        b = obs.shape[0]
        xi = torch.randn(
            (self.n_agents, b, m, 1, self.noise_dim),
            generator=self.gen,
            device=self.device,
            dtype=self.dtype,
        )
        one = obs.new_ones(1)
        return torch.stack(
            [
                actor(obs[:, i].unsqueeze(1).expand(b, m, obs.shape[-1]), xi[i], one)
                for i, actor in enumerate(self.actors)
            ]
        )

    def policy_step(self, batch: Batch, alpha: float) -> float:
        bp = min(self.cfg.policy_states, batch.obs.shape[0])
        m = self.cfg.num_particles
        u = self.joint_particles(batch.obs[:bp], m)  # [N, bp, m, D]
        state = batch.state[:bp].unsqueeze(1).expand(bp, m, batch.state.shape[-1])
        state = state.unsqueeze(0).expand(self.n_agents, *state.shape)
        score = squashed_score(lambda x: self.critic.q_min(state, x), u, alpha)
        # Eq. 9 on the joint action: E[k grad Q + alpha grad k] = alpha * svgd(score of Q/alpha)
        direction: Tensor = alpha * svgd_direction(u.detach(), score)
        # each agent's surrogate -E_l <u^l, Delta g^l> reaches only its own sampler
        loss = -(u * direction).sum(-1).mean(dim=(1, 2)).sum()
        self.actor_opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        self.clip_actor_grads()
        self.actor_opt.step()
        return float(loss.detach())
