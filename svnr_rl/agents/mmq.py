r"""MMQ, MaxMax Q-learning (Zhu, Jin, Houssineau & Montana, "Mitigating Relative
Over-Generalization in Multi-Agent Reinforcement Learning", TMLR 2024; arXiv:2411.11099).

**The method.** MMQ is an *independent* learner: agent ``i`` has its own critic ``Q_i(s, a_i)``,
deterministic actor ``mu_i`` and, as its only model of the others, two quantile models of the
transition it sees, ``P_i(s' | s, a_i) = E_{a_{-i} ~ pi_{-i}} P(s' | s, a_i, a_{-i})``.  The
spread of that marginal comes from what the teammates did; the *ideal* transition (teammates
acting optimally) lies inside it.  So instead of the average over ``s'`` (which undervalues
``a_i`` whenever the teammates explore: relative over-generalization, RO) MMQ backs up the
*best* plausible next state:

.. math:: L_i, U_i &= \text{the } \tau = 0.05, 0.95 \text{ quantiles of } s' \mid (s, a_i)
          \quad(\text{pinball loss } \rho_\tau(e) = \max(\tau e, (\tau - 1) e),\ e = s' - \hat s)\\
          \hat s'_k &\sim \mathcal U[L_i(s, a_i), U_i(s, a_i)] \text{ per coordinate},\quad
          k = 1..K, \qquad \hat s'_0 = s' \text{ (observed)}\\
          y_i &= \max_{k = 0..K}\big[r_k + \gamma (1 - d)\,
          \bar Q_i(\hat s'_k, \bar\mu_i(\hat s'_k))\big],

the "max over sampled next states" on top of Q-learning's max over actions (hence MaxMax;
with deterministic dynamics and exact quantile models it is the optimistic
``max_{a_{-i}} Q^*(s, a_i, a_{-i})`` of distributed Q-learning).  The actor is DDPG's,
``max E[Q_i(s, mu_i(s))]``, with target networks; exploration is uniform on ``[-1, 1]`` with
probability ``epsilon = 0.1``, else ``clip(mu_i + 0.1 xi)``.  Facts from the authors' public
code (a copy is stored as ``tejaey/RL_possibility_theory``, ``Maxmax_Q_learning-main``; no code
is taken from it): ``K = 15`` candidates, one model pair (no ensemble), residual models
``s + f(s, a_i)``, models trained before the critic on each batch, ``r_k`` from a learned
reward model ``r(s')`` in their final scripts.

**On this backbone** (:mod:`svnr_rl.agents.base`: one centralized critic ``Q(s, u)`` on the
global state and joint action, one target ``c r + gamma (1 - d) V(s')`` per transition, the
regression of the SVNR paper's Eq. 11):

* the quantile models stay per agent and conditioned on the agent's *own* action only, so
  their interval keeps MMQ's meaning (the next inputs reachable when the teammates vary).
  They predict the whole next *input* ``z' = [s', o'_1, ..., o'_N]`` (global state and every
  local observation), from ``[z, u_i]``, because a candidate must be scored by the target
  actors on *local* observations (decentralized actors) and by the critic on the global state;
* ``V(s') = (1/N) sum_i max_{k=0..K} Q_bar(s'_{ik}, mu_bar(o'_{ik}))`` -- each agent's MMQ
  backup, averaged over the agents into the one target.  If the fitted critic is additively
  separable, ``Q(s, u) = (1/N) sum_i Q_i(s, u_i)``, this is exactly the sum of ``N`` independent
  MMQ critics, and the joint deterministic policy gradient ``d/du_i Q(s, mu(o))`` is agent
  ``i``'s own ``d/du_i Q_i``: the independent-learner structure survives the shared critic;
* every candidate takes the observed reward ``r`` (the authors' code without a reward model):
  our rewards depend on the joint action (in the differential games on ``u`` alone), which a
  model of ``r(s')`` cannot represent, and the centralized critic already sees ``u``;
* one critic step per update (they run 10 on each target), no random-action warm-up beyond
  the shared ``algo.learning_starts``, the shared batch, learning rates and Polyak rate; the
  models use ``algo.critic_hidden`` and ``algo.critic_lr`` (their models had the critic's size
  and learning rate); one critic head unless ``algo.twin_critic``.

**Single-step games.** In the differential games (and the other single-step games) every step is
terminal, so the next-state part is inert (the shared critic step never asks for ``V(s')``): MMQ
reduces to deterministic actors trained by the policy gradient through the centralized critic
that regresses ``c r`` -- MADDPG with MMQ's epsilon-uniform exploration. The quantile models are
still trained (on a constant state) but never used.

MMQ has no entropy term: it ignores the shared ``alpha`` schedule, like MADDPG (the paper's
App. H.5.3 lists MMQ among the maximum-entropy methods; the published MMQ is not one).  It
ignores ``algo.topology`` and ``algo.noise_dim``: agent ``i`` reads only its own row of the
common noise, ``2 dim(u_i) + 1`` normals for the Gaussian step, the uniform action and the
epsilon switch (a normal ``x`` becomes a uniform by ``Phi(x)``).
"""

