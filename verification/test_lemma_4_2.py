"""Lemma 4.2 (policy improvement): ``pi' = pi_alpha(Q^pi)`` (Eq. 1 on the evaluated ``Q``)
satisfies ``Q^{pi'} >= Q^pi`` entrywise.

In the tabular setting the perceived joint policy is the joint Boltzmann policy itself (strict
nesting makes it representable, Thm C.1), so the improvement step is :func:`boltzmann_policy`.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from svnr_core.games import CooperativeGame
from svnr_core.soft_bellman import (
    boltzmann_policy,
    soft_policy_evaluation,
    soft_policy_iteration,
)
from verification.strategies import cooperative_games, policies, solve_slack, temperatures

pytestmark = pytest.mark.props


@given(data=st.data(), game=cooperative_games(), alpha=temperatures())
def test_soft_policy_improvement_does_not_decrease_q_anywhere(
    data: st.DataObject, game: CooperativeGame, alpha: float
) -> None:
    pi = data.draw(policies(game.joint_shape))
    before = soft_policy_evaluation(game, pi, alpha)
    improved = boltzmann_policy(before.Q, alpha)
    after = soft_policy_evaluation(game, improved, alpha)
    # Two independent solves, each within solve_slack of its exact Q.
    assert np.all(before.Q - 2 * solve_slack(game, alpha) <= after.Q)
    assert np.all(before.V - 2 * solve_slack(game, alpha) <= after.V)


@given(game=cooperative_games(), alpha=temperatures())
def test_soft_policy_improvement_leaves_the_optimum_unchanged(
    game: CooperativeGame, alpha: float
) -> None:
    """At the optimum improvement is idle: ``pi_alpha(Q*)`` evaluates back to ``Q*`` (within the
    error bound of the computed fixed point)."""
    star = soft_policy_iteration(game, alpha, 1e-10)
    again = soft_policy_evaluation(game, star.policy, alpha)
    slack = 2 * solve_slack(game, alpha)
    np.testing.assert_allclose(again.Q, star.Q, rtol=0, atol=star.error_bound + slack)
