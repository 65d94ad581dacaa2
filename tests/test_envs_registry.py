"""The task registry and the batched interface, checked across every task."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from svnr_rl.envs import TASKS, BatchedEnv, make_batched

DOC = Path(__file__).resolve().parents[1] / "docs" / "environments.md"


def _doc_rows() -> dict[str, list[str]]:
    rows = {}
    for line in DOC.read_text().splitlines():
        m = re.match(r"\| `([a-z0-9-]+)` \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|", line)
        if m:
            rows[m.group(1)] = list(m.groups()[1:])
    return rows


def _make(task: str, batch: int) -> BatchedEnv:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_batched(task, batch)


@pytest.mark.parametrize("task", [t for t in TASKS if t != "differential"])
def test_documented_sizes_match_the_code(task: str) -> None:
    row = _doc_rows()[task]
    env = _make(task, 1)
    s = env.spec
    assert row == [
        str(v) for v in (s.n_agents, s.obs_dim, s.action_dim, s.state_dim, s.episode_limit)
    ]
    env.close()


@pytest.mark.parametrize("task", TASKS)
def test_batched_interface_contract(task: str) -> None:
    batch = 3
    env = _make(task, batch)
    assert isinstance(env, BatchedEnv)
    spec = env.spec
    out = env.reset(seed=1)
    assert out.obs.shape == (batch, spec.n_agents, spec.obs_dim)
    assert out.state.shape == (batch, spec.state_dim)
    rng = np.random.default_rng(0)
    for _ in range(30):
        # huge out-of-range actions are clipped: never NaN
        actions = 1e300 * rng.choice([-1.0, 1.0], size=(batch, spec.n_agents, spec.action_dim))
        out = env.step(actions)
        for arr in (out.obs, out.state, out.reward, out.final_obs, out.final_state):
            assert arr.dtype == np.float64
            assert np.isfinite(arr).all()
        assert out.reward.shape == out.terminated.shape == out.truncated.shape == (batch,)
        done = out.terminated | out.truncated
        np.testing.assert_array_equal(out.final_obs[~done], out.obs[~done])
        np.testing.assert_array_equal(out.final_state[~done], out.state[~done])
        lo, hi = spec.reward_range
        assert np.all((out.reward >= lo) & (out.reward <= hi))
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros((batch + 1, spec.n_agents, spec.action_dim)))
    bad = np.zeros((batch, spec.n_agents, spec.action_dim))
    bad[1, -1, 0] = np.nan
    with pytest.raises(ValueError, match="not finite"):
        env.step(bad)
    env.close()


def test_unknown_task_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="valid tasks: " + ", ".join(TASKS)):
        make_batched("mamujoco-hopper", 1)
