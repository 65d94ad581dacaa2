"""Example tests for :mod:`svnr_core.soft_bellman` against closed forms derived by hand.

The two-state chain used throughout (one agent, two actions, ``gamma = 1/2``, ``alpha = 1``)::

    state 0: action 0 pays 0, action 1 pays log 3; both move to state 1.
    state 1: both actions pay 1 and stay in state 1.

In state 1 the two actions are identical, so every soft value there carries ``alpha log 2``:
``Q*(1, u) = 1 + gamma V*(1)`` and ``V*(1) = Q*(1, u) + log 2`` give
``V*(1) = (1 + log 2) / (1 - gamma) = 2 + 2 log 2`` and ``Q*(1, u) = 2 + log 2``.  In state 0,
``Q*(0, .) = (0, log 3) + gamma V*(1) = (1 + log 2, 1 + log 2 + log 3)`` and
``V*(0) = log(e^{1 + log 2} (1 + 3)) = 1 + 3 log 2``; the Boltzmann policy is ``(1/4, 3/4)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import FrozenInstanceError
from typing import Any

import numpy as np
import pytest

from svnr_core.games import CooperativeGame, FloatArray, figure1_right, penalty_game, random_game
from svnr_core.soft_bellman import (
    EvaluationMethod,
    LinearSolver,
    SoftSolution,
    boltzmann_policy,
    hard_bellman_operator,
    importance_sampled_soft_value,
    log_boltzmann_policy,
    soft_bellman_operator,
    soft_max,
    soft_policy_bellman_operator,
    soft_policy_evaluation,
    soft_policy_iteration,
    soft_policy_value,
    soft_value,
    soft_value_iteration,
    uniform_policy,
)

LOG2, LOG3 = math.log(2.0), math.log(3.0)
# Closed forms are compared at 1e-12: the solvers run at tol <= 1e-10 (value iteration's
# guaranteed bound) and the values are O(10), so rounding is ~1e-15.
ATOL = 1e-12


def chain_game() -> CooperativeGame:
    p = np.zeros((2, 2, 2))
    p[:, :, 1] = 1.0
    r = np.array([[0.0, LOG3], [1.0, 1.0]])
    return CooperativeGame(p, r, 0.5)


CHAIN_Q_STAR = np.array([[1.0 + LOG2, 1.0 + LOG2 + LOG3], [2.0 + LOG2, 2.0 + LOG2]])
CHAIN_V_STAR = np.array([1.0 + 3.0 * LOG2, 2.0 + 2.0 * LOG2])
CHAIN_PI_STAR = np.array([[0.25, 0.75], [0.5, 0.5]])


# ---------------------------------------------------------------------------- matrix game
def test_matrix_game_soft_value_and_boltzmann_policy_closed_form() -> None:
    """Figure 1 (right), alpha = 1: V = log(2 e^3 + 2), pi = e^3 / (2 e^3 + 2) on the diagonal."""
    game = figure1_right()
    z = 2.0 * math.exp(3.0) + 2.0
    np.testing.assert_allclose(soft_value(game.R, 1.0), [math.log(z)], rtol=1e-15)
    expected_pi = np.array([[[math.exp(3.0), 1.0], [1.0, math.exp(3.0)]]]) / z
    np.testing.assert_allclose(boltzmann_policy(game.R, 1.0), expected_pi, rtol=1e-14)


def test_matrix_game_solvers_return_the_reward_after_one_step() -> None:
    game = figure1_right()
    for sol in (soft_value_iteration(game, 1.0), soft_policy_iteration(game, 1.0)):
        assert sol.iterations == 1
        assert sol.converged
        assert sol.residual == 0.0
        assert sol.error_bound == 0.0
        np.testing.assert_array_equal(sol.Q, game.R)
        np.testing.assert_allclose(sol.V, soft_value(game.R, 1.0), rtol=1e-15)
        np.testing.assert_allclose(sol.policy, boltzmann_policy(game.R, 1.0), rtol=1e-15)


def test_penalty_game_at_small_alpha_splits_between_the_two_optima() -> None:
    """Two optima worth 10: V = 10 + alpha log 2 (other terms < e^{-8/alpha}), pi = 1/2 each."""
    game = penalty_game(-100.0)
    alpha = 0.01
    np.testing.assert_allclose(soft_value(game.R, alpha), [10.0 + alpha * LOG2], rtol=1e-15)
    pi = boltzmann_policy(game.R, alpha)[0]
    np.testing.assert_allclose([pi[0, 0], pi[2, 2]], [0.5, 0.5], rtol=1e-14)
    assert pi.sum() == pytest.approx(1.0, abs=1e-15)


def test_soft_value_is_stable_at_the_extremes_of_the_contract() -> None:
    q = np.array([[1e8, -1e8, 1e8 - 1.0]])
    assert soft_value(q, 1e-8)[0] == 1e8  # exp(-1e8) underflows to 0; log(1) = 0
    np.testing.assert_array_equal(boltzmann_policy(q, 1e-8), [[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(soft_value(np.zeros((1, 4)), 1e8), [1e8 * math.log(4)])
    ties = np.array([[-1e8, -1e8]])
    np.testing.assert_allclose(soft_value(ties, 1e-8), [-1e8 + 1e-8 * LOG2], rtol=1e-16)


# ------------------------------------------------------------------------- two-state chain
def test_chain_soft_value_iteration_matches_closed_form() -> None:
    sol = soft_value_iteration(chain_game(), 1.0, 1e-10)
    assert sol.converged
    assert sol.error_bound <= 1e-10
    np.testing.assert_allclose(sol.Q, CHAIN_Q_STAR, rtol=0, atol=1e-10)
    np.testing.assert_allclose(sol.V, CHAIN_V_STAR, rtol=0, atol=1e-10)
    np.testing.assert_allclose(sol.policy, CHAIN_PI_STAR, rtol=0, atol=1e-10)
    # The guarantee: the returned Q is within error_bound of Q* (and the bound is honest).
    assert np.max(np.abs(sol.Q - CHAIN_Q_STAR)) <= sol.error_bound + 1e-14


def test_chain_soft_policy_iteration_matches_closed_form() -> None:
    sol = soft_policy_iteration(chain_game(), 1.0, 1e-12)
    assert sol.converged
    np.testing.assert_allclose(sol.Q, CHAIN_Q_STAR, rtol=0, atol=ATOL)
    np.testing.assert_allclose(sol.V, CHAIN_V_STAR, rtol=0, atol=ATOL)
    np.testing.assert_allclose(sol.policy, CHAIN_PI_STAR, rtol=0, atol=ATOL)
    # Q^uniform = Q* here (the rewards of state 0 do not depend on the policy and uniform is
    # Boltzmann in state 1), so the first evaluation already has residual 0 and the returned
    # policy is its Boltzmann improvement, pi*.
    assert sol.iterations == 1
    assert sol.residual <= 1e-15


def test_chain_bellman_operators_fix_q_star() -> None:
    game = chain_game()
    np.testing.assert_allclose(soft_bellman_operator(game, CHAIN_Q_STAR, 1.0), CHAIN_Q_STAR)
    np.testing.assert_allclose(
        soft_policy_bellman_operator(game, CHAIN_Q_STAR, CHAIN_PI_STAR, 1.0), CHAIN_Q_STAR
    )
    # Hard Bellman at Q*: R + gamma max Q*(1, .) = (0, log 3) + 1 + log(2)/2 and 1 + 1 + log(2)/2.
    hard = hard_bellman_operator(game, CHAIN_Q_STAR)
    expected = np.array([[1.0 + LOG2 / 2, 1.0 + LOG2 / 2 + LOG3], [2.0 + LOG2 / 2] * 2])
    np.testing.assert_allclose(hard, expected, rtol=1e-15)


@pytest.mark.parametrize("method", ["exact", "iterative"])
@pytest.mark.parametrize("solver", ["dense", "sparse"])
def test_chain_uniform_policy_evaluation_closed_form(
    method: EvaluationMethod, solver: LinearSolver
) -> None:
    """Uniform pi: V(1) = V*(1) (uniform is Boltzmann there), Q(0, .) = Q*(0, .),
    V(0) = mean Q(0, .) + log 2 = 1 + 2 log 2 + log(3) / 2."""
    game = chain_game()
    sol = soft_policy_evaluation(
        game, uniform_policy(game.joint_shape), 1.0, method=method, solver=solver, tol=1e-12
    )
    assert sol.converged
    np.testing.assert_allclose(sol.Q, CHAIN_Q_STAR, rtol=0, atol=ATOL)
    np.testing.assert_allclose(
        sol.V, [1.0 + 2.0 * LOG2 + LOG3 / 2.0, 2.0 + 2.0 * LOG2], rtol=0, atol=ATOL
    )
    assert sol.V[0] < CHAIN_V_STAR[0]


def test_chain_deterministic_policy_evaluation_uses_zero_log_zero() -> None:
    """pi = action 0 everywhere: no entropy; V(1) = 1 / (1 - gamma) = 2, Q(0, .) = (1, 1 + log 3),
    V(0) = Q(0, 0) = 1.  A NaN from 0 log 0 would poison every entry."""
    game = chain_game()
    pi = np.array([[1.0, 0.0], [1.0, 0.0]])
    methods: tuple[EvaluationMethod, ...] = ("exact", "iterative")
    for method in methods:
        sol = soft_policy_evaluation(game, pi, 1.0, method=method, tol=1e-12)
        np.testing.assert_allclose(sol.Q, [[1.0, 1.0 + LOG3], [2.0, 2.0]], rtol=0, atol=ATOL)
        np.testing.assert_allclose(sol.V, [1.0, 2.0], rtol=0, atol=ATOL)
    np.testing.assert_allclose(soft_policy_value(np.zeros((1, 2)), [[1.0, 0.0]], 3.0), [0.0])


def test_value_iteration_reports_non_convergence_when_capped() -> None:
    game = random_game(0, 4, (3,), 0.95)
    sol = soft_value_iteration(game, 0.5, 1e-12, max_iter=5)
    assert not sol.converged
    assert sol.iterations == 5
    assert sol.error_bound > 1e-12
    star = soft_policy_iteration(game, 0.5, 1e-12)
    assert np.max(np.abs(sol.Q - star.Q)) <= sol.error_bound  # the bound still holds


def test_value_iteration_from_a_given_start() -> None:
    sol = soft_value_iteration(chain_game(), 1.0, 1e-10, Q0=CHAIN_Q_STAR)
    assert sol.iterations == 1
    np.testing.assert_allclose(sol.Q, CHAIN_Q_STAR, rtol=0, atol=1e-14)


def test_sparse_auto_solver_agrees_with_dense_on_a_large_sparse_game() -> None:
    game = random_game(2, 400, (2, 2), 0.9, sparsity=0.99)
    assert game.is_sparse
    pi = boltzmann_policy(game.R, 1.0)
    auto = soft_policy_evaluation(game, pi, 1.0)
    dense = soft_policy_evaluation(game, pi, 1.0, solver="dense")
    np.testing.assert_allclose(auto.Q, dense.Q, rtol=0, atol=1e-11)
    assert auto.residual < 1e-11


def test_sparse_lu_path_on_a_local_chain_agrees_with_dense() -> None:
    """Tridiagonal P_pi (action u moves to s + u - 1): the sparse LU branch, not the densified
    one, and the same Q as the dense solve."""
    n = 300
    p = np.zeros((n, 3, n))
    s = np.arange(n)
    for u in range(3):
        p[s, u, np.clip(s + u - 1, 0, n - 1)] = 1.0
    game = CooperativeGame(p, np.random.default_rng(0).normal(size=(n, 3)), 0.9)
    assert game.is_sparse
    pi = boltzmann_policy(game.R, 0.7)
    auto = soft_policy_evaluation(game, pi, 0.7)
    dense = soft_policy_evaluation(game, pi, 0.7, solver="dense")
    np.testing.assert_allclose(auto.Q, dense.Q, rtol=0, atol=1e-11)
    assert auto.residual < 1e-12


def test_results_are_frozen_and_read_only() -> None:
    sol = soft_value_iteration(chain_game(), 1.0)
    assert isinstance(sol, SoftSolution)
    with pytest.raises(FrozenInstanceError):
        sol.iterations = 3  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        sol.Q[0, 0] = 1.0


# ---------------------------------------------------------------------- invalid arguments
@pytest.mark.parametrize("alpha", [0.0, -1.0, math.nan, math.inf, "hot"])
def test_every_entry_point_rejects_bad_alpha(alpha: object) -> None:
    game = chain_game()
    q = np.zeros(game.joint_shape)
    pi = uniform_policy(game.joint_shape)
    calls: list[Callable[[], object]] = [
        lambda: soft_value(q, alpha),  # type: ignore[arg-type]
        lambda: boltzmann_policy(q, alpha),  # type: ignore[arg-type]
        lambda: soft_max(q, alpha),  # type: ignore[arg-type]
        lambda: soft_policy_value(q, pi, alpha),  # type: ignore[arg-type]
        lambda: soft_bellman_operator(game, q, alpha),  # type: ignore[arg-type]
        lambda: soft_policy_bellman_operator(game, q, pi, alpha),  # type: ignore[arg-type]
        lambda: soft_policy_evaluation(game, pi, alpha),  # type: ignore[arg-type]
        lambda: soft_value_iteration(game, alpha),  # type: ignore[arg-type]
        lambda: soft_policy_iteration(game, alpha),  # type: ignore[arg-type]
        lambda: importance_sampled_soft_value(q, alpha),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(ValueError, match="alpha"):
            call()


@pytest.mark.parametrize(
    ("policy", "match"),
    [
        ([[0.5, 0.5], [0.7, 0.7]], r"policy\[1\] \(state 1\) sums to 1\.4"),
        ([[1.5, -0.5], [0.5, 0.5]], r"policy\[0, 1\] = -0\.5 is a negative probability"),
        ([[0.5, 0.5], [math.nan, 0.5]], r"policy\[1, 0\] = nan is not finite"),
        ([[0.5, 0.5]], r"policy has shape \(1, 2\); expected \(2, 2\)"),
        ([["a", "b"], ["c", "d"]], "policy must be a numeric array"),
    ],
)
def test_policy_arguments_are_validated(policy: object, match: str) -> None:
    game = chain_game()
    with pytest.raises(ValueError, match=match):
        soft_policy_evaluation(game, policy, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=match):
        soft_policy_bellman_operator(game, np.zeros((2, 2)), policy, 1.0)  # type: ignore[arg-type]


def test_q_arguments_are_validated() -> None:
    game = chain_game()
    with pytest.raises(ValueError, match=r"Q has shape \(2, 3\); the game needs \(2, 2\)"):
        soft_bellman_operator(game, np.zeros((2, 3)), 1.0)
    with pytest.raises(ValueError, match=r"Q\[0, 1\] = inf is not finite"):
        soft_bellman_operator(game, [[0.0, math.inf], [0.0, 0.0]], 1.0)
    with pytest.raises(ValueError, match="at least one action axis"):
        soft_value(np.zeros(3), 1.0)
    with pytest.raises(ValueError, match="non-empty axes"):
        boltzmann_policy(np.zeros((2, 0)), 1.0)
    with pytest.raises(ValueError, match=r"Q\[0, 0\] = nan is not finite"):
        soft_value([[math.nan, 1.0]], 1.0)
    with pytest.raises(ValueError, match="Q0 has shape"):
        soft_value_iteration(game, 1.0, Q0=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="Q0"):
        soft_policy_evaluation(game, uniform_policy((2, 2)), 1.0, method="iterative", Q0=[[1.0]])


def test_solver_options_are_validated() -> None:
    game = chain_game()
    pi = uniform_policy(game.joint_shape)
    for tol in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match="tol"):
            soft_value_iteration(game, 1.0, tol)
    for max_iter in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="max_iter"):
            soft_value_iteration(game, 1.0, max_iter=max_iter)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="method"):
        soft_policy_evaluation(game, pi, 1.0, method="newton")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="solver"):
        soft_policy_evaluation(game, pi, 1.0, solver="cg")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="solver"):
        soft_policy_iteration(game, 1.0, solver="cg")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="policy0"):
        soft_policy_iteration(game, 1.0, policy0=[[1.0, 0.0]])
    with pytest.raises(ValueError, match="at least one sample"):
        importance_sampled_soft_value(np.zeros((2, 0)), 1.0)


# -------------------------------------------------------------- array-API genericity (torch)
def _torch() -> object:
    return pytest.importorskip("torch")


def test_importance_sampled_soft_value_closed_form_numpy() -> None:
    """M samples from the uniform proposal on [-1, 1]^d (log p = -d log 2):
    V = alpha (logsumexp(q / alpha + d log 2) - log M); for q = (0, 0) that is alpha d log 2."""
    q = np.zeros((3, 2))
    d = 2
    got = importance_sampled_soft_value(q, 0.5, -d * LOG2)
    np.testing.assert_allclose(got, np.full(3, 0.5 * d * LOG2), rtol=1e-15)
    # Stability at small alpha (log space): q = (1e3, 0), alpha = 1e-3 -> 1e3 + alpha (d log 2 -
    # log 2) with nothing overflowing.
    q2 = np.array([[1e3, 0.0]])
    np.testing.assert_allclose(
        importance_sampled_soft_value(q2, 1e-3, -d * LOG2), [1e3 + 1e-3 * (d - 1) * LOG2]
    )


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_importance_sampled_soft_value_on_torch_keeps_dtype_and_gradients(
    dtype_name: str,
) -> None:
    torch: Any = _torch()
    dtype = getattr(torch, dtype_name)
    q_np = np.random.default_rng(0).normal(size=(4, 16))
    q = torch.tensor(q_np, dtype=dtype, requires_grad=True)
    alpha, d = 0.3, 3
    v = importance_sampled_soft_value(q, alpha, -d * LOG2, axis=-1)
    assert v.dtype == dtype
    assert v.shape == (4,)
    expected = importance_sampled_soft_value(q_np, alpha, -d * LOG2, axis=-1)
    tol = 1e-5 if dtype_name == "float32" else 1e-13
    np.testing.assert_allclose(v.detach().numpy(), expected, rtol=tol, atol=tol)
    v.sum().backward()
    # d V / d q_j = softmax(q / alpha)_j (the constants do not move the weights).
    weights = boltzmann_policy(q_np, alpha)
    np.testing.assert_allclose(q.grad.numpy(), weights, rtol=tol, atol=tol)


def test_importance_sampled_soft_value_torch_gradcheck_with_per_sample_proposal() -> None:
    torch: Any = _torch()
    gen = torch.Generator().manual_seed(1)
    q = torch.randn(3, 5, dtype=torch.float64, generator=gen, requires_grad=True)
    log_p = torch.randn(3, 5, dtype=torch.float64, generator=gen, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda a, b: importance_sampled_soft_value(a, 0.7, b, axis=-1), (q, log_p)
    )
    # Against the definition alpha * (logsumexp(q / alpha - log p) - log M).
    ref = 0.7 * (torch.logsumexp(q / 0.7 - log_p, dim=-1) - math.log(5))
    torch.testing.assert_close(importance_sampled_soft_value(q, 0.7, log_p), ref)


def test_soft_max_on_torch_reduces_tuple_axes_and_handles_minus_infinity() -> None:
    torch: Any = _torch()
    x = torch.tensor(
        [[[0.0, -math.inf], [1.0, 2.0]], [[-math.inf, -math.inf], [-math.inf, -math.inf]]]
    )
    out = soft_max(x, 1.0, axis=(1, 2))  # log(0) = -inf for the all -inf slice
    expected0 = math.log(1.0 + math.e + math.e**2)
    assert out[0].item() == pytest.approx(expected0, rel=1e-6)
    assert out[1].item() == -math.inf  # all -inf: no NaN
    xn: FloatArray = x.numpy().astype(np.float64)
    with np.errstate(divide="ignore"):  # log(0) = -inf, the right answer for that slice
        out_np = soft_max(xn, 1.0, axis=(1, 2))
    np.testing.assert_allclose(out_np, [expected0, -math.inf], rtol=1e-15)


def test_log_boltzmann_policy_is_the_log_of_eq1_and_stays_finite_where_it_underflows() -> None:
    q = figure1_right().R
    np.testing.assert_allclose(np.exp(log_boltzmann_policy(q, 0.7)), boltzmann_policy(q, 0.7))
    # at alpha = 1e-8 the off-optimal cells have probability exp(-3e8) == 0.0 in float64, but
    # their log-probability is the exact finite value (0 - 3 - alpha log 2) / alpha
    log_pi = log_boltzmann_policy(q, 1e-8)
    assert boltzmann_policy(q, 1e-8)[0, 0, 1] == 0.0
    np.testing.assert_allclose(log_pi[0, 0, 1], -3.0 / 1e-8 - LOG2, rtol=1e-12)
    np.testing.assert_allclose(log_pi[0, 0, 0], -LOG2, atol=1e-6)
