"""Exact (up to discretisation) samples of a density on a box, drawn from a fine grid: the
reference the negotiated particles are compared with on the differential games.

For ``p ~ exp(log_density)`` on ``[-b, b]^d`` the box is cut into ``cells^d`` equal cells of
width ``h = 2 b / cells``; with ``c`` the cell centres,

.. math:: \\tilde p(x) = \\frac{p(c(x))}{h^d \\sum_{c'} p(c')}

is the piecewise-constant approximation of ``p`` and a sample of it draws a cell with probability
``p(c) / sum_{c'} p(c')`` (the Boltzmann law of Eq. 1 at temperature 1 over the centres) and
places the point uniformly inside that cell.  The error is that of the midpoint rule, small when
``h`` is small against the scale on which ``p`` varies (see :data:`GRID_CELLS`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from svnr_core.soft_bellman import boltzmann
from verification.game_measures import FloatArray

__all__ = ["GRID_CELLS", "Sampler", "grid_sampler"]

#: Cells per axis of the grid from which exact target samples are drawn on ``[-10, 10]^3``:
#: cell width 0.167, i.e. < 1/8 of the smallest standard deviation (1.41) of Two Modalities.
GRID_CELLS = 120

#: ``(size, rng) -> samples [size, dim]``.
Sampler = Callable[[int, np.random.Generator], FloatArray]


def grid_sampler(
    log_density: Callable[[FloatArray], FloatArray], dim: int, bound: float, cells: int = GRID_CELLS
) -> Sampler:
    """Exact-up-to-discretisation sampler of ``p ~ exp(log_density)`` on ``[-bound, bound]^dim``.

    The density is evaluated once at the centres of ``cells^dim`` equal cells; a sample draws a
    cell with probability proportional to ``p(centre)`` and places the point uniformly inside it:
    an exact sample of the piecewise-constant approximation of ``p``.
    """
    edges = np.linspace(-bound, bound, cells + 1)
    centres = 0.5 * (edges[:-1] + edges[1:])
    grid = np.stack(np.meshgrid(*([centres] * dim), indexing="ij"), axis=-1).reshape(-1, dim)
    logp = log_density(grid)
    # Inverse-CDF draws over the flattened cells: one evaluation of p, any number of samples.
    cdf = np.cumsum(boltzmann(logp, 1.0))
    half = bound / cells

    def sample(size: int, rng: np.random.Generator) -> FloatArray:
        # The last cumulative sum may round to just below 1; clamp so a draw above it still
        # picks the last cell.
        idx = np.minimum(np.searchsorted(cdf, rng.uniform(size=size)), len(cdf) - 1)
        return np.asarray(grid[idx] + rng.uniform(-half, half, size=(size, dim)))

    return sample
