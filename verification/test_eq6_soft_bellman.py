"""Eq. 6 of the paper: the soft Bellman operators ``T`` (optimal soft value) and ``Gamma_pi``.

``(T Q)(s, u) = R(s, u) + gamma E_{s'}[alpha log sum_u' exp(Q(s', u') / alpha)]`` and
``(Gamma_pi Q)(s, u) = R(s, u) + gamma E_{s'}[sum_u' pi (Q - alpha log pi)]``.
Properties: sup-norm ``gamma``-contraction, monotonicity, translation ``T(Q + c) = TQ + gamma c``,
the ``alpha -> 0`` limit (the hard Bellman operator, within ``gamma alpha log |U|``),
``T Q = Gamma_{pi_alpha(Q)} Q`` (Eq. 6 with the Boltzmann policy of Eq. 1) and invariance to the
encoding of joint actions (N axes, one flattened axis, agents reordered).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from svnr_core.games import CooperativeGame, FloatArray
from svnr_core.soft_bellman import (
    boltzmann_policy,
    hard_bellman_operator,
    soft_bellman_operator,
    soft_policy_bellman_operator,
)
from verification.strategies import (
    EPS,
    cooperative_games,
    float_slack,
    policies,
    q_tables,
    temperatures,
)

pytestmark = pytest.mark.props

Q_BOUND = 100.0


def _sup(x: FloatArray) -> float:
    return float(np.max(np.abs(x)))


def _operator_slack(game: CooperativeGame, q_size: float, alpha: float) -> float:
    """Rounding of one application: a few ulps of ``|R| + gamma (|Q| + alpha log |U|)``
    (see ``float_slack``); comparisons of two applications double it."""
    scale = _sup(game.R) + game.gamma * (q_size + alpha * math.log(game.n_joint_actions))
    return 2.0 * float_slack(scale)


@given(data=st.data(), game=cooperative_games(), alpha=temperatures())
def test_soft_bellman_operator_is_a_gamma_contraction_in_sup_norm(
    data: st.DataObject, game: CooperativeGame, alpha: float
) -> None:
    q1 = data.draw(q_tables(game.joint_shape, Q_BOUND))
    q2 = data.draw(q_tables(game.joint_shape, Q_BOUND))
    lhs = _sup(soft_bellman_operator(game, q1, alpha) - soft_bellman_operator(game, q2, alpha))
    # In floating point the ratio lhs / ||q1 - q2|| reaches gamma (1 + 1e-15) when q1, q2 are
    # close: a relative slack of a few ulps plus the absolute rounding of both applications.
    bound = game.gamma * _sup(q1 - q2) * (1.0 + 8 * EPS)
    assert lhs <= bound + _operator_slack(game, Q_BOUND, alpha)


@given(data=st.data(), game=cooperative_games(), alpha=temperatures())
def test_policy_bellman_operator_is_a_gamma_contraction_in_sup_norm(
    data: st.DataObject, game: CooperativeGame, alpha: float
) -> None:
    pi = data.draw(policies(game.joint_shape))
    q1 = data.draw(q_tables(game.joint_shape, Q_BOUND))
    q2 = data.draw(q_tables(game.joint_shape, Q_BOUND))
    t1 = soft_policy_bellman_operator(game, q1, pi, alpha)
    t2 = soft_policy_bellman_operator(game, q2, pi, alpha)
    # Gamma_pi is affine with linear part gamma P pi; the sum over |U| actions adds |U| ulps.
    slack = game.n_joint_actions * _operator_slack(game, Q_BOUND, alpha)
    assert _sup(t1 - t2) <= game.gamma * _sup(q1 - q2) * (1.0 + 8 * EPS) + slack


@given(data=st.data(), game=cooperative_games(), alpha=temperatures())
def test_soft_bellman_operator_is_monotone(
    data: st.DataObject, game: CooperativeGame, alpha: float
) -> None:
    q1 = data.draw(q_tables(game.joint_shape, Q_BOUND))
    increase = data.draw(
        st.one_of(
            q_tables(game.joint_shape, 1.0).map(np.abs),  # small increments, incl. zeros
            q_tables(game.joint_shape, Q_BOUND).map(np.abs),
        )
    )
    q2 = q1 + increase
    t1 = soft_bellman_operator(game, q1, alpha)
    t2 = soft_bellman_operator(game, q2, alpha)
    assert np.all(t2 >= t1 - _operator_slack(game, 2 * Q_BOUND, alpha))


@given(
    data=st.data(),
    game=cooperative_games(),
    alpha=temperatures(),
    c=st.floats(-Q_BOUND, Q_BOUND),
)
def test_soft_bellman_operator_translates_constants_by_gamma(
    data: st.DataObject, game: CooperativeGame, alpha: float, c: float
) -> None:
    q = data.draw(q_tables(game.joint_shape, Q_BOUND))
    shifted = soft_bellman_operator(game, q + c, alpha)
    expected = soft_bellman_operator(game, q, alpha) + game.gamma * c
    np.testing.assert_allclose(
        shifted, expected, rtol=0, atol=_operator_slack(game, 2 * Q_BOUND, alpha)
    )


@given(data=st.data(), game=cooperative_games(), alpha=temperatures(1e-8, 10.0))
def test_soft_bellman_operator_tends_to_hard_bellman_as_alpha_to_zero(
    data: st.DataObject, game: CooperativeGame, alpha: float
) -> None:
    """``0 <= T_alpha Q - T_0 Q <= gamma alpha log |U|`` (the sandwich of Eq. 1 pushed through
    the expectation), so ``T_alpha -> T_0`` uniformly as ``alpha -> 0``."""
    q = data.draw(q_tables(game.joint_shape, Q_BOUND))
    diff = soft_bellman_operator(game, q, alpha) - hard_bellman_operator(game, q)
    slack = _operator_slack(game, Q_BOUND, alpha)
    assert np.all(diff >= -slack)
    assert np.all(diff <= game.gamma * alpha * math.log(game.n_joint_actions) + slack)


@given(data=st.data(), game=cooperative_games(), alpha=temperatures())
def test_soft_bellman_operator_is_policy_operator_of_the_boltzmann_policy(
    data: st.DataObject, game: CooperativeGame, alpha: float
) -> None:
    """Eq. 6 with the optimal soft value equals Eq. 6 with ``pi = pi_alpha(Q)`` (Eq. 1)."""
    q = data.draw(q_tables(game.joint_shape, Q_BOUND))
    t_opt = soft_bellman_operator(game, q, alpha)
    t_pi = soft_policy_bellman_operator(game, q, boltzmann_policy(q, alpha), alpha)
    slack = game.n_joint_actions * _operator_slack(game, Q_BOUND, alpha)
    np.testing.assert_allclose(t_pi, t_opt, rtol=0, atol=slack)


@given(data=st.data(), game=cooperative_games(), alpha=temperatures())
def test_soft_bellman_operator_is_invariant_to_flattening_the_joint_action_axes(
    data: st.DataObject, game: CooperativeGame, alpha: float
) -> None:
    q = data.draw(q_tables(game.joint_shape, Q_BOUND))
    flat = game.flattened()
    t_axes = soft_bellman_operator(game, q, alpha)
    t_flat = soft_bellman_operator(flat, q.reshape(flat.joint_shape), alpha)
    np.testing.assert_allclose(t_flat.reshape(game.joint_shape), t_axes, rtol=0, atol=0)


@given(data=st.data(), game=cooperative_games(), alpha=temperatures())
def test_soft_bellman_operator_is_invariant_to_the_order_of_agents(
    data: st.DataObject, game: CooperativeGame, alpha: float
) -> None:
    """Relabelling agents permutes the action axes of ``P``, ``R`` and ``Q`` alike."""
    perm = data.draw(st.permutations(range(game.n_agents)))
    axes = [0, *(1 + i for i in perm)]
    permuted = CooperativeGame(
        np.transpose(game.P, [*axes, game.n_agents + 1]), np.transpose(game.R, axes), game.gamma
    )
    q = data.draw(q_tables(game.joint_shape, Q_BOUND))
    t = soft_bellman_operator(game, q, alpha)
    t_perm = soft_bellman_operator(permuted, np.transpose(q, axes), alpha)
    # The log-sum-exp adds the same terms in another order: a few ulps.
    np.testing.assert_allclose(
        t_perm, np.transpose(t, axes), rtol=0, atol=_operator_slack(game, Q_BOUND, alpha)
    )
