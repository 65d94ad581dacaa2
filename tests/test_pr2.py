"""PR2-AC in the paper's form (``algo.method=pr2``): the actor's policy gradient and the critic
target against hand values, the opponent model's SVGD direction, deterministic decentralized
execution, checkpoints, exact resume, one agent (DDPG) and a tiny learning run."""

from __future__ import annotations

import io
import json
import math
import os
import signal
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor, nn

from svnr_core.stein import rbf_kernel
from svnr_rl.agents import AGENTS, make_agent
from svnr_rl.agents.maddpg import EXPLORATION_STD
from svnr_rl.agents.opponent import opponent_svgd_loss
from svnr_rl.agents.pr2 import PR2Agent, pr2_actor_loss
from svnr_rl.checkpoint import load_checkpoint
from svnr_rl.config import AlgoConfig
from svnr_rl.envs.base import TaskSpec
from svnr_rl.evaluate import decentralize
from svnr_rl.replay import Batch
from svnr_rl.train import Trainer, resume, train
from tests.rl_helpers import QuadraticCritic, random_batch, tiny_config

CPU = torch.device("cpu")
F64 = torch.float64
SPEC3 = TaskSpec(name="toy", n_agents=3, obs_dim=2, state_dim=3, action_dim=1, episode_limit=5)
SPEC2 = TaskSpec(name="toy", n_agents=2, obs_dim=2, state_dim=3, action_dim=1, episode_limit=5)
SPEC1 = TaskSpec(name="toy", n_agents=1, obs_dim=2, state_dim=3, action_dim=2, episode_limit=5)


def _agent(spec: TaskSpec = SPEC3, dtype: torch.dtype = torch.float32, **kw: Any) -> PR2Agent:
    kw.setdefault("hidden", (16, 16))
    kw.setdefault("critic_hidden", (16,))
    torch.manual_seed(0)
    agent = PR2Agent(spec, AlgoConfig(method="pr2", **kw), device=CPU, dtype=dtype)
    agent.seed(0)
    return agent


def _batch(b: int, spec: TaskSpec = SPEC3, dtype: torch.dtype = torch.float32) -> Batch:
    return random_batch(spec, b, dtype)


class Bilinear(nn.Module):
    """``Q(s, u) = -(u_1 - 0.5)^2 + 3 u_1 u_2 - u_3^2`` (joint coordinates, any ``s``)."""

    def q_min(self, state: Tensor, u: Tensor) -> Tensor:
        return -((u[..., 0] - 0.5) ** 2) + 3.0 * u[..., 0] * u[..., 1] - u[..., 2] ** 2


class Doubler(nn.Module):
    """An opponent model that answers ``u_{-i} = (2 u_i, 2 u_i)`` whatever its noise."""

    noise_dim = 2

    def forward(self, obs_i: Tensor, own: Tensor, eta: Tensor) -> Tensor:
        return torch.cat([2 * own, 2 * own], dim=-1)


class ObsActor(nn.Module):
    """A stand-in target actor ``mu(o) = 0.1 * o[..., 0] + c`` (one action coordinate)."""

    def __init__(self, c: float) -> None:
        super().__init__()
        self.c = c

    def forward(self, obs: Tensor, noise: Tensor, mask: Tensor) -> Tensor:
        return 0.1 * obs[..., :1] + self.c


# ------------------------------------------------------------------------ actor gradient


def test_actor_gradient_is_the_mean_partial_derivative_by_hand() -> None:
    """u_1 = 0.2 with opponent samples (u_2, u_3) = (0.3, -0.4), (0.7, 0.1):
    d(-mean Q)/du_1 = -mean_l [-2 (0.2 - 0.5) + 3 u_2^l] = -(0.6 + 1.5) = -2.1, and the loss is
    -mean_l Q = -((-0.09 + 0.18 - 0.16) + (-0.09 + 0.42 - 0.01)) / 2 = -0.125.  The opponent
    samples get no gradient (they are held fixed)."""
    u = torch.tensor([0.2], dtype=F64, requires_grad=True)
    own = u.expand(2, 1)
    others = torch.tensor([[0.3, -0.4], [0.7, 0.1]], dtype=F64, requires_grad=True)
    critic = Bilinear()
    loss = pr2_actor_loss(lambda x: critic.q_min(torch.zeros(()), x), own, others, 0)
    assert abs(float(loss.detach()) - (-0.125)) < 1e-12
    loss.backward()
    assert u.grad is not None
    assert abs(float(u.grad) - (-2.1)) < 1e-12
    assert others.grad is None


