"""Example tests that kill surviving mutants of `svnr_core.soft_bellman`.

See verification/mutants.md.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import logsumexp

from svnr_core import soft_bellman
from svnr_core.games import matrix_game, random_game
from svnr_core.soft_bellman import (
    boltzmann_policy,
    importance_sampled_soft_value,
    log_boltzmann_policy,
    soft_policy_evaluation,
    soft_policy_iteration,
    soft_value_iteration,
)


def test_eq11_default_proposal_density_is_one_and_axis_is_honoured() -> None:
    # Eq. 11 with the default log_proposal = 0 (p = 1): V = alpha (logsumexp(q / alpha) - log M),
    # reduced along the requested axis.
    q = np.array([[0.3, -1.2, 2.0], [1.5, 0.1, -0.4]])
    alpha = 0.7
    expected_rows = alpha * (logsumexp(q / alpha, axis=1) - math.log(3))
    np.testing.assert_allclose(importance_sampled_soft_value(q, alpha), expected_rows, rtol=1e-14)
    expected_cols = alpha * (logsumexp(q / alpha, axis=0) - math.log(2))
    np.testing.assert_allclose(
        importance_sampled_soft_value(q, alpha, axis=0), expected_cols, rtol=1e-14
    )
    assert importance_sampled_soft_value(q, alpha, axis=0).shape == (3,)
    with pytest.raises(ValueError, match=r"^q_samples needs at least one sample along axis 1"):
        importance_sampled_soft_value(np.zeros((2, 0)), alpha, axis=1)


def test_thm_4_3_policy_iteration_starts_from_policy0_and_counts_rounds() -> None:
    game = random_game(7, 3, (2, 2), 0.8)
    alpha = 0.5
    rng = np.random.default_rng(1)
    policy0 = rng.random(game.joint_shape)
    policy0 /= policy0.reshape(3, -1).sum(axis=1)[:, None, None]
    # one round from policy0 evaluates policy0 exactly (Lemma 4.1)
    one = soft_policy_iteration(game, alpha, policy0=policy0, max_iter=1)
    assert one.iterations == 1
    np.testing.assert_allclose(
        one.Q, soft_policy_evaluation(game, policy0, alpha).Q, rtol=0, atol=1e-12
    )
    with pytest.raises(ValueError, match=r"^policy0\[0\] \(state 0\) sums to"):
        soft_policy_iteration(game, alpha, policy0=policy0 * 1.5)
    # the default tolerance is 1e-8 and the round count is the number of rounds run
    full = soft_policy_iteration(game, alpha)
    assert full.converged
    assert full.error_bound <= 1e-8
    k = full.iterations
    assert k >= 2
    assert soft_policy_iteration(game, alpha, max_iter=k).iterations == k
    assert soft_policy_iteration(game, alpha, max_iter=k).converged
    short = soft_policy_iteration(game, alpha, max_iter=k - 1)
    assert short.iterations == k - 1
    assert not short.converged


def test_lemma_4_1_evaluation_reports_one_solve_and_its_tolerance() -> None:
    game = random_game(5, 4, (2, 3), 0.7)
    policy = np.full(game.joint_shape, 1.0 / 6.0)
    exact = soft_policy_evaluation(game, policy, 0.4)
    assert exact.iterations == 1
    assert exact.converged
    iterative = soft_policy_evaluation(game, policy, 0.4, method="iterative")
    assert iterative.converged
    assert iterative.error_bound <= 1e-8  # the default tolerance
    assert iterative.iterations > 1
    np.testing.assert_allclose(iterative.Q, exact.Q, rtol=0, atol=1e-7)
    with pytest.raises(ValueError, match=r"^Q0 has shape \(4, 2\); the game needs \(4, 2, 3\)"):
        soft_policy_evaluation(game, policy, 0.4, method="iterative", Q0=np.zeros((4, 2)))
    q0 = np.zeros(game.joint_shape)
    q0[1, 0, 2] = np.nan
    with pytest.raises(ValueError, match=r"^Q0\[1, 0, 2\] = nan is not finite"):
        soft_policy_evaluation(game, policy, 0.4, method="iterative", Q0=q0)


def test_lemma_4_1_iterative_evaluation_counts_sweeps_and_stops_at_the_first_bound() -> None:
    # Iterative evaluation stops at the first sweep whose bound gamma/(1-gamma) ||Q_k - Q_{k-1}||
    # is <= tol, and reports that sweep's number.
    game = random_game(6, 3, (2, 2), 0.6)
    policy = np.full(game.joint_shape, 0.25)
    full = soft_policy_evaluation(game, policy, 0.4, method="iterative", tol=1e-6)
    k = full.iterations
    assert full.converged
    assert k > 2
    same = soft_policy_evaluation(game, policy, 0.4, method="iterative", tol=1e-6, max_iter=k)
    assert same.iterations == k
    np.testing.assert_array_equal(same.Q, full.Q)
    short = soft_policy_evaluation(game, policy, 0.4, method="iterative", tol=1e-6, max_iter=k - 1)
    assert short.iterations == k - 1
    assert not short.converged
    one = soft_policy_evaluation(game, policy, 0.4, method="iterative", max_iter=1)
    assert one.iterations == 1
    # one sweep from Q0 = 0: R + gamma * (the uniform policy's entropy bonus alpha log 4)
    np.testing.assert_allclose(one.Q, game.R + 0.6 * 0.4 * math.log(4.0), rtol=0, atol=1e-14)


def test_eq1_log_policy_is_the_log_of_the_policy_in_every_state() -> None:
    # log pi = (Q - V) / alpha per state, for a table with several states and joint-action axes
    # of different sizes (the state axis must line up with V).
    q = np.random.default_rng(2).normal(size=(3, 2, 4))
    log_pi = log_boltzmann_policy(q, 0.3)
    assert log_pi.shape == q.shape
    np.testing.assert_allclose(log_pi, np.log(boltzmann_policy(q, 0.3)), rtol=0, atol=1e-12)


def test_a_non_finite_initial_q_is_named() -> None:
    game = random_game(5, 2, (2,), 0.5)
    q0 = np.zeros(game.joint_shape)
    q0[1, 0] = np.nan
    with pytest.raises(ValueError, match=r"^Q0\[1, 0\] = nan is not finite"):
        soft_policy_evaluation(game, np.full((2, 2), 0.5), 0.4, method="iterative", Q0=q0)


def test_lemma_4_1_exact_evaluation_picks_the_requested_linear_solver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # solver="sparse" factorises I - gamma P_pi with SuperLU (scipy's spsolve), "dense" and
    # "auto" on a small dense game use numpy's LU, "auto" on a large mostly-zero game goes sparse.
    calls: list[int] = []
    spsolve = soft_bellman.spla.spsolve

    def spy(a: object, b: object) -> object:
        calls.append(1)
        return spsolve(a, b)

    monkeypatch.setattr(soft_bellman.spla, "spsolve", spy)
    small = random_game(3, 40, (2,), 0.9, sparsity=0.99)  # about 3 non-zeros per row of P_pi
    policy = np.full(small.joint_shape, 0.5)
    dense = soft_policy_evaluation(small, policy, 0.3, solver="dense")
    assert calls == []
    soft_policy_evaluation(small, policy, 0.3)
    assert calls == []
    sparse = soft_policy_evaluation(small, policy, 0.3, solver="sparse")
    assert calls == [1]
    np.testing.assert_allclose(sparse.Q, dense.Q, rtol=0, atol=1e-12)
    big = random_game(4, 128, (2, 2), 0.9, sparsity=0.99)
    assert big.is_sparse
    deterministic = np.zeros(big.joint_shape)
    deterministic[:, 0, 0] = 1.0  # P_pi is one row of P per state: sparse enough for SuperLU
    soft_policy_evaluation(big, deterministic, 0.3)
    assert calls == [1, 1]


def test_thm_4_3_policy_iteration_passes_its_solver_to_every_evaluation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    spsolve = soft_bellman.spla.spsolve

    def spy(a: object, b: object) -> object:
        calls.append(1)
        return spsolve(a, b)

    monkeypatch.setattr(soft_bellman.spla, "spsolve", spy)
    small = random_game(3, 40, (2,), 0.9, sparsity=0.99)  # about 3 non-zeros per row of P_pi
    soft_policy_iteration(small, 0.3, solver="sparse", max_iter=2)
    assert calls == [1, 1]


def test_lemma_4_1_undiscounted_step_is_the_one_step_value() -> None:
    # gamma = 0 (a matrix game): Q^pi = R exactly, V^pi = sum pi (R - alpha log pi).
    game = matrix_game([[1.0, -2.0], [0.5, 3.0]])
    policy = np.array([[[0.1, 0.2], [0.3, 0.4]]])
    sol = soft_policy_evaluation(game, policy, 0.5)
    np.testing.assert_array_equal(sol.Q, game.R)
    expected_v = float(np.sum(policy * (game.R - 0.5 * np.log(policy))))
    assert float(sol.V[0]) == pytest.approx(expected_v, rel=1e-14)


def test_negative_policy_entry_is_named_even_after_a_zero() -> None:
    game = matrix_game([[1.0, 0.0], [0.0, 1.0]])
    policy = np.array([[[0.0, 1.5], [-0.5, 0.0]]])
    with pytest.raises(ValueError, match=r"^policy\[0, 1, 0\] = -0\.5 is a negative probability"):
        soft_policy_evaluation(game, policy, 1.0)


def test_soft_value_iteration_default_tolerance_is_1e_8() -> None:
    sol = soft_value_iteration(random_game(8, 3, (2,), 0.9), 0.5)
    assert sol.converged
    assert sol.error_bound <= 1e-8


def test_soft_solution_stores_read_only_float64_copies() -> None:
    q = [[1, 2], [3, 4]]
    sol = soft_bellman.SoftSolution(
        Q=q, V=[1, 2], policy=[[1, 0], [0, 1]], iterations=1, residual=0.0, error_bound=0.0,
        converged=True,
    )  # fmt: skip
    for arr in (sol.Q, sol.V, sol.policy):
        assert arr.dtype == np.float64
        assert not arr.flags.writeable


def test_q_table_errors_name_the_table() -> None:
    with pytest.raises(ValueError, match=r"^Q must be a numeric array"):
        soft_bellman.soft_value([["a", "b"]], 1.0)
