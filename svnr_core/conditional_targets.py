r"""Exact conditional scores of the differential games' Boltzmann targets (paper Eq. 5, App. E.4).

Negotiated reasoning moves agent ``i`` along the Stein direction of its *conditional* target
(Eq. 5): the score ``grad_{u_i} log pi*(u_i | u_{C_i})``.  For the Boltzmann target of a
differential game (Sec. 6) on the box ``B = [-b, b]^N``,

.. math::

    \pi_T(u) \propto \exp(r(u) / T)\, 1_B(u),

and a set ``S = {i} ∪ C_i`` of kept coordinates with the rest ``R = {1..N} \ S`` marginalised,

.. math::

    \log \pi_T(u_i \mid u_{C_i \setminus i}) = L_S(u_S) + \mathrm{const}(u_{C_i \setminus i}),
    \qquad L_S(u_S) = \log \int_{[-b, b]^{|R|}} e^{r(u_S, v) / T}\, dv,

so the conditional score is ``grad_{u_i} L_S = E_{v ~ pi_T(. | u_S)}[d r / d u_i (u_S, v)] / T``:
the joint score averaged over the marginalised coordinates, weighted by the conditional of the
*tempered* target.  Tempering and marginalising do not commute (``L_S`` at ``T`` is not ``L_S``
at 1 divided by ``T``), which is why :meth:`DifferentialGameTarget.conditional_score` takes the
temperature.  For nested sets ``C_i = {0..i}`` (App. F.2) the agents after ``i`` are
marginalised: agent 0 follows the marginal of ``u_0``, agent 1 the conditional of ``u_1`` given
``u_0``, ..., the last agent the joint score (App. E.4).  With ``R`` empty the conditional score
*is* the joint score ``grad_{u_i} r / T``.

Quadrature
----------
The integral over ``[-b, b]^{|R|}`` is the midpoint rule on ``cells`` equal cells per axis
(nodes ``v_g``, cell width ``h = 2b / cells``), computed in log space:

.. math::

    L_S(u_S) \approx \operatorname{logsumexp}_g \big(r(u_S, v_g) / T\big) + |R| \log h,
    \qquad
    \widehat{\nabla_{u_i} L_S} = \sum_g w_g\, \partial_{u_i} r(u_S, v_g) / T,
    \quad w = \operatorname{softmax}_g(r(u_S, v_g) / T).

The nodes do not depend on ``u_S``, so the quadrature score is *exactly* the derivative of the
quadrature log-marginal wherever no node sits on the kink ``g_1 = g_2`` of ``r = max(g_1, g_2)``
(checked by ``verification/test_eq5_conditional_target.py``).  The gradient of ``r`` is that of
the active branch (:meth:`svnr_core.differential_games.DifferentialGame.reward_and_grad`, the one
place where the reward formula lives).

Error of the rule: the integrand ``e^{r/T}`` is a maximum of two Gaussian bumps of standard
deviation ``sigma = s sqrt(T / 2)`` per axis (``s`` = the branch scale over the square root of its
height), truncated at the box.  For a Gaussian far from the box faces the midpoint rule is
spectrally accurate (Poisson summation: relative error ``~ 2 exp(-2 pi^2 sigma^2 / h^2)``); the
kink of the max and a bump cut by a face give ``O(h^2)``.  With the default ``cells = 64``
(``h = 0.3125`` on ``[-10, 10]``) and the narrowest bump of Max of Three (``s_2 = 1.5``) at the
smallest temperature used in the demonstrations (``T = 0.05``: ``sigma = 0.24``) the Gaussian
term is ``~ 1e-5``.  Measured against ``cells = 512`` along the annealed Max of Three
negotiations of ``verification/figures/max_of_three.py`` (``s_2`` = 1.5 and 3, ``T`` from 10
to 0.05), the largest difference of the conditional scores is 1.1% of their root-mean-square
(at ``T = 4``, where the bumps are wide and cut by the box faces: the ``O(h^2)`` regime);
below ``T = 1`` it is under ``1e-11``.  ``tests/test_negotiation.py`` asserts 2% on random points.

Cost: ``M cells^{|R|}`` reward evaluations per call (``|R| <= 2`` for 3 agents), in chunks of at
most :data:`MAX_GRID_POINTS` points.  numpy only (the reward is evaluated by
``reward_and_grad``); this module never imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from svnr_core.differential_games import DifferentialGame

__all__ = ["DEFAULT_CELLS", "MAX_GRID_POINTS", "DifferentialGameTarget"]

FloatArray = NDArray[np.float64]

#: Midpoint cells per marginalised axis (module doc: error analysis).
DEFAULT_CELLS = 64

#: Most ``(particle, node)`` pairs evaluated at once, and the largest grid per particle.
MAX_GRID_POINTS = 1 << 20


def _coords(name: str, idx: object, n: int, *, allow_empty: bool) -> tuple[int, ...]:
    if isinstance(idx, str) or not isinstance(idx, Sequence | np.ndarray):
        raise ValueError(f"{name} must be a sequence of coordinate indices; got {idx!r}")
    out: list[int] = []
    for c in idx:
        if isinstance(c, bool) or not isinstance(c, int | np.integer):
            raise ValueError(f"{name} holds {c!r}, not an integer coordinate")
        if not 0 <= int(c) < n:
            raise ValueError(f"{name} holds coordinate {int(c)} outside [0, {n})")
        out.append(int(c))
    if len(set(out)) != len(out):
        raise ValueError(f"{name} repeats a coordinate: {out}")
    if not out and not allow_empty:
        raise ValueError(f"{name} must not be empty")
    return tuple(out)


def _check_temperature(temperature: float) -> float:
    t = float(temperature)
    if not (math.isfinite(t) and t > 0.0):
        raise ValueError(f"temperature must be a finite number > 0; got {temperature!r}")
    return t


@dataclass(frozen=True)
class DifferentialGameTarget:
    r"""Boltzmann target ``pi_T ~ exp(r / T)`` of a differential game on its box, with exact
    (quadrature) conditional scores: a :class:`svnr_core.negotiation.ConditionalTarget`.

    Parameters
    ----------
    game:
        The game; ``r`` is :meth:`DifferentialGame.reward_and_grad`, the box
        ``[-game.action_bound, game.action_bound]^N``.
    cells:
        Midpoint cells per marginalised axis (``>= 2``; module doc for the error).
    """

    game: DifferentialGame
    cells: int = DEFAULT_CELLS

    def __post_init__(self) -> None:
        if not isinstance(self.game, DifferentialGame):
            raise ValueError(f"game must be a DifferentialGame; got {type(self.game).__name__}")
        c = self.cells
        if isinstance(c, bool) or not isinstance(c, int | np.integer) or int(c) < 2:
            raise ValueError(f"cells must be an integer >= 2; got {c!r}")
        object.__setattr__(self, "cells", int(c))

    # ------------------------------------------------------------------ helpers

    def _particles(self, u: object) -> FloatArray:
        x = np.asarray(u, dtype=np.float64)
        n = self.game.n_agents
        if x.ndim < 1 or x.shape[-1] != n:
            raise ValueError(f"u must have shape [..., {n}]; got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("u contains NaN or infinite entries")
        b = self.game.action_bound
        if np.any(np.abs(x) > b):
            raise ValueError(f"u must lie in the box [-{b}, {b}]^{n} (the target's support)")
        return x

    def _nodes(self, n_rest: int) -> FloatArray:
        """Midpoint nodes ``[cells^n_rest, n_rest]`` of the box over the marginalised axes."""
        if self.cells**n_rest > MAX_GRID_POINTS:
            raise ValueError(
                f"cells = {self.cells} gives {self.cells}^{n_rest} nodes per particle, more than "
                f"MAX_GRID_POINTS = {MAX_GRID_POINTS}; lower cells"
            )
        b = self.game.action_bound
        edges = np.linspace(-b, b, self.cells + 1)
        mid = 0.5 * (edges[:-1] + edges[1:])
        grids = np.meshgrid(*([mid] * n_rest), indexing="ij")
        return np.stack([g.reshape(-1) for g in grids], axis=-1)

    def _quadrature(
        self, u: object, keep: Sequence[int], temperature: float
    ) -> tuple[FloatArray, FloatArray]:
        """``(L_S(u_S), grad_u L_S(u_S))`` by the midpoint rule: shapes ``[...]``, ``[..., N]``.

        The gradient has zeros along the marginalised coordinates.
        """
        x = self._particles(u)
        t = _check_temperature(temperature)
        n = self.game.n_agents
        kept = _coords("keep", keep, n, allow_empty=True)
        rest = [c for c in range(n) if c not in kept]
        if not rest:
            r, g = self.game.reward_and_grad(x)
            return r / t, g / t
        nodes = self._nodes(len(rest))
        flat = x.reshape(-1, n)
        log_int = np.empty(flat.shape[0])
        score = np.zeros_like(flat)
        chunk = max(1, MAX_GRID_POINTS // nodes.shape[0])
        log_cell = len(rest) * math.log(2.0 * self.game.action_bound / self.cells)
        for start in range(0, flat.shape[0], chunk):
            part = flat[start : start + chunk]
            pts = np.repeat(part[:, None, :], nodes.shape[0], axis=1)
            pts[:, :, rest] = nodes
            r, g = self.game.reward_and_grad(pts)  # [c, G], [c, G, N]
            z = r / t
            top = z.max(axis=1, keepdims=True)
            w = np.exp(z - top)
            total = w.sum(axis=1, keepdims=True)
            log_int[start : start + chunk] = (top + np.log(total))[:, 0] + log_cell
            score[start : start + chunk] = np.einsum("cg,cgn->cn", w / total, g) / t
        score[:, rest] = 0.0
        return log_int.reshape(x.shape[:-1]), score.reshape(x.shape)

    # ------------------------------------------------------------------ public API

    def joint(self, u: object) -> tuple[FloatArray, FloatArray]:
        """``(r(u), grad r(u))``: the untempered joint log-density (up to a constant) and score."""
        return self.game.reward_and_grad(self._particles(u))

    def log_marginal(self, u: object, keep: Sequence[int], temperature: float) -> FloatArray:
        r"""``L_S(u_S) = log ∫ exp(r(u_S, v) / T) dv`` over the coordinates not in ``keep``
        (midpoint rule; exactly ``r(u) / T`` when ``keep`` holds every coordinate).

        ``u [..., N]`` in the box; returns ``[...]``.  A log-marginal density of ``pi_T`` up to
        the constant ``-log Z_T``.
        """
        return self._quadrature(u, keep, temperature)[0]

    def conditional_score(
        self,
        u: object,
        update: Sequence[int],
        condition: Sequence[int],
        temperature: float,
    ) -> FloatArray:
        r"""``grad_{u_update} log pi_T(u_update | u_condition)`` at every particle (Eq. 5).

        The coordinates outside ``update ∪ condition`` are marginalised by quadrature (module
        doc); ``condition`` may overlap ``update`` (nested sets contain the agent itself).

        Parameters
        ----------
        u:
            Joint particles ``[..., M, N]`` inside the box.
        update, condition:
            Coordinate indices (``update`` non-empty); entries in ``[0, N)``, no repeats.
        temperature:
            ``T > 0`` (``alpha`` of the Boltzmann target).

        Returns
        -------
        ``[..., M, len(update)]`` float64, columns in the order of ``update``.
        """
        n = self.game.n_agents
        upd = _coords("update", update, n, allow_empty=False)
        cond = _coords("condition", condition, n, allow_empty=True)
        keep = sorted(set(upd) | set(cond))
        _, score = self._quadrature(u, keep, temperature)
        return np.asarray(score[..., list(upd)], dtype=np.float64)
