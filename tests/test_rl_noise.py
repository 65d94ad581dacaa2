"""Common randomness (App. J): separately built agents reproduce the centralized joint action."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from svnr_rl.agents import Agent, make_agent
from svnr_rl.checkpoint import load_checkpoint, save_checkpoint
from svnr_rl.config import AlgoConfig
from svnr_rl.envs.base import TaskSpec
from svnr_rl.evaluate import DecentralizedAgent, decentralize
from svnr_rl.noise import CommonNoise, static_mask

SPEC = TaskSpec(name="toy", n_agents=3, obs_dim=5, state_dim=7, action_dim=2, episode_limit=10)


def _agent(topology: str = "nested", method: str = "svnr") -> Agent:
    cfg = AlgoConfig(method=method, topology=topology, hidden=(16, 16), critic_hidden=(16,))
    return make_agent(SPEC, cfg, device=torch.device("cpu"), dtype=torch.float32, seed=3)


def test_same_seed_same_stream_other_seed_differs() -> None:
    a, b, c = CommonNoise(7, 3, 2), CommonNoise(7, 3, 2), CommonNoise(8, 3, 2)
    np.testing.assert_array_equal(a.joint(5, 4), b.joint(5, 4))
    assert not np.array_equal(a.joint(5, 4), c.joint(5, 4))
    assert not np.array_equal(a.joint(5, 4), a.joint(6, 4))


def test_static_mask_contains_self_and_peers() -> None:
    np.testing.assert_array_equal(static_mask([[], [0], [0, 1]]), np.tril(np.ones((3, 3))))


@pytest.mark.parametrize(
    ("topology", "method"), [("nested", "svnr"), ("random-peers", "svnr"), ("full", "maddpg")]
)
def test_separate_agents_from_saved_weights_reproduce_joint_action(
    tmp_path: Path, topology: str, method: str
) -> None:
    agent = _agent(topology, method)
    save_checkpoint(tmp_path / "w.pt", {"agent": agent.state_dict()})
    seed, batch = 1234, 6
    obs = torch.randn(10, batch, 3, 5, generator=torch.Generator().manual_seed(0))
    # centralized: one object, joint noise, all observations
    central = CommonNoise(
        seed, 3, agent.noise_dim, agent.cfg.peers if agent.dynamic_topology else None
    )
    # decentralized: three fresh objects built from the saved weights and the seed only
    weights = load_checkpoint(tmp_path / "w.pt")["agent"]["actors"]
    fresh = _agent(topology, method)
    separate: list[DecentralizedAgent] = []
    for i in range(3):
        actor = fresh.actors[i]
        actor.load_state_dict(
            {k[len(f"{i}.") :]: v for k, v in weights.items() if k.startswith(f"{i}.")}
        )
        mask_row = None if fresh.dynamic_topology else fresh.static_mask[i]
        noise = CommonNoise(
            seed, 3, fresh.noise_dim, fresh.cfg.peers if fresh.dynamic_topology else None
        )
        separate.append(DecentralizedAgent(type(fresh), i, actor, noise, mask_row))  # type: ignore[arg-type]
    for t in range(10):
        xi = torch.as_tensor(central.joint(t, batch), dtype=torch.float32)
        mask = (
            torch.as_tensor(central.peer_mask(t), dtype=torch.float32)
            if agent.dynamic_topology
            else agent.static_mask
        )
        with torch.no_grad():
            joint = agent.act(obs[t], xi, mask, explore=False)
        # each agent gets only its own observation column
        apart = torch.stack([a.act(obs[t][:, a.index].clone(), t) for a in separate], dim=1)
        assert torch.equal(joint, apart)  # bit-identical, not approximately equal


def test_agent_reads_no_other_observation_and_only_its_noise_rows() -> None:
    agent = _agent("nested")
    (a0, a1, a2) = decentralize(agent, noise_seed=99)
    obs = torch.randn(4, 5)
    base = a1.act(obs, 3)
    # agent 2 (index 1) conditions on S = {0, 1}; changing xi_2 (index 2) must not move it
    xi = torch.as_tensor(a1.noise.joint(3, 4), dtype=torch.float32)
    xi_changed = xi.clone()
    xi_changed[:, 2] += 5.0
    row = a1.static_mask_row
    assert row is not None
    u = type(agent).act_one(a1.actor, 1, obs, xi, row, explore=False)
    u_changed = type(agent).act_one(a1.actor, 1, obs, xi_changed, row, explore=False)
    assert torch.equal(u, u_changed)
    assert torch.equal(u, base)
    # ... while changing xi_1 (in S) does move it: the noise is really used
    xi_own = xi.clone()
    xi_own[:, 0] += 5.0
    assert not torch.equal(u, type(agent).act_one(a1.actor, 1, obs, xi_own, row, explore=False))
    # the decentralized act signature has no access to other agents' observations or actions
    assert a0.act(obs, 3).shape == (4, 2)
    assert a2.act(obs, 3).shape == (4, 2)
