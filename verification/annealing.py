"""The geometric annealing schedule of the Max of Three demonstrations (App. F.2).

Both the particle negotiations (:mod:`verification.figures.max_of_three`) and the amortized one
(:mod:`verification.amortized_negotiation`) lower the temperature of the target
``pi_k ~ exp(r / alpha_k)`` geometrically, one step per round,

.. math:: \\alpha_k = \\alpha_{start} (\\alpha_{end} / \\alpha_{start})^{k / (K - 1)},
          \\qquad k = 0 .. K - 1,

so ``alpha`` falls by the same factor every round, from the hot start where particles cross
between the basins to the cold end near the optima.  (The training schedules of the paper are in
:mod:`svnr_core.schedules`; this one is indexed by round with both ends fixed.)
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["geometric_schedule"]


def geometric_schedule(start: float, end: float, rounds: int) -> Callable[[int], float]:
    """``alpha_k = start (end / start)^(k / (rounds - 1))``: from ``start`` down to ``end``.

    ``rounds = 1`` gives the constant ``start`` (the exponent's denominator is at least 1)."""

    def alpha(k: int) -> float:
        return float(start * (end / start) ** (k / max(rounds - 1, 1)))

    return alpha
