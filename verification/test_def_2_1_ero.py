"""Definition 2.1 (executed relative over-generalization), against brute force.

``lhs = max_{pi_i(u_i | u_{-i})} U^{pi_i prod_{j != i} bar pi_j}``: the properties enumerate every
deterministic conditional policy (a map ``u_{-i} -> u_i``; at most ``3^3`` for the sizes drawn)
and random stochastic ones, and compare with the closed form of
:func:`svnr_core.reasoning.ero_verdict`; ``rhs = U^{prod_j bar pi_j}`` is evaluated directly.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from svnr_core.games import FloatArray, matrix_game
from svnr_core.reasoning import ero_report, ero_verdict, product_of
from verification._factorization_strategies import joints, matrix_payoffs

pytestmark = pytest.mark.props

#: Utilities are sums of <= 27 products of probabilities and payoffs bounded by 3: round-off
#: stays below 1e-13.
U_TOL = 1e-10


def _executed_policies(data: st.DataObject, shape: tuple[int, ...]) -> list[FloatArray]:
    return [data.draw(joints((a,), positive=data.draw(st.booleans()))) for a in shape]


def _utility_with_conditional(
    payoff: FloatArray, policies: list[FloatArray], agent: int, cond: FloatArray
) -> float:
    """``U`` when agent plays ``cond[u_i, u_{-i}]`` (full joint layout) against the others."""
    others = [np.ones(1) if j == agent else p for j, p in enumerate(policies)]
    e_others = product_of(others)  # axis `agent` has length 1
    return float((e_others * cond * payoff).sum())


# 3 agents x 2 actions (2^4 maps) or 2 agents x 3 actions (3^3 maps): brute force stays cheap
small_payoffs = st.one_of(matrix_payoffs(max_agents=3, max_actions=2), matrix_payoffs(2, 3))


@given(data=st.data(), payoff=small_payoffs)
def test_ero_lhs_equals_best_deterministic_conditional_policy(
    data: st.DataObject, payoff: FloatArray
) -> None:
    shape = payoff.shape
    policies = _executed_policies(data, shape)
    executed = product_of(policies)
    game = matrix_game(payoff)
    i = data.draw(st.integers(0, len(shape) - 1))
    other_shape = shape[:i] + shape[i + 1 :]
    n_ctx = math.prod(other_shape)
    best = -np.inf
    for choice in itertools.product(range(shape[i]), repeat=n_ctx):
        cond = np.zeros((shape[i], n_ctx))
        cond[list(choice), np.arange(n_ctx)] = 1.0
        cond = np.moveaxis(cond.reshape((shape[i], *other_shape)), 0, i)
        best = max(best, _utility_with_conditional(payoff, policies, i, cond))
    v = ero_verdict(game, executed, i)
    assert abs(v.lhs - best) <= U_TOL
    assert abs(v.rhs - float((executed * payoff).sum())) <= U_TOL
    assert v.gap >= -U_TOL
    assert v.holds == (best - v.rhs > v.tol)


@given(data=st.data(), payoff=matrix_payoffs())
def test_no_stochastic_conditional_policy_beats_the_ero_lhs(
    data: st.DataObject, payoff: FloatArray
) -> None:
    shape = payoff.shape
    policies = _executed_policies(data, shape)
    i = data.draw(st.integers(0, len(shape) - 1))
    w = data.draw(joints(shape))
    cond = w / w.sum(axis=i, keepdims=True)
    v = ero_verdict(matrix_game(payoff), product_of(policies), i)
    assert _utility_with_conditional(payoff, policies, i, cond) <= v.lhs + U_TOL


@given(payoff=matrix_payoffs())
def test_a_deterministic_optimal_joint_action_is_ero_free(payoff: FloatArray) -> None:
    best = np.unravel_index(int(np.argmax(payoff)), payoff.shape)
    policies = []
    for a, b in zip(payoff.shape, best, strict=True):
        p = np.zeros(a)
        p[b] = 1.0
        policies.append(p)
    assert not ero_report(matrix_game(payoff), product_of(policies)).holds
