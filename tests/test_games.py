"""Example tests for :mod:`svnr_core.games`: every validation error and every constructor."""

from __future__ import annotations

import math

import numpy as np
import pytest

from svnr_core.games import (
    CooperativeGame,
    FloatArray,
    climbing_game,
    figure1_left,
    figure1_right,
    matrix_game,
    penalty_game,
    random_game,
)


def _chain() -> tuple[FloatArray, FloatArray]:
    """A valid 2-state, 1-agent, 2-action game (P, R)."""
    p = np.zeros((2, 2, 2))
    p[:, 0, 0] = 1.0
    p[:, 1, 1] = 1.0
    r = np.array([[0.0, 1.0], [2.0, 3.0]])
    return p, r


# ------------------------------------------------------------------------------ validation
def test_valid_game_exposes_shapes_and_is_read_only() -> None:
    p, r = _chain()
    game = CooperativeGame(p, r, 0.5)
    assert game.n_states == 2
    assert game.action_counts == (2,)
    assert game.n_agents == 1
    assert game.n_joint_actions == 2
    assert game.joint_shape == (2, 2)
    assert game.gamma == 0.5
    with pytest.raises(ValueError, match="read-only"):
        game.P[0, 0, 0] = 0.5
    p[0, 0, 0] = 0.25  # the game holds a copy
    assert game.P[0, 0, 0] == 1.0
    with pytest.raises(AttributeError):
        game.gamma = 0.1  # type: ignore[misc]
    assert "n_states=2" in repr(game)


def test_rejects_reward_without_action_axis() -> None:
    with pytest.raises(ValueError, match="at least one agent"):
        CooperativeGame(np.ones((2, 2)), np.zeros(2), 0.5)


def test_rejects_empty_axis() -> None:
    with pytest.raises(ValueError, match="empty axis"):
        CooperativeGame(np.ones((1, 0, 1)), np.zeros((1, 0)), 0.5)


def test_rejects_transition_shape_mismatch() -> None:
    p, r = _chain()
    with pytest.raises(ValueError, match=r"P has shape \(2, 2, 3\).*\(2, 2, 2\)"):
        CooperativeGame(np.ones((2, 2, 3)) / 3, r, 0.5)
    with pytest.raises(ValueError, match="P has shape"):
        CooperativeGame(p, np.zeros((2, 3)), 0.5)


def test_rejects_negative_probability_naming_the_entry() -> None:
    p, r = _chain()
    p[1, 0, :] = [1.5, -0.5]
    with pytest.raises(ValueError, match=r"P\[1, 0, 1\] = -0\.5 is a negative probability"):
        CooperativeGame(p, r, 0.5)


def test_rejects_row_not_summing_to_one_naming_state_and_action() -> None:
    p, r = _chain()
    p[1, 1, :] = [0.3, 0.3]
    with pytest.raises(
        ValueError, match=r"P\[1, 1, :\] sums to 0\.6.*state 1, joint action \(1,\)"
    ):
        CooperativeGame(p, r, 0.5)


def test_accepts_rows_within_tolerance_and_rejects_beyond() -> None:
    p, r = _chain()
    p[0, 0, 0] = 1.0 + 5e-9
    CooperativeGame(p, r, 0.5)
    p[0, 0, 0] = 1.0 + 5e-7
    with pytest.raises(ValueError, match="not 1"):
        CooperativeGame(p, r, 0.5)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_rejects_non_finite_probability(bad: float) -> None:
    p, r = _chain()
    p[0, 1, 0] = bad
    with pytest.raises(ValueError, match=r"P\[0, 1, 0\] = .* is not finite"):
        CooperativeGame(p, r, 0.5)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_rejects_non_finite_reward_naming_the_entry(bad: float) -> None:
    p, r = _chain()
    r[1, 0] = bad
    with pytest.raises(ValueError, match=r"R\[1, 0\] = .* is not a finite reward"):
        CooperativeGame(p, r, 0.5)


@pytest.mark.parametrize("gamma", [-0.1, 1.0, 1.5, math.nan, math.inf])
def test_rejects_gamma_outside_unit_interval(gamma: float) -> None:
    p, r = _chain()
    with pytest.raises(ValueError, match="gamma must lie in"):
        CooperativeGame(p, r, gamma)


def test_rejects_non_numeric_inputs() -> None:
    p, r = _chain()
    with pytest.raises(ValueError, match="gamma must be a real number"):
        CooperativeGame(p, r, "high")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="P must be a numeric array"):
        CooperativeGame([["a"]], r, 0.5)
    with pytest.raises(ValueError, match="R must be a numeric array"):
        CooperativeGame(p, [[0.0, 1.0], [2.0]], 0.5)


def test_gamma_zero_is_allowed() -> None:
    p, r = _chain()
    assert CooperativeGame(p, r, 0.0).gamma == 0.0


# ---------------------------------------------------------------------------- derived views
def test_flattened_merges_agent_axes_in_c_order() -> None:
    game = random_game(3, 2, (2, 3), 0.9)
    flat = game.flattened()
    assert flat.joint_shape == (2, 6)
    np.testing.assert_array_equal(flat.R[1, 1 * 3 + 2], game.R[1, 1, 2])
    np.testing.assert_array_equal(flat.P[0, 0 * 3 + 1], game.P[0, 0, 1])
    assert flat.gamma == game.gamma