def test_actor_gradient_does_not_go_through_the_opponent_model() -> None:
    """Q = u_1 + u_2 + u_3 with rho answering (2 u_1, 2 u_1): the marginal's gradient in u_1 is
    1 (differentiating through rho would give 5).  So the actor's parameter gradient equals
    that of ``-(1 / B) sum_b mu_1(o_b)``."""
    agent = _agent(dtype=F64, num_particles=4, policy_batch_size=8)

    class Linear(nn.Module):
        def q_min(self, state: Tensor, u: Tensor) -> Tensor:
            return u.sum(-1)

    agent.critic = Linear()  # type: ignore[assignment]
    agent.opponents[0] = Doubler()
    batch = _batch(8, dtype=F64)
    actor_loss, _ = agent.policy_losses(batch, alpha=0.5)
    actor = agent.actors[0]
    got = torch.autograd.grad(actor_loss, list(actor.parameters()))
    mu = actor(batch.obs[:, 0], batch.obs.new_zeros(()), agent.static_mask[0])
    want = torch.autograd.grad(-mu.sum() / 8, list(actor.parameters()))
    for g, w in zip(got, want, strict=True):
        assert torch.allclose(g, w, atol=1e-12)


def test_policy_losses_reach_the_right_networks_and_condition_on_mu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The actor loss reaches only theta_i, the SVGD surrogate only phi_i; the opponent model is
    conditioned on mu_i(o_i) at the *current* observations, not on the buffer's action."""
    agent = _agent(num_particles=4, policy_batch_size=8)
    batch = _batch(8)
    seen: dict[int, tuple[Tensor, Tensor]] = {}
    orig = agent.opponent_particles

    def spy(i: int, obs_i: Tensor, own: Tensor) -> Tensor:
        seen[i] = (obs_i, own)
        return orig(i, obs_i, own)

    monkeypatch.setattr(agent, "opponent_particles", spy)
    actor_loss, opp_loss = agent.policy_losses(batch, alpha=0.5)
    for i in range(3):
        obs_i, own = seen[i]
        assert torch.equal(obs_i, batch.obs[:, i])
        mu = agent.actors[i](batch.obs[:, i], batch.obs.new_zeros(()), agent.static_mask[i])
        assert torch.equal(own[:, 0], mu.detach())
        assert not own.requires_grad
    params = {"actors": agent.actors, "opponents": agent.opponents}
    ga = {
        k: torch.autograd.grad(actor_loss, list(m.parameters()), allow_unused=True)
        for k, m in params.items()
    }
    go = {
        k: torch.autograd.grad(opp_loss, list(m.parameters()), allow_unused=True)
        for k, m in params.items()
    }

    def norm(gs: tuple[Tensor | None, ...]) -> float:
        return sum(float(g.abs().sum()) for g in gs if g is not None)

    assert norm(ga["actors"]) > 0
    assert norm(ga["opponents"]) == 0
    assert norm(go["opponents"]) > 0
    assert norm(go["actors"]) == 0


# ------------------------------------------------------------------------- critic target


