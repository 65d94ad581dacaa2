"""MMQ (svnr_rl.agents.mmq): its defining update by hand, the quantile models, exploration,
decentralized execution, checkpoints and exact resume, and a one-step task learnt in seconds.
"""

from __future__ import annotations

import io
import math
import os
import signal
from pathlib import Path

import pytest
import torch
from torch import Tensor, nn

from svnr_rl.agents import AGENTS, make_agent
from svnr_rl.agents.mmq import (
    CANDIDATES,
    EPSILON,
    MMQAgent,
    RangeModels,
    explore_action,
    maxmax_value,
    pinball_loss,
    uniform_between,
)
from svnr_rl.checkpoint import load_checkpoint
from svnr_rl.config import METHODS, AlgoConfig
from svnr_rl.envs.base import TaskSpec
from svnr_rl.evaluate import decentralize
from svnr_rl.replay import Batch, ReplayBuffer
from svnr_rl.train import Trainer, resume, train
from tests.rl_helpers import random_batch, tiny_config

CPU = torch.device("cpu")
F64 = torch.float64
SPEC2 = TaskSpec(name="toy", n_agents=2, obs_dim=1, state_dim=1, action_dim=1, episode_limit=5)
SPEC3 = TaskSpec(name="toy", n_agents=3, obs_dim=2, state_dim=3, action_dim=2, episode_limit=5)


def _agent(spec: TaskSpec, dtype: torch.dtype = torch.float32, **kw: object) -> MMQAgent:
    kw.setdefault("hidden", (16, 16))
    kw.setdefault("critic_hidden", (16, 16))
    torch.manual_seed(0)
    agent = MMQAgent(spec, AlgoConfig(method="mmq", **kw), device=CPU, dtype=dtype)  # type: ignore[arg-type]
    agent.seed(0)
    return agent


def _batch(spec: TaskSpec, b: int, dtype: torch.dtype = torch.float32) -> Batch:
    return random_batch(spec, b, dtype)


# ------------------------------------------------------------------ the pieces, by hand


def test_pinball_loss_by_hand_and_its_minimizer_is_the_quantile() -> None:
    """pred 0, targets (2, -1): tau = 0.05 gives mean(0.05 * 2, 0.95 * 1) = 0.525, tau = 0.95
    gives mean(0.95 * 2, 0.05 * 1) = 0.975.  Over targets 0..100 the loss on a grid of
    constants is smallest at the 5th and 95th values."""
    pred, target = torch.zeros(2, dtype=F64), torch.tensor([2.0, -1.0], dtype=F64)
    assert math.isclose(float(pinball_loss(pred, target, 0.05)), 0.525, abs_tol=1e-12)
    assert math.isclose(float(pinball_loss(pred, target, 0.95)), 0.975, abs_tol=1e-12)
    data = torch.arange(101, dtype=F64)
    grid = torch.arange(0.0, 100.25, 0.25, dtype=F64)
    for tau, q in ((0.05, 5.0), (0.95, 95.0)):
        losses = torch.stack([pinball_loss(c.expand(101), data, tau) for c in grid])
        assert float(grid[losses.argmin()]) == q


def test_uniform_between_stays_inside_even_with_crossed_bounds() -> None:
    lo = torch.tensor([[0.0, 1.0], [2.0, -1.0]])
    hi = torch.tensor([[1.0, 1.0], [3.0, -3.0]])  # a zero-width and a crossed coordinate
    x = uniform_between(lo, hi, 500, torch.Generator().manual_seed(0))
    assert x.shape == (500, 2, 2)
    assert bool((x >= torch.minimum(lo, hi)).all() and (x <= torch.maximum(lo, hi)).all())
    assert bool((x[:, 0, 1] == 1.0).all())
    assert abs(float(x[:, 0, 0].mean()) - 0.5) < 0.05  # uniform: mean of U[0, 1]


def test_maxmax_value_by_hand() -> None:
    """v_0 = (1, 5); agent 1's candidates (0, 2), (3, 1), (-1, 0) -> max with v_0: (3, 5);
    agent 2's (0, 0), (0, 7), (0, 0) -> (1, 7); mean over the agents (2, 6)."""
    v0 = torch.tensor([1.0, 5.0])
    cand = torch.tensor(
        [[[0.0, 2.0], [3.0, 1.0], [-1.0, 0.0]], [[0.0, 0.0], [0.0, 7.0], [0.0, 0.0]]]
    )
    assert torch.equal(maxmax_value(v0, cand), torch.tensor([2.0, 6.0]))