def test_expected_next_is_the_transition_average_dense_and_sparse() -> None:
    game = random_game(4, 3, (2, 2), 0.9, sparsity=0.5)
    v = np.array([1.0, -2.0, 5.0])
    expected = np.einsum("sabt,t->sab", game.P, v)
    np.testing.assert_allclose(game.expected_next(v), expected, rtol=1e-15, atol=1e-14)
    np.testing.assert_allclose(
        np.asarray(game.transition_csr @ v).reshape(game.joint_shape), expected, atol=1e-14
    )
    assert not game.is_sparse  # far below SPARSE_MIN_SIZE entries


def test_large_sparse_game_uses_the_csr_path() -> None:
    game = random_game(5, 200, (2, 2), 0.9, sparsity=0.99)
    assert game.transition_density < 0.05
    assert game.is_sparse
    v = np.linspace(-1.0, 1.0, 200)
    np.testing.assert_allclose(
        game.expected_next(v), game.transition_matrix.reshape(game.P.shape) @ v, atol=1e-14
    )


# ----------------------------------------------------------------------------- constructors
def test_matrix_game_has_one_state_self_loop_and_gamma_zero() -> None:
    game = matrix_game([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert game.joint_shape == (1, 2, 3)
    assert game.gamma == 0.0
    np.testing.assert_array_equal(game.P, np.ones((1, 2, 3, 1)))
    np.testing.assert_array_equal(game.R[0], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def test_matrix_game_rejects_scalar_and_non_finite_payoffs() -> None:
    with pytest.raises(ValueError, match="one axis per agent"):
        matrix_game(3.0)
    with pytest.raises(ValueError, match="not a finite reward"):
        matrix_game([1.0, math.nan])
    with pytest.raises(ValueError, match="payoff must be a numeric array"):
        matrix_game([[1.0], [1.0, 2.0]])


def test_random_game_is_seeded_and_valid() -> None:
    a = random_game(7, 3, (2, 3, 2), 0.8, reward_scale=2.0)
    b = random_game(np.random.default_rng(7), 3, (2, 3, 2), 0.8, reward_scale=2.0)
    c = random_game(8, 3, (2, 3, 2), 0.8, reward_scale=2.0)
    np.testing.assert_array_equal(a.P, b.P)
    np.testing.assert_array_equal(a.R, b.R)
    assert not np.array_equal(a.R, c.R)
    assert a.joint_shape == (3, 2, 3, 2)
    np.testing.assert_allclose(a.P.sum(axis=-1), 1.0, atol=1e-14)


def test_random_game_sparsity_keeps_a_successor_in_every_row() -> None:
    game = random_game(0, 10, (3,), 0.5, sparsity=0.95)
    assert (game.P > 0).sum(axis=-1).min() >= 1
    assert game.transition_density < 0.3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_states": 0, "action_counts": (2,)}, "n_states >= 1"),
        ({"n_states": 2, "action_counts": ()}, "at least one agent"),
        ({"n_states": 2, "action_counts": (2, 0)}, "at least one agent"),
        ({"n_states": 2, "action_counts": (2,), "sparsity": 1.0}, "sparsity"),
        ({"n_states": 2, "action_counts": (2,), "reward_scale": math.nan}, "reward_scale"),
        ({"n_states": 2, "action_counts": (2,), "gamma": 1.0}, "gamma"),
    ],
)
def test_random_game_rejects_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"gamma": 0.5, **kwargs}
    with pytest.raises(ValueError, match=match):
        random_game(0, **args)  # type: ignore[arg-type]


def test_climbing_game_payoffs() -> None:
    game = climbing_game()
    assert game.joint_shape == (1, 3, 3)
    # Claus & Boutilier (1998), Table 3 (not symmetric: (b, c) = 6 but (c, b) = 0).
    np.testing.assert_array_equal(
        game.R[0], [[11.0, -30.0, 0.0], [-30.0, 7.0, 6.0], [0.0, 0.0, 5.0]]
    )


def test_penalty_game_payoffs_and_validation() -> None:
    r = penalty_game(-50.0).R[0]
    assert r[0, 0] == r[2, 2] == 10.0
    assert r[0, 2] == r[2, 0] == -50.0
    assert r[1, 1] == 2.0
    assert penalty_game().R[0, 0, 2] == -100.0
    for bad in (1.0, math.nan, -math.inf):
        with pytest.raises(ValueError, match="penalty k"):
            penalty_game(bad)


def test_figure1_games_match_the_paper() -> None:
    np.testing.assert_array_equal(figure1_left().R[0], [[3.0, 0.0], [2.0, 2.0]])
    np.testing.assert_array_equal(figure1_right().R[0], [[3.0, 0.0], [0.0, 3.0]])
    # PRO example: against a uniform opponent, A's action 1 (worth 2) beats action 0 (1.5).
    np.testing.assert_allclose(figure1_left().R[0].mean(axis=1), [1.5, 2.0])
    # ERO example: the product of uniform marginals earns 1.5, the optimum 3.
    assert figure1_right().R[0].mean() == 1.5
