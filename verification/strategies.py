"""Hypothesis strategies that build *valid* objects of the tabular core directly.

No ``assume``: transition rows and joint policies are normalised draws of non-negative weights,
with one entry per row forced positive, so every draw is valid and zeros (sparse rows,
deterministic policies, the ``0 log 0`` convention) are exercised too.  Sizes stay small
(1-3 agents, 1-4 actions each, 1-4 states, ``gamma`` in ``[0, 0.95]`` by default) so that each
property runs in milliseconds; all bounds are keyword arguments.

Also here: :func:`float_slack`, the one place that turns a magnitude into the floating-point
slack the properties allow (see its docstring for the error model).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from svnr_core.games import CooperativeGame, FloatArray

EPS = float(np.finfo(np.float64).eps)

__all__ = [
    "EPS",
    "action_counts",
    "cooperative_games",
    "float_slack",
    "joint_shapes",
    "policies",
    "q_bound",
    "q_tables",
    "reward_entropy_scale",
    "solve_slack",
    "stochastic_rows",
    "temperatures",
]


def float_slack(scale: float, factor: float = 64.0) -> float:
    """Absolute slack ``factor * eps * scale`` for a float64 computation on numbers of size
    ``scale``.

    Error model: each operation of the soft Bellman code (a shifted log-sum-exp, a dot product
    of at most 4 terms with non-negative weights that sum to 1, a multiply-add) loses at most a
    few ulps of its largest operand; chained, the result is within ``c * eps * scale`` of exact
    arithmetic with ``c`` about 10.  ``factor = 64`` covers that with margin while staying
    ``~1e-14 * scale``, far below any violation a wrong formula would produce.  Callers that
    solve linear systems multiply ``scale`` by the condition number they use.
    """
    return factor * EPS * max(scale, 1.0)


# ----------------------------------------------------------------------------- shapes
def action_counts(max_agents: int = 3, max_actions: int = 4) -> st.SearchStrategy[tuple[int, ...]]:
    """``(|U_1|, ..., |U_N|)`` with ``1 <= N <= max_agents`` and ``1 <= |U_i| <= max_actions``."""
    return st.lists(st.integers(1, max_actions), min_size=1, max_size=max_agents).map(tuple)


@st.composite
def joint_shapes(
    draw: st.DrawFn, max_states: int = 4, max_agents: int = 3, max_actions: int = 4
) -> tuple[int, ...]:
    """``(|S|, |U_1|, ..., |U_N|)``: the shape of ``Q``, ``R`` and joint policies."""
    n_states = draw(st.integers(1, max_states))
    return (n_states, *draw(action_counts(max_agents, max_actions)))


def temperatures(min_value: float = 1e-3, max_value: float = 10.0) -> st.SearchStrategy[float]:
    """Temperatures ``alpha`` drawn uniformly in ``log alpha`` over ``[min_value, max_value]``."""
    lo, hi = math.log(min_value), math.log(max_value)
    return st.floats(lo, hi).map(lambda t: min(max(math.exp(t), min_value), max_value))


# ------------------------------------------------------------------------------ arrays
@st.composite
def stochastic_rows(draw: st.DrawFn, shape: tuple[int, ...], axes: int = 1) -> FloatArray:
    """Non-negative arrays of ``shape`` whose last ``axes`` axes sum to 1 (one entry forced > 0).

    Weights are 0 with high probability (sparse rows, deterministic policies) or in
    ``[1e-3, 1]``; within each row one drawn entry gets weight 1 so no row is empty.
    """
    lead = shape[: len(shape) - axes]
    n_row = math.prod(shape[len(shape) - axes :])
    weights = draw(
        hnp.arrays(
            np.float64,
            (*lead, n_row),
            elements=st.one_of(st.just(0.0), st.floats(1e-3, 1.0)),
        )
    )
    keep = draw(hnp.arrays(np.int64, lead, elements=st.integers(0, n_row - 1)))
    np.put_along_axis(weights, keep[..., np.newaxis], 1.0, axis=-1)
    rows: FloatArray = weights / weights.sum(axis=-1, keepdims=True)
    return rows.reshape(shape)


def q_tables(shape: tuple[int, ...], bound: float = 10.0) -> st.SearchStrategy[FloatArray]:
    """Finite tables of ``shape`` with entries in ``[-bound, bound]``."""
    return hnp.arrays(np.float64, shape, elements=st.floats(-bound, bound))


def policies(shape: tuple[int, ...]) -> st.SearchStrategy[FloatArray]:
    """Joint policies ``pi[s, u_1, ..., u_N]`` (each state's slice sums to 1; zeros allowed)."""
    return stochastic_rows(shape, axes=len(shape) - 1)


@st.composite
def cooperative_games(
    draw: st.DrawFn,
    *,
    max_states: int = 4,
    max_agents: int = 3,
    max_actions: int = 4,
    min_gamma: float = 0.0,
    max_gamma: float = 0.95,
    reward_bound: float = 10.0,
) -> CooperativeGame:
    """Valid :class:`CooperativeGame` s; ``gamma`` is one of the endpoints or in between."""
    shape = draw(joint_shapes(max_states, max_agents, max_actions))
    n_states = shape[0]
    p = draw(stochastic_rows((*shape, n_states)))
    r = draw(q_tables(shape, reward_bound))
    gamma = draw(
        st.one_of(st.sampled_from([min_gamma, max_gamma]), st.floats(min_gamma, max_gamma))
    )
    return CooperativeGame(p, r, gamma)


def reward_entropy_scale(game: CooperativeGame, alpha: float) -> float:
    """``max |R| + alpha log |U|``: bounds one step of reward plus entropy bonus.

    Soft values of any policy satisfy ``|Q^pi| <= scale / (1 - gamma)``
    (:func:`q_bound`); the properties size their floating-point slack with it.
    """
    return float(np.max(np.abs(game.R))) + alpha * math.log(game.n_joint_actions)


def q_bound(game: CooperativeGame, alpha: float) -> float:
    """``(max |R| + alpha log |U|) / (1 - gamma)``: a bound on ``|Q^pi|`` and ``|Q*|``."""
    return reward_entropy_scale(game, alpha) / (1.0 - game.gamma)


def solve_slack(game: CooperativeGame, alpha: float) -> float:
    """Slack for a ``Q`` obtained by a linear solve or by iterating to the fixed point.

    ``I - gamma P_pi`` has ``||.||_inf``-condition number ``<= (1 + gamma) / (1 - gamma)``; an LU
    solve of ``|S|`` unknowns has a forward error ``<= |S| * cond * eps * |V|`` (and value
    iteration accumulates per-sweep rounding into ``eps * |Q| / (1 - gamma)``, smaller).  Both
    are below ``float_slack(|S| * cond * q_bound)``.
    """
    cond = (1.0 + game.gamma) / (1.0 - game.gamma)
    return float_slack(game.n_states * cond * q_bound(game, alpha))