from __future__ import annotations

import copy
import math
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from svnr_rl.agents.base import Agent
from svnr_rl.agents.masql import own_noise_only
from svnr_rl.critic import polyak_update
from svnr_rl.nets import Sampler, mlp
from svnr_rl.replay import Batch

__all__ = [
    "CANDIDATES",
    "EPSILON",
    "EXPLORATION_STD",
    "QUANTILES",
    "MMQAgent",
    "RangeModels",
    "explore_action",
    "maxmax_value",
    "pinball_loss",
    "uniform_between",
]

#: number ``K`` of candidate next states per agent and transition (the authors' ``p_sample_n``)
CANDIDATES = 15
#: the quantile levels of the lower and upper transition models
QUANTILES = (0.05, 0.95)
#: probability of a uniform random action while exploring
EPSILON = 0.1
#: standard deviation of the Gaussian exploration step, in normalised action units
EXPLORATION_STD = 0.1


def pinball_loss(pred: Tensor, target: Tensor, tau: float) -> Tensor:
    """The quantile-regression loss ``mean max(tau e, (tau - 1) e)``, ``e = target - pred``:
    its minimizer over ``pred`` is the ``tau``-quantile of ``target``."""
    e = target - pred
    return torch.maximum(tau * e, (tau - 1.0) * e).mean()


def uniform_between(lo: Tensor, hi: Tensor, k: int, gen: torch.Generator) -> Tensor:
    """``k`` draws ``lo + (hi - lo) U``, ``U ~ U[0, 1)`` per coordinate: ``[k, *lo.shape]``.
    Crossed bounds (``lo > hi``, possible for two separately fitted models) still give a
    point between the two."""
    u = torch.rand((k, *lo.shape), generator=gen, device=lo.device, dtype=lo.dtype)
    return lo + (hi - lo) * u


def maxmax_value(v_observed: Tensor, v_candidates: Tensor) -> Tensor:
    """``(1/N) sum_i max(v_0, max_k v_{ik})`` for ``v_observed [B]`` (the observed next
    state's value, a candidate of every agent) and ``v_candidates [N, K, B]``."""
    per_agent = torch.maximum(v_candidates.amax(dim=1), v_observed)  # [N, B]
    return per_agent.mean(0)


def explore_action(u: Tensor, xi: Tensor) -> Tensor:
    """MMQ's behaviour action from the deterministic ``u [..., d]`` and the agent's own noise
    row ``xi [..., 2 d + 1]``: uniform on ``[-1, 1]^d`` if ``Phi(xi_{2d}) < EPSILON``, else
    ``clip(u + EXPLORATION_STD xi_{:d}, -1, 1)``."""
    d = u.shape[-1]
    phi = 0.5 * (1.0 + torch.erf(xi[..., d:] / math.sqrt(2.0)))  # standard normal CDF
    uniform = 2.0 * phi[..., :d] - 1.0
    gauss = (u + EXPLORATION_STD * xi[..., :d]).clamp(-1.0, 1.0)
    return torch.where(phi[..., d : d + 1] < EPSILON, uniform, gauss)


class RangeModels(nn.Module):
    """Per agent, the lower and upper quantile models ``z + f(z, u_i)`` of the next input
    ``z' = [s', o'_1..o'_N]`` (residual, as the authors' models predict the increment)."""

    def __init__(
        self, n_agents: int, input_dim: int, action_dim: int, hidden: tuple[int, ...]
    ) -> None:
        super().__init__()
        self.lower = nn.ModuleList(
            mlp(input_dim + action_dim, hidden, input_dim) for _ in range(n_agents)
        )
        self.upper = nn.ModuleList(
            mlp(input_dim + action_dim, hidden, input_dim) for _ in range(n_agents)
        )

    def forward(self, z: Tensor, action: Tensor) -> tuple[Tensor, Tensor]:
        """``z [B, Z]``, joint ``action [B, N, a]`` -> ``(lower, upper)``, each ``[N, B, Z]``."""
        lo, hi = [], []
        for i, (low, up) in enumerate(zip(self.lower, self.upper, strict=True)):
            x = torch.cat([z, action[:, i]], dim=-1)
            lo.append(z + low(x))
            hi.append(z + up(x))
        return torch.stack(lo), torch.stack(hi)


