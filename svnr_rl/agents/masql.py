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

**Policy update** (amortized SVGD, Eq. 12 on the joint action): for ``policy_batch_size``
replay states, ``M = num_particles`` joint particles of each agent's sampler, the score of the
squashed target :func:`squashed_score`, the full SVGD direction
:func:`svnr_core.stein.svgd_direction` (all ``D`` coordinates in one kernel), scaled by
``alpha`` as in Eq. 9, pushed into ``phi_i`` by the surrogate ``-<u, Delta g>``.

The helpers :func:`uniform_soft_value`, :func:`squashed_score` and :func:`own_noise_only` are
shared with :mod:`svnr_rl.agents.pr2` and :mod:`svnr_rl.agents.rommeo`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar, Protocol

import torch
from torch import Tensor

from svnr_core.stein import svgd_direction
from svnr_rl.agents.base import Agent
from svnr_rl.agents.svnr import TANH_EPS
from svnr_rl.critic import soft_value_estimate
from svnr_rl.nets import Sampler
from svnr_rl.replay import Batch

__all__ = [
    "MASQLAgent",
    "QFunction",
    "own_noise_only",
    "squashed_score",
    "uniform_soft_value",
]


class QFunction(Protocol):
    """What the soft value needs of a critic (:class:`svnr_rl.critic.Critic` is one)."""

    def q_min(self, state: Tensor, joint_action: Tensor) -> Tensor: ...


def uniform_soft_value(
    critic: QFunction, next_state: Tensor, alpha: float, k: int, d: int, gen: torch.Generator
) -> Tensor:
    """Eq. 11's ``V(s')`` ``[B]`` with ``k`` proposals uniform on ``[-1, 1]^d``.

    ``log q(u) = -d log 2`` enters :func:`svnr_rl.critic.soft_value_estimate`, which puts it
    inside ``alpha`` (``V = alpha (logsumexp(Q / alpha) - log k + d log 2)``).  For a critic
    that is constant ``c`` in ``u`` this is exactly ``c + alpha d log 2``: the log-volume of the
    action box, the entropy of the uniform policy.
    """
    if k < 1:
        raise ValueError(f"k (value samples) must be >= 1; got {k}")
    b = next_state.shape[0]
    u = 2.0 * torch.rand((b, k, d), generator=gen, device=next_state.device) - 1.0
    u = u.to(next_state.dtype)
    s = next_state.unsqueeze(1).expand(b, k, next_state.shape[-1])
    return soft_value_estimate(critic.q_min(s, u), alpha, -d * math.log(2.0))


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
    log_p = q_fn(x) / alpha + torch.log(1.0 - x * x + TANH_EPS).sum(-1)
    (score,) = torch.autograd.grad(log_p.sum(), x)
    return score


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
        bp = min(self.cfg.policy_batch_size, batch.obs.shape[0])
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
