"""Eq. 1 of the paper: the soft value and the Boltzmann joint policy it normalises.

``V(s) = alpha log sum_u exp(Q(s, u) / alpha)`` and ``pi_alpha(u|s) = exp((Q - V) / alpha)``.
Properties: the sandwich ``max <= V <= max + alpha log |U|`` (also at the extremes of the
stability contract: ``|Q| <= 1e8``, ``alpha >= 1e-8``), the limits ``alpha -> 0`` (greedy policy,
uniform over ties) and ``alpha -> infinity`` (uniform policy), the Gibbs variational principle
(``V`` is the largest entropy-regularised value, attained by ``pi_alpha`` only), and the
array-API genericity (torch tensors give the numpy numbers; the importance-sampled estimator of
Eq. 11 is exact for a full enumeration).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from svnr_core.games import FloatArray
from svnr_core.soft_bellman import (
    boltzmann_policy,
    importance_sampled_soft_value,
    soft_max,
    soft_policy_value,
    soft_value,
)
from verification.strategies import EPS, float_slack, joint_shapes, policies, q_tables, temperatures

pytestmark = pytest.mark.props


def _flat(x: FloatArray) -> FloatArray:
    return x.reshape(x.shape[0], -1)


@given(data=st.data(), alpha=temperatures(1e-3, 1e3))
def test_soft_value_lies_between_max_and_max_plus_alpha_log_U(
    data: st.DataObject, alpha: float
) -> None:
    shape = data.draw(joint_shapes())
    q = data.draw(q_tables(shape))
    v = soft_value(q, alpha)
    m = _flat(q).max(axis=1)
    width = alpha * math.log(_flat(q).shape[1])
    # The shifted sum is >= 1 exactly (the max term is exp(0) = 1) and <= |U|, and rounding is
    # monotone, so only a few ulps of |m| + width separate the computed V from the bounds.
    slack = float_slack(float(np.max(np.abs(m))) + width, factor=4.0)
    assert np.all(v >= m - slack)
    assert np.all(v <= m + width + slack)


@given(
    data=st.data(),
    alpha=st.one_of(st.sampled_from([1e-8, 1e8]), temperatures(1e-8, 1e8)),
)
def test_soft_value_is_finite_and_sandwiched_at_the_stability_extremes(
    data: st.DataObject, alpha: float
) -> None:
    """Contract: alpha down to 1e-8 and |Q| up to 1e8 give no overflow and no NaN."""
    shape = data.draw(joint_shapes())
    q = data.draw(q_tables(shape, bound=1e8))
    v = soft_value(q, alpha)
    pi = boltzmann_policy(q, alpha)
    assert np.all(np.isfinite(v))
    assert np.all(np.isfinite(pi))
    m = _flat(q).max(axis=1)
    width = alpha * math.log(_flat(q).shape[1])
    slack = float_slack(float(np.max(np.abs(m))) + width, factor=4.0)
    assert np.all(v >= m - slack)
    assert np.all(v <= m + width + slack)


@given(data=st.data(), alpha=temperatures(1e-3, 1e3))
def test_boltzmann_policy_is_a_distribution_equal_to_exp_q_minus_v_over_alpha(
    data: st.DataObject, alpha: float
) -> None:
    shape = data.draw(joint_shapes())
    q = data.draw(q_tables(shape))
    pi = boltzmann_policy(q, alpha)
    assert pi.shape == q.shape
    assert np.all(pi >= 0.0)
    n_u = _flat(q).shape[1]
    # A sum of |U| terms in [0, 1] rounds to within |U| ulps of 1.
    np.testing.assert_allclose(_flat(pi).sum(axis=1), 1.0, rtol=0, atol=n_u * EPS)
    v = soft_value(q, alpha)
    eq1 = np.exp((q - v.reshape((-1,) + (1,) * (q.ndim - 1))) / alpha)
    # The exponent (Q - V) / alpha carries an absolute error of a few ulps of (|Q| + |V|) / alpha,
    # which exp turns into that relative error; atol covers subnormal underflow.
    rel = float_slack((float(np.max(np.abs(q))) + float(np.max(np.abs(v)))) / alpha + n_u)
    np.testing.assert_allclose(pi, eq1, rtol=rel, atol=1e-300)


@given(data=st.data(), alpha=temperatures(1e-3, 1e3))
def test_boltzmann_mass_of_an_action_is_at_most_exp_of_minus_its_gap_over_alpha(
    data: st.DataObject, alpha: float
) -> None:
    """``pi(u|s) <= exp(-(max Q(s) - Q(s, u)) / alpha)``, since ``V >= max``: the rate of the
    ``alpha -> 0`` limit."""
    shape = data.draw(joint_shapes())
    q = _flat(data.draw(q_tables(shape)))
    pi = boltzmann_policy(q, alpha)
    gap = q.max(axis=1, keepdims=True) - q
    assert np.all(pi <= np.exp(-gap / alpha) * (1.0 + 8 * EPS))


@given(data=st.data(), alpha=st.floats(1e-8, 0.02))
def test_boltzmann_policy_tends_to_greedy_uniform_over_ties_as_alpha_to_zero(
    data: st.DataObject, alpha: float
) -> None:
    """Integer-valued Q (ties are frequent, gaps >= 1): off-argmax mass <= |U| exp(-1/alpha)
    <= 64 exp(-50) ~ 1e-20, so the policy equals the greedy one up to rounding."""
    shape = data.draw(joint_shapes())
    q = _flat(data.draw(q_tables(shape, bound=5.0)).round())
    pi = boltzmann_policy(q, alpha)
    argmax = q == q.max(axis=1, keepdims=True)
    greedy = argmax / argmax.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(pi, greedy, rtol=0, atol=1e-15)
    # V = max + alpha log(#ties) + alpha log(1 + off-argmax mass / #ties), the last term < 1e-21.
    expected_v = q.max(axis=1) + alpha * np.log(argmax.sum(axis=1))
    np.testing.assert_allclose(soft_value(q, alpha), expected_v, rtol=0, atol=float_slack(5.0))


@given(data=st.data(), alpha=temperatures(1e-2, 1e12))
def test_boltzmann_policy_tends_to_uniform_as_alpha_to_infinity(
    data: st.DataObject, alpha: float
) -> None:
    """``|U| pi(u|s)`` lies in ``[exp(-D/alpha), exp(D/alpha)]`` with ``D`` the spread of
    ``Q(s, .)``; both ends tend to 1 as ``alpha -> infinity``."""
    shape = data.draw(joint_shapes())
    q = _flat(data.draw(q_tables(shape)))
    pi = boltzmann_policy(q, alpha)
    n_u = q.shape[1]
    spread = (q.max(axis=1) - q.min(axis=1))[:, np.newaxis]
    tol = 1.0 + 4 * n_u * EPS  # normalising sum of |U| terms: |U| ulps
    with np.errstate(over="ignore"):  # exp(spread / alpha) = inf for small alpha: vacuous
        upper = np.exp(spread / alpha) * tol
    assert np.all(n_u * pi >= np.exp(-spread / alpha) / tol)
    assert np.all(n_u * pi <= upper)
    if alpha >= 1e9:  # spread <= 20: |U| pi within exp(2e-8) - 1 of 1
        np.testing.assert_allclose(n_u * pi, 1.0, rtol=0, atol=3e-8)


@given(data=st.data(), alpha=temperatures(1e-2, 1e2))
def test_soft_value_is_the_largest_entropy_regularized_value_attained_by_boltzmann(
    data: st.DataObject, alpha: float
) -> None:
    """Gibbs: ``sum_u pi (Q - alpha log pi) <= alpha log sum_u exp(Q / alpha)`` for every ``pi``,
    with equality at ``pi = boltzmann_policy(Q)`` (the step behind Lemma 4.2)."""
    shape = data.draw(joint_shapes())
    q = data.draw(q_tables(shape))
    pi = data.draw(policies(shape))
    v = soft_value(q, alpha)
    n_u = _flat(q).shape[1]
    # |U| products summed; each term is at most |Q| + alpha log |U| in size.
    slack = float_slack(n_u * (float(np.max(np.abs(q))) + alpha * math.log(n_u) + alpha))
    assert np.all(soft_policy_value(q, pi, alpha) <= v + slack)
    np.testing.assert_allclose(
        soft_policy_value(q, boltzmann_policy(q, alpha), alpha), v, rtol=0, atol=slack
    )


@given(data=st.data(), alpha=temperatures(1e-3, 1e3))
def test_soft_max_on_torch_tensors_equals_numpy(data: st.DataObject, alpha: float) -> None:
    torch = pytest.importorskip("torch")
    shape = data.draw(joint_shapes())
    q = _flat(data.draw(q_tables(shape)))
    got = soft_max(torch.from_numpy(q), alpha, axis=-1).numpy()
    # Same algorithm in the same precision; exp/log of two libraries differ by an ulp or so.
    np.testing.assert_allclose(got, soft_value(q, alpha), rtol=0, atol=float_slack(10.0 + alpha))


@given(data=st.data(), alpha=temperatures(1e-3, 1e3))
def test_importance_sampled_soft_value_is_exact_for_uniform_proposal_enumerating_U(
    data: st.DataObject, alpha: float
) -> None:
    """With the ``M = |U|`` joint actions as samples of the uniform proposal ``p = 1/|U|``,
    ``alpha (logsumexp(Q/alpha - log p) - log M) = alpha logsumexp(Q/alpha)`` exactly."""
    shape = data.draw(joint_shapes())
    q = _flat(data.draw(q_tables(shape)))
    n_u = q.shape[1]
    got = importance_sampled_soft_value(q, alpha, -math.log(n_u), axis=-1)
    np.testing.assert_allclose(
        got, soft_value(q, alpha), rtol=0, atol=float_slack(10.0 + alpha * math.log(n_u))
    )