def test_critic_target_is_the_mean_soft_marginal_at_the_target_actions_by_hand(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two agents, Q_bar = 2 u_1 u_2 + u_1, target actors mu_bar_i(o') = 0.1 o'_{i,0} + c_i,
    proposals (K = 2) fixed to 0.1, -0.3 for agent 1's opponent and 0.4, 0.6 for agent 2's:
    V_i = alpha (log mean_k exp(Q(mu_bar_i, u^k) / alpha) + log 2), V = (V_1 + V_2) / 2."""
    agent = _agent(SPEC2, F64, value_samples=2)

    class Q(nn.Module):
        def q_min(self, state: Tensor, u: Tensor) -> Tensor:
            return 2.0 * u[..., 0] * u[..., 1] + u[..., 0]

    agent.critic_target = Q()  # type: ignore[assignment]
    agent.actors_target = nn.ModuleList([ObsActor(0.5), ObsActor(-0.2)])
    batch = _batch(3, SPEC2, F64)
    prop = torch.tensor([[0.1, -0.3], [0.4, 0.6]], dtype=F64)  # [N, K]
    monkeypatch.setattr(
        agent, "opponent_proposals", lambda b, k: prop.reshape(1, 2, 2, 1).expand(b, 2, 2, 1)
    )
    alpha = 0.5
    got = agent.next_value(batch, alpha)
    for b in range(3):
        m1 = 0.1 * float(batch.next_obs[b, 0, 0]) + 0.5
        m2 = 0.1 * float(batch.next_obs[b, 1, 0]) - 0.2
        q1 = [2 * m1 * x + m1 for x in (0.1, -0.3)]  # agent 1 owns u_1, marginalizes u_2
        q2 = [2 * x * m2 + x for x in (0.4, 0.6)]  # agent 2 owns u_2, marginalizes u_1
        v = [
            alpha * (math.log(sum(math.exp(q / alpha) for q in qs) / 2) + math.log(2.0))
            for qs in (q1, q2)
        ]
        assert abs(float(got[b]) - sum(v) / 2) < 1e-12


def test_critic_target_for_a_constant_critic_is_c_plus_alpha_d_log_2() -> None:
    """Q_bar = c: every agent's soft marginal is c + alpha (N - 1) a log 2 (the opponents'
    uniform entropy, the importance constant inside alpha)."""
    agent = _agent(SPEC3, F64, value_samples=5)

    class Const(nn.Module):
        def q_min(self, state: Tensor, u: Tensor) -> Tensor:
            return torch.full(u.shape[:-1], -2.0, dtype=u.dtype)

    agent.critic_target = Const()  # type: ignore[assignment]
    v = agent.next_value(_batch(4, dtype=F64), alpha=0.25)
    assert torch.allclose(v, torch.full((4,), -2.0 + 0.25 * 2 * math.log(2.0), dtype=F64))


# -------------------------------------------------------------------------- opponent SVGD


def _tanh_score(q_grad: Tensor, x: Tensor, alpha: float) -> Tensor:
    return q_grad / alpha - 2 * x / (1 - x * x + 1e-6)


def test_opponent_svgd_direction_by_hand() -> None:
    """Agent 2 of three (i = 1), Q = -||u - c||^2, alpha = 0.5, two particles of u_{-2}.
    Score s_l = -2 (x_l - c_{-2}) / alpha - 2 x_l / (1 - x_l^2 + 1e-6);
    phi(x_l) = (1/2) sum_j [k_jl s_j + (2 / h) (x_l - x_j) k_jl] with the median bandwidth h;
    the surrogate's gradient on particle l is -alpha phi(x_l) / 2 (mean over two particles)."""
    alpha, c = 0.5, torch.tensor([0.2, -0.1, 0.4], dtype=F64)
    critic = QuadraticCritic(c, 1.0)
    own = torch.full((2, 1), 0.3, dtype=F64)
    x = torch.tensor([[0.1, 0.5], [-0.4, 0.2]], dtype=F64, requires_grad=True)  # (u_1, u_3)
    loss = opponent_svgd_loss(lambda j: critic.q_min(torch.zeros(()), j), own, x, 1, alpha)
    (grad,) = torch.autograd.grad(loss, x)
    xd, c_others = x.detach(), c[[0, 2]]
    s = _tanh_score(-2 * (xd - c_others), xd, alpha)
    k, h = rbf_kernel(xd)
    phi = torch.stack(
        [
            sum(k[j, m] * s[j] + (2 / h) * (xd[m] - xd[j]) * k[j, m] for j in range(2)) / 2
            for m in range(2)
        ]
    )
    assert torch.allclose(grad, -alpha * phi / 2, atol=1e-12)
    # one particle: SVGD is the score itself (no repulsion)
    x1 = x.detach()[:1].clone().requires_grad_(True)
    (g1,) = torch.autograd.grad(
        opponent_svgd_loss(lambda j: critic.q_min(torch.zeros(()), j), own[:1], x1, 1, alpha),
        x1,
    )
    assert torch.allclose(g1, -alpha * s[:1], atol=1e-12)


# ---------------------------------------------------------------------------- execution


def test_test_action_is_deterministic_and_exploration_is_maddpgs() -> None:
    agent = _agent()
    obs, xi = torch.randn(5, 2), torch.randn(5, 3, 1)
    actor, row = agent.actors[1], agent.static_mask[1]
    u = PR2Agent.act_one(actor, 1, obs, xi, row, explore=False)
    again = PR2Agent.act_one(actor, 1, obs, torch.randn(5, 3, 1), row, explore=False)
    assert torch.equal(u, again)
    assert torch.equal(u, torch.tanh(actor.net(obs)))
    e = PR2Agent.act_one(actor, 1, obs, xi, row, explore=True)
    assert torch.equal(e, (u + EXPLORATION_STD * xi[:, 1]).clamp(-1, 1))


@pytest.mark.parametrize("topology", ["nested", "full", "random-peers"])
def test_decentralized_equals_centralized(topology: str) -> None:
    agent = _agent(topology=topology)
    assert torch.equal(agent.static_mask, torch.eye(3))
    obs = torch.randn(4, 3, 2)
    execs = decentralize(agent, 11)
    dec = torch.stack([e.act(obs[:, e.index], 5) for e in execs], dim=1)
    xi = torch.as_tensor(execs[0].noise.joint(5, 4), dtype=torch.float32)
    cen = agent.act(obs, xi, agent.static_mask, explore=False)
    assert torch.equal(dec, cen)


# -------------------------------------------------------------------- checkpoints, resume


@pytest.mark.parametrize("spec", [SPEC3, SPEC1], ids=["3-agents", "1-agent"])
def test_checkpoint_round_trip_continues_identically(spec: TaskSpec) -> None:
    kw = {"policy_batch_size": 4, "num_particles": 4, "value_samples": 4}
    a = _agent(spec, **kw)
    batch = _batch(16, spec)
    a.update(batch, 0.5)
    buf = io.BytesIO()  # through bytes, as a checkpoint file (weights-only load)
    torch.save(a.state_dict(), buf)
    buf.seek(0)
    sd = torch.load(buf, weights_only=True)
    assert {"actors_target", "opponents"} <= set(sd)
    b = _agent(spec, **kw)
    b.load_state_dict(sd)
    ra, rb = a.update(batch, 0.4), b.update(batch, 0.4)
    assert ra == rb
    for (k, ma), (_, mb) in zip(a.modules(), b.modules(), strict=True):
        for pa, pb in zip(ma.parameters(), mb.parameters(), strict=True):
            assert torch.equal(pa, pb), k


def test_interrupted_and_resumed_run_equals_uninterrupted(tmp_path: Path) -> None:
    extra = ('algo.method="pr2"',)
    full = train(tiny_config(tmp_path, 'train.run_name="full"', *extra))

    def interrupt(tr: Trainer) -> None:
        if tr.vec_steps == 13:  # in the middle of the second segment
            os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(tmp_path, 'train.run_name="cut"', *extra), on_step=interrupt)
    cut = tmp_path / "cut"
    resumed = resume(cut)
    assert (resumed.run_dir / "metrics.csv").read_text() == (
        full.run_dir / "metrics.csv"
    ).read_text()
    pf = load_checkpoint(full.run_dir / "checkpoints" / "latest.pt")["agent"]
    pr = load_checkpoint(cut / "checkpoints" / "latest.pt")["agent"]
    for part in ("actors", "actors_target", "opponents", "critic", "critic_target"):
        assert all(torch.equal(pf[part][k], pr[part][k]) for k in pf[part]), part
    assert json.loads((cut / "status.json").read_text())["state"] == "completed"


