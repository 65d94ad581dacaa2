"""Eq. 5 / App. E.4: exact conditional scores of the differential games' Boltzmann targets.

:class:`svnr_core.conditional_targets.DifferentialGameTarget` gives agent ``i`` the score of the
conditional ``pi_T(u_i | u_{C_i})`` of ``pi_T ~ exp(r / T)`` on the box, the agents outside
``S_i = {i} + C_i`` marginalised by a midpoint rule.  Claims checked:

* the quadrature conditional score is the derivative along ``u_i`` of the quadrature
  log-marginal ``L_S`` (second-order one-sided finite differences: where a node sits on the
  kink of ``r = max(g1, g2)`` it is a one-sided derivative), for nested sets ``C_i = {0..i}``
  and for arbitrary sets, on 2- and 3-agent games;
* with ``C_i`` = all other agents (nothing marginalised) it *is* the joint score
  ``d r / d u_i / T``, bit for bit, and ``L_S = r / T``;
* the score depends on the particle only through ``u_{S_i}`` (the marginalised coordinates of
  the particle are ignored): it is a function of the conditioning variables, as Eq. 5 requires;
* with everything marginalised but ``u_i`` and a temperature so high that ``r / T`` is nearly
  flat, ``L`` changes by at most ``(max r - min r) / T`` (a sanity bound on the normalisation).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from svnr_core.conditional_targets import DifferentialGameTarget
from svnr_core.differential_games import max_of_three, two_modalities

pytestmark = pytest.mark.props

FloatArray = NDArray[np.float64]

#: Quadrature cells for the properties: the identities below hold for any grid, so a coarse one
#: (16 cells, 256 nodes for two marginalised axes) keeps each example fast.
CELLS = 16


@st.composite
def game_targets(draw: st.DrawFn) -> DifferentialGameTarget:
    """Max of Three (any of the paper's ``s2``) or Two Modalities, with 2 or 3 agents."""
    n = draw(st.sampled_from([2, 3]))
    kind = draw(st.sampled_from(["max_of_three", "two_modalities"]))
    if kind == "max_of_three":
        game = max_of_three(draw(st.sampled_from([1.5, 2.0, 3.0])), n_agents=n)
    else:
        game = two_modalities(n_agents=n)
    return DifferentialGameTarget(game, cells=CELLS)


@st.composite
def points(draw: st.DrawFn, n: int, margin: float = 0.0) -> FloatArray:
    """``[M, n]`` joint actions inside ``[-10 + margin, 10 - margin]^n``."""
    m = draw(st.integers(1, 4))
    lim = 10.0 - margin
    flat = draw(st.lists(st.floats(-lim, lim), min_size=m * n, max_size=m * n))
    return np.asarray(flat, dtype=np.float64).reshape(m, n)


@st.composite
def agent_and_condition(draw: st.DrawFn, n: int) -> tuple[int, list[int]]:
    """An agent ``i`` and a set ``C_i``: the nested ``{0..i}`` or any subset of the others."""
    i = draw(st.integers(0, n - 1))
    if draw(st.booleans()):
        return i, list(range(i + 1))
    others = [j for j in range(n) if j != i]
    return i, draw(st.lists(st.sampled_from(others), unique=True)) if others else []


@given(data=st.data(), target=game_targets(), temperature=st.floats(0.5, 50.0))
def test_eq5_conditional_score_is_the_derivative_of_the_log_marginal(
    data: st.DataObject, target: DifferentialGameTarget, temperature: float
) -> None:
    n = target.game.n_agents
    u = data.draw(points(n, margin=0.01))
    i, cond = data.draw(agent_and_condition(n))
    keep = sorted({i, *cond})
    score = target.conditional_score(u, [i], cond, temperature)[:, 0]
    delta = 1e-5

    def log_marginal_at(step: float) -> FloatArray:
        moved = u.copy()
        moved[:, i] += step * delta
        return target.log_marginal(moved, keep, temperature)

    at = {k: log_marginal_at(k) for k in (-2.0, -1.0, 0.0, 1.0, 2.0)}
    # Second-order one-sided differences from the left and from the right.  The nodes do not
    # move with u_i, so L_S is a log-sum-exp of quadratics in u_i, smooth except where a node
    # crosses the kink g1 = g2 of r = max(g1, g2); there the score (the active branch's
    # gradient, ties to g1) is a one-sided derivative, so it must match the left or the right
    # difference (a kink can sit on one side only, barring two kinks within 2e-5).
    left = (3 * at[0.0] - 4 * at[-1.0] + at[-2.0]) / (2 * delta)
    right = (-3 * at[0.0] + 4 * at[1.0] - at[2.0]) / (2 * delta)
    # Truncation delta^2 |L'''| / 3 with |L'''| <= (2 max|dr/du_i| / T)^3 ~ 1e5 for T >= 0.5:
    # <= 4e-6; rounding ~ 4 eps |L| / delta ~ 4e-16 * 200 / 1e-5 ~ 1e-8.
    tol = 1e-5 + 1e-6 * np.abs(score)
    err = np.minimum(np.abs(score - left), np.abs(score - right))
    assert np.all(err <= tol), (score, left, right)


@given(data=st.data(), target=game_targets(), temperature=st.floats(0.05, 100.0))
def test_eq5_full_condition_gives_the_joint_score(
    data: st.DataObject, target: DifferentialGameTarget, temperature: float
) -> None:
    n = target.game.n_agents
    u = data.draw(points(n))
    i = data.draw(st.integers(0, n - 1))
    r, grad = target.game.reward_and_grad(u)
    others = [j for j in range(n) if j != i]
    for cond in (others, list(range(n))):  # with or without i itself (nested sets contain it)
        score = target.conditional_score(u, [i], cond, temperature)
        np.testing.assert_array_equal(score[:, 0], grad[:, i] / temperature)
    np.testing.assert_array_equal(
        target.log_marginal(u, list(range(n)), temperature), r / temperature
    )


@given(data=st.data(), target=game_targets(), temperature=st.floats(0.1, 20.0))
def test_eq5_conditional_score_ignores_the_marginalised_coordinates(
    data: st.DataObject, target: DifferentialGameTarget, temperature: float
) -> None:
    n = target.game.n_agents
    u = data.draw(points(n))
    i, cond = data.draw(agent_and_condition(n))
    rest = [j for j in range(n) if j != i and j not in cond]
    moved = u.copy()
    moved[:, rest] = data.draw(points(n))[:1, rest] if rest else moved[:, rest]
    a = target.conditional_score(u, [i], cond, temperature)
    b = target.conditional_score(moved, [i], cond, temperature)
    np.testing.assert_array_equal(a, b)


@given(data=st.data(), target=game_targets(), temperature=st.floats(1e3, 1e5))
def test_eq5_log_marginal_flattens_at_high_temperature(
    data: st.DataObject, target: DifferentialGameTarget, temperature: float
) -> None:
    n = target.game.n_agents
    u = data.draw(points(n))
    i = data.draw(st.integers(0, n - 1))
    logm = target.log_marginal(u, [i], temperature)
    # L(u_i) = log ∫ exp(r / T) dv lies between (n - 1) log 20 + min r / T and ... + max r / T on
    # the box (r in [reward_lower_bound, optimum_value]); the midpoint rule keeps those bounds.
    base = (n - 1) * np.log(20.0)
    lo = base + target.game.reward_lower_bound / temperature
    hi = base + target.game.optimum_value / temperature
    assert np.all(logm >= lo - 1e-12)
    assert np.all(logm <= hi + 1e-12)
