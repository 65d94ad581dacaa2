"""Where joint actions lie on the differential games (paper Sec. 6): the measures shared by the
particle negotiations (:mod:`verification.figures`) and the amortized one
(:mod:`verification.amortized_negotiation`).

The reward of both games is ``r(u) = max(g_1(u), g_2(u))`` of two concave branches
(:class:`svnr_core.differential_games.DifferentialGame`); the *basin* of an optimum is the set
of joint actions whose active branch is the one that peaks there.  On Max of Three ``g_1`` peaks
at the local optimum ``(-5, -5, 3)`` (worth 0) and ``g_2`` at the global one ``(7, 7, -4)``
(worth 10).

This module sits below both users so that neither imports the other for these few functions.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from svnr_core.differential_games import DifferentialGame

__all__ = [
    "GLOBAL_OPTIMUM",
    "LOCAL_OPTIMUM",
    "FloatArray",
    "basin_masses",
    "low_reward_mass",
    "max_of_three_end_measures",
]

FloatArray = NDArray[np.float64]

#: The local and the global optimum of Max of Three.
LOCAL_OPTIMUM = np.array([-5.0, -5.0, 3.0])
GLOBAL_OPTIMUM = np.array([7.0, 7.0, -4.0])


def basin_masses(game: DifferentialGame, u: FloatArray) -> tuple[float, float]:
    """Fractions of joint actions whose active branch is ``g1`` (optimum near ``(-5, -5, 3)``)
    and ``g2`` (the other optimum): the mass "near each optimum".

    A tie ``g1 = g2`` counts for ``g1``, as the reward's gradient does."""
    g1, g2 = (np.asarray(g) for g in game._branches(u, np))
    first = float(np.mean(g1 >= g2))
    return first, 1.0 - first


def low_reward_mass(game: DifferentialGame, u: FloatArray) -> float:
    """Fraction of joint actions worth less than 0 (mixed corners of the action box)."""
    return float(np.mean(np.asarray(game.reward(u)) < 0.0))


def max_of_three_end_measures(game: DifferentialGame, u: FloatArray) -> dict[str, float]:
    """Where joint actions ``u [M, 3]`` (native units) lie on Max of Three: the fields
    ``frac_global`` / ``frac_local`` (within distance 1 of ``(7, 7, -4)`` / ``(-5, -5, 3)``),
    ``frac_global_basin`` (active branch ``g2``), ``frac_u0_global`` (``u_0 > 1``: agent 0 past
    the valley of its marginal), ``mean_reward`` and ``best_reward`` of the outcome dataclasses
    (:class:`verification.figures.max_of_three.MaxOfThreeOutcome`,
    :class:`verification.amortized_negotiation.AmortizedOutcome`)."""
    r = np.asarray(game.reward(u))
    return {
        "frac_global": float(np.mean(np.linalg.norm(u - GLOBAL_OPTIMUM, axis=1) < 1.0)),
        "frac_local": float(np.mean(np.linalg.norm(u - LOCAL_OPTIMUM, axis=1) < 1.0)),
        "frac_global_basin": basin_masses(game, u)[1],
        "frac_u0_global": float(np.mean(u[:, 0] > 1.0)),
        "mean_reward": float(r.mean()),
        "best_reward": float(r.max()),
    }