# --------------------------------------------------------------------------- one agent


def test_one_agent_is_ddpg() -> None:
    """No opponent models; the critic target is Q_bar(s', mu_bar(o')) and the actor loss
    -mean Q(s, mu(o)) over the whole batch, exactly MADDPG's (= DDPG) update."""
    agent = _agent(SPEC1, F64)
    assert len(agent.opponents) == 0
    batch = _batch(6, SPEC1, F64)
    mu_bar = agent.actors_target[0](batch.next_obs[:, 0], torch.zeros(()), agent.static_mask[0])
    want = agent.critic_target.q_min(batch.next_state, mu_bar)
    assert torch.equal(agent.next_value(batch, alpha=0.3), want)
    mu = agent.actors[0](batch.obs[:, 0], torch.zeros(()), agent.static_mask[0])
    want_loss = float(-agent.critic.q_min(batch.state, mu).mean().detach())
    assert agent.policy_step(batch, alpha=0.3) == pytest.approx(want_loss, abs=1e-12)


@pytest.mark.parametrize("task", ["gym-pendulum", "particle-gather", "two-modalities"])
def test_trains_a_few_steps_on_other_tasks(task: str, tmp_path: Path) -> None:
    res = train(
        tiny_config(
            tmp_path,
            'algo.method="pr2"',
            "train.total_env_steps=128",
            "train.eval_episodes=2",
            task=task,
        )
    )
    assert res.updates > 0
    assert math.isfinite(res.final.mean)


