"""The exact marginal of agent 0's action on Max of Three: why annealed particles stop short of
the global optimum (``max_of_three_u0_marginal`` in ``negotiation_numbers.json``).

With nested negotiation sets and the exact Eq. 5 conditional scores, agent 0 (``C_0 = {}``)
follows the marginal of its own action under ``pi_T ~ exp(r / T)`` on the box,

.. math:: \\pi_T(u_0) \\propto \\int\\!\\!\\int e^{r(u_0, u_1, u_2) / T}\\, du_1\\, du_2,

computed by quadrature (:meth:`svnr_core.conditional_targets.DifferentialGameTarget.log_marginal`).
While it has a local mode near ``u_0 = -5`` separated by a valley from the global side
(``u_0 > 1``), a cluster of particles at that mode is a fixed point of SVGD; the barrier of the
valley in nats says how firmly it holds them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from svnr_core.conditional_targets import DifferentialGameTarget
from svnr_core.differential_games import max_of_three
from verification.game_measures import GLOBAL_OPTIMUM, LOCAL_OPTIMUM

__all__ = ["U0Marginal", "max_of_three_u0_marginal"]


@dataclass(frozen=True)
class U0Marginal:
    """The exact marginal of agent 0's action under ``pi_T ~ exp(r / T)`` on the box (what agent
    0 follows with nested conditional scores), on a grid of ``u_0``: ``mass_global`` =
    ``P(u_0 > 1)`` (past the valley, towards the global optimum); ``barrier`` = log-density of
    the local mode near ``u_0 = -5`` minus that of the valley between ``-5`` and ``7`` (nats; 0
    or less: no local mode, nothing to cross)."""

    s2: float
    temperature: float
    mass_global: float
    barrier: float


def max_of_three_u0_marginal(s2: float, temperature: float, points: int = 400) -> U0Marginal:
    """:class:`U0Marginal` from :meth:`DifferentialGameTarget.log_marginal` (64 cells per
    marginalised axis) on ``points`` midpoints of ``[-10, 10]``."""
    game = max_of_three(s2)
    b = game.action_bound
    edges = np.linspace(-b, b, points + 1)
    x = 0.5 * (edges[:-1] + edges[1:])
    # Only u_0 is read by the marginal over agent 0; the other coordinates are placeholders.
    u = np.zeros((points, game.n_agents))
    u[:, 0] = x
    logm = DifferentialGameTarget(game).log_marginal(u, [0], temperature)
    # Normalised on the grid, shifted by the maximum so that small T does not overflow.
    p = np.exp(logm - logm.max())
    p /= p.sum()
    local = float(logm[np.argmin(np.abs(x - LOCAL_OPTIMUM[0]))])
    valley = float(logm[(x > LOCAL_OPTIMUM[0]) & (x < GLOBAL_OPTIMUM[0])].min())
    return U0Marginal(
        s2=s2, temperature=temperature, mass_global=float(p[x > 1.0].sum()), barrier=local - valley
    )
