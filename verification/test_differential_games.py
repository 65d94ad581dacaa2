"""Differential games (paper Sec. 6): properties of ``r(u) = max(g_1(u), g_2(u))``.

Claims checked, for every parameter setting and any number of agents:

* **max structure** -- ``r`` is the pointwise maximum of its two branches, each a separable
  concave quadratic (``r`` of the game equals the larger of the two one-branch games);
* **paper formula** -- the presets reproduce the paper's literal Sec. 6 expression for ``N = 3``
  (distance divided by ``s`` inside the square, not the older code's division of the square);
* **optimum** -- ``optimum_value`` bounds ``r`` on the box ``[-b, b]^N`` and is attained at
  ``optimum_action``; every listed local optimum is a local maximum; the presets' optima are the
  paper's ``10`` at ``(7, 7, -4)`` / ``(-5, -5, 3)`` and ``(7, 7, -3)``, and the Max-of-Three
  local optimum ``0`` at ``(-5, -5, 3)``;
* **gradient** -- ``reward_and_grad`` agrees with central finite differences and with torch
  autograd through the array-API ``reward`` away from the switching surface ``g_1 = g_2``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import NDArray

from svnr_core.differential_games import DifferentialGame, max_of_three, two_modalities

pytestmark = pytest.mark.props

FloatArray = NDArray[np.float64]


def _f(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Finite floats in ``[lo, hi]``."""
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@st.composite
def games(draw: st.DrawFn) -> DifferentialGame:
    """Any valid game: 2-5 agents, centres partly outside the box (to exercise clipping)."""
    n = draw(st.integers(2, 5))
    centre = hnp.arrays(np.float64, n, elements=_f(-13.0, 13.0))
    return DifferentialGame(
        n_agents=n,
        centre1=tuple(draw(centre)),
        scale1=draw(_f(0.5, 5.0)),
        height1=draw(_f(0.1, 2.0)),
        c1=draw(_f(-10.0, 10.0)),
        centre2=tuple(draw(centre)),
        s2=draw(_f(0.5, 5.0)),
        h2=draw(_f(0.1, 2.0)),
        c2=draw(_f(-10.0, 10.0)),
        action_bound=draw(_f(1.0, 12.0)),
    )


@st.composite
def game_and_actions(draw: st.DrawFn) -> tuple[DifferentialGame, FloatArray]:
    """A game and a batch ``[M, N]`` of joint actions in its box."""
    game = draw(games())
    b = game.action_bound
    m = draw(st.integers(1, 8))
    u = draw(hnp.arrays(np.float64, (m, game.n_agents), elements=_f(-b, b)))
    return game, u


def _one_branch(game: DifferentialGame, keep: int) -> DifferentialGame:
    """The same game with the other branch pushed far below (so ``r`` is branch ``keep``)."""
    far = -1e12
    return dataclasses.replace(game, c2=far) if keep == 1 else dataclasses.replace(game, c1=far)


@given(game_and_actions())
def test_reward_is_the_max_of_the_two_concave_branches(
    data: tuple[DifferentialGame, FloatArray],
) -> None:
    game, u = data
    g1 = _one_branch(game, 1).reward(u)
    g2 = _one_branch(game, 2).reward(u)
    # identical operations on identical inputs: the max is exact
    np.testing.assert_array_equal(game.reward(u), np.maximum(g1, g2))
    # each branch is at most its constant, with equality exactly at its centre
    assert np.all(g1 <= game.c1)
    assert np.all(g2 <= game.c2)


def _paper_formula(
    u: FloatArray, c1: float, h2: float, s2: float, m2: tuple[float, ...], c2: float
) -> FloatArray:
    """Sec. 6 written out literally for three agents (a test oracle, not library code)."""
    u1, u2, u3 = u[..., 0], u[..., 1], u[..., 2]
    g1 = 0.8 * (-(((u1 + 5) / 3) ** 2) - ((u2 + 5) / 3) ** 2 - ((u3 - 3) / 3) ** 2) + c1
    x2, y2, z2 = m2
    g2 = h2 * (-(((u1 - x2) / s2) ** 2) - ((u2 - y2) / s2) ** 2 - ((u3 - z2) / s2) ** 2) + c2
    return np.maximum(g1, g2)


@given(
    u=hnp.arrays(np.float64, (6, 3), elements=_f(-10.0, 10.0)),
    s2=st.sampled_from([3.0, 2.0, 1.5]),
)
def test_presets_follow_the_papers_formula(u: FloatArray, s2: float) -> None:
    # both sides round differently (grouping of the three squares); 1e-12 relative to the
    # magnitude (|r| <= ~120 on the box) is far above that rounding and far below any real error
    np.testing.assert_allclose(
        max_of_three(s2).reward(u),
        _paper_formula(u, 0.0, 1.0, s2, (7.0, 7.0, -4.0), 10.0),
        rtol=1e-12,
        atol=1e-12,
    )
    np.testing.assert_allclose(
        two_modalities().reward(u),
        _paper_formula(u, 10.0, 1.0, 2.0, (7.0, 7.0, -3.0), 10.0),
        rtol=1e-12,
        atol=1e-12,
    )