class MMQAgent(Agent):
    """MaxMax Q-learning on the shared backbone (see the module docstring)."""

    name: ClassVar[str] = "mmq"
    noise_conditioned: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        own_noise_only(self)
        self.actors_target = copy.deepcopy(self.actors).requires_grad_(False)
        spec = self.spec
        self.input_dim = spec.state_dim + spec.n_agents * spec.obs_dim
        self.range_models = RangeModels(
            spec.n_agents, self.input_dim, spec.action_dim, tuple(self.cfg.critic_hidden)
        ).to(self.device, self.dtype)
        self.model_opt = torch.optim.Adam(self.range_models.parameters(), lr=self.cfg.critic_lr)

    def build_actor(self, i: int) -> Sampler:
        """Agent ``i``'s deterministic actor ``tanh(MLP(o_i))``; sizes the exploration noise."""
        # the exploration reads 2d + 1 normals of the agent's own row (see explore_action)
        self.noise_dim = 2 * self.spec.action_dim + 1
        return Sampler(
            self.spec.obs_dim, self.n_agents, 0, self.spec.action_dim, self.cfg.hidden,
            mask_input=False,
        )  # fmt: skip

    def extra_modules(self) -> dict[str, nn.Module]:
        return {"actors_target": self.actors_target, "range_models": self.range_models}

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
        u: Tensor = actor(obs_i, noise, mask_row)
        if not explore:
            return u
        return explore_action(u, noise[..., i, :])

    # ------------------------------------------------------------------ pieces

    def inputs(self, state: Tensor, obs: Tensor) -> Tensor:
        """``z = [s, o_1..o_N]``: ``state [..., S]``, ``obs [..., N, O]`` -> ``[..., Z]``."""
        return torch.cat([state, obs.flatten(-2)], dim=-1)

    def split_inputs(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """Inverse of :meth:`inputs`: ``[..., Z]`` -> ``(state [..., S], obs [..., N, O])``."""
        s = self.spec.state_dim
        obs = z[..., s:].reshape(*z.shape[:-1], self.n_agents, self.spec.obs_dim)
        return z[..., :s], obs

    def target_value(self, state: Tensor, obs: Tensor) -> Tensor:
        """``Q_bar(s, mu_bar(o))`` for ``state [..., S]``, ``obs [..., N, O]`` -> ``[...]``."""
        zero = obs.new_zeros(())
        u = torch.cat(
            [
                a(obs[..., i, :], zero, self.static_mask[i])
                for i, a in enumerate(self.actors_target)
            ],
            dim=-1,
        )
        q: Tensor = self.critic_target.q_min(state, u)
        return q

    def candidates(self, batch: Batch) -> Tensor:
        """``K`` next inputs per agent drawn between its quantile models: ``[N, K, B, Z]``."""
        lo, hi = self.range_models(self.inputs(batch.state, batch.obs), batch.action)
        return uniform_between(lo, hi, CANDIDATES, self.gen).transpose(0, 1)

    # ------------------------------------------------------------------ hooks

    def next_value(self, batch: Batch, alpha: float) -> Tensor:
        v0 = self.target_value(batch.next_state, batch.next_obs)
        state, obs = self.split_inputs(self.candidates(batch))
        return maxmax_value(v0, self.target_value(state, obs))

    def model_step(self, batch: Batch) -> float:
        """One Adam step of every agent's lower and upper quantile model on ``z'``."""
        z = self.inputs(batch.state, batch.obs)
        target = self.inputs(batch.next_state, batch.next_obs)
        lo, hi = self.range_models(z, batch.action)
        # the mean over the batch and coordinates per model, summed over the 2N models
        loss = self.n_agents * (
            pinball_loss(lo, target, QUANTILES[0]) + pinball_loss(hi, target, QUANTILES[1])
        )
        self.model_opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        self.model_opt.step()
        return float(loss.detach())

    def policy_step(self, batch: Batch, alpha: float) -> float:
        """DDPG's actor step, ``-E[Q(s, mu(o))]``, each actor through its own ``u_i``."""
        zero = batch.obs.new_zeros(())
        u = torch.cat(
            [a(batch.obs[:, i], zero, self.static_mask[i]) for i, a in enumerate(self.actors)],
            dim=-1,
        )
        self.critic.requires_grad_(False)
        try:
            loss = -self.critic.q_min(batch.state, u).mean()
        finally:
            self.critic.requires_grad_(True)
        self.actor_opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        self.clip_actor_grads()
        self.actor_opt.step()
        return float(loss.detach())

    def update(self, batch: Batch, alpha: float) -> dict[str, float]:
        """The quantile models first (as the authors order it: the target uses the models
        fitted to this batch), then the shared critic, policy and target steps."""
        model_loss = self.model_step(batch)
        info = super().update(batch, alpha)
        info["model_loss"] = model_loss
        return info

    def after_update(self) -> None:
        polyak_update(self.actors_target, self.actors, self.cfg.polyak)

    # ------------------------------------------------------------------ checkpoint

    def state_dict(self) -> dict[str, Any]:
        out = super().state_dict()
        out["model_opt"] = self.model_opt.state_dict()
        return out

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        super().load_state_dict(sd)
        self.model_opt.load_state_dict(sd["model_opt"])
