"""Single-step continuous games that separate coordinated from uncoordinated execution.

The paper's differential games (:mod:`svnr_core.differential_games`) test whether a method finds
the better of two optima.  The games here test execution: their good joint actions need every
agent to pick the *same* mode, and agents that sample their own actions independently land in
between (the paper's ERO, Def. 2.1, read as a "factorization loss") unless their samplers
collapse onto one mode or share a negotiated sample.  In the symmetric game and the penalty game
the soft-optimal joint policy itself is a mixture over two equal optima, so even a perfect
critic leaves this gap: it is a property of the product of the marginals, not of learning.  The
climbing game adds the relative-overgeneralization trap (its optimum borders its penalties).

* :class:`SymmetricTwoOptima` -- ``N`` agents (3, as in the paper), actions in ``[-10, 10]``,

  .. math::

      r(u) = \\max\\big(g_-(u), g_+(u)\\big),\\qquad
      g_\\pm(u) = v - h \\sum_{i=1}^N \\Big(\\frac{u_i \\mp m}{s}\\Big)^2,

  i.e. the paper's ``max(g_1, g_2)`` with the two branches identical up to the mirror
  ``u -> -u`` (defaults ``m = 5, s = 3, h = 1, v = 10``).  ``r(-u) = r(u)`` and ``r`` is also
  invariant under any permutation of the agents, so the Boltzmann policy ``exp(r / alpha)``
  gives both optima the same mass at *every* alpha: it stays 50/50 as ``alpha -> 0``.
* :class:`ContinuousMatrixGame` -- 2 agents, actions in ``[-1, 1]`` split into ``A`` equal
  cells (``A = 3``); cell ``k`` has centre ``c_k = -b + (2k + 1) b / A``.  With the smoothstep
  ``S(t) = 3t^2 - 2t^3`` and ``x(u) = (u - c_0) / (c_1 - c_0)`` clipped to ``[0, A - 1]``, the
  weights ``phi_k(u) = 1 - S(min(|x(u) - k|, 1))`` are a partition of unity (a probability
  vector over the actions, mixing at most two neighbours), one-hot at the cell centres, and

  .. math::

      r(u_1, u_2) = \\sum_{j,k} R_{jk}\\, \\phi_j(u_1)\\, \\phi_k(u_2)
                  = \\phi(u_1)^\\top R\\, \\phi(u_2),

  the expected payoff of the mixed profile ``(phi(u_1), phi(u_2))``.  Hence ``r = R_jk`` at the
  centre of cell ``(j, k)`` (and on the plateau beyond the outer centres), ``min R <= r <=
  max R`` everywhere, the maxima are exactly the optimal cells' plateaus, and ``r`` is ``C^1``
  with a non-zero gradient between neighbouring centres.  ``interpolation="cells"`` gives the
  piecewise-constant reward ``R[cell(u_1), cell(u_2)]`` instead (zero gradient almost
  everywhere).  :func:`continuous_climbing` and :func:`continuous_penalty` use the matrices of
  Claus & Boutilier (1998) from :mod:`svnr_core.games`, unchanged.

Both expose the :class:`CoordinationGame` protocol: ``reward(u)`` (array API: numpy or torch,
autograd flows through it), ``optimum_value``, ``optima``, ``reward_lower_bound`` and
``episode_figures(u)``, the per-episode miscoordination figures (0/1 per joint action, numpy).
This module never imports torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
from array_api_compat import array_namespace, is_array_api_obj
from numpy.typing import NDArray

from svnr_core.differential_games import PAPER_N_AGENTS, DifferentialGame
from svnr_core.games import climbing_game, penalty_game

FloatArray = NDArray[np.float64]

__all__ = [
    "INTERPOLATIONS",
    "ContinuousMatrixGame",
    "CoordinationGame",
    "SingleStepGame",
    "SymmetricTwoOptima",
    "continuous_climbing",
    "continuous_penalty",
]

#: ``ContinuousMatrixGame.interpolation``: C^1 smoothstep mixing (default) or flat cells
INTERPOLATIONS: tuple[str, ...] = ("smoothstep", "cells")


class SingleStepGame(Protocol):
    """A stateless game of ``n_agents`` scalar actions in ``[-b, b]`` and one shared reward
    (what the batched single-step environment needs; :class:`DifferentialGame` is one)."""

    @property
    def n_agents(self) -> int: ...
    @property
    def action_bound(self) -> float: ...
    @property
    def optimum_value(self) -> float: ...
    @property
    def reward_lower_bound(self) -> float: ...
    @property
    def optima(self) -> tuple[tuple[FloatArray, float], ...]: ...
    def reward(self, u: Any) -> Any: ...


@runtime_checkable
class CoordinationGame(SingleStepGame, Protocol):
    """A single-step game that also says which joint actions are miscoordinated."""

    def episode_figures(self, u: object) -> dict[str, FloatArray]:
        """Name -> ``[...]`` float64 figures (0/1 indicators) of joint actions ``[..., N]``."""
        ...


def _joint(u: object, n_agents: int) -> FloatArray:
    """``u`` as float64 numpy ``[..., n_agents]``; ``ValueError`` on a wrong shape or NaN/inf."""
    x = np.asarray(u.detach().cpu() if hasattr(u, "detach") else u, dtype=np.float64)
    if x.ndim < 1 or x.shape[-1] != n_agents:
        raise ValueError(
            f"u must have shape [..., n_agents] with n_agents = {n_agents}; got {x.shape}"
        )
    if not np.isfinite(x).all():
        raise ValueError("u contains NaN or infinite entries")
    return x


def _positive(name: str, value: float) -> float:
    v = float(value)
    if not (math.isfinite(v) and v > 0.0):
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    return v


# ---------------------------------------------------------------------- symmetric two optima


@dataclass(frozen=True)
class SymmetricTwoOptima:
    """``r = max(g_-, g_+)`` with mirror-image branches centred at ``-m 1`` and ``+m 1``.

    Parameters (defaults and why, see also ``docs/environments.md``):

    n_agents:
        ``N >= 2`` (3: the paper's differential games have 3 agents, and with ``N`` agents
        that pick a mode each by a fair coin only ``2 / 2^N`` of joint actions agree -- 1/4
        for ``N = 3`` against 1/2 for ``N = 2``, a larger gap for the same game).
    centre:
        ``m`` (5): the optima ``(-5, ..., -5)`` and ``(5, ..., 5)`` are 10 apart per
        coordinate (half the box) and ``1.67 s`` inside its edges, so the box cuts little of
        either basin; 5 is also the paper's ``|m_1|`` scale.  ``0 < m <= b``.
    scale, height:
        ``s = 3`` (the paper's ``s_1``) and ``h = 1`` (its ``h_2``); equal for both branches.
        Equal widths matter: with unequal widths (Two Modalities: ``s_1 = 3, h_1 = 0.8``
        against ``s_2 = 2, h_2 = 1``) the Boltzmann policy at ``alpha -> 0`` weights the
        optima by their basin volumes, ``((h_1/s_1^2) / (h_2/s_2^2))^{-N/2} = 4.7 : 1``.
    value:
        ``v`` (10): the optimum value, as in the paper's games.
    action_bound:
        ``b`` (10, the paper's).

    Off-optimum penalty: a miscoordinated joint action -- agents on both sides, e.g.
    ``(m, m, -m)`` -- scores ``v - h (2m / s)^2 = 10 - 100/9 = -1.11``, 11.1 below either
    optimum (and below Max of Three's local optimum 0); independent 50/50 execution at the
    optima earns ``10/4 - 3 (1.11)/4 = 1.67`` in expectation for ``N = 3``, against 10.
    """

    n_agents: int = PAPER_N_AGENTS
    centre: float = 5.0
    scale: float = 3.0
    height: float = 1.0
    value: float = 10.0
    action_bound: float = 10.0
    _game: DifferentialGame = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        b = _positive("action_bound", self.action_bound)
        m = _positive("centre", self.centre)
        if m > b:
            raise ValueError(f"centre must lie in (0, action_bound = {b}]; got {self.centre!r}")
        if not math.isfinite(float(self.value)):
            raise ValueError(f"value must be finite; got {self.value!r}")
        n = self.n_agents
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or int(n) < 2:
            raise ValueError(f"n_agents must be an integer >= 2; got {n!r}")
        s, h, v = _positive("scale", self.scale), _positive("height", self.height), self.value
        # the mirror branch first: DifferentialGame lists tied optima in branch order
        game = DifferentialGame(
            n_agents=int(n),
            centre1=(-m,) * int(n),
            scale1=s,
            height1=h,
            c1=float(v),
            centre2=(m,) * int(n),
            s2=s,
            h2=h,
            c2=float(v),
            action_bound=b,
        )
        for name, val in (("n_agents", int(n)), ("centre", m), ("scale", s), ("height", h)):
            object.__setattr__(self, name, val)
        object.__setattr__(self, "value", float(v))
        object.__setattr__(self, "action_bound", b)
        object.__setattr__(self, "_game", game)

    @property
    def game(self) -> DifferentialGame:
        """The same game as a :class:`DifferentialGame` (its formula, optima and gradient)."""
        return self._game

    def reward(self, u: Any) -> Any:
        """``r(u)`` for joint actions ``[..., N]`` in native units (numpy or torch)."""
        return self._game.reward(u)

    @property
    def optimum_value(self) -> float:
        return self._game.optimum_value

    @property
    def optima(self) -> tuple[tuple[FloatArray, float], ...]:
        """``((-m, ..., -m), v)`` and ``((m, ..., m), v)``."""
        return self._game.optima

    @property
    def reward_lower_bound(self) -> float:
        return self._game.reward_lower_bound

    @staticmethod
    def mirror(u: Any) -> Any:
        """The relabelling ``u -> -u`` that swaps the two optima and leaves ``r`` unchanged."""
        return -u

    def miscoordinated(self, u: object) -> FloatArray:
        """1 where the agents did not all pick the same optimum, else 0 (shape ``[...]``).

        Agent ``i`` *picks* the optimum on the side of its own action, ``sign(u_i)`` (the
        nearer of ``-m`` and ``+m`` in its coordinate): under decentralized execution each
        agent's mode is its own coordinate's.  Coordinated = all ``u_i > 0`` or all
        ``u_i < 0``; an action at exactly 0 picks neither and counts as miscoordinated.  (The
        basins of ``r`` are the half-spaces ``sum u_i > 0`` and ``< 0``; ``(m, m, -m)`` lies in
        the ``+`` basin but one agent went the other way, which this measure counts.)
        """
        x = _joint(u, self.n_agents)
        together = np.all(x > 0.0, axis=-1) | np.all(x < 0.0, axis=-1)
        return np.where(together, 0.0, 1.0)

    def episode_figures(self, u: object) -> dict[str, FloatArray]:
        """``{"miscoordinated": ...}`` (see :meth:`miscoordinated`)."""
        return {"miscoordinated": self.miscoordinated(u)}


# ---------------------------------------------------------------------- continuous matrix games


def _payoff(value: object) -> tuple[tuple[float, ...], ...]:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"payoff must be a 2-D matrix of numbers; got {value!r}") from exc
    if arr.ndim != 2 or min(arr.shape) < 2:
        raise ValueError(f"payoff must be a 2-D matrix with >= 2 rows and columns; got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("payoff contains NaN or infinite entries")
    return tuple(tuple(float(x) for x in row) for row in arr)


def _smoothstep(t: Any) -> Any:
    return t * t * (3.0 - 2.0 * t)


@dataclass(frozen=True)
class ContinuousMatrixGame:
    """A 2-agent matrix game on ``[-b, b]^2``: agent 1's cell picks the row, agent 2's the
    column of ``payoff``; mixed between neighbouring cells by smoothstep weights (module
    docstring) or, with ``interpolation="cells"``, constant on each cell.

    Cells are ``A`` equal half-open intervals ``[-b + k w, -b + (k + 1) w)`` of width
    ``w = 2b / A`` (the last one closed at ``b``); ``b = 1``.
    """

    payoff: tuple[tuple[float, ...], ...]
    interpolation: str = "smoothstep"
    action_bound: float = 1.0
    n_agents: int = field(default=2, init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "payoff", _payoff(self.payoff))
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"interpolation must be one of {', '.join(INTERPOLATIONS)}; "
                f"got {self.interpolation!r}"
            )
        object.__setattr__(self, "action_bound", _positive("action_bound", self.action_bound))

    @property
    def matrix(self) -> FloatArray:
        """The payoff matrix ``R`` (rows: agent 1's cell, columns: agent 2's)."""
        return np.asarray(self.payoff, dtype=np.float64)

    def cell_centres(self, agent: int) -> FloatArray:
        """Centres ``c_k = -b + (2k + 1) b / A`` of agent ``agent``'s (0 or 1) cells."""
        a, b = self.matrix.shape[agent], self.action_bound
        centres: FloatArray = -b + (2.0 * np.arange(a, dtype=np.float64) + 1.0) * b / a
        return centres

    def cells(self, u: object) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """The cell indices ``(row [...], column [...])`` of joint actions ``[..., 2]``."""
        x = _joint(u, 2)
        b = self.action_bound
        out = []
        for agent in (0, 1):
            a = self.matrix.shape[agent]
            k = np.floor((np.clip(x[..., agent], -b, b) + b) * a / (2.0 * b)).astype(np.intp)
            out.append(np.clip(k, 0, a - 1))
        return out[0], out[1]

    def _weights(self, v: Any, a: int, xp: Any) -> list[Any]:
        """``[phi_0(v), ..., phi_{A-1}(v)]`` for one agent's actions ``v`` (module docstring)."""
        b = self.action_bound
        x = xp.clip((v + b) * a / (2.0 * b) - 0.5, 0.0, float(a - 1))  # node units
        return [1.0 - _smoothstep(xp.clip(xp.abs(x - k), 0.0, 1.0)) for k in range(a)]

    def reward(self, u: Any) -> Any:
        """``r(u) = phi(u_1)^T R phi(u_2)`` (or ``R[cells]``) for joint actions ``[..., 2]``.

        numpy arrays or torch tensors (autograd supported); the floating dtype is kept.
        ``ValueError`` on a wrong shape or a NaN/infinite entry.
        """
        if not is_array_api_obj(u):
            u = np.asarray(u, dtype=np.float64)
        xp = array_namespace(u)
        if not xp.isdtype(u.dtype, "real floating"):
            u = xp.astype(u, xp.float64)
        if u.ndim < 1 or u.shape[-1] != 2:  # the messages of _joint, without a host copy
            raise ValueError(
                f"u must have shape [..., n_agents] with n_agents = 2; got {tuple(u.shape)}"
            )
        if not bool(xp.all(xp.isfinite(u))):
            raise ValueError("u contains NaN or infinite entries")
        mat = self.matrix
        if self.interpolation == "cells":
            row, col = self.cells(u)
            out = np.asarray(mat[row, col], dtype=np.float64)
            return xp.asarray(out, dtype=u.dtype, device=getattr(u, "device", None))
        w1 = self._weights(u[..., 0], mat.shape[0], xp)
        w2 = self._weights(u[..., 1], mat.shape[1], xp)
        total = xp.zeros_like(u[..., 0])
        for j, wj in enumerate(w1):
            # sum over the partner first: phi_j(u_1) * (R phi(u_2))_j
            inner = sum((float(mat[j, k]) * wk for k, wk in enumerate(w2)), xp.zeros_like(wj))
            total = total + wj * inner
        return total

    @property
    def optimum_value(self) -> float:
        """``max R``: ``r`` is an average of entries, and attains it at an optimal centre."""
        return float(self.matrix.max())

    @property
    def reward_lower_bound(self) -> float:
        """``min R`` (attained at the centre of a worst cell)."""
        return float(self.matrix.min())

    @property
    def optima(self) -> tuple[tuple[FloatArray, float], ...]:
        """The centres of the optimal cells, with value ``max R`` (row-major order)."""
        mat, c1, c2 = self.matrix, self.cell_centres(0), self.cell_centres(1)
        return tuple(
            (np.array([c1[j], c2[k]]), float(mat[j, k]))
            for j, k in zip(*np.nonzero(mat == mat.max()), strict=True)
        )

    def episode_figures(self, u: object) -> dict[str, FloatArray]:
        """Per joint action (0/1): ``miscoordinated`` -- the joint cell holds the matrix's
        smallest entry (a penalty cell: climbing's -30 at (0, 1) and (1, 0), the penalty game's
        ``k`` at (0, 2) and (2, 0)); ``off_optimum`` -- the joint cell is not an optimal one."""
        row, col = self.cells(u)
        mat = self.matrix
        value = mat[row, col]
        worst = value == mat.min() if mat.min() < mat.max() else np.zeros_like(value, dtype=bool)
        return {
            "miscoordinated": worst.astype(np.float64),
            "off_optimum": (value < mat.max()).astype(np.float64),
        }


def continuous_climbing(interpolation: str = "smoothstep") -> ContinuousMatrixGame:
    """The climbing game ``[[11, -30, 0], [-30, 7, 6], [0, 0, 5]]`` on ``[-1, 1]^2``: optimum
    11 at cells (0, 0), i.e. ``u <= -2/3`` for both agents under smoothstep mixing."""
    return ContinuousMatrixGame(climbing_game().R[0].tolist(), interpolation)


def continuous_penalty(
    k: float = -100.0, interpolation: str = "smoothstep"
) -> ContinuousMatrixGame:
    """The penalty game ``[[10, 0, k], [0, 2, 0], [k, 0, 10]]`` (``k <= 0``; the core's default
    -100) on ``[-1, 1]^2``: optima 10 at cells (0, 0) and (2, 2), ``k`` where they mix."""
    try:
        penalty = float(k)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the penalty k must be a finite number <= 0; got {k!r}") from exc
    return ContinuousMatrixGame(penalty_game(penalty).R[0].tolist(), interpolation)
