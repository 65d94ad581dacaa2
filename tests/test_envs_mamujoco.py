"""MaMuJoCo adapter: sizes, equality with gymnasium-robotics' own env, determinism, PettingZoo."""

from __future__ import annotations

import warnings
from typing import Any

import mujoco
import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from svnr_rl.envs import make_batched, make_parallel
from svnr_rl.envs.mamujoco import BatchedMaMuJoCo, _make_raw
from svnr_rl.envs.registry import MAMUJOCO_TASKS

#: task -> (obs per agent, action per agent, state): the sizes of gymnasium-robotics 1.4.2 with
#: agent_obsk = 1 (NOTES.md; docs/environments.md).
SIZES = {
    "mamujoco-halfcheetah-2x3": (12, 3, 17),
    "mamujoco-halfcheetah-1p1": (28, 6, 40),
    "mamujoco-ant-2x4": (63, 4, 105),
    "mamujoco-walker2d-2x3": (12, 3, 17),
}


def _child_seed(seed: int, b: int, n: int) -> int:
    return int(np.random.SeedSequence(seed).spawn(n)[b].generate_state(1)[0])


def test_mujoco_is_pinned_below_3_6() -> None:
    major, minor = (int(x) for x in mujoco.__version__.split(".")[:2])
    assert (major, minor) < (3, 6), "mujoco >= 3.6 breaks CoupledHalfCheetah (NOTES.md)"


@pytest.mark.parametrize("task", list(MAMUJOCO_TASKS))
def test_sizes_and_spec(task: str) -> None:
    env = make_batched(task, 2)
    obs_dim, act_dim, state_dim = SIZES[task]
    spec = env.spec
    assert (spec.n_agents, spec.obs_dim, spec.action_dim, spec.state_dim) == (
        2,
        obs_dim,
        act_dim,
        state_dim,
    )
    assert (spec.episode_limit, spec.action_scale, spec.name) == (1000, 1.0, task)
    out = env.reset(0)
    assert out.obs.shape == (2, 2, obs_dim)
    assert out.state.shape == (2, state_dim)
    env.close()


@pytest.mark.parametrize("task", list(MAMUJOCO_TASKS))
def test_adapter_reproduces_gymnasium_robotics_exactly(task: str) -> None:
    """Same seeds and actions: the adapter's per-agent obs, state, reward and flags are exactly
    MaMuJoCo's own (``ParallelEnv.step`` / ``state()``), including automatic resets."""
    scenario, conf = MAMUJOCO_TASKS[task]
    n_envs, seed, steps = 2, 9, 120
    env = BatchedMaMuJoCo(scenario, conf, n_envs, name=task)
    out = env.reset(seed)
    raws = [_make_raw(scenario, conf) for _ in range(n_envs)]
    for b, raw in enumerate(raws):
        raw.reset(seed=_child_seed(seed, b, n_envs))
    rng = np.random.default_rng(0)
    ended = 0
    for _ in range(steps):
        for b, raw in enumerate(raws):
            np.testing.assert_array_equal(raw.state(), out.state[b])
        # float32 draws: the raw env receives exactly what its float32 Box would sample
        actions = rng.uniform(-1.2, 1.2, size=(n_envs, 2, env.spec.action_dim)).astype(np.float32)
        out = env.step(actions)
        for b, raw in enumerate(raws):
            clipped = np.clip(actions[b], -1, 1)
            obs, rew, term, trunc, _ = raw.step(
                {a: clipped[i] for i, a in enumerate(raw.possible_agents)}
            )
            for i, a in enumerate(raw.possible_agents):
                np.testing.assert_array_equal(obs[a], out.final_obs[b, i])
            np.testing.assert_array_equal(raw.state(), out.final_state[b])
            assert (rew["agent_0"], rew["agent_1"]) == (out.reward[b], out.reward[b])
            assert term["agent_0"] == out.terminated[b]
            assert trunc["agent_0"] == out.truncated[b]
            if term["agent_0"] or trunc["agent_0"]:
                ended += 1
                raw.reset()
    if scenario in ("Ant", "Walker2d"):  # these fall within 120 random steps: resets compared too
        assert ended > 0
    env.close()