def test_registered() -> None:
    assert AGENTS["pr2"] is PR2Agent
    cfg = AlgoConfig(method="pr2", hidden=(8,), critic_hidden=(8,))
    assert type(make_agent(SPEC3, cfg, device=CPU, dtype=torch.float32, seed=0)) is PR2Agent


# ------------------------------------------------------------------------------ learning


def test_learns_a_one_step_cooperative_game() -> None:
    """r(u) = -4 (u_1 - 0.5)^2 - 4 (u_2 + 0.3)^2, single-step episodes (gamma irrelevant):
    after about 470 updates on the agents' own exploring transitions, the deterministic actions
    are within 0.1 of (0.5, -0.3) (seen: 0.06 after 370 updates).  Ten seconds on one core."""
    agent = _agent(
        SPEC2, num_particles=8, policy_batch_size=16, policy_lr=1e-2, critic_lr=1e-2, batch_size=64
    )
    gen = torch.Generator().manual_seed(1)
    obs = torch.zeros(1, 2, 2)
    centre = torch.tensor([0.5, -0.3])
    rows: list[Tensor] = []
    for step in range(500):
        xi = 3.0 * torch.randn(1, 2, 1, generator=gen)  # wide exploration around mu
        with torch.no_grad():
            u = agent.act(obs, xi, agent.static_mask, explore=True)
        rows.append(u.reshape(2))
        if step < 32:
            continue
        idx = torch.randint(len(rows), (64,), generator=gen)
        act = torch.stack(rows)[idx]
        r = -4.0 * ((act - centre) ** 2).sum(-1)
        z = torch.zeros(64, 2, 2)
        s = torch.zeros(64, 3)
        batch = Batch(z, s, act.unsqueeze(-1), r, z, s, torch.ones(64))
        agent.update(batch, alpha=0.05)
    with torch.no_grad():
        mu = agent.act(obs, torch.zeros(1, 2, 1), agent.static_mask, explore=False)
    assert (mu.reshape(2) - centre).abs().max() < 0.1
