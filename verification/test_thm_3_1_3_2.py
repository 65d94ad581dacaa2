"""Theorems 3.1 and 3.2: negotiated reasoning is PRO-free, and ERO-free as ``alpha -> 0``.

* Thm 3.1: when the negotiation's agreement equals ``pi*`` (nested sets, Thm C.1), no agent's
  perceived joint can move closer to ``pi*`` by knowing the optimal opponent policy: every PRO
  verdict is negative, for both kinds of individual policy.
* Thm 3.2: on games with a unique optimal joint action, nested negotiation at a small
  temperature executes it (utility equal to the optimum) and no agent can improve by knowing
  the others' actions.
* The contrast of Figure 1 in general: joint sampling (MASQL-like) is PRO-free, and its executed
  product of marginals never beats the negotiated agreement by more than the agreement's
  sub-optimal mass allows.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from svnr_core.games import FloatArray, matrix_game
from svnr_core.reasoning import (
    joint_sampling_soft_q,
    negotiated_reasoning,
    pro_report,
)
from verification._factorization_strategies import (
    matrix_payoffs,
    nested_sets,
    unique_optimum_payoffs,
)

pytestmark = pytest.mark.props

#: PRO sides are KL values of <= 27 terms: round-off below 1e-12 (see test_def_2_2_pro.py).
KL_TOL = 1e-10


@given(data=st.data(), payoff=matrix_payoffs(), alpha=st.floats(0.05, 5.0))
def test_thm_3_1_nested_negotiated_reasoning_is_pro_free(
    data: st.DataObject, payoff: FloatArray, alpha: float
) -> None:
    sets = data.draw(nested_sets(min_agents=payoff.ndim, max_agents=payoff.ndim))
    out = negotiated_reasoning(matrix_game(payoff), alpha, sets)
    report = out.pro()
    assert not report.holds
    for v in report.verdicts:
        assert abs(v.gap) <= KL_TOL
    # the same agreement with independent individual policies is PRO-free as well
    assert not pro_report(out.optimal, out.opponents, "independent").holds


@given(data=st.data(), payoff=unique_optimum_payoffs(margin=0.5), scale=st.floats(0.005, 0.02))
def test_thm_3_2_nested_negotiation_at_small_alpha_executes_the_optimal_joint_action(
    data: st.DataObject, payoff: FloatArray, scale: float
) -> None:
    # alpha <= 0.02 with margin >= 0.5: sub-optimal mass <= 26 exp(-25) ~ 4e-10 per unit of
    # payoff range (<= 11), so the utility is within 1e-8 of the optimum.
    sets = data.draw(nested_sets(min_agents=payoff.ndim, max_agents=payoff.ndim))
    out = negotiated_reasoning(matrix_game(payoff), scale, sets)
    assert out.executed_utility >= out.optimal_utility - 1e-8
    best = np.unravel_index(int(np.argmax(payoff)), payoff.shape)
    assert out.executed[best] >= 1.0 - 1e-9
    assert all(v.gap <= 1e-8 for v in out.ero().verdicts)


@given(payoff=unique_optimum_payoffs(margin=0.5))
def test_joint_sampling_never_executes_better_than_negotiation(payoff: FloatArray) -> None:
    game = matrix_game(payoff)
    for alpha in (1.0, 0.1, 0.01):
        neg = negotiated_reasoning(game, alpha)
        js = joint_sampling_soft_q(game, alpha)
        assert not js.pro().holds
        # No executed joint beats the optimum, and the agreement pi* misses it by at most its
        # sub-optimal mass (<= 26 exp(-0.5 / alpha)) times the payoff range.
        slack = 26 * np.exp(-0.5 / alpha) * float(np.ptp(payoff) + 1.0)
        assert js.executed_utility <= neg.executed_utility + slack
