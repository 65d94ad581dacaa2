"""MASAC (svnr_rl.agents.masac): its defining updates by hand, and SAC's behaviour with one agent.

The critic target, the temperature's gradient and the policy loss are checked against values
computed by hand; a one-agent MASAC (that is, SAC) learns a one-step task in seconds.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from svnr_rl.agents.masac import MASACAgent, temperature_loss
from svnr_rl.config import AlgoConfig
from svnr_rl.envs.base import TaskSpec
from svnr_rl.replay import Batch, ReplayBuffer

CPU = torch.device("cpu")


def _agent(spec: TaskSpec, **kw: object) -> MASACAgent:
    cfg = AlgoConfig(method="masac", hidden=(32, 32), critic_hidden=(32, 32), **kw)  # type: ignore[arg-type]
    torch.manual_seed(0)
    agent = MASACAgent(spec, cfg, device=CPU, dtype=torch.float32)
    agent.seed(0)
    return agent


SPEC3 = TaskSpec(name="toy", n_agents=3, obs_dim=2, state_dim=3, action_dim=2, episode_limit=5)


def test_temperature_gradient_is_entropy_minus_target() -> None:
    """d/d log alpha of -E[log alpha (log pi + H)] = -E[log pi] - H: with log pi = -1, -3 (an
    entropy estimate of 2) and target -1 the gradient is 2 - (-1) = 3, so descent lowers alpha."""
    log_alpha = torch.zeros(1, requires_grad=True)
    temperature_loss(log_alpha, torch.tensor([[-1.0], [-3.0]]), -1.0).backward()
    assert log_alpha.grad is not None
    assert torch.allclose(log_alpha.grad, torch.tensor([3.0]))
    # agents are independent: each log alpha_i sees only its own column
    two = torch.zeros(2, requires_grad=True)
    temperature_loss(two, torch.tensor([[-1.0, 0.5], [-3.0, 0.5]]), -1.0).backward()
    assert two.grad is not None
    assert torch.allclose(two.grad, torch.tensor([3.0, -(0.5 - 1.0)]))


def test_critic_target_is_clipped_double_q_minus_every_agents_entropy_term() -> None:
    """V(s') = min_k Q_bar_k(s', u') - sum_i alpha_i log pi_i(u'_i): with heads 1.0 and 3.0,
    alpha_i = 0.5 and log pi_i = -2 for the 3 agents, V = 1 - 0.5 * (-6) = 4."""
    agent = _agent(SPEC3, init_alpha=0.5)
    assert len(agent.critic.heads) == 2  # twin critic whatever algo.twin_critic says
    for head, value in zip(agent.critic_target.heads, (1.0, 3.0), strict=True):
        last = head[-1]
        torch.nn.init.zeros_(last.weight)
        torch.nn.init.constant_(last.bias, value)

    def fixed_sample(obs: Tensor) -> tuple[Tensor, Tensor]:
        b = obs.shape[0]
        return torch.zeros(b, 6), torch.full((b, 3), -2.0)

    agent.sample_joint = fixed_sample  # type: ignore[method-assign]
    batch = Batch(
        obs=torch.zeros(4, 3, 2),
        state=torch.zeros(4, 3),
        action=torch.zeros(4, 3, 2),
        reward=torch.zeros(4),
        next_obs=torch.zeros(4, 3, 2),
        next_state=torch.zeros(4, 3),
        terminated=torch.zeros(4),
    )
    assert torch.allclose(agent.next_value(batch, alpha=123.0), torch.full((4,), 4.0))


def test_learned_temperature_is_reported_and_ignores_the_schedule() -> None:
    agent = _agent(SPEC3, init_alpha=0.25)
    assert math.isclose(agent.reported_alpha(99.0), 0.25, rel_tol=1e-6)


def test_test_action_is_the_tanh_of_the_mean_and_reads_only_its_own_noise() -> None:
    agent = _agent(SPEC3)
    obs = torch.randn(5, 3, 2)
    noise = torch.randn(5, 3, 2)
    a = agent.act(obs, noise, agent.static_mask, explore=True)
    other = noise.clone()
    other[:, 1:] = torch.randn(5, 2, 2)
    b = agent.act(obs, other, agent.static_mask, explore=True)
    assert torch.equal(a[:, 0], b[:, 0])  # agent 0's action: its own noise row only
    test = agent.act(obs, noise, agent.static_mask, explore=False)
    mean, _ = agent.actors[0].params(obs[:, 0])  # type: ignore[operator]
    assert torch.allclose(test[:, 0], torch.tanh(mean))


def test_one_agent_masac_is_sac_and_learns_a_one_step_task() -> None:
    """One agent, one state, reward -(u - 0.5)^2 (gamma = 0: the critic regresses r).  After
    600 updates SAC's deterministic action is within 0.1 of 0.5, and the learned temperature
    fell below its start of 1 (the entropy exceeded the target -1 while the policy was broad)."""
    spec = TaskSpec(
        name="bandit", n_agents=1, obs_dim=1, state_dim=1, action_dim=1, episode_limit=1
    )
    agent = _agent(spec, gamma=0.0, batch_size=64, policy_lr=3e-3, critic_lr=3e-3)
    replay = ReplayBuffer(10_000, 1, 1, 1, 1, device=CPU, dtype=torch.float32)
    gen = torch.Generator().manual_seed(1)
    obs = torch.zeros(16, 1, 1)
    for step in range(600):
        noise = torch.randn(16, 1, 1, generator=gen)
        with torch.no_grad():
            u = agent.act(obs, noise, agent.static_mask, explore=True)
        reward = -((u[:, 0, 0] - 0.5) ** 2)
        replay.add(
            obs=obs,
            state=obs[:, 0],
            action=u,
            reward=reward.double(),
            next_obs=obs.double(),
            next_state=obs[:, 0].double(),
            terminated=torch.ones(16, dtype=torch.float64),
        )
        if step >= 4:
            agent.update(replay.sample(64, gen), alpha=0.0)
    with torch.no_grad():
        best = agent.act(obs[:1], torch.zeros(1, 1, 1), agent.static_mask, explore=False)
    assert abs(float(best) - 0.5) < 0.1
    assert agent.reported_alpha(0.0) < 1.0
