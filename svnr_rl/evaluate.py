"""Decentralized execution (App. J) and evaluation.

:class:`DecentralizedAgent` is one agent *alone*: its own copy of its actor network, the shared
seed of the common random stream, its own row of the negotiation mask.  At step ``t`` it
regenerates the joint noise ``xi_t`` from the seed, keeps only ``xi_{S_i}`` and acts on its
*local* observation -- it never sees another agent's observation or action.  Because it runs
the method's own :meth:`~svnr_rl.agents.base.Agent.act_one` on identical inputs, the agents
together reproduce the centralized joint action exactly (tested in ``tests/test_rl_noise.py``).

:func:`evaluate_agents` runs test episodes with such agents and returns an :class:`EvalResult`
(mean +- std of episode returns, the gap to the known optimum, and the mean of each of the task's
per-episode figures, ``BatchStep.episode_info``, over the kept episodes).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from svnr_rl.agents.base import Agent
from svnr_rl.envs.base import BatchedEnv
from svnr_rl.nets import Sampler
from svnr_rl.noise import CommonNoise

__all__ = ["DecentralizedAgent", "EvalResult", "decentralize", "evaluate_agents"]


@dataclass(frozen=True)
class EvalResult:
    """Test returns of ``episodes`` episodes; ``gap = optimum - mean`` if the optimum is known.

    ``last_rewards`` holds the team reward of each kept episode's last step: the paper's figure
    for an iterated game (Fig. 4 plots "instantaneous rewards"; the iterated Particle Gather
    reports the reward at the end of the episode, docs/environments.md).

    ``info_means`` maps each key of the task's ``BatchStep.episode_info`` to its mean over the
    kept episodes (e.g. ``miscoordinated``, the share of miscoordinated test episodes of a
    coordination game); empty for tasks that report none.
    """

    mean: float
    std: float
    episodes: int
    returns: tuple[float, ...]
    optimum: float | None
    last_rewards: tuple[float, ...] = ()
    info_means: dict[str, float] = field(default_factory=dict)

    @property
    def last_reward_mean(self) -> float:
        """Mean last-step reward of the kept episodes (NaN if none were recorded)."""
        return float(np.mean(self.last_rewards)) if self.last_rewards else math.nan

    @property
    def last_reward_std(self) -> float:
        return float(np.std(self.last_rewards)) if self.last_rewards else math.nan

    @property
    def gap(self) -> float | None:
        return None if self.optimum is None else self.optimum - self.mean


class DecentralizedAgent:
    """Agent ``index`` executing alone from its weights and the shared seed (App. J)."""

    def __init__(
        self,
        method: type[Agent],
        index: int,
        actor: Sampler,
        noise: CommonNoise,
        static_mask_row: Tensor | None,
    ) -> None:
        self.method = method
        self.index = index
        self.actor = copy.deepcopy(actor).eval()
        self.noise = noise
        self.static_mask_row = static_mask_row
        p = next(self.actor.parameters())
        self.device, self.dtype = p.device, p.dtype

    def mask_row(self, t: int) -> Tensor:
        if self.static_mask_row is not None:
            return self.static_mask_row
        return torch.as_tensor(
            self.noise.peer_mask(t)[self.index], dtype=self.dtype, device=self.device
        )

    @torch.no_grad()
    def act(self, obs_i: Tensor, t: int) -> Tensor:
        """Own action ``[B, action_dim]`` at common step ``t`` from own obs ``[B, obs_dim]``."""
        row = self.mask_row(t)
        xi = torch.as_tensor(
            self.noise.joint(t, obs_i.shape[0]), dtype=self.dtype, device=self.device
        )
        # only xi_{S_i} is kept; the sampler masks again, so nothing else can leak in
        own = xi * row.unsqueeze(-1)
        return self.method.act_one(self.actor, self.index, obs_i, own, row, explore=False)


def decentralize(agent: Agent, noise_seed: int) -> list[DecentralizedAgent]:
    """Split a trained agent into ``N`` independent executors sharing only ``noise_seed``."""
    peers = agent.cfg.peers if agent.dynamic_topology else None
    return [
        DecentralizedAgent(
            type(agent),
            i,
            agent.actors[i],  # type: ignore[arg-type]
            CommonNoise(noise_seed, agent.n_agents, agent.noise_dim, peers),
            None if agent.dynamic_topology else agent.static_mask[i],
        )
        for i in range(agent.n_agents)
    ]


def evaluate_agents(
    agents: list[DecentralizedAgent],
    env: BatchedEnv,
    episodes: int,
    seed: int,
) -> EvalResult:
    """Run at least ``episodes`` test episodes (the first ``episodes`` to finish are kept)."""
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1; got {episodes}")
    spec = env.spec
    step = env.reset(seed)
    dev, dt = agents[0].device, agents[0].dtype
    returns: list[float] = []
    last: list[float] = []
    infos: dict[str, list[float]] = {}  # episode_info key -> one value per finished episode
    max_steps = (math.ceil(episodes / env.num_envs) + 1) * spec.episode_limit * 4 + 10
    t = 0
    while len(returns) < episodes:
        if t > max_steps:
            raise RuntimeError(
                f"evaluation did not finish {episodes} episodes in {max_steps} steps"
            )
        obs = torch.as_tensor(step.obs, dtype=dt, device=dev)
        actions = torch.stack([a.act(obs[:, a.index], t) for a in agents], dim=1)
        step = env.step(actions.double().cpu().numpy())
        done = np.logical_or(step.terminated, step.truncated)
        returns.extend(float(r) for r in step.episode_return[done])
        last.extend(float(r) for r in step.reward[done])
        for key, values in step.episode_info.items():
            infos.setdefault(key, []).extend(float(v) for v in values[done])
        t += 1
    kept = np.asarray(returns[:episodes])
    return EvalResult(
        mean=float(kept.mean()),
        std=float(kept.std()),
        episodes=episodes,
        returns=tuple(float(x) for x in kept),
        optimum=spec.optimum_value,
        last_rewards=tuple(last[:episodes]),
        # the same first ``episodes`` episodes as the returns (a task reports its keys at every
        # step; a key missing from some steps would be averaged over the episodes it has)
        info_means={k: float(np.mean(v[:episodes])) for k, v in infos.items() if v},
    )
