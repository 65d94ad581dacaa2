"""What every method shares: per-agent actors, the centralized critic, its target and optimizers.

A method (SVNR, the MADDPG-style reference, later baselines) subclasses :class:`Agent` and
differs only in

* how an agent **acts** -- :meth:`Agent.act_one`, a classmethod of the actor network, the local
  observation and the common noise (so a decentralized agent built from saved weights runs the
  very same code, :mod:`svnr_rl.evaluate`);
* how the critic's **next-state value** is formed -- :meth:`Agent.next_value`;
* how the **policies are updated** -- :meth:`Agent.policy_step`;
* optionally which networks it owns beyond the shared ones -- :meth:`Agent.build_actor`,
  :meth:`Agent.extra_modules`.

The critic step (Eq. 11: ``0.5 (y - Q(s, u))^2`` with ``y = c r + gamma (1 - done) V(s')``),
the Polyak target update, the replay sampling and the training loop are common.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from svnr_rl.config import AlgoConfig, parse_topology
from svnr_rl.critic import Critic, polyak_update
from svnr_rl.envs.base import TaskSpec
from svnr_rl.nets import Sampler
from svnr_rl.noise import static_mask
from svnr_rl.replay import Batch

__all__ = ["Agent"]


class Agent:
    """Shared machinery; see the module docstring for what a subclass provides."""

    #: registry name of the method
    name: ClassVar[str] = "base"
    #: whether the actors take the common noise as input (stochastic samplers)
    noise_conditioned: ClassVar[bool] = True
    #: fewest critic heads the method needs (2: clipped double-Q whatever algo.twin_critic says)
    critic_heads: ClassVar[int] = 1

    def __init__(
        self, spec: TaskSpec, cfg: AlgoConfig, *, device: torch.device, dtype: torch.dtype
    ) -> None:
        self.spec = spec
        self.cfg = cfg
        self.device = device
        self.dtype = dtype
        n = spec.n_agents
        self.n_agents = n
        self.action_dim = spec.action_dim
        self.joint_dim = n * spec.action_dim
        #: per-agent noise size of the common stream (also the exploration noise of MADDPG)
        self.noise_dim = (
            (cfg.noise_dim or spec.action_dim) if self.noise_conditioned else spec.action_dim
        )
        sets = parse_topology(cfg.topology, n)
        self.dynamic_topology = sets is None
        if sets is None and not 1 <= cfg.peers <= n - 1:
            raise ValueError(f"algo.peers must be in [1, {n - 1}] for {n} agents; got {cfg.peers}")
        #: negotiation sets C_i (0-based, without i); None for random peers
        self.sets = sets
        mask = static_mask(sets) if sets is not None else torch.eye(n).numpy()
        self.static_mask = torch.as_tensor(mask, dtype=dtype, device=device)
        self.actors = nn.ModuleList(self.build_actor(i) for i in range(n)).to(device, dtype)
        heads = max(2 if cfg.twin_critic else 1, self.critic_heads)
        self.critic = Critic(spec.state_dim, self.joint_dim, cfg.critic_hidden, heads).to(
            device, dtype
        )
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.actor_opt = torch.optim.Adam(self.actors.parameters(), lr=cfg.policy_lr)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=cfg.critic_lr)
        #: generator of the update's own randomness (particle noise, proposal samples)
        self.gen = torch.Generator(device=device)
        self.gen.manual_seed(0)

    # ------------------------------------------------------------------ hooks

    def build_actor(self, i: int) -> Sampler:
        """Agent ``i``'s actor network (default: the noise-conditioned sampler)."""
        nd = self.noise_dim if self.noise_conditioned else 0
        return Sampler(
            self.spec.obs_dim,
            self.n_agents,
            nd,
            self.spec.action_dim,
            self.cfg.hidden,
            mask_input=self.dynamic_topology,
        )

    def extra_modules(self) -> dict[str, nn.Module]:
        """Method-specific networks to checkpoint (e.g. target actors)."""
        return {}

    def reported_alpha(self, scheduled: float) -> float:
        """The temperature of the last update, for the metrics: the shared schedule's value,
        unless the method learns its own (MASAC)."""
        return scheduled

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
        """Agent ``i``'s action from its *local* observation ``obs_i [..., obs_dim]``, the joint
        common noise ``noise [..., N, noise_dim]`` and its mask row ``[N]``.  By default the
        sampler itself, ``u_i = f_i(xi masked by the row, o_i)`` (SVNR, PR2); methods that add
        exploration noise or sample differently override it."""
        u: Tensor = actor(obs_i, noise, mask_row)
        return u

    def next_value(self, batch: Batch, alpha: float) -> Tensor:
        """``V(s')`` of shape ``[B]`` for the critic target (no gradient needed)."""
        raise NotImplementedError

    def policy_step(self, batch: Batch, alpha: float) -> float:
        """One policy update from ``batch``; returns the surrogate loss."""
        raise NotImplementedError

    # ------------------------------------------------------------------ shared machinery

    def seed(self, seed: int) -> None:
        """Seed the update generator (the networks are seeded by the caller before building)."""
        self.gen.manual_seed(seed)

    def act(self, obs: Tensor, noise: Tensor, mask: Tensor, *, explore: bool) -> Tensor:
        """Joint action ``[B, N, action_dim]``: every agent acts on its own ``obs[:, i]``."""
        return torch.stack(
            [
                self.act_one(self.actors[i], i, obs[:, i], noise, mask[i], explore=explore)  # type: ignore[arg-type]
                for i in range(self.n_agents)
            ],
            dim=1,
        )

    def update_mask(self) -> Tensor:
        """The negotiation mask of one update: the static one, or random peers (App. H.3.2)."""
        if not self.dynamic_topology:
            return self.static_mask
        n = self.n_agents
        m = torch.eye(n, dtype=self.dtype, device=self.device)
        for i in range(n):
            scores = torch.rand(n, generator=self.gen, device=self.device)
            scores[i] = -1.0
            m[i, torch.topk(scores, self.cfg.peers).indices] = 1.0
        return m

    def condition_coords(self, mask: Tensor, i: int) -> list[int]:
        """Joint-action coordinates of the agents in ``C_i`` under ``mask``."""
        d = self.action_dim
        return [
            j * d + k for j in range(self.n_agents) if j != i and mask[i, j] > 0 for k in range(d)
        ]

    def critic_step(self, batch: Batch, alpha: float) -> float:
        """Eq. 11: regress ``Q(s, u)`` on ``c r + gamma (1 - terminated) V(s')``."""
        cfg = self.cfg
        with torch.no_grad():
            y = cfg.reward_scale * batch.reward
            live = 1.0 - batch.terminated
            if cfg.gamma > 0.0 and bool(live.any()):
                y = y + cfg.gamma * live * self.next_value(batch, alpha)
        q = self.critic(batch.state, batch.action.flatten(1))
        loss = 0.5 * (q - y.unsqueeze(-1)).pow(2).mean(0).sum()
        self.critic_opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.critic.parameters(), cfg.grad_clip)
        self.critic_opt.step()
        return float(loss.detach())

    def update(self, batch: Batch, alpha: float) -> dict[str, float]:
        """One training update: critic step, policy step, target networks."""
        critic_loss = self.critic_step(batch, alpha)
        policy_loss = self.policy_step(batch, alpha)
        polyak_update(self.critic_target, self.critic, self.cfg.polyak)
        self.after_update()
        return {"critic_loss": critic_loss, "policy_loss": policy_loss}

    def after_update(self) -> None:
        """Hook after the shared target update (e.g. target actors)."""

    def clip_actor_grads(self) -> None:
        if self.cfg.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.actors.parameters(), self.cfg.grad_clip)

    # ------------------------------------------------------------------ checkpoint

    def modules(self) -> Iterator[tuple[str, nn.Module]]:
        yield "actors", self.actors
        yield "critic", self.critic
        yield "critic_target", self.critic_target
        yield from self.extra_modules().items()

    def state_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: m.state_dict() for k, m in self.modules()}
        out["actor_opt"] = self.actor_opt.state_dict()
        out["critic_opt"] = self.critic_opt.state_dict()
        out["gen"] = self.gen.get_state()
        return out

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        for k, m in self.modules():
            m.load_state_dict(sd[k])
        self.actor_opt.load_state_dict(sd["actor_opt"])
        self.critic_opt.load_state_dict(sd["critic_opt"])
        self.gen.set_state(sd["gen"])
