"""Theorem 4.3 (policy iteration): alternating exact evaluation (Lemma 4.1) and Boltzmann
improvement (Lemma 4.2) converges to ``pi*`` with ``Q^{pi*} >= Q^pi`` for every ``pi``.

Properties: soft policy iteration reaches the fixed point of soft value iteration (within the
sum of the two reported error bounds), its iterates increase monotonically, and its ``Q``
dominates the soft Q-function of any joint policy.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from svnr_core.games import CooperativeGame, FloatArray
from svnr_core.soft_bellman import (
    boltzmann_policy,
    soft_policy_evaluation,
    soft_policy_iteration,
    soft_value_iteration,
    uniform_policy,
)
from verification.strategies import cooperative_games, policies, solve_slack, temperatures

pytestmark = pytest.mark.props


def _sup(x: FloatArray) -> float:
    return float(np.max(np.abs(x)))


@given(game=cooperative_games(), alpha=temperatures())
def test_soft_policy_iteration_reaches_the_soft_value_iteration_fixed_point(
    game: CooperativeGame, alpha: float
) -> None:
    pi_sol = soft_policy_iteration(game, alpha, 1e-9)
    vi_sol = soft_value_iteration(game, alpha, 1e-8)
    assert pi_sol.converged
    assert vi_sol.converged
    slack = 2 * solve_slack(game, alpha)
    assert _sup(pi_sol.Q - vi_sol.Q) <= pi_sol.error_bound + vi_sol.error_bound + slack
    # Both return the Boltzmann policy of their Q; pi is 1/alpha-Lipschitz in Q (per entry of
    # the exponent), so the policies agree to (error bounds) / alpha in the exponent.
    gap = (pi_sol.error_bound + vi_sol.error_bound + slack) / alpha
    np.testing.assert_allclose(pi_sol.policy, vi_sol.policy, rtol=0, atol=np.expm1(2 * gap))


@given(data=st.data(), game=cooperative_games(), alpha=temperatures())
def test_soft_policy_iteration_iterates_increase_monotonically(
    data: st.DataObject, game: CooperativeGame, alpha: float
) -> None:
    pi = data.draw(st.one_of(st.just(uniform_policy(game.joint_shape)), policies(game.joint_shape)))
    previous = soft_policy_evaluation(game, pi, alpha).Q
    for _ in range(4):
        current = soft_policy_evaluation(game, boltzmann_policy(previous, alpha), alpha).Q
        assert np.all(current >= previous - 2 * solve_slack(game, alpha))
        previous = current


@given(data=st.data(), game=cooperative_games(), alpha=temperatures())
def test_soft_policy_iteration_q_dominates_every_joint_policy(
    data: st.DataObject, game: CooperativeGame, alpha: float
) -> None:
    pi = data.draw(policies(game.joint_shape))
    star = soft_policy_iteration(game, alpha, 1e-9)
    other = soft_policy_evaluation(game, pi, alpha)
    assert np.all(other.Q - star.error_bound - 2 * solve_slack(game, alpha) <= star.Q)
