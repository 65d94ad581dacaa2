"""Definition 2.2 (perceived relative over-generalization) and Eq. 3 (the KL chain rule).

Both sides of Def. 2.2, ``min_{pi_i} KL(pi_i rho_i || pi*)`` and the same with
``rho_i = pi*(u_{-i})``, are computed in closed form by :func:`svnr_core.reasoning.best_response`.
The properties check the closed forms against brute force: the minimiser attains the minimum
(direct KL of the perceived joint), no other individual policy does better (random candidates
and a fine grid for two actions), and PRO vanishes when ``rho_i`` is the optimal opponent policy.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import rel_entr

from svnr_core.factorization import kl_divergence
from svnr_core.games import FloatArray, matrix_game
from svnr_core.reasoning import (
    best_response,
    kl_chain_rule,
    opponent_marginal,
    optimal_joint_policy,
    perceived_joint,
    pro_verdict,
)
from verification._factorization_strategies import (
    joints,
    matrix_payoffs,
    opponent_shape,
    shapes_for,
)

pytestmark = pytest.mark.props

alphas = st.floats(0.3, 5.0)

#: KL values here are sums of <= 27 terms of size <= |log pi*| <= 2 * 3 / 0.3 + log 27 ~ 23, so
#: round-off is below 1e-12; a wrong closed form misses by far more.
KL_TOL = 1e-10


@given(data=st.data(), payoff=matrix_payoffs(), alpha=alphas)
def test_independent_closed_form_attains_its_minimum(
    data: st.DataObject, payoff: FloatArray, alpha: float
) -> None:
    opt = optimal_joint_policy(matrix_game(payoff), alpha)
    i = data.draw(st.integers(0, payoff.ndim - 1))
    rho = data.draw(joints(opponent_shape(payoff.shape, i)))
    br = best_response(opt.log_policy, i, rho, "independent")
    direct = kl_divergence(perceived_joint(br.policy, rho, i, "independent"), opt.policy)
    assert abs(direct - br.min_kl) <= KL_TOL


@given(data=st.data(), payoff=matrix_payoffs(), alpha=alphas)
def test_no_independent_policy_beats_the_closed_form(
    data: st.DataObject, payoff: FloatArray, alpha: float
) -> None:
    opt = optimal_joint_policy(matrix_game(payoff), alpha)
    i = data.draw(st.integers(0, payoff.ndim - 1))
    rho = data.draw(joints(opponent_shape(payoff.shape, i)))
    candidate = data.draw(joints((payoff.shape[i],), positive=data.draw(st.booleans())))
    br = best_response(opt.log_policy, i, rho, "independent")
    kl = kl_divergence(perceived_joint(candidate, rho, i, "independent"), opt.policy)
    assert kl >= br.min_kl - KL_TOL


@given(data=st.data(), payoff=matrix_payoffs(max_actions=2), alpha=alphas)
def test_pro_sides_match_grid_minimisation_for_two_actions(
    data: st.DataObject, payoff: FloatArray, alpha: float
) -> None:
    """Brute force both sides of Def. 2.2 over a grid of 4001 policies ``(t, 1 - t)``."""
    i = data.draw(st.integers(0, payoff.ndim - 1))
    if payoff.shape[i] != 2:  # one action: a single policy, both sides exact
        payoff = np.concatenate([payoff, payoff], axis=i)
    opt = optimal_joint_policy(matrix_game(payoff), alpha)
    rho = data.draw(joints(opponent_shape(payoff.shape, i)))

    t = np.linspace(0.0, 1.0, 4001)
    grid = np.stack([t, 1.0 - t], axis=-1)  # [4001, 2] candidate policies of agent i

    def grid_min(r: FloatArray) -> float:
        # perceived joints of all candidates at once, agent i's axis moved to the front
        pj = grid[(slice(None), slice(None)) + (np.newaxis,) * r.ndim] * r[np.newaxis, np.newaxis]
        target = np.moveaxis(opt.policy, i, 0)[np.newaxis]
        kl = rel_entr(pj, np.broadcast_to(target, pj.shape)).reshape(len(t), -1).sum(axis=1)
        return float(kl.min())

    verdict = pro_verdict(opt, i, rho, "independent")
    lhs, rhs = grid_min(rho), grid_min(opponent_marginal(opt.policy, i))
    # The grid contains the minimiser up to 1/4000; the objective is smooth with curvature at
    # most 1/(t(1-t)) near the interior optimum, so the grid minimum exceeds the true minimum by
    # at most ~ curvature * (1/8000)^2 / 2 < 1e-4 unless the optimum sits near 0 or 1, where the
    # KL's sqrt-type slope keeps the excess below 1e-3.
    assert verdict.lhs <= lhs + KL_TOL
    assert verdict.rhs <= rhs + KL_TOL
    assert lhs - verdict.lhs <= 1e-3
    assert rhs - verdict.rhs <= 1e-3


@given(data=st.data(), payoff=matrix_payoffs(), alpha=alphas)
def test_conditional_closed_form_is_the_opponent_divergence_and_cannot_be_beaten(
    data: st.DataObject, payoff: FloatArray, alpha: float
) -> None:
    opt = optimal_joint_policy(matrix_game(payoff), alpha)
    i = data.draw(st.integers(0, payoff.ndim - 1))
    rho = data.draw(joints(opponent_shape(payoff.shape, i)))
    br = best_response(opt.log_policy, i, rho, "conditional")
    direct = kl_divergence(perceived_joint(br.policy, rho, i, "conditional"), opt.policy)
    assert abs(direct - br.min_kl) <= KL_TOL
    assert abs(br.min_kl - kl_divergence(rho, opponent_marginal(opt.policy, i))) <= KL_TOL
    # a random conditional policy pi_i(u_i | u_{-i}): normalise a positive draw over axis i
    w = data.draw(joints(payoff.shape))
    cand = w / w.sum(axis=i, keepdims=True)
    kl = kl_divergence(perceived_joint(cand, rho, i, "conditional"), opt.policy)
    assert kl >= br.min_kl - KL_TOL


@given(data=st.data(), payoff=matrix_payoffs(), alpha=alphas)
def test_optimal_opponent_policy_means_no_pro(
    data: st.DataObject, payoff: FloatArray, alpha: float
) -> None:
    opt = optimal_joint_policy(matrix_game(payoff), alpha)
    i = data.draw(st.integers(0, payoff.ndim - 1))
    rho = opponent_marginal(opt.policy, i)
    for kind in ("independent", "conditional"):
        v = pro_verdict(opt, i, rho, kind)
        assert not v.holds
        assert abs(v.gap) <= KL_TOL


@given(data=st.data(), n=st.integers(1, 3))
def test_eq3_kl_chain_rule(data: st.DataObject, n: int) -> None:
    shape = data.draw(shapes_for(n, max_entries=64))
    p = data.draw(joints(shape, positive=data.draw(st.booleans())))
    q = data.draw(joints(shape))
    i = data.draw(st.integers(0, n - 1))
    t = kl_chain_rule(p, q, i)
    assert abs(t.total - (t.opponents + t.conditional)) <= KL_TOL
    assert t.opponents >= -KL_TOL
    assert t.conditional >= -KL_TOL
