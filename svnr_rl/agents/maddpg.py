"""A plain MADDPG-style reference (Lowe et al., 2017) on the same backbone, critic and replay.

Deterministic actors ``u_i = tanh(MLP(o_i))`` (the :class:`~svnr_rl.nets.Sampler` with no noise
input), Gaussian exploration ``u_i + sigma xi_i`` from the common noise stream (clipped to
``[-1, 1]``), the centralized critic regressed on ``c r + gamma (1 - done) Q_bar(s', mu_bar(o'))``
with target actors, and the deterministic policy gradient ``-E[Q(s, mu(o))]``.  It exists as the
reference of the update-cost benchmark (App. H.5.4 compares SVNR's wall clock with MADDPG) and
as a baseline; it ignores ``alpha``.
"""

from __future__ import annotations

import copy
from typing import ClassVar

import torch
from torch import Tensor, nn

from svnr_rl.agents.base import Agent
from svnr_rl.critic import polyak_update
from svnr_rl.nets import Sampler
from svnr_rl.replay import Batch

__all__ = ["EXPLORATION_STD", "MADDPGAgent"]

#: standard deviation of the Gaussian exploration noise in normalised action units
EXPLORATION_STD = 0.1


class MADDPGAgent(Agent):
    """Deterministic-policy actor-critic with a centralized critic."""

    name: ClassVar[str] = "maddpg"
    noise_conditioned: ClassVar[bool] = False

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.actors_target = copy.deepcopy(self.actors).requires_grad_(False)

    def extra_modules(self) -> dict[str, nn.Module]:
        return {"actors_target": self.actors_target}

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
        own = noise[..., i, : actor.action_dim]
        explored: Tensor = (u + EXPLORATION_STD * own).clamp(-1.0, 1.0)
        return explored

    def next_value(self, batch: Batch, alpha: float) -> Tensor:
        mask = self.static_mask
        u = torch.stack(
            [
                a(batch.next_obs[:, i], batch.next_obs.new_zeros(()), mask[i])
                for i, a in enumerate(self.actors_target)
            ],
            dim=1,
        )
        return self.critic_target.q_min(batch.next_state, u.flatten(1))

    def policy_step(self, batch: Batch, alpha: float) -> float:
        mask = self.static_mask
        u = torch.stack(
            [
                a(batch.obs[:, i], batch.obs.new_zeros(()), mask[i])
                for i, a in enumerate(self.actors)
            ],
            dim=1,
        )
        loss = -self.critic.q_min(batch.state, u.flatten(1)).mean()
        self.actor_opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        self.clip_actor_grads()
        self.actor_opt.step()
        return float(loss.detach())

    def after_update(self) -> None:
        polyak_update(self.actors_target, self.actors, self.cfg.polyak)
