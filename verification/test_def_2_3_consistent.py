"""Definition 2.3 (consistent reasoning) and what it buys.

* Negotiated reasoning with nested sets reasons about the others with the optimal opponent
  policy (training consistency) and executes what it reasons (execution consistency), at every
  temperature.
* Joint-sampling soft Q (MASQL-like) is training-consistent but execution-consistent only when
  ``pi*`` is the product of its marginals (zero total correlation).
* Consistent reasoning at a small temperature with a unique optimum implies ERO-freedom.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from svnr_core.factorization import NegotiationSets, kl_divergence
from svnr_core.games import FloatArray, matrix_game
from svnr_core.reasoning import joint_sampling_soft_q, marginals, negotiated_reasoning, product_of
from verification._factorization_strategies import (
    matrix_payoffs,
    nested_sets,
    unique_optimum_payoffs,
)

pytestmark = pytest.mark.props

alphas = st.floats(0.05, 5.0)

#: Reconstructing pi* from its conditionals and comparing distributions of <= 27 entries:
#: round-off ~1e-15; a structural inconsistency is >= 1e-6 for the draws here (see below).
TOL = 1e-9


@given(data=st.data(), payoff=matrix_payoffs(), alpha=alphas)
def test_nested_negotiated_reasoning_is_consistent(
    data: st.DataObject, payoff: FloatArray, alpha: float
) -> None:
    sets = data.draw(nested_sets(min_agents=payoff.ndim, max_agents=payoff.ndim))
    out = negotiated_reasoning(matrix_game(payoff), alpha, sets)
    report = out.consistency()
    for v in report.verdicts:
        assert v.training_gap <= TOL
        assert v.execution_gap <= TOL
    assert report.holds


@given(payoff=matrix_payoffs(), alpha=alphas)
def test_joint_sampling_is_execution_consistent_iff_optimal_policy_is_a_product(
    payoff: FloatArray, alpha: float
) -> None:
    out = joint_sampling_soft_q(matrix_game(payoff), alpha)
    report = out.consistency()
    assert all(v.training_gap <= TOL for v in report.verdicts)
    pi = out.optimal.policy
    total_correlation = kl_divergence(pi, product_of(marginals(pi)))
    # Pinsker: TV <= sqrt(TC / 2), and TV = 0 iff TC = 0; TC below 1e-20 is a product to round-off
    tv = max(v.execution_gap for v in report.verdicts)
    assert tv <= np.sqrt(total_correlation / 2) + TOL
    if total_correlation > 1e-12:
        assert tv > 0.0
    if tv > TOL:
        assert not report.holds


@given(data=st.data(), payoff=unique_optimum_payoffs(margin=0.5))
def test_consistent_reasoning_at_small_alpha_is_ero_free(
    data: st.DataObject, payoff: FloatArray
) -> None:
    # With a margin of 0.5 and alpha = 0.01 every sub-optimal joint action has probability
    # <= exp(-50) ~ 2e-22 under pi*, so the ERO gap is far below the verdict tolerance.
    sets = data.draw(nested_sets(min_agents=payoff.ndim, max_agents=payoff.ndim))
    out = negotiated_reasoning(matrix_game(payoff), 0.01, sets)
    assert out.consistency().holds
    assert not out.ero().holds


@given(payoff=matrix_payoffs(), alpha=alphas)
def test_strictly_nested_default_matches_any_nested_sets(payoff: FloatArray, alpha: float) -> None:
    game = matrix_game(payoff)
    default = negotiated_reasoning(game, alpha)
    full = negotiated_reasoning(game, alpha, NegotiationSets.full(payoff.ndim))
    np.testing.assert_allclose(default.executed, full.executed, rtol=0, atol=1e-12)
