"""The SVNR update (Eq. 9-11) on hand-made critics, and the MADDPG-style reference."""

from __future__ import annotations

import math

import pytest
import torch

from svnr_rl.agents import MADDPGAgent, SVNRAgent, make_agent
from svnr_rl.config import AlgoConfig
from svnr_rl.envs.base import TaskSpec
from svnr_rl.replay import Batch
from tests.rl_helpers import QuadraticCritic

SPEC = TaskSpec(name="toy", n_agents=3, obs_dim=2, state_dim=3, action_dim=1, episode_limit=5)
CPU = torch.device("cpu")


def _batch(b: int, spec: TaskSpec = SPEC, terminated: float = 0.0) -> Batch:
    g = torch.Generator().manual_seed(0)
    n, o, s, a = spec.n_agents, spec.obs_dim, spec.state_dim, spec.action_dim
    return Batch(
        obs=torch.randn(b, n, o, generator=g),
        state=torch.randn(b, s, generator=g),
        action=torch.rand(b, n, a, generator=g) * 2 - 1,
        reward=torch.randn(b, generator=g),
        next_obs=torch.randn(b, n, o, generator=g),
        next_state=torch.randn(b, s, generator=g),
        terminated=torch.full((b,), terminated),
    )


def _svnr(**kw: object) -> SVNRAgent:
    cfg = AlgoConfig(hidden=(32, 32), critic_hidden=(16,), **kw)  # type: ignore[arg-type]
    agent = make_agent(SPEC, cfg, device=CPU, dtype=torch.float32, seed=0)
    assert isinstance(agent, SVNRAgent)
    return agent


def test_direction_of_agent_i_reaches_only_agent_i_parameters() -> None:
    agent = _svnr(num_particles=8)
    obs = torch.randn(4, 3, 2)
    u = agent.sample_particles(obs, agent.static_mask, 8).flatten(2)  # [4, 8, 3]
    direction = torch.zeros_like(u)
    direction[..., 1] = torch.randn(4, 8)  # a direction on agent 2's coordinate only
    agent.actor_opt.zero_grad(set_to_none=True)
    (-(u * direction).sum()).backward()  # type: ignore[no-untyped-call]
    grads = [
        sum(float(p.grad.abs().sum()) for p in actor.parameters() if p.grad is not None)
        for actor in agent.actors
    ]
    assert grads[1] > 0.0
    assert grads[0] == 0.0
    assert grads[2] == 0.0


def test_policy_update_concentrates_samplers_on_the_critics_maximum() -> None:
    """With Q = -20 ||u - c||^2 and alpha = 0.05 the target exp(Q / alpha) is N(c, 1/800 I):
    after 300 Stein updates the joint samples sit at c (mean within 0.05, i.e. 2.5% of the
    action range; the residual is the tanh correction plus finite-M bias)."""
    agent = _svnr(num_particles=16, policy_batch_size=8, policy_lr=3e-3)
    centre = torch.tensor([0.5, -0.3, 0.2])
    agent.critic = QuadraticCritic(centre, k=20.0)  # type: ignore[assignment]
    batch = _batch(8)
    for _ in range(300):
        agent.policy_step(batch, alpha=0.05)
    with torch.no_grad():
        u = agent.sample_particles(batch.obs, agent.static_mask, 256).flatten(2)
    mean = u.mean(dim=(0, 1))
    assert torch.allclose(mean, centre, atol=0.05), mean
    assert float(u.std(dim=(0, 1)).max()) < 0.15


def test_soft_value_of_a_constant_critic_is_exact() -> None:
    """Uniform proposal on [-1, 1]^D and Q = c: alpha log int exp(c / alpha) du
    = c + alpha D log 2, exactly, whatever the samples (Eq. 11, alpha outside the bracket)."""
    agent = _svnr(value_samples=5)
    agent.critic_target = QuadraticCritic(torch.zeros(3), k=0.0, c0=1.5)  # type: ignore[assignment]
    v = agent.next_value(_batch(6), alpha=0.3)
    torch.testing.assert_close(v, torch.full((6,), 1.5 + 0.3 * 3 * math.log(2.0)))


@pytest.mark.parametrize("terminated", [1.0, 0.0])
def test_critic_target_uses_reward_and_discounted_value(terminated: float) -> None:
    agent = _svnr(gamma=0.5, critic_lr=1e-9)
    agent.critic_target = QuadraticCritic(torch.zeros(3), k=0.0, c0=2.0)  # type: ignore[assignment]
    batch = _batch(6, terminated=terminated)
    q = agent.critic(batch.state, batch.action.flatten(1)).detach()
    y = batch.reward + (1 - terminated) * 0.5 * (2.0 + 1.0 * 3 * math.log(2.0))
    loss = agent.critic_step(batch, alpha=1.0)
    assert loss == pytest.approx(float(0.5 * ((q.squeeze(-1) - y) ** 2).mean()), rel=1e-5)


def test_maddpg_update_changes_actors_and_critic() -> None:
    cfg = AlgoConfig(method="maddpg", hidden=(16,), critic_hidden=(16,))
    agent = make_agent(SPEC, cfg, device=CPU, dtype=torch.float32, seed=0)
    assert isinstance(agent, MADDPGAgent)
    before = [p.clone() for p in agent.actors.parameters()]
    info = agent.update(_batch(16), alpha=1.0)
    assert all(math.isfinite(v) for v in info.values())
    assert any(
        not torch.equal(a, b) for a, b in zip(before, agent.actors.parameters(), strict=True)
    )