def test_truncation_after_1000_steps_and_auto_reset() -> None:
    env = make_batched("mamujoco-halfcheetah-2x3", 1)
    first = env.reset(1)
    zeros = np.zeros((1, 2, 3))
    ret = 0.0
    for t in range(1, 1001):
        out = env.step(zeros)
        ret += float(out.reward[0])
        assert bool(out.truncated[0]) == (t == 1000)
        assert not out.terminated[0]
    assert out.episode_return[0] == pytest.approx(ret, rel=1e-12)
    # the new episode starts near the initial pose (MuJoCo reset noise), not where the last ended
    assert not np.array_equal(out.state, out.final_state)
    assert np.abs(out.state - first.state).max() < 0.5
    env.close()


def test_determinism_over_many_steps() -> None:
    def run(seed: int) -> np.ndarray[Any, Any]:
        env = make_batched("mamujoco-walker2d-2x3", 2)  # terminates often: exercises resets
        out = env.reset(seed)
        rng = np.random.default_rng(7)
        trace = []
        for _ in range(150):
            out = env.step(rng.uniform(-1, 1, size=(2, 2, 3)))
            trace.append(np.concatenate([out.state.ravel(), out.reward, out.terminated]))
        env.close()
        return np.stack(trace)

    np.testing.assert_array_equal(run(3), run(3))
    assert not np.array_equal(run(3), run(4))


@pytest.mark.parametrize("task", list(MAMUJOCO_TASKS))
def test_parallel_form_passes_the_pettingzoo_api_test(task: str) -> None:
    env = make_parallel(task)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        parallel_api_test(env, num_cycles=100)
    obs, _ = env.reset(seed=0)
    assert set(obs) == {"agent_0", "agent_1"}
    assert env.state().shape == (SIZES[task][2],)
    env.close()


@pytest.mark.parametrize(
    ("actions", "match"),
    [
        (np.zeros((1, 2, 4)), "shape"),
        (np.zeros((1, 6)), "shape"),
        (np.array([[[0.0, np.nan, 0.0], [0.0, 0.0, 0.0]]]), r"action\(0, 0, 1\).*not finite"),
    ],
)
def test_bad_actions_raise(actions: Any, match: str) -> None:
    env = make_batched("mamujoco-halfcheetah-2x3", 1)
    env.reset(0)
    with pytest.raises(ValueError, match=match):
        env.step(actions)
    env.close()


def test_unknown_parameter_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"does not take parameter\(s\) \['agent_obsk'\]"):
        make_batched("mamujoco-ant-2x4", 1, agent_obsk=2)


def test_parallel_form_is_deterministic_over_many_steps_and_matches_the_batched_form() -> None:
    """Same seed and actions: identical multi-step trajectories (with episode ends and resets),
    and exactly the trajectory of the batched form with one environment."""

    def run_parallel(seed: int) -> list[np.ndarray[Any, Any]]:
        env = make_parallel("mamujoco-walker2d-2x3")
        rng = np.random.default_rng(5)
        env.reset(seed=seed)
        trace = [env.state()]
        for _ in range(150):
            if not env.agents:
                env.reset()
                trace.append(env.state())
            acts = rng.uniform(-1, 1, size=(2, 3))
            obs, rew, *_ = env.step({"agent_0": acts[0], "agent_1": acts[1]})
            trace += [obs["agent_1"], np.array([rew["agent_0"]])]
        env.close()
        return trace

    def run_batched(seed: int) -> list[np.ndarray[Any, Any]]:
        env = make_batched("mamujoco-walker2d-2x3", 1)
        rng = np.random.default_rng(5)
        out = env.reset(seed)
        trace = [out.state[0]]
        for _ in range(150):
            out = env.step(rng.uniform(-1, 1, size=(1, 2, 3)))
            trace += [out.final_obs[0, 1], out.reward]
            if out.terminated[0] or out.truncated[0]:
                trace.append(out.state[0])
        env.close()
        return trace

    a, b, c = run_parallel(3), run_parallel(3), run_batched(3)
    # both traces record the new episode's state right after the step that ended the last one
    # (the facade's reset() resumes the episode the batched form began by automatic reset)
    assert len(a) == len(b) == len(c)
    for x, y, z in zip(a, b, c, strict=True):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, z)
