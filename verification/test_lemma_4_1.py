"""Lemma 4.1 (joint policy evaluation): iterating ``Gamma_pi`` converges to ``Q^pi``.

Properties: the exact evaluation (a linear solve, dense or sparse) is a fixed point of
``Gamma_pi`` with the residual it reports; iterative evaluation from any start reaches it within
its reported error bound; the sparse and dense solvers agree; soft value iteration (iterating the
optimal operator ``T``) returns a ``Q`` whose residual and error bound are what it claims.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from svnr_core.games import CooperativeGame, FloatArray
from svnr_core.soft_bellman import (
    soft_bellman_operator,
    soft_policy_bellman_operator,
    soft_policy_evaluation,
    soft_policy_iteration,
    soft_policy_value,
    soft_value_iteration,
)
from verification.strategies import (
    cooperative_games,
    float_slack,
    policies,
    q_bound,
    q_tables,
    solve_slack,
    temperatures,
)

pytestmark = pytest.mark.props

TOL = 1e-8  # far above the floating-point floor solve_slack ~ 1e-11 of these small games


def _sup(x: FloatArray) -> float:
    return float(np.max(np.abs(x)))


@given(data=st.data(), game=cooperative_games(), alpha=temperatures())
def test_exact_policy_evaluation_is_a_fixed_point_with_the_residual_it_reports(
    data: st.DataObject, game: CooperativeGame, alpha: float
) -> None:
    pi = data.draw(policies(game.joint_shape))
    sol = soft_policy_evaluation(game, pi, alpha, method="exact")
    residual = _sup(soft_policy_bellman_operator(game, sol.Q, pi, alpha) - sol.Q)
    # The reported residual is this very quantity, recomputed by the same operator.
    assert sol.residual == pytest.approx(residual, rel=0, abs=float_slack(q_bound(game, alpha)))
    assert sol.residual <= solve_slack(game, alpha)
    assert sol.converged
    np.testing.assert_array_equal(sol.policy, pi)
    np.testing.assert_allclose(
        sol.V, soft_policy_value(sol.Q, pi, alpha), rtol=0, atol=solve_slack(game, alpha)
    )


@given(data=st.data(), game=cooperative_games(), alpha=temperatures())
def test_iterated_policy_operator_converges_to_exact_evaluation_from_any_start(
    data: st.DataObject, game: CooperativeGame, alpha: float
) -> None:
    pi = data.draw(policies(game.joint_shape))
    q0 = data.draw(q_tables(game.joint_shape, 100.0))
    exact = soft_policy_evaluation(game, pi, alpha, method="exact")
    it = soft_policy_evaluation(game, pi, alpha, method="iterative", tol=TOL, Q0=q0)
    assert it.converged
    assert it.error_bound <= TOL
    # The bound is a guarantee on ||Q_it - Q^pi||; both sides carry rounding of a solve.
    slack = solve_slack(game, alpha) + float_slack(100.0 / (1.0 - game.gamma))
    assert _sup(it.Q - exact.Q) <= it.error_bound + slack


@given(data=st.data(), game=cooperative_games(), alpha=temperatures())
def test_sparse_and_dense_exact_evaluation_agree(
    data: st.DataObject, game: CooperativeGame, alpha: float
) -> None:
    pi = data.draw(policies(game.joint_shape))
    dense = soft_policy_evaluation(game, pi, alpha, solver="dense")
    sparse = soft_policy_evaluation(game, pi, alpha, solver="sparse")
    np.testing.assert_allclose(sparse.Q, dense.Q, rtol=0, atol=2 * solve_slack(game, alpha))


@given(game=cooperative_games(), alpha=temperatures())
def test_soft_value_iteration_returns_the_residual_and_error_bound_it_claims(
    game: CooperativeGame, alpha: float
) -> None:
    vi = soft_value_iteration(game, alpha, TOL)
    assert vi.converged
    assert vi.error_bound <= TOL
    residual = _sup(soft_bellman_operator(game, vi.Q, alpha) - vi.Q)
    assert vi.residual == pytest.approx(residual, rel=0, abs=float_slack(q_bound(game, alpha)))
    # The error bound against the true fixed point, obtained independently by exact policy
    # iteration (its own bound is far tighter: residual of one solve / (1 - gamma)).
    exact = soft_policy_iteration(game, alpha, 1e-10)
    assert exact.converged
    slack = 2 * solve_slack(game, alpha)
    assert _sup(vi.Q - exact.Q) <= vi.error_bound + exact.error_bound + slack
    if game.gamma == 0.0:
        assert vi.iterations == 1
        np.testing.assert_array_equal(vi.Q, game.R)
