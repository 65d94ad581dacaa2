"""Particle Gather: the mpe2 reference ParallelEnv, the batched form, and their equality, for
both variants (``particle-gather``: iterated, no termination; ``particle-gather-terminal``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from mpe2._mpe_utils.core import Agent, Entity, Landmark, World
from numpy.typing import NDArray
from pettingzoo.test import parallel_api_test

from svnr_rl.envs import gather_rules as rules
from svnr_rl.envs import make_batched, make_parallel
from svnr_rl.envs import particle_gather as pg
from svnr_rl.envs.gather_rules import ITERATED, TERMINAL, VARIANTS, arrived, gather_reward
from svnr_rl.envs.particle_gather import (
    AGENT_NAMES,
    EPISODE_INFO_KEYS,
    BatchedParticleGather,
    ParticleGatherParallelEnv,
)

FloatArray = NDArray[np.float64]
BOTH = pytest.mark.parametrize("variant", [ITERATED, TERMINAL])

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
    assert rules.PARTICLE_SIZE == agent.size == Entity().size
    assert landmark.size == rules.LANDMARK_SIZE
    assert agent.accel is None  # so mpe2's sensitivity 5.0 applies
    assert pg.SENSITIVITY == 5.0
    assert agent.max_speed is None
    assert agent.u_noise is None


def test_variant_sizes_are_the_particle_world_conventions() -> None:
    from mpe2.simple_spread.simple_spread import Scenario

    spread = Scenario().make_world()
    assert rules.SPREAD_AGENT_SIZE == spread.agents[0].size == 0.15
    assert spread.landmarks[0].size == rules.LANDMARK_SIZE
    it, term = VARIANTS[ITERATED], VARIANTS[TERMINAL]
    # the MMQ code's particle RO tasks: arrived within agent + landmark + 0.2 = 0.4
    assert (it.arrival_radius, it.particle_size, it.terminal) == (0.4, 0.15, False)
    assert (it.episode_limit, it.start_half_width, it.separate_starts) == (25, 1.0, True)
    # the terminal variant is the task as it was before issue 14
    assert (term.arrival_radius, term.particle_size, term.terminal) == (0.1, 0.05, True)
    assert (term.episode_limit, term.start_half_width, term.separate_starts) == (25, 1.0, False)


def test_reward_rule_and_arrival() -> None:
    np.testing.assert_array_equal(gather_reward(np.array([0, 1, 2])), [0.0, -2.0, 5.0])
    rel = np.array([[0.1, 0.0], [0.0, 0.1000001], [0.06, -0.08], [0.0, 0.0]])
    np.testing.assert_array_equal(arrived(rel, 0.1), [True, False, True, True])


@BOTH
def test_batched_form_equals_the_mpe2_reference_over_many_episodes(variant: str) -> None:
    n_envs, seed, steps = 12, 11, 400
    batched = BatchedParticleGather(n_envs, variant)
    out = batched.reset(seed)
    refs = [ParticleGatherParallelEnv(variant) for _ in range(n_envs)]
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
            obs, rew, term, trunc, infos = ref.step(
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
                info = infos["p0_x"]
                assert info["episode_return"] == out.episode_return[b]
                for key in EPISODE_INFO_KEYS:
                    assert info[key] == out.episode_info[key][b], key
                ref.reset()  # continues env b's stream, as the batched auto-reset does
            else:
                assert infos["p0_x"] == {}
            np.testing.assert_allclose(ref.state(), out.state[b], rtol=0, atol=TRAJ_TOL)
    assert episodes > 100
    assert truncations > 0
    assert seen >= {5.0, -2.0}
    if variant == ITERATED:
        assert truncations == episodes == n_envs * (steps // 25)


@BOTH
def test_batched_step_semantics_auto_reset_and_returns(variant: str) -> None:
    env = BatchedParticleGather(64, variant)
    out = env.reset(5)
    assert out.obs.shape == (64, 4, 8)
    assert out.state.shape == (64, 8)
    np.testing.assert_array_equal(out.obs, np.repeat(out.state[:, None], 4, axis=1))
    start = out.state.reshape(64, 2, 4)[:, :, :2]
    assert np.all(np.abs(start) <= 1.0)
    assert not arrived(start, env.arrival_radius).any()
    if variant == ITERATED:  # the particles never start overlapping
        assert np.all(np.linalg.norm(start[:, 0] - start[:, 1], axis=-1) >= 0.3)
    np.testing.assert_array_equal(out.state.reshape(64, 2, 4)[:, :, 2:], 0.0)
    rng = np.random.default_rng(1)
    ret = np.zeros(64)
    length = np.zeros(64)
    for _ in range(60):
        out = env.step(_policy(out.state, rng))
        ret += out.reward
        length += 1
        done = out.terminated | out.truncated
        at_limit = length == 25
        np.testing.assert_array_equal(out.episode_return[done], ret[done])
        np.testing.assert_array_equal(out.episode_return[~done], 0.0)
        info = out.episode_info
        np.testing.assert_array_equal(info["episode_length"][done], length[done])
        np.testing.assert_array_equal(info["episode_mean_reward"][done], ret[done] / length[done])
        np.testing.assert_array_equal(info["episode_last_reward"][done], out.reward[done])
        for key in EPISODE_INFO_KEYS:
            np.testing.assert_array_equal(info[key][~done], 0.0)
        ret[done] = 0.0
        length[done] = 0
        np.testing.assert_array_equal(out.final_state[~done], out.state[~done])
        # arrival in the final state is what ends an episode with a reward
        final_pos = out.final_state.reshape(64, 2, 4)[:, :, :2]
        n_arrived = arrived(final_pos, env.arrival_radius).sum(axis=-1)
        np.testing.assert_array_equal(out.reward, gather_reward(n_arrived))
        if variant == TERMINAL:
            np.testing.assert_array_equal(out.terminated, n_arrived > 0)
        else:  # never terminates; truncated after exactly 25 steps
            assert not out.terminated.any()
            np.testing.assert_array_equal(out.truncated, at_limit)
        # reset rows start at rest
        np.testing.assert_array_equal(out.state.reshape(64, 2, 4)[done][:, :, 2:], 0.0)


@BOTH
def test_episode_is_truncated_after_the_limit_when_nobody_arrives(variant: str) -> None:
    env = BatchedParticleGather(4, variant, episode_limit=7)
    out = env.reset(0)
    for t in range(1, 8):
        away = np.sign(out.state[:, [0, 1, 4, 5]])[:, :, None]  # push away from the landmark
        out = env.step(away)
        assert not out.terminated.any()
        assert out.truncated.all() == (t == 7)
    np.testing.assert_array_equal(out.episode_return, 0.0)


@BOTH
def test_same_seed_same_actions_identical_trajectories_and_seeds_differ(variant: str) -> None:
    def run(seed: int) -> FloatArray:
        env = make_batched(variant, 16)
        out = env.reset(seed)
        rng = np.random.default_rng(3)
        states = []
        for _ in range(80):
            out = env.step(rng.uniform(-1, 1, size=(16, 4, 1)))
            states.append(np.concatenate([out.state, out.final_state, out.reward[:, None]], 1))
        return np.stack(states)

    np.testing.assert_array_equal(run(4), run(4))
    assert not np.array_equal(run(4), run(5))


@BOTH
def test_reference_is_deterministic_over_many_steps_and_resets(variant: str) -> None:
    def run(seed: int) -> list[Any]:
        env = ParticleGatherParallelEnv(variant)
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


@BOTH
def test_parallel_forms_pass_the_pettingzoo_api_test(variant: str) -> None:
    parallel_api_test(make_parallel(variant), num_cycles=200)
    parallel_api_test(make_parallel(variant, episode_limit=5), num_cycles=50)


@BOTH
def test_out_of_range_actions_are_clipped_in_both_forms(variant: str) -> None:
    env = BatchedParticleGather(1, variant)
    env.reset(0)
    big = env.step(np.array([[[3.0], [-7.0], [1.5], [0.2]]])).state
    env.reset(0)
    clipped = env.step(np.array([[[1.0], [-1.0], [1.0], [0.2]]])).state
    np.testing.assert_array_equal(big, clipped)
    ref = ParticleGatherParallelEnv(variant)
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
    env = BatchedParticleGather(2, TERMINAL)
    env.reset(0)
    with pytest.raises(ValueError, match=match):
        env.step(actions)


def test_reference_bad_actions_raise() -> None:
    env = ParticleGatherParallelEnv(TERMINAL)
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
        ({"particle_size": 0.0}, "particle_size"),
        ({"particle_size": "big"}, "particle_size"),
        ({"start_half_width": 0.05}, "start_half_width"),
        ({"start_half_width": float("inf")}, "start_half_width"),
        ({"start_radius": 1.0}, "start_radius"),
    ],
)
@BOTH
def test_invalid_parameters_raise(variant: str, params: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_batched(variant, 2, **params)
    with pytest.raises(ValueError, match=match):
        make_parallel(variant, **params)


def test_step_before_reset_raises() -> None:
    with pytest.raises(ValueError, match="before reset"):
        BatchedParticleGather(1).step(np.zeros((1, 4, 1)))


def test_starts_apart_need_room_for_both_particles() -> None:
    with pytest.raises(ValueError, match="particle_size must be at most start_half_width / 2"):
        BatchedParticleGather(1, ITERATED, particle_size=0.3, start_half_width=0.5)
    BatchedParticleGather(1, TERMINAL, particle_size=0.3, start_half_width=0.5)  # may overlap
    env = BatchedParticleGather(64, ITERATED, particle_size=0.25, start_half_width=0.5)
    start = env.reset(0).state.reshape(64, 2, 4)[:, :, :2]
    assert np.all(np.linalg.norm(start[:, 0] - start[:, 1], axis=-1) >= 0.5)
    assert np.all(np.abs(start) <= 0.5)


def test_unknown_variant_raises() -> None:
    with pytest.raises(ValueError, match="variant 'particle-gather-x'"):
        BatchedParticleGather(1, "particle-gather-x")
    with pytest.raises(ValueError, match="variant 'particle-gather-x'"):
        ParticleGatherParallelEnv("particle-gather-x")


#: recorded with the code before the iterated variant existed (commit 1afbdc7): the first starts
#: of seed 0 (environments 0, 1) and, over 300 noisy steering steps of 16 environments, the sum
#: of the episode returns and the number of episodes (bit-identical trajectories then)
_OLD_STARTS = [
    [0.8858751057657588, -0.3673256952290038, 0.44468517729965074, -0.7487938291346135],
    [0.3543937139502038, -0.5140265029143576, 0.22352759264362376, -0.15380034035773038],
]
_OLD_RETURN_SUM, _OLD_EPISODES = -638.0, 377


def test_terminal_variant_reproduces_the_task_before_issue_14() -> None:
    from svnr_rl.gather_diagnostics import steer_actions

    env = BatchedParticleGather(16, TERMINAL)
    out = env.reset(0)
    np.testing.assert_array_equal(out.state[:2, [0, 1, 4, 5]], _OLD_STARTS)
    rng = np.random.default_rng(7)
    total, episodes = 0.0, 0
    for _ in range(300):
        noise = 0.5 * rng.normal(size=(16, 4))
        out = env.step(np.clip(steer_actions(out.state)[:, :, 0] + noise, -1, 1)[:, :, None])
        total += float(out.episode_return.sum())
        episodes += int((out.terminated | out.truncated).sum())
    assert (total, episodes) == (_OLD_RETURN_SUM, _OLD_EPISODES)


# -------------------------------------------------------------------------------------------
# The reward rule, step by step, with the particles placed by hand (at rest, no action: they
# stay where they are put, more than 2 * 0.15 apart so that no contact force moves them)
# -------------------------------------------------------------------------------------------

INSIDE = ((0.2, 0.0), (-0.2, 0.0))  # both within 0.4 of the landmark, 0.4 apart
ONE_IN = ((0.2, 0.0), (0.0, 0.9))
NONE_IN = ((0.9, 0.0), (-0.9, 0.0))
#: (placement, steps): 3 steps both in, 7 one in, 10 none, 5 both in = 25 steps
SCRIPT = ((INSIDE, 3), (ONE_IN, 7), (NONE_IN, 10), (INSIDE, 5))
EXPECTED = [5.0] * 3 + [-2.0] * 7 + [0.0] * 10 + [5.0] * 5  # return 26 = 15 - 14 + 25


def _place_batched(env: BatchedParticleGather, where: tuple[tuple[float, float], ...]) -> None:
    env._pos[:] = np.asarray(where)
    env._vel[:] = 0.0


def _place_reference(
    env: ParticleGatherParallelEnv, where: tuple[tuple[float, float], ...]
) -> None:
    for particle, p in zip(env.world.agents, where, strict=True):
        particle.state.p_pos = np.asarray(p, dtype=np.float64)
        particle.state.p_vel = np.zeros(2)


def test_iterated_reward_rule_by_hand_no_termination_truncated_at_25() -> None:
    env = BatchedParticleGather(1, ITERATED)
    ref = ParticleGatherParallelEnv(ITERATED)
    env.reset(0)
    ref.reset(seed=0)
    zero = np.zeros((1, 4, 1))
    got: list[float] = []
    for where, steps in SCRIPT:
        _place_batched(env, where)
        _place_reference(ref, where)
        for _ in range(steps):
            out = env.step(zero)
            _, rew, term, trunc, infos = ref.step({a: [0.0] for a in AGENT_NAMES})
            got.append(float(out.reward[0]))
            assert rew["p0_x"] == out.reward[0]
            assert not out.terminated[0]
            assert not term["p0_x"]
            assert out.truncated[0] == trunc["p0_x"] == (len(got) == 25)
    assert got == EXPECTED
    assert out.episode_return[0] == sum(EXPECTED) == 26.0
    assert out.episode_info["episode_length"][0] == 25.0
    assert out.episode_info["episode_mean_reward"][0] == 26.0 / 25
    assert out.episode_info["episode_last_reward"][0] == 5.0
    assert infos["p1_y"] == {
        "episode_return": 26.0,
        "episode_length": 25.0,
        "episode_mean_reward": 26.0 / 25,
        "episode_last_reward": 5.0,
    }
    assert ref.agents == []


@pytest.mark.parametrize(("where", "reward"), [(INSIDE, 5.0), (ONE_IN, -2.0)])
def test_terminal_variant_ends_at_the_first_arrival(
    where: tuple[tuple[float, float], ...], reward: float
) -> None:
    # 0.2 from the landmark is outside the terminal variant's disc (0.1): move closer
    near = tuple((0.5 * x, 0.5 * y) if abs(x) + abs(y) < 0.5 else (x, y) for x, y in where)
    env = BatchedParticleGather(1, TERMINAL)
    env.reset(0)
    _place_batched(env, near)
    out = env.step(np.zeros((1, 4, 1)))
    assert out.reward[0] == reward
    assert out.terminated[0]
    assert not out.truncated[0]
    assert out.episode_return[0] == reward
    assert out.episode_info["episode_length"][0] == 1.0
