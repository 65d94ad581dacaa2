"""Differential games: the core game object, its batched env and its PettingZoo form."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
import torch
from pettingzoo.test import parallel_api_test

from svnr_core.differential_games import DifferentialGame, max_of_three, two_modalities
from svnr_rl.envs import BatchedEnv, make_batched, make_game, make_parallel
from svnr_rl.envs.differential import DifferentialGameEnv

# ------------------------------------------------------------------------------ the game


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_agents", 1),
        ("n_agents", 2.5),
        ("centre1", (1.0, 2.0)),
        ("centre2", (1.0, float("nan"), 3.0)),
        ("scale1", 0.0),
        ("height1", -1.0),
        ("s2", float("inf")),
        ("h2", 0.0),
        ("c1", float("nan")),
        ("c2", float("inf")),
        ("action_bound", -10.0),
    ],
)
def test_invalid_parameters_raise_value_error_naming_the_parameter(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=field):
        DifferentialGame(**{field: value})


def test_every_parameter_is_settable_and_any_agent_count_works() -> None:
    game = DifferentialGame(
        n_agents=4,
        centre1=(1.0, 2.0, 3.0, 4.0),
        scale1=2.0,
        height1=0.5,
        c1=1.0,
        centre2=(-1.0, -2.0, -3.0, -4.0),
        s2=1.0,
        h2=2.0,
        c2=3.0,
        action_bound=5.0,
    )
    assert game.optimum_value == 3.0
    np.testing.assert_array_equal(game.optimum_action, [-1.0, -2.0, -3.0, -4.0])
    # g1 at its centre is 1, g2 there is 3 - 2 * (4 + 16 + 36 + 64) < 1, so r = 1
    assert float(game.reward(np.array([1.0, 2.0, 3.0, 4.0]))) == 1.0


def test_centre_outside_the_box_gives_the_clipped_optimum() -> None:
    game = dataclasses.replace(max_of_three(), centre2=(12.0, 7.0, -4.0), c2=10.0)
    np.testing.assert_array_equal(game.optimum_action, [10.0, 7.0, -4.0])
    assert game.optimum_value == pytest.approx(10.0 - (2.0 / 1.5) ** 2, abs=1e-12)


def test_presets_for_other_agent_counts_extend_the_papers_centres() -> None:
    game = two_modalities(n_agents=5)
    assert game.centre1 == (-5.0, -5.0, -5.0, -5.0, 3.0)
    assert game.centre2 == (7.0, 7.0, 7.0, 7.0, -3.0)
    assert len(game.optima) == 2
    assert max_of_three(2.0, n_agents=2).optimum_action.tolist() == [7.0, -4.0]
    with pytest.raises(ValueError, match="n_agents"):
        max_of_three(n_agents=1)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.zeros(2), "shape"),
        (np.zeros((4, 2)), "shape"),
        (np.array([0.0, np.nan, 0.0]), "NaN"),
        (np.array([0.0, np.inf, 0.0]), "NaN or infinite"),
    ],
)
def test_reward_rejects_bad_actions(bad: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        max_of_three().reward(bad)
    with pytest.raises(ValueError, match=match):
        max_of_three().reward_and_grad(bad)


def test_reward_accepts_lists_and_integer_arrays_and_keeps_float32() -> None:
    game = max_of_three()
    assert float(game.reward([7, 7, -4])) == 10.0
    assert float(game.reward(np.array([7, 7, -4]))) == 10.0
    r32 = game.reward(np.array([7.0, 7.0, -4.0], dtype=np.float32))
    assert r32.dtype == np.float32


def test_reward_on_torch_is_differentiable_and_matches_numpy() -> None:
    game = two_modalities()
    u = np.array([[1.0, -2.0, 3.0], [6.0, 6.5, -2.0]])
    ut = torch.tensor(u, requires_grad=True)
    game.reward(ut).sum().backward()
    r, g = game.reward_and_grad(u)
    assert ut.grad is not None
    np.testing.assert_allclose(ut.grad.numpy(), g, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(game.reward(ut).detach().numpy(), r, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------------------ batched env


def test_batched_env_spec_and_single_step_episodes() -> None:
    env = make_batched("max-of-three", 5, s2=2.0)
    assert isinstance(env, BatchedEnv)
    spec = env.spec
    assert (spec.n_agents, spec.obs_dim, spec.state_dim, spec.action_dim) == (3, 1, 1, 1)
    assert (spec.episode_limit, spec.action_scale, spec.optimum_value) == (1, 10.0, 10.0)
    assert spec.reward_range[1] == 10.0
    first = env.reset(seed=0)
    assert first.obs.shape == (5, 3, 1)
    assert first.state.shape == (5, 1)
    assert not first.terminated.any()
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, size=(5, 3, 1))
    out = env.step(a)
    expected = max_of_three(2.0).reward(10.0 * a[..., 0])
    np.testing.assert_array_equal(out.reward, expected)
    np.testing.assert_array_equal(out.episode_return, expected)
    assert out.terminated.all()
    assert not out.truncated.any()
    assert (out.obs == 0).all()
    assert (out.state == 0).all()
    assert np.all(out.reward >= spec.reward_range[0])


def test_optimum_in_normalised_units_reaches_the_optimum_value() -> None:
    for task in ("two-modalities", "max-of-three"):
        env = make_batched(task, 1)
        assert isinstance(env, DifferentialGameEnv)
        env.reset(0)
        a = (env.game.optimum_action / env.spec.action_scale)[None, :, None]
        assert env.step(a).reward[0] == env.spec.optimum_value == 10.0


def test_out_of_range_actions_are_clipped() -> None:
    env = make_batched("max-of-three", 2)
    env.reset(0)
    big = np.array([[[0.7], [0.7], [-5.0]], [[3.0], [0.7], [-0.4]]])
    clipped = np.clip(big, -1, 1)
    np.testing.assert_array_equal(env.step(big).reward, env.step(clipped).reward)


@pytest.mark.parametrize(
    ("actions", "match"),
    [
        (np.zeros((2, 3)), "shape"),
        (np.zeros((3, 3, 1)), "shape"),
        (np.array([[[0.0], [np.nan], [0.0]]] * 2), "not finite"),
        (np.array([[[0.0], [0.0], [-np.inf]]] * 2), "not finite"),
    ],
)
def test_bad_actions_raise(actions: Any, match: str) -> None:
    env = make_batched("two-modalities", 2)
    env.reset(0)
    with pytest.raises(ValueError, match=match):
        env.step(actions)


def test_registry_errors_name_the_problem_and_list_choices() -> None:
    with pytest.raises(ValueError, match=r"unknown task 'nope'.*max-of-three"):
        make_batched("nope", 1)
    with pytest.raises(ValueError, match=r"'s3'.*valid parameters: s2, n_agents"):
        make_batched("max-of-three", 1, s3=1.0)
    with pytest.raises(ValueError, match="s2"):
        make_batched("max-of-three", 1, s2=0.0)
    with pytest.raises(ValueError, match="num_envs"):
        make_batched("max-of-three", 0)
    with pytest.raises(ValueError, match="not a differential game"):
        make_game("particle-gather")
    game = make_game("differential", n_agents=2, centre1=(0.0, 0.0), centre2=(1.0, 1.0))
    assert game.optimum_value == 10.0


# ------------------------------------------------------------------------------ PettingZoo


def test_parallel_env_passes_the_pettingzoo_api_test() -> None:
    parallel_api_test(make_parallel("two-modalities"), num_cycles=50)
    parallel_api_test(make_parallel("max-of-three", s2=1.5), num_cycles=50)


def test_parallel_env_takes_native_actions_and_ends_after_one_step() -> None:
    env = make_parallel("max-of-three")
    obs, _ = env.reset(seed=3)
    assert set(obs) == {"agent_0", "agent_1", "agent_2"}
    assert env.action_space("agent_0").high[0] == 10.0
    _, rew, term, trunc, _ = env.step({"agent_0": [7.0], "agent_1": [7.0], "agent_2": [-4.0]})
    assert rew == dict.fromkeys(["agent_0", "agent_1", "agent_2"], 10.0)
    assert all(term.values())
    assert not any(trunc.values())
    assert env.agents == []
    with pytest.raises(ValueError, match="no live agents"):
        env.step({})
    env.reset()
    with pytest.raises(ValueError, match="missing action for agent 'agent_2'"):
        env.step({"agent_0": [0.0], "agent_1": [0.0]})
    with pytest.raises(ValueError, match=r"agent_1.*not finite"):
        env.step({"agent_0": [0.0], "agent_1": [np.nan], "agent_2": [0.0]})


def test_parallel_env_is_deterministic_over_many_episodes() -> None:
    def run(seed: int) -> list[float]:
        env = make_parallel("two-modalities")
        rng = np.random.default_rng(seed)
        rewards = []
        env.reset(seed=seed)
        for _ in range(20):
            acts = {a: rng.uniform(-10, 10, size=1) for a in env.possible_agents}
            rewards.append(env.step(acts)[1]["agent_0"])
            env.reset()
        return rewards

    assert run(1) == run(1)
    assert run(1) != run(2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_reward_runs_on_cuda_tensors() -> None:
    game = max_of_three()
    u = torch.tensor([[7.0, 7.0, -4.0], [0.0, 1.0, 2.0]], device="cuda", requires_grad=True)
    r = game.reward(u)
    assert r.device.type == "cuda"
    r.sum().backward()
    expected, grad = game.reward_and_grad(u.detach().cpu().double().numpy())
    # float32 on the device against float64 on the CPU: float32 rounding of values up to ~100
    np.testing.assert_allclose(r.detach().cpu().numpy(), expected, rtol=1e-5, atol=1e-4)
    assert u.grad is not None
    np.testing.assert_allclose(u.grad.cpu().numpy(), grad, rtol=1e-5, atol=1e-5)


def test_differential_games_count_agents_leaning_to_different_optima() -> None:
    from svnr_core.differential_games import two_modalities

    g = two_modalities()  # optima (-5, -5, 3) and (7, 7, -3)
    u = np.array([[-5.0, -5.0, 3.0], [7.0, 7.0, -3.0], [-5.0, 7.0, -3.0], [6.0, 6.0, 2.0]])
    # agent 3 at 2 is nearer 3 than -3: it leans to the first optimum, agents 1-2 to the second
    assert g.miscoordinated(u).tolist() == [0.0, 0.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="NaN"):
        g.miscoordinated(np.array([np.nan, 0.0, 0.0]))


def test_differential_game_env_reports_miscoordination_per_episode() -> None:
    from svnr_rl.envs.registry import make_batched

    env = make_batched("max-of-three", 2, s2=1.5)
    # 10 * a: (7, 7, -4) is the global optimum; (7, -5, 3) splits the agents
    step = env.step(np.array([[[0.7], [0.7], [-0.4]], [[0.7], [-0.5], [0.3]]]))
    assert step.episode_info["miscoordinated"].tolist() == [0.0, 1.0]