def test_paper_formula_divides_inside_the_square_not_the_old_codes_way() -> None:
    # one unit s2 = 2 away from the Two-Modalities optimum (7, 7, -3) along u1 by distance 2:
    # paper: 10 - ((2)/2)^2 = 9;  old reference code: 10 - 2^2 / 2 = 8.
    assert two_modalities().reward(np.array([9.0, 7.0, -3.0])) == pytest.approx(9.0, abs=1e-12)


@given(game_and_actions())
def test_optimum_value_bounds_the_reward_and_is_attained(
    data: tuple[DifferentialGame, FloatArray],
) -> None:
    game, u = data
    opt = game.optimum_value
    slack = 1e-12 * max(1.0, abs(opt))  # same expression evaluated at different points: rounding
    assert np.all(game.reward(u) <= opt + slack)
    assert float(game.reward(game.optimum_action)) == opt
    assert np.all(np.abs(game.optimum_action) <= game.action_bound)
    assert game.optima[0][1] == opt
    assert game.reward_lower_bound <= float(np.min(game.reward(u))) + slack


@given(game=games(), direction=hnp.arrays(np.float64, 5, elements=_f(-1.0, 1.0)))
def test_listed_optima_are_local_maxima_in_the_box(
    game: DifferentialGame, direction: FloatArray
) -> None:
    d = direction[: game.n_agents]
    for u_star, value in game.optima:
        assert float(game.reward(u_star)) == value
        # Radius within which the other branch cannot overtake: a concave g_o lies below its
        # tangent, g_o(u* + t d) <= g_o(u*) + t |grad g_o(u*)| |d|, and the listed branch is
        # maximal on the box at u*.  So r(u* + t d) <= r(u*) for t |grad g_o| |d| <= margin.
        k = 1 if float(_one_branch(game, 1).reward(u_star)) == value else 2
        other = _one_branch(game, 2 if k == 1 else 1)
        g_o, grad_o = other.reward_and_grad(u_star)
        margin = value - float(g_o)
        if margin <= 0:  # listed as a global maximiser: nothing in the box is higher
            t = 1.0
        else:
            t = min(1.0, margin / (float(np.linalg.norm(grad_o) * np.linalg.norm(d)) + 1e-300))
        nearby = np.clip(u_star + t * d, -game.action_bound, game.action_bound)
        assert float(game.reward(nearby)) <= value + 1e-12 * max(1.0, abs(value))


@pytest.mark.parametrize("s2", [3.0, 2.0, 1.5])
def test_max_of_three_optima_are_the_papers(s2: float) -> None:
    game = max_of_three(s2)
    assert game.optimum_value == 10.0
    np.testing.assert_array_equal(game.optimum_action, [7.0, 7.0, -4.0])
    (best, v_best), (local, v_local) = game.optima
    np.testing.assert_array_equal(best, [7.0, 7.0, -4.0])
    np.testing.assert_array_equal(local, [-5.0, -5.0, 3.0])
    assert (v_best, v_local) == (10.0, 0.0)


def test_two_modalities_has_two_optima_of_value_ten() -> None:
    game = two_modalities()
    values = sorted((tuple(u), v) for u, v in game.optima)
    assert values == [((-5.0, -5.0, 3.0), 10.0), ((7.0, 7.0, -3.0), 10.0)]
    assert game.optimum_value == 10.0


@st.composite
def away_from_switch(draw: st.DrawFn) -> tuple[DifferentialGame, FloatArray]:
    """A game and one action whose branches differ by at least 1e-3 (``r`` smooth nearby)."""
    game = draw(games())
    b = game.action_bound
    u = draw(hnp.arrays(np.float64, game.n_agents, elements=_f(-b, b)))
    g1 = float(_one_branch(game, 1).reward(u))
    g2 = float(_one_branch(game, 2).reward(u))
    if abs(g1 - g2) < 1e-3:  # move off the switching surface by lifting the active branch
        game = (
            dataclasses.replace(game, c1=game.c1 + 1.0)
            if g1 >= g2
            else dataclasses.replace(game, c2=game.c2 + 1.0)
        )
    return game, u


@given(away_from_switch())
def test_gradient_matches_central_finite_differences(
    data: tuple[DifferentialGame, FloatArray],
) -> None:
    game, u = data
    _, grad = game.reward_and_grad(u)
    h = 1e-6
    fd = np.empty(game.n_agents)
    for i in range(game.n_agents):
        e = np.zeros(game.n_agents)
        e[i] = h
        fd[i] = (float(game.reward(u + e)) - float(game.reward(u - e))) / (2 * h)
    # the branches are quadratics, so the central difference has no truncation error; what is left
    # is rounding: ~eps * |r| / h <= 2e-16 * 1e3 / 1e-6 = 2e-7 (|r| <= ~1e3 for these parameters).
    # A step of 1e-6 cannot cross the switching surface: |g1 - g2| >= 1e-3 and |grad| <= ~200.
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-5)


@given(away_from_switch())
def test_gradient_matches_torch_autograd_of_the_array_api_reward(
    data: tuple[DifferentialGame, FloatArray],
) -> None:
    game, u = data
    r_np, grad = game.reward_and_grad(u)
    ut = torch.tensor(u, dtype=torch.float64, requires_grad=True)
    rt = game.reward(ut)
    rt.backward()
    assert ut.grad is not None
    # same float64 operations in a different library: agreement to a few ulps
    np.testing.assert_allclose(rt.detach().numpy(), r_np, rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(ut.grad.numpy(), grad, rtol=1e-12, atol=1e-12)
