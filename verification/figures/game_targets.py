"""The targets the agents follow in the particle negotiations on the differential games.

The target is the Boltzmann policy ``pi*(u) ~ exp(r(u) / alpha)`` (Eq. 1) of a stateless game.
Each agent ``i`` moves its coordinate ``u_i`` along a Stein direction built from a score, one of

* ``"joint"``: ``d log pi* / d u_i = (d r / d u_i) / alpha`` at the joint particles -- the score
  the amortized policy step uses (Eq. 9 / 13), exact only for full negotiation sets;
* ``"conditional"``: the exact Eq. 5 target ``grad_{u_i} log pi*(u_i | u_{C_i})``, the agents
  outside ``{i} + C_i`` marginalised by quadrature
  (:class:`svnr_core.conditional_targets.DifferentialGameTarget`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from svnr_core.conditional_targets import DEFAULT_CELLS, DifferentialGameTarget
from svnr_core.differential_games import DifferentialGame
from svnr_core.negotiation import ConditionalTarget, Target

__all__ = ["ScoreKind", "game_target", "negotiation_target"]

#: Which score each agent follows: ``"joint"`` (``d r / d u_i / alpha`` at the joint particles,
#: the Eq. 9 / 13 approximation) or ``"conditional"`` (Eq. 5 exactly, the later agents
#: marginalised by quadrature: :class:`svnr_core.conditional_targets.DifferentialGameTarget`).
ScoreKind = Literal["joint", "conditional"]


def game_target(game: DifferentialGame, alpha: float = 1.0) -> Callable[[Any], tuple[Any, Any]]:
    """``u -> (r(u) / alpha, grad r(u) / alpha)``: the Boltzmann target ``log pi* = r / alpha``."""

    def target(u: Any) -> tuple[Any, Any]:
        r, g = game.reward_and_grad(u)
        return r / alpha, g / alpha

    return target


def negotiation_target(
    game: DifferentialGame, score: ScoreKind, cells: int = DEFAULT_CELLS
) -> Target | ConditionalTarget:
    """What :func:`svnr_core.negotiation.negotiate` is given for ``score`` (at ``alpha = 1``;
    the negotiation divides by its own temperature schedule): :func:`game_target` for
    ``"joint"``, :class:`DifferentialGameTarget` with ``cells`` quadrature cells per
    marginalised axis for ``"conditional"``."""
    return game_target(game) if score == "joint" else DifferentialGameTarget(game, cells=cells)