def test_explore_action_by_hand() -> None:
    """u = 0.7, d = 1, xi = (gauss, uniform, switch).  Switch 0 (Phi = 0.5 >= 0.1): the
    Gaussian step clip(0.7 + 0.1 gauss); switch -3 (Phi = 0.00135 < 0.1): the uniform
    2 Phi(x) - 1 = erf(x / sqrt 2), 0.682689 at x = 1."""
    u = torch.full((4, 1), 0.7, dtype=F64)
    xi = torch.tensor(
        [[1.0, 1.0, 0.0], [5.0, 1.0, 0.0], [0.0, 1.0, -3.0], [0.0, 0.0, -3.0]], dtype=F64
    )
    out = explore_action(u, xi)[:, 0]
    expected = torch.tensor([0.8, 1.0, math.erf(1.0 / math.sqrt(2.0)), 0.0], dtype=F64)
    assert torch.allclose(out, expected, atol=1e-12)
    # over many draws the uniform branch is taken with probability EPSILON
    xi = torch.randn(20_000, 3, generator=torch.Generator().manual_seed(0), dtype=F64)
    uniform = explore_action(torch.full((20_000, 1), 0.7, dtype=F64), xi)
    gauss = (0.7 + 0.1 * xi[:, :1]).clamp(-1, 1)
    assert abs(float((uniform != gauss).double().mean()) - EPSILON) < 0.01


def test_range_models_read_only_the_own_action() -> None:
    models = RangeModels(3, 5, 2, (8,))
    z, act = torch.randn(4, 5), torch.rand(4, 3, 2)
    lo, hi = models(z, act)
    assert lo.shape == hi.shape == (3, 4, 5)
    other = act.clone()
    other[:, 1:] = torch.rand(4, 2, 2)
    lo2, hi2 = models(z, other)
    assert torch.equal(lo[0], lo2[0])
    assert torch.equal(hi[0], hi2[0])
    assert not torch.equal(lo[1], lo2[1])


# ------------------------------------------------------------------ the defining update


class _SumCritic(nn.Module):
    """``Q(s, u) = s_1 + sum(u)``."""

    def q_min(self, state: Tensor, u: Tensor) -> Tensor:
        return state[..., 0] + u.sum(-1)


class _Identity(nn.Module):
    """A 'target actor' with ``mu(o) = o`` (obs_dim = action_dim = 1)."""

    def forward(self, obs: Tensor, noise: Tensor, mask: Tensor) -> Tensor:
        return obs


class _Shift(nn.Module):
    """Degenerate quantile models: ``L_i = U_i = z + u_i`` (every coordinate moved by the
    agent's own action), so every candidate of agent ``i`` is that one point."""

    def forward(self, z: Tensor, action: Tensor) -> tuple[Tensor, Tensor]:
        out = z.unsqueeze(0) + action[:, :, 0].T.unsqueeze(-1)
        return out, out


def test_critic_target_is_the_mean_over_agents_of_the_max_over_candidates() -> None:
    """Two agents, V(z) = Q_bar(s, mu_bar(o)) = s + o_1 + o_2, own actions (1, -1) so the
    candidates are z + 1 (V + 3) for agent 1 and z - 1 (V - 3) for agent 2.

    row 1: z = 0, observed z' = (2, 1, 1): v_0 = 4; agent 1 max(4, 3) = 4, agent 2 max(4, -3)
    = 4; V = 4.  row 2: z = (1, 1, 1), observed z' = (-5, 0, 0): v_0 = -5; agent 1 max(-5, 6) =
    6, agent 2 max(-5, 0) = 0; V = 3.  With r = (1, 2) and gamma = 0.5 the target is
    y = (1 + 2, 2 + 1.5) = (3, 3.5); a critic that outputs 0 has loss 0.5 (9 + 12.25) / 2."""
    agent = _agent(SPEC2, F64, gamma=0.5)
    agent.critic_target = _SumCritic()  # type: ignore[assignment]
    agent.actors_target = nn.ModuleList([_Identity(), _Identity()])
    agent.range_models = _Shift()  # type: ignore[assignment]
    batch = Batch(
        obs=torch.tensor([[[0.0], [0.0]], [[1.0], [1.0]]], dtype=F64),
        state=torch.tensor([[0.0], [1.0]], dtype=F64),
        action=torch.tensor([[[1.0], [-1.0]], [[1.0], [-1.0]]], dtype=F64),
        reward=torch.tensor([1.0, 2.0], dtype=F64),
        next_obs=torch.tensor([[[1.0], [1.0]], [[0.0], [0.0]]], dtype=F64),
        next_state=torch.tensor([[2.0], [-5.0]], dtype=F64),
        terminated=torch.zeros(2, dtype=F64),
    )
    assert torch.equal(agent.next_value(batch, alpha=9.0), torch.tensor([4.0, 3.0], dtype=F64))
    for head in agent.critic.heads:
        assert isinstance(head, nn.Sequential)
        last = head[-1]
        assert isinstance(last, nn.Linear)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
    loss = agent.critic_step(batch, alpha=9.0)
    assert math.isclose(loss, 0.5 * (9.0 + 12.25) / 2, rel_tol=1e-12)


