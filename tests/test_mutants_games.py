"""Example tests that kill surviving mutants of `svnr_core.games`.

See verification/mutants.md.
"""

from __future__ import annotations

import numpy as np
import pytest

from svnr_core.games import CooperativeGame, matrix_game, penalty_game, random_game


def test_matrix_game_scalar_payoff_error_names_the_requirement() -> None:
    with pytest.raises(ValueError, match=r"^a matrix game needs a payoff array with one axis per"):
        matrix_game(3.0)


def test_penalty_game_is_claus_and_boutilier_table_for_every_k() -> None:
    # Claus & Boutilier (1998): optima 10 at (0, 0) and (2, 2), k on the two miscoordinations,
    # 2 at the safe (1, 1), 0 elsewhere; k = 0 is the boundary of the allowed range.
    for k in (-100.0, -30.0, 0.0):
        expected = np.array([[10.0, 0.0, k], [0.0, 2.0, 0.0], [k, 0.0, 10.0]])
        np.testing.assert_array_equal(penalty_game(k).R[0], expected)
    with pytest.raises(ValueError, match="penalty k"):
        penalty_game(1e-9)


@pytest.mark.parametrize("sparsity", [0.0, 0.6])
@pytest.mark.parametrize("reward_scale", [None, 0.0, 0.5, 3.0])
def test_random_game_is_the_documented_draw(sparsity: float, reward_scale: float | None) -> None:
    # "Rewards are reward_scale * N(0, 1).  Each transition row is a normalised draw of positive
    # weights; with sparsity > 0 that fraction is zeroed (one successor per row is kept)":
    # replay the documented draws from the same seed and compare exactly.
    shape, n_states = (3, 2, 2), 3
    kwargs = {} if reward_scale is None else {"reward_scale": reward_scale}
    game = random_game(11, n_states, (2, 2), 0.9, sparsity=sparsity, **kwargs)
    rng = np.random.default_rng(11)
    weights = rng.exponential(size=(*shape, n_states))
    if sparsity > 0.0:
        weights[rng.random(weights.shape) < sparsity] = 0.0
        keep = rng.integers(n_states, size=shape)
        np.put_along_axis(weights, keep[..., np.newaxis], 1.0, axis=-1)
    scale = 1.0 if reward_scale is None else reward_scale
    np.testing.assert_array_equal(game.P, weights / weights.sum(axis=-1, keepdims=True))
    np.testing.assert_array_equal(game.R, scale * rng.standard_normal(shape))


def test_random_game_accepts_the_smallest_valid_sizes() -> None:
    # One state and single-action agents are valid games (bounds are >= 1, not > 1).
    game = random_game(0, 1, (1, 1), 0.5)
    assert game.joint_shape == (1, 1, 1)
    np.testing.assert_array_equal(game.P, np.ones((1, 1, 1, 1)))


def test_dense_game_never_builds_the_csr_copy_and_sparse_game_does() -> None:
    # expected_next picks one path: a small game must not build (and cache) a CSR copy of P,
    # a large mostly-zero game must (the module docstring's memory/speed contract).
    dense = random_game(1, 3, (2, 2), 0.9)
    v = np.arange(3.0)
    dense.expected_next(v)
    assert "transition_csr" not in vars(dense)
    sparse = random_game(2, 64, (4, 4), 0.9, sparsity=0.9)
    assert sparse.is_sparse
    sparse.expected_next(np.arange(64.0))
    assert "transition_csr" in vars(sparse)


def test_random_game_zeroes_weights_strictly_below_the_sparsity() -> None:
    # "that fraction of the weights is zeroed": weight w is dropped iff its uniform draw is
    # < sparsity.  Choose sparsity equal to one draw (not the row's kept successor): that weight
    # must survive.
    shape, n_states = (2, 2), 2
    rng = np.random.default_rng(4)
    rng.exponential(size=(*shape, n_states))
    draws = rng.random((*shape, n_states))
    keep = rng.integers(n_states, size=shape)
    flat = [
        (draws[s, u, t], (s, u, t))
        for s in range(2)
        for u in range(2)
        for t in range(2)
        if keep[s, u] != t
    ]
    sparsity, idx = max(flat)  # the largest draw among weights that are not forced to 1
    game = random_game(4, n_states, (2,), 0.5, sparsity=float(sparsity))
    assert game.P[idx] > 0.0


def test_game_keeps_its_own_copies_of_p_and_r() -> None:
    # "The arrays are copied to read-only float64 arrays": the caller's arrays stay writable and
    # later changes to them do not reach the game.
    p = np.full((2, 2, 2), 0.5)
    r = np.array([[1.0, 2.0], [3.0, 4.0]])
    game = CooperativeGame(p, r, 0.5)
    assert p.flags.writeable
    assert r.flags.writeable
    r[0, 0] = 100.0
    p[0, 0] = [1.0, 0.0]
    assert game.R[0, 0] == 1.0
    np.testing.assert_array_equal(game.P[0, 0], [0.5, 0.5])
    assert not game.P.flags.writeable
    assert not game.R.flags.writeable


def test_row_sum_error_names_state_and_joint_action_separately() -> None:
    p = np.full((2, 2, 2), 0.5)
    p[0, 1] = [0.5, 0.6]
    with pytest.raises(ValueError, match=r"\(row for state 0, joint action \(1,\)\)"):
        CooperativeGame(p, np.zeros((2, 2)), 0.5)
