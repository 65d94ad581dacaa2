"""Particle Gather: the mpe2 reference ParallelEnv, the batched form, and their equality."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from mpe2._mpe_utils.core import Agent, Entity, Landmark, World
from numpy.typing import NDArray
from pettingzoo.test import parallel_api_test

from svnr_rl.envs import make_batched, make_parallel
from svnr_rl.envs import particle_gather as pg
from svnr_rl.envs.particle_gather import (
    AGENT_NAMES,
    BatchedParticleGather,
    ParticleGatherParallelEnv,
    arrived,
    gather_reward,
)

FloatArray = NDArray[np.float64]

#: The batched form reproduces mpe2's operations in the same order, so the two agree to the last
#: bit in practice; 1e-9 (the issue's bar) leaves room for a libm/SIMD difference in logaddexp.
TRAJ_TOL = 1e-9


def _policy(state: FloatArray, rng: np.random.Generator) -> FloatArray:
    """Steer toward the landmark with noise, partly out of range (exercises clipping): yields all
    three outcomes (+5, -2, truncation) within a few hundred steps."""
    a = -1.5 * state[:, [0, 1, 4, 5]] + 0.7 * rng.normal(size=(state.shape[0], 4))
    return np.clip(a, -1.4, 1.4)[:, :, None]


def test_constants_are_mpe2s() -> None:
    world, agent, landmark = World(), Agent(), Landmark()
    assert (world.dt, world.damping) == (pg.DT, pg.DAMPING)
    assert (world.contact_force, world.contact_margin) == (pg.CONTACT_FORCE, pg.CONTACT_MARGIN)
    assert pg.MASS == agent.mass == 1.0
    assert pg.PARTICLE_SIZE == agent.size == Entity().size
    assert landmark.size == pg.LANDMARK_SIZE
    assert agent.accel is None  # so mpe2's sensitivity 5.0 applies
    assert pg.SENSITIVITY == 5.0
    assert agent.max_speed is None
    assert agent.u_noise is None


def test_reward_rule_and_arrival() -> None:
    np.testing.assert_array_equal(gather_reward(np.array([0, 1, 2])), [0.0, -2.0, 5.0])
    rel = np.array([[0.1, 0.0], [0.0, 0.1000001], [0.06, -0.08], [0.0, 0.0]])
    np.testing.assert_array_equal(arrived(rel, 0.1), [True, False, True, True])


def test_batched_form_equals_the_mpe2_reference_over_many_episodes() -> None:
    n_envs, seed, steps = 12, 11, 400
    batched = BatchedParticleGather(n_envs)
    out = batched.reset(seed)
    refs = [ParticleGatherParallelEnv() for _ in range(n_envs)]
    for b, ref in enumerate(refs):
        obs, _ = ref.reset(seed=seed, options={"env_index": b})
        np.testing.assert_allclose(obs["p1_y"], out.obs[b, 3], rtol=0, atol=TRAJ_TOL)
    rng = np.random.default_rng(0)
    seen: set[float] = set()
    episodes = truncations = 0
    for _ in range(steps):
        actions = _policy(out.state, rng)
        out = batched.step(actions)
        for b, ref in enumerate(refs):
            obs, rew, term, trunc, _ = ref.step(
                {name: actions[b, i] for i, name in enumerate(AGENT_NAMES)}
            )
            for i, name in enumerate(AGENT_NAMES):
                np.testing.assert_allclose(obs[name], out.final_obs[b, i], rtol=0, atol=TRAJ_TOL)
            assert rew["p0_x"] == out.reward[b]
            assert term["p0_x"] == out.terminated[b]
            assert trunc["p0_x"] == out.truncated[b]
            if term["p0_x"] or trunc["p0_x"]:
                episodes += 1
                truncations += int(trunc["p0_x"])
                seen.add(rew["p0_x"])
                ref.reset()  # continues env b's stream, as the batched auto-reset does
            np.testing.assert_allclose(ref.state(), out.state[b], rtol=0, atol=TRAJ_TOL)
    assert episodes > 100
    assert truncations > 0
    assert seen >= {5.0, -2.0}


def test_batched_step_semantics_auto_reset_and_returns() -> None:
    env = BatchedParticleGather(64)
    out = env.reset(5)
    assert out.obs.shape == (64, 4, 8)
    assert out.state.shape == (64, 8)
    np.testing.assert_array_equal(out.obs, np.repeat(out.state[:, None], 4, axis=1))
    start = out.state.reshape(64, 2, 4)[:, :, :2]
    assert np.all(np.abs(start) <= 1.0)
    assert not arrived(start, env.arrival_radius).any()
    np.testing.assert_array_equal(out.state.reshape(64, 2, 4)[:, :, 2:], 0.0)
    rng = np.random.default_rng(1)
    ret = np.zeros(64)
    for _ in range(60):
        out = env.step(_policy(out.state, rng))
        ret += out.reward
        done = out.terminated | out.truncated
        np.testing.assert_array_equal(out.episode_return[done], ret[done])
        np.testing.assert_array_equal(out.episode_return[~done], 0.0)
        ret[done] = 0.0
        np.testing.assert_array_equal(out.final_state[~done], out.state[~done])
        # arrival in the final state is what ends an episode with a reward
        final_pos = out.final_state.reshape(64, 2, 4)[:, :, :2]
        n_arrived = arrived(final_pos, env.arrival_radius).sum(axis=-1)
        np.testing.assert_array_equal(out.reward, gather_reward(n_arrived))
        np.testing.assert_array_equal(out.terminated, n_arrived > 0)
        # reset rows start at rest
        np.testing.assert_array_equal(out.state.reshape(64, 2, 4)[done][:, :, 2:], 0.0)


def test_episode_is_truncated_after_the_limit_when_nobody_arrives() -> None:
    env = BatchedParticleGather(4, episode_limit=7)
    out = env.reset(0)
    for t in range(1, 8):
        away = np.sign(out.state[:, [0, 1, 4, 5]])[:, :, None]  # push away from the landmark
        out = env.step(away)
        assert not out.terminated.any()
        assert out.truncated.all() == (t == 7)
    np.testing.assert_array_equal(out.episode_return, 0.0)


def test_same_seed_same_actions_identical_trajectories_and_seeds_differ() -> None:
    def run(seed: int) -> FloatArray:
        env = make_batched("particle-gather", 16)
        out = env.reset(seed)
        rng = np.random.default_rng(3)
        states = []
        for _ in range(80):
            out = env.step(rng.uniform(-1, 1, size=(16, 4, 1)))
            states.append(np.concatenate([out.state, out.final_state, out.reward[:, None]], 1))
        return np.stack(states)

    np.testing.assert_array_equal(run(4), run(4))
    assert not np.array_equal(run(4), run(5))


def test_reference_is_deterministic_over_many_steps_and_resets() -> None:
    def run(seed: int) -> list[Any]:
        env = ParticleGatherParallelEnv()
        rng = np.random.default_rng(seed)
        obs, _ = env.reset(seed=seed)
        trace: list[Any] = [obs["p0_x"]]
        for _ in range(120):
            if not env.agents:
                obs, _ = env.reset()
            acts = {a: rng.uniform(-1, 1, size=1) for a in env.agents}
            obs, rew, *_ = env.step(acts)
            trace += [obs["p0_x"], rew["p0_x"]]
        return trace

    a, b = run(2), run(2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_parallel_forms_pass_the_pettingzoo_api_test() -> None:
    parallel_api_test(make_parallel("particle-gather"), num_cycles=200)
    parallel_api_test(make_parallel("particle-gather", episode_limit=5), num_cycles=50)


def test_out_of_range_actions_are_clipped_in_both_forms() -> None:
    env = BatchedParticleGather(1)
    env.reset(0)
    big = env.step(np.array([[[3.0], [-7.0], [1.5], [0.2]]])).state
    env.reset(0)
    clipped = env.step(np.array([[[1.0], [-1.0], [1.0], [0.2]]])).state
    np.testing.assert_array_equal(big, clipped)
    ref = ParticleGatherParallelEnv()
    ref.reset(seed=0)
    obs, *_ = ref.step({"p0_x": [3.0], "p0_y": [-7.0], "p1_x": [1.5], "p1_y": [0.2]})
    np.testing.assert_array_equal(obs["p0_x"], clipped[0])


@pytest.mark.parametrize(
    ("actions", "match"),
    [
        (np.zeros((2, 4)), "shape"),
        (np.zeros((2, 2, 2)), "shape"),
        (np.array([[[0.0], [0.0], [np.nan], [0.0]]] * 2), r"action\(0, 2, 0\).*not finite"),
    ],
)
def test_batched_bad_actions_raise(actions: Any, match: str) -> None:
    env = BatchedParticleGather(2)
    env.reset(0)
    with pytest.raises(ValueError, match=match):
        env.step(actions)


def test_reference_bad_actions_raise() -> None:
    env = ParticleGatherParallelEnv()
    env.reset(seed=0)
    good = {a: [0.0] for a in AGENT_NAMES}
    with pytest.raises(ValueError, match="missing action for agent 'p1_y'"):
        env.step({a: [0.0] for a in AGENT_NAMES[:3]})
    with pytest.raises(ValueError, match=r"p0_y.*not finite"):
        env.step({**good, "p0_y": [np.inf]})
    with pytest.raises(ValueError, match=r"p0_x.*1 entry"):
        env.step({**good, "p0_x": [0.0, 1.0]})
    with pytest.raises(ValueError, match="unknown"):
        env.step({**good, "ghost": [0.0]})


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"arrival_radius": 0.0}, "arrival_radius"),
        ({"arrival_radius": float("nan")}, "arrival_radius"),
        ({"arrival_radius": 2.0}, "arrival_radius"),
        ({"episode_limit": 0}, "episode_limit"),
        ({"episode_limit": 2.5}, "episode_limit"),
    ],
)
def test_invalid_parameters_raise(params: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_batched("particle-gather", 2, **params)
    with pytest.raises(ValueError, match=match):
        make_parallel("particle-gather", **params)


def test_step_before_reset_raises() -> None:
    with pytest.raises(ValueError, match="before reset"):
        BatchedParticleGather(1).step(np.zeros((1, 4, 1)))
