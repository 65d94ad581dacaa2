"""Coordination games: the core games, their batched and PettingZoo forms, the miscoordination
figures in evaluation and ``summary.json``, and a short training run."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pettingzoo.test import parallel_api_test

from svnr_core.coordination_games import (
    ContinuousMatrixGame,
    CoordinationGame,
    SymmetricTwoOptima,
    continuous_climbing,
    continuous_penalty,
)
from svnr_rl.config import Config, EnvConfig, preset
from svnr_rl.envs import make_batched, make_game, make_parallel
from svnr_rl.errors import ConfigError
from svnr_rl.evaluate import EvalResult
from svnr_rl.metrics_log import METRIC_COLUMNS, run_summary
from svnr_rl.train import train
from tests.rl_helpers import tiny_config

CLIMBING = [[11.0, -30.0, 0.0], [-30.0, 7.0, 6.0], [0.0, 0.0, 5.0]]
NEW_TASKS = ("two-optima-symmetric", "continuous-climbing", "continuous-penalty")
CENTRES = (-2.0 / 3.0, 0.0, 2.0 / 3.0)

# ------------------------------------------------------------------------------ the games


def test_matrix_entries_at_the_cell_centres_are_the_literatures() -> None:
    for interpolation in ("smoothstep", "cells"):
        climbing = continuous_climbing(interpolation)
        penalty = continuous_penalty(-10.0, interpolation)
        np.testing.assert_allclose(climbing.cell_centres(0), CENTRES, atol=1e-15)
        for j, cj in enumerate(CENTRES):
            for k, ck in enumerate(CENTRES):
                u = np.array([cj, ck])
                assert float(climbing.reward(u)) == pytest.approx(CLIMBING[j][k], abs=1e-12)
                want = [[10.0, 0.0, -10.0], [0.0, 2.0, 0.0], [-10.0, 0.0, 10.0]][j][k]
                assert float(penalty.reward(u)) == pytest.approx(want, abs=1e-12)
    assert continuous_penalty().matrix[0, 2] == -100.0  # the core's default k


def test_smoothstep_mixes_neighbours_and_is_flat_beyond_the_outer_centres() -> None:
    game = continuous_climbing()
    # halfway between the centres -2/3 and 0: S(1/2) = 1/2, so agent 1 mixes rows 0 and 1
    assert float(game.reward([-1.0 / 3.0, -2.0 / 3.0])) == pytest.approx((11 - 30) / 2)
    # a quarter of the way: S(1/4) = 3/16 - 2/64 = 5/32 on row 1
    assert float(game.reward([-0.5, 2.0 / 3.0])) == pytest.approx(27 / 32 * 0 + 5 / 32 * 6)
    # beyond the outer centres the action is the outer one (the optimum's plateau)
    assert float(game.reward([-1.0, -0.9])) == 11.0
    assert game.optimum_value == 11.0
    assert game.reward_lower_bound == -30.0
    (centre, value), *rest = game.optima
    assert not rest
    np.testing.assert_allclose(centre, [-2 / 3, -2 / 3])
    assert value == 11.0
    assert [v for _, v in continuous_penalty().optima] == [10.0, 10.0]


def test_cells_reward_is_piecewise_constant_on_half_open_cells() -> None:
    game = continuous_climbing("cells")
    u = np.array([[-1.0, -1.0], [-1 / 3 - 1e-9, -0.99], [-1 / 3, -0.99], [1.0, 0.34]])
    np.testing.assert_array_equal(game.reward(u), [11.0, 11.0, -30.0, 5.0])


def test_reward_on_torch_is_differentiable_and_matches_numpy() -> None:
    game = continuous_climbing()
    u = np.random.default_rng(1).uniform(-1, 1, size=(64, 2))
    ut = torch.tensor(u, requires_grad=True)
    game.reward(ut).sum().backward()
    np.testing.assert_allclose(game.reward(ut).detach().numpy(), game.reward(u), atol=1e-12)
    assert ut.grad is not None
    # central differences: error <= h^2 |r'''| / 6 ~ 3e-10 (|r'''| <= 12 * 41 / (2/3)^3), but
    # ~h |jump of r''| ~ 3e-4 within h of a cell centre (r is C^1, not C^2), where none of
    # these seeded points lies
    h = 1e-6
    for d in (0, 1):
        e = np.zeros(2)
        e[d] = h
        fd = (game.reward(u + e) - game.reward(u - e)) / (2 * h)
        inside = np.all(np.abs(u) < 1 - h, axis=1)
        np.testing.assert_allclose(ut.grad.numpy()[inside, d], fd[inside], atol=1e-5)
    assert np.abs(ut.grad.numpy()).max() > 1.0  # an informative gradient, unlike flat cells


def test_symmetric_game_optima_penalty_and_measure() -> None:
    game = SymmetricTwoOptima()
    assert (game.n_agents, game.action_bound, game.optimum_value) == (3, 10.0, 10.0)
    assert [(a.tolist(), v) for a, v in game.optima] == [
        ([-5.0, -5.0, -5.0], 10.0),
        ([5.0, 5.0, 5.0], 10.0),
    ]
    # a miscoordinated joint action: one agent on the other side, 2m = 10 from its optimum
    assert float(game.reward([5.0, 5.0, -5.0])) == pytest.approx(10.0 - (10.0 / 3.0) ** 2)
    u = np.array(
        [[5, 5, 5], [-5, -5, -5], [0.1, 9, 3], [5, 5, -5], [-5, 5, 5], [0, 5, 5], [-1, -2, -3]]
    )
    np.testing.assert_array_equal(game.miscoordinated(u), [0, 0, 0, 1, 1, 1, 0])
    assert isinstance(game, CoordinationGame)
    assert game.episode_figures(u).keys() == {"miscoordinated"}
    assert float(SymmetricTwoOptima(n_agents=2).reward([5.0, 5.0])) == 10.0


@given(arrays(np.float64, (5, 3), elements=st.floats(-10, 10)), st.permutations(range(3)))
def test_symmetric_reward_is_invariant_under_mirror_and_agent_relabelling(
    u: np.ndarray[Any, Any], perm: list[int]
) -> None:
    game = SymmetricTwoOptima()
    r = game.reward(u)
    # the two branches are exact mirror images, so the max of the same two numbers is returned
    np.testing.assert_array_equal(game.reward(game.mirror(u)), r)
    np.testing.assert_allclose(game.reward(u[:, perm]), r, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(game.miscoordinated(-u), game.miscoordinated(u))
    assert np.all(r <= game.optimum_value)
    assert np.all(r >= game.reward_lower_bound)


@given(arrays(np.float64, (8, 2), elements=st.floats(-1, 1)), st.floats(-100, 0))
def test_matrix_reward_is_an_average_of_entries(u: np.ndarray[Any, Any], k: float) -> None:
    game = continuous_penalty(k)
    r = game.reward(u)
    # r = phi^T R phi with probability vectors phi: within [min R, max R] up to rounding
    assert np.all(r <= game.optimum_value + 1e-9)
    assert np.all(r >= game.reward_lower_bound - 1e-9)
    # the penalty game is symmetric under swapping the agents and under reversing both actions
    np.testing.assert_allclose(game.reward(u[:, ::-1]), r, atol=1e-9)
    np.testing.assert_allclose(game.reward(-u), r, atol=1e-9)


def test_matrix_miscoordination_figures() -> None:
    climbing = continuous_climbing()
    u = np.array([[-0.9, -0.9], [-0.9, 0.0], [0.1, -0.5], [0.9, 0.9], [0.0, 0.5]])
    figs = climbing.episode_figures(u)
    np.testing.assert_array_equal(figs["miscoordinated"], [0, 1, 1, 0, 0])  # the -30 cells
    np.testing.assert_array_equal(figs["off_optimum"], [0, 1, 1, 1, 1])
    penalty = continuous_penalty()
    u = np.array([[-0.9, 0.9], [0.9, -0.9], [0.9, 0.9], [-0.9, 0.0], [-0.9, -0.9]])
    figs = penalty.episode_figures(u)
    np.testing.assert_array_equal(figs["miscoordinated"], [1, 1, 0, 0, 0])  # the k cells
    np.testing.assert_array_equal(figs["off_optimum"], [1, 1, 0, 1, 0])


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: SymmetricTwoOptima(n_agents=1), "n_agents"),
        (lambda: SymmetricTwoOptima(centre=0.0), "centre"),
        (lambda: SymmetricTwoOptima(centre=11.0), "centre"),
        (lambda: SymmetricTwoOptima(scale=math.nan), "scale"),
        (lambda: SymmetricTwoOptima(value=math.inf), "value"),
        (lambda: ContinuousMatrixGame(((1.0, 2.0),)), "payoff"),
        (lambda: ContinuousMatrixGame(((1.0, math.nan), (0.0, 0.0))), "payoff"),
        (lambda: continuous_climbing("linear"), "interpolation"),
        (lambda: continuous_penalty(5.0), "penalty k"),
        (lambda: continuous_penalty("x"), "penalty k"),  # type: ignore[arg-type]
    ],
)
def test_bad_parameters_raise_value_error_naming_them(make: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.zeros(3), "shape"),
        (np.zeros((4, 1)), "shape"),
        (np.array([0.0, np.nan]), "NaN"),
        (np.array([[0.0, np.inf]]), "NaN or infinite"),
    ],
)
def test_matrix_game_rejects_bad_actions(bad: Any, match: str) -> None:
    game = continuous_climbing()
    for call in (game.reward, game.episode_figures, game.cells):
        with pytest.raises(ValueError, match=match):
            call(bad)
    with pytest.raises(ValueError, match=match):
        SymmetricTwoOptima(n_agents=2).miscoordinated(bad)


# ------------------------------------------------------------------------------ environments


@pytest.mark.parametrize("task", NEW_TASKS)
def test_batched_env_shapes_rewards_and_episode_info(task: str) -> None:
    env = make_batched(task, 6)
    spec = env.spec
    n = 3 if task == "two-optima-symmetric" else 2
    scale = 10.0 if task == "two-optima-symmetric" else 1.0
    assert (spec.n_agents, spec.obs_dim, spec.state_dim, spec.action_dim) == (n, 1, 1, 1)
    assert (spec.episode_limit, spec.action_scale) == (1, scale)
    game = make_game(task)
    assert spec.optimum_value == game.optimum_value
    assert spec.reward_range == (game.reward_lower_bound, game.optimum_value)
    first = env.reset(0)
    assert first.obs.shape == (6, n, 1)
    assert first.episode_info == {}
    a = np.random.default_rng(0).uniform(-1.2, 1.2, size=(6, n, 1))
    out = env.step(a)
    u = scale * np.clip(a[..., 0], -1, 1)
    np.testing.assert_array_equal(out.reward, game.reward(u))
    np.testing.assert_array_equal(out.episode_return, out.reward)
    assert out.terminated.all()
    assert isinstance(game, CoordinationGame)
    figures = game.episode_figures(u)
    assert out.episode_info.keys() == figures.keys()
    for key, values in figures.items():
        assert out.episode_info[key].dtype == np.float64
        assert out.episode_info[key].shape == (6,)
        np.testing.assert_array_equal(out.episode_info[key], values)
    bad = np.zeros((6, n, 1))
    bad[2, 0, 0] = np.nan
    with pytest.raises(ValueError, match="not finite"):
        env.step(bad)
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros((6, n + 1, 1)))


def test_differential_games_report_only_their_miscoordination() -> None:
    env = make_batched("max-of-three", 2)
    env.reset(0)
    # the origin leans to the local optimum (-5, -5, 3) for every agent (0 is nearer -5 than
    # 7 and nearer 3 than -4); (7, -5, 3) splits agent 1 from the others
    info = env.step(np.array([[[0.0], [0.0], [0.0]], [[0.7], [-0.5], [0.3]]])).episode_info
    assert list(info) == ["miscoordinated"]
    assert info["miscoordinated"].tolist() == [0.0, 1.0]


@pytest.mark.parametrize("task", NEW_TASKS)
def test_parallel_form_equals_the_batched_form(task: str) -> None:
    parallel_api_test(make_parallel(task), num_cycles=20)
    penv, benv = make_parallel(task), make_batched(task, 1)
    scale = benv.spec.action_scale
    rng = np.random.default_rng(3)
    penv.reset(seed=0)
    benv.reset(0)
    for _ in range(25):
        native = rng.uniform(-1.1 * scale, 1.1 * scale, size=benv.spec.n_agents)
        _, rew, term, _, infos = penv.step(
            {a: native[i : i + 1] for i, a in enumerate(penv.possible_agents)}
        )
        out = benv.step((native / scale)[None, :, None])
        assert all(term.values())
        for agent in penv.possible_agents:
            assert rew[agent] == out.reward[0]
            assert infos[agent] == {k: v[0] for k, v in out.episode_info.items()}
        penv.reset()
    with pytest.raises(ValueError, match="not finite"):
        penv.step({key: [math.nan] for key in penv.possible_agents})


def test_registry_parameters_and_config_checks() -> None:
    assert make_batched("continuous-penalty", 1, k=-10.0).spec.reward_range == (-10.0, 10.0)
    assert make_batched("two-optima-symmetric", 1, n_agents=4).spec.n_agents == 4
    with pytest.raises(ValueError, match="valid parameters: interpolation"):
        make_batched("continuous-climbing", 1, k=-1.0)
    assert EnvConfig(task="two-optima-symmetric", n_agents=2).make_params() == {"n_agents": 2}
    with pytest.raises(ConfigError, match=r"env\.n_agents"):
        EnvConfig(task="continuous-climbing", n_agents=3)
    for task in NEW_TASKS:  # Max of Three's preset (the sections' defaults), but the task
        cfg = preset(task)
        assert cfg == Config(env=EnvConfig(task=task))


# ------------------------------------------------------------------------------ evaluation


def test_summary_carries_each_episode_figure_and_keeps_the_fixed_keys() -> None:
    final = EvalResult(
        mean=1.0,
        std=0.5,
        episodes=4,
        returns=(1.0, 1.0, 1.0, 1.0),
        optimum=10.0,
        last_rewards=(1.0,) * 4,
        info_means={"miscoordinated": 0.25, "return": 99.0},
    )
    s = run_summary(
        preset("continuous-penalty"),
        final,
        best_eval=1.0,
        env_steps=10,
        updates=1,
        steps_to_target=None,
        wall_time=1.0,
        device="cpu",
        extra={},
    )
    assert s["final_test_miscoordinated_mean"] == 0.25
    assert s["final_test_return_mean"] == 1.0  # a figure named "return" cannot overwrite it
    assert "eval_return_mean" in METRIC_COLUMNS
    assert "miscoordinated" not in str(METRIC_COLUMNS)


def test_training_smoke_runs_report_miscoordination(tmp_path: Path) -> None:
    res = train(tiny_config(tmp_path, 'train.run_name="sym"', task="two-optima-symmetric"))
    summary = json.loads((res.run_dir / "summary.json").read_text())
    assert 0.0 <= summary["final_test_miscoordinated_mean"] <= 1.0
    assert summary["optimum"] == 10.0
    assert len(summary["mass_near_optima"]) == 2
    assert res.final.info_means.keys() == {"miscoordinated"}
    cfg = tiny_config(
        tmp_path, 'train.run_name="pen"', 'algo.method="maddpg"', task="continuous-penalty"
    )
    res = train(cfg)
    summary = json.loads((res.run_dir / "summary.json").read_text())
    for key in ("final_test_miscoordinated_mean", "final_test_off_optimum_mean"):
        assert 0.0 <= summary[key] <= 1.0
    header = (res.run_dir / "metrics.csv").read_text().splitlines()[0]
    assert header == ",".join(METRIC_COLUMNS)