def test_candidates_come_from_the_models_and_number_k_per_agent() -> None:
    agent = _agent(SPEC3)
    batch = _batch(SPEC3, 6)
    cand = agent.candidates(batch)
    assert cand.shape == (3, CANDIDATES, 6, 3 + 3 * 2)
    with torch.no_grad():
        lo, hi = agent.range_models(agent.inputs(batch.state, batch.obs), batch.action)
    assert bool((cand >= torch.minimum(lo, hi).unsqueeze(1) - 1e-6).all())
    assert bool((cand <= torch.maximum(lo, hi).unsqueeze(1) + 1e-6).all())
    s, o = agent.split_inputs(cand)
    assert torch.equal(agent.inputs(s, o), cand)


def test_quantile_models_learn_the_spread_the_teammate_causes() -> None:
    """Agent 1's next state is s' = u_1 + u_2 with the teammate's u_2 ~ U[-1, 1]: given u_1 the
    5% and 95% quantiles are u_1 - 0.9 and u_1 + 0.9.  After 600 steps both models are within
    0.1 of them at u_1 = +-0.5 (agent 2's models see the same spread around its own u_2)."""
    spec = TaskSpec(name="t", n_agents=2, obs_dim=1, state_dim=1, action_dim=1, episode_limit=1)
    agent = _agent(spec, critic_hidden=(32, 32), critic_lr=3e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(600):
        u = torch.rand(256, 2, 1, generator=g) * 2 - 1
        nxt = u.sum(1)
        zeros = torch.zeros(256, 1)
        batch = Batch(
            obs=torch.zeros(256, 2, 1),
            state=zeros,
            action=u,
            reward=zeros[:, 0],
            next_obs=nxt.unsqueeze(1).expand(256, 2, 1),
            next_state=nxt,
            terminated=zeros[:, 0],
        )
        agent.model_step(batch)
    with torch.no_grad():
        act = torch.tensor([[[0.5], [0.5]], [[-0.5], [-0.5]]])
        lo, hi = agent.range_models(torch.zeros(2, 3), act)
    own = act[:, 0, 0]
    assert (lo[0, :, 0] - (own - 0.9)).abs().max() < 0.1
    assert (hi[0, :, 0] - (own + 0.9)).abs().max() < 0.1


# ------------------------------------------------------------------ execution and learning


def test_decentralized_execution_equals_centralized_and_exploration_reads_own_noise() -> None:
    agent = _agent(SPEC3, topology="full")
    assert torch.equal(agent.static_mask, torch.eye(3))  # the topology is ignored
    assert agent.noise_dim == 2 * 2 + 1
    obs = torch.randn(4, 3, 2)
    execs = decentralize(agent, 11)
    dec = torch.stack([e.act(obs[:, e.index], 5) for e in execs], dim=1)
    xi = torch.as_tensor(execs[0].noise.joint(5, 4), dtype=torch.float32)
    assert torch.equal(dec, agent.act(obs, xi, agent.static_mask, explore=False))
    e1 = agent.act(obs, xi, agent.static_mask, explore=True)
    other = xi.clone()
    other[:, 1:] = torch.randn(4, 2, 5)
    e2 = agent.act(obs, other, agent.static_mask, explore=True)
    assert torch.equal(e1[:, 0], e2[:, 0])
    assert not torch.equal(e1[:, 1], e2[:, 1])


def test_checkpoint_round_trip_continues_identically() -> None:
    a = _agent(SPEC3)
    batch = _batch(SPEC3, 16)
    a.update(batch, 0.5)
    buf = io.BytesIO()  # through bytes, as a checkpoint file (weights-only load)
    torch.save(a.state_dict(), buf)
    buf.seek(0)
    sd = torch.load(buf, weights_only=True)
    assert {"actors_target", "range_models", "model_opt"} <= set(sd)
    b = _agent(SPEC3)
    b.load_state_dict(sd)
    assert a.update(batch, 0.4) == b.update(batch, 0.4)
    for (k, ma), (_, mb) in zip(a.modules(), b.modules(), strict=True):
        for pa, pb in zip(ma.parameters(), mb.parameters(), strict=True):
            assert torch.equal(pa, pb), k


def test_two_agents_learn_a_one_step_cooperative_task() -> None:
    """Reward -(u_1 - 0.5)^2 - (u_2 + 0.3)^2, one state, every step terminal (MMQ reduces to
    deterministic actors through the centralized critic).  After 400 updates both test
    actions are within 0.1 of (0.5, -0.3)."""
    spec = TaskSpec(name="t", n_agents=2, obs_dim=1, state_dim=1, action_dim=1, episode_limit=1)
    agent = _agent(spec, hidden=(32, 32), critic_hidden=(32, 32), policy_lr=3e-3, critic_lr=3e-3)
    replay = ReplayBuffer(10_000, 2, 1, 1, 1, device=CPU, dtype=torch.float32)
    gen = torch.Generator().manual_seed(1)
    obs = torch.zeros(16, 2, 1)
    target = torch.tensor([0.5, -0.3])
    for step in range(400):
        noise = torch.randn(16, 2, agent.noise_dim, generator=gen)
        with torch.no_grad():
            u = agent.act(obs, noise, agent.static_mask, explore=True)
        reward = -((u[:, :, 0] - target) ** 2).sum(-1)
        replay.add(
            obs=obs,
            state=obs[:, 0],
            action=u,
            reward=reward,
            next_obs=obs,
            next_state=obs[:, 0],
            terminated=torch.ones(16),
        )
        if step >= 4:
            agent.update(replay.sample(64, gen), alpha=0.0)
    with torch.no_grad():
        best = agent.act(
            obs[:1], torch.zeros(1, 2, agent.noise_dim), agent.static_mask, explore=False
        )
    assert (best[0, :, 0] - target).abs().max() < 0.1


# ------------------------------------------------------------------ registry and the shared loop


def test_mmq_is_a_registered_method() -> None:
    assert "mmq" in METHODS
    assert AGENTS["mmq"] is MMQAgent
    cfg = AlgoConfig(method="mmq", hidden=(8,), critic_hidden=(8,))
    assert type(make_agent(SPEC3, cfg, device=CPU, dtype=torch.float32, seed=0)) is MMQAgent


@pytest.mark.parametrize("task", ["max-of-three", "particle-gather", "gym-pendulum"])
def test_mmq_trains_a_few_steps_in_the_shared_loop(task: str, tmp_path: Path) -> None:
    res = train(tiny_config(tmp_path, 'algo.method="mmq"', "train.total_env_steps=128", task=task))
    assert res.updates > 0
    assert math.isfinite(res.final.mean)
    rows = (res.run_dir / "metrics.csv").read_text().splitlines()
    assert len(rows) == 3  # header + 2 evaluations


def test_interrupted_and_resumed_mmq_run_equals_uninterrupted(tmp_path: Path) -> None:
    """On Particle Gather (real dynamics, so the candidates and the update generator are used)
    a run interrupted mid-segment and resumed ends bit-identical to an uninterrupted one."""
    extra = ('algo.method="mmq"',)
    full = train(tiny_config(tmp_path, 'train.run_name="full"', *extra, task="particle-gather"))

    def interrupt(tr: Trainer) -> None:
        if tr.vec_steps == 13:  # in the middle of the second segment (8 vector steps each)
            os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(KeyboardInterrupt):
        train(
            tiny_config(tmp_path, 'train.run_name="cut"', *extra, task="particle-gather"),
            on_step=interrupt,
        )
    cut = tmp_path / "cut"
    resumed = resume(cut)
    assert (resumed.run_dir / "metrics.csv").read_text() == (
        full.run_dir / "metrics.csv"
    ).read_text()
    sa = load_checkpoint(full.run_dir / "checkpoints" / "latest.pt")["agent"]
    sb = load_checkpoint(cut / "checkpoints" / "latest.pt")["agent"]
    for part in ("actors", "critic", "critic_target", "actors_target", "range_models"):
        for k, v in sa[part].items():
            assert torch.equal(v, sb[part][k]), f"{part}.{k}"
    assert resumed.final == full.final
