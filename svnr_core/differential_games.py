"""Differential games: the stateless continuous test beds of the paper (Sec. 6, "(1) The
Differential Game").

Every agent ``i`` picks a scalar action ``u_i`` in ``[-b, b]`` (``b = action_bound = 10`` in the
paper) and all agents receive the shared reward

.. math::

    r(u) = \\max(g_1(u), g_2(u)),

    g_1(u) = h_1 \\Big[-\\sum_{i=1}^{N} \\Big(\\frac{u_i - m_{1,i}}{s_1}\\Big)^2\\Big] + c_1,
    \\qquad
    g_2(u) = h_2 \\Big[-\\sum_{i=1}^{N} \\Big(\\frac{u_i - m_{2,i}}{s_2}\\Big)^2\\Big] + c_2,

with the paper's constants ``h_1 = 0.8``, ``s_1 = 3`` and ``m_1 = (-5, -5, 3)`` for ``N = 3``
(the paper writes ``g_1 = 0.8 [-((u_1+5)/3)^2 - ((u_2+5)/3)^2 - ((u_3-3)/3)^2] + c_1`` and
``g_2 = h_2 [-((u_1-x_2)/s_2)^2 - ((u_2-y_2)/s_2)^2 - ((u_3-z_2)/s_2)^2] + c_2``).

**This follows the paper's formula, not the older public reference code** of the "Max of Two"
family (ROMMEO/PR2 repositories), which divides the *squared* distance by ``s`` instead of
dividing the distance inside the square.  The two differ for every ``s != 1``; the basin width
that the paper's ``s_2`` in {3.0, 2.0, 1.5} controls is the one written here.

Presets (paper Sec. 6, (1.1) and (1.2)):

* :func:`two_modalities` -- ``h_2 = 1, s_2 = 2, m_2 = (7, 7, -3), c_1 = c_2 = 10``: two global
  optima of value 10, at ``(-5, -5, 3)`` and ``(7, 7, -3)``;
* :func:`max_of_three` -- ``h_2 = 1, m_2 = (7, 7, -4), c_1 = 0, c_2 = 10``: a local optimum 0 at
  ``(-5, -5, 3)`` and the global optimum 10 at ``(7, 7, -4)``; ``s_2`` in {3.0, 2.0, 1.5}.

Any number of agents ``N >= 2`` is allowed, with centres of length ``N``.  For ``N != 3`` the
presets extend the paper's centres by repeating their first coordinate: ``m_1 = (-5, ..., -5, 3)``
and ``m_2 = (7, ..., 7, z_2)``; for ``N = 3`` these are exactly the paper's values.

Each branch ``g_k`` is a strictly concave separable quadratic, so over the box ``[-b, b]^N`` it
is maximised at its centre clipped to the box, and ``max_u r = max_k max_u g_k`` (``r >= g_k``
everywhere and ``r`` never exceeds the larger branch maximum).
:attr:`DifferentialGame.optimum_value` and :attr:`DifferentialGame.optimum_action` are computed
that way; :attr:`DifferentialGame.optima` lists every branch maximiser at which that branch is the
active one (the local optima of ``r``), best first.

The reward is written once against the array API (``array-api-compat``):
:meth:`DifferentialGame.reward` accepts numpy arrays or torch tensors (autograd flows through it);
:meth:`DifferentialGame.reward_and_grad` is the numpy form that also returns the gradient of the
active branch.  This module never imports torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from array_api_compat import array_namespace, is_array_api_obj
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: Number of agents of the paper's games.
PAPER_N_AGENTS = 3


def _as_centre(name: str, value: object, n_agents: int) -> tuple[float, ...]:
    """Validate a centre: a finite sequence of ``n_agents`` numbers, returned as a float tuple."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a sequence of {n_agents} numbers; got {value!r}") from exc
    if arr.shape != (n_agents,):
        raise ValueError(
            f"{name} must have one coordinate per agent (length n_agents = {n_agents}); "
            f"got shape {arr.shape}"
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name}[{i}] = {arr[i]!r} is not finite")
    return tuple(float(x) for x in arr)


def _check_positive(name: str, value: float) -> float:
    v = float(value)
    if not (math.isfinite(v) and v > 0.0):
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    return v


def _check_finite(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return v


@dataclass(frozen=True)
class DifferentialGame:
    """The parameterised differential game ``r(u) = max(g_1(u), g_2(u))`` (paper Sec. 6).

    Follows the paper's formula (distance divided by the scale *inside* the square), not the
    older reference code; see the module docstring.

    Parameters
    ----------
    n_agents:
        ``N >= 2``; each agent owns one action coordinate.
    centre1, scale1, height1, c1:
        ``m_1``, ``s_1 > 0``, ``h_1 > 0`` and ``c_1`` of ``g_1`` (paper: ``(-5, -5, 3)``, 3, 0.8).
    centre2, s2, h2, c2:
        ``m_2``, ``s_2 > 0``, ``h_2 > 0`` and ``c_2`` of ``g_2``.
    action_bound:
        ``b > 0``: actions live in ``[-b, b]^N`` (paper: 10).  Used for the optimum; the reward
        formula itself is evaluated for any finite ``u`` (environments clip actions first).

    The defaults are the paper's *Max of Three* with ``s_2 = 3.0``.  Invalid parameters raise
    ``ValueError`` naming the parameter.
    """

    n_agents: int = PAPER_N_AGENTS
    centre1: tuple[float, ...] = (-5.0, -5.0, 3.0)
    scale1: float = 3.0
    height1: float = 0.8
    c1: float = 0.0
    centre2: tuple[float, ...] = (7.0, 7.0, -4.0)
    s2: float = 3.0
    h2: float = 1.0
    c2: float = 10.0
    action_bound: float = 10.0

    def __post_init__(self) -> None:
        n = self.n_agents
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or int(n) < 2:
            raise ValueError(f"n_agents must be an integer >= 2; got {n!r}")
        object.__setattr__(self, "n_agents", int(n))
        object.__setattr__(self, "centre1", _as_centre("centre1", self.centre1, int(n)))
        object.__setattr__(self, "centre2", _as_centre("centre2", self.centre2, int(n)))
        object.__setattr__(self, "scale1", _check_positive("scale1", self.scale1))
        object.__setattr__(self, "height1", _check_positive("height1", self.height1))
        object.__setattr__(self, "s2", _check_positive("s2", self.s2))
        object.__setattr__(self, "h2", _check_positive("h2", self.h2))
        object.__setattr__(self, "c1", _check_finite("c1", self.c1))
        object.__setattr__(self, "c2", _check_finite("c2", self.c2))
        object.__setattr__(self, "action_bound", _check_positive("action_bound", self.action_bound))

    # ------------------------------------------------------------------ the formula (once)

    def _branches(self, u: Any, xp: Any) -> tuple[Any, Any]:
        """``(g_1(u), g_2(u))`` for ``u`` of shape ``[..., N]`` in the namespace ``xp``."""
        out = []
        for centre, scale, height, const in (
            (self.centre1, self.scale1, self.height1, self.c1),
            (self.centre2, self.s2, self.h2, self.c2),
        ):
            m = xp.asarray(centre, dtype=u.dtype, device=getattr(u, "device", None))
            d = (u - m) / scale
            out.append(-height * xp.sum(d * d, axis=-1) + const)
        return out[0], out[1]

    def _validate(self, u: Any) -> tuple[Any, Any]:
        """Return ``(u as a floating array, namespace)``; ``ValueError`` on shape or NaN/inf."""
        if not is_array_api_obj(u):
            u = np.asarray(u, dtype=np.float64)
        xp = array_namespace(u)
        if not xp.isdtype(u.dtype, "real floating"):
            u = xp.astype(u, xp.float64)
        if u.ndim < 1 or u.shape[-1] != self.n_agents:
            raise ValueError(
                f"u must have shape [..., n_agents] with n_agents = {self.n_agents}; "
                f"got {tuple(u.shape)}"
            )
        if not bool(xp.all(xp.isfinite(u))):
            raise ValueError("u contains NaN or infinite entries")
        return u, xp

    def reward(self, u: Any) -> Any:
        """Shared reward ``r(u) = max(g_1(u), g_2(u))`` for joint actions ``u`` of shape [..., N].

        ``u`` is in native units (``[-b, b]``); numpy arrays or torch tensors (any device,
        autograd supported: at ``g_1 = g_2`` torch splits the gradient between the branches).
        Returns an array of shape ``[...]`` in the namespace and floating dtype of ``u``.
        """
        u, xp = self._validate(u)
        g1, g2 = self._branches(u, xp)
        return xp.maximum(g1, g2)

    def reward_and_grad(self, u: object) -> tuple[FloatArray, FloatArray]:
        """``(r(u), grad r(u))`` in numpy float64 for ``u`` of shape ``[..., N]``.

        The gradient is that of the active branch, ``grad g_k = -2 h_k (u - m_k) / s_k^2`` with
        ``k = 1`` where ``g_1 >= g_2`` (ties go to ``g_1``: a valid subgradient of the max) and
        ``k = 2`` elsewhere.
        """
        u_arr, _ = self._validate(np.asarray(u, dtype=np.float64))
        x = np.asarray(u_arr, dtype=np.float64)
        g1, g2 = self._branches(x, np)
        first = (g1 >= g2)[..., None]
        m1 = np.asarray(self.centre1)
        m2 = np.asarray(self.centre2)
        grad1 = -2.0 * self.height1 * (x - m1) / self.scale1**2
        grad2 = -2.0 * self.h2 * (x - m2) / self.s2**2
        reward = np.asarray(np.maximum(g1, g2), dtype=np.float64)
        return reward, np.where(first, grad1, grad2)

    # ------------------------------------------------------------------ coordination

    def miscoordinated(self, u: object) -> FloatArray:
        """``1.0`` where the agents do not all lean to the same branch, else ``0.0`` (shape
        ``[...]`` for joint actions ``u [..., N]``, native units).

        Agent ``i`` leans to branch 2 when its action is nearer that branch's centre coordinate,
        ``|u_i - m_{2,i}| < |u_i - m_{1,i}|``, else to branch 1.  A joint action whose agents
        lean to different branches sits between the optima, on neither: for *Two Modalities*
        the failure of independent execution that the coordination study counts; for *Max of
        Three* a split between the local and the global optimum.
        """
        x = np.asarray(self._validate(np.asarray(u, dtype=np.float64))[0])
        lean2 = np.abs(x - np.asarray(self.centre2)) < np.abs(x - np.asarray(self.centre1))
        together = np.all(lean2, axis=-1) | np.all(~lean2, axis=-1)
        return np.where(together, 0.0, 1.0)

    def episode_figures(self, u: object) -> dict[str, FloatArray]:
        """``{"miscoordinated": ...}`` of joint actions ``u`` (:meth:`miscoordinated`)."""
        return {"miscoordinated": self.miscoordinated(u)}

    # ------------------------------------------------------------------ optima

    def branch_maximisers(self) -> tuple[FloatArray, FloatArray]:
        """Maximiser of ``g_1`` and of ``g_2`` over the box ``[-b, b]^N``: the clipped centres."""
        b = self.action_bound
        return (
            np.clip(np.asarray(self.centre1), -b, b),
            np.clip(np.asarray(self.centre2), -b, b),
        )

    @property
    def optima(self) -> tuple[tuple[FloatArray, float], ...]:
        """Local maxima of ``r`` on the box that are branch maximisers, best first.

        The maximiser ``u*_k`` of branch ``k`` is listed when ``g_k(u*_k) > g_o(u*_k)`` for the
        other branch ``o`` (then ``r = g_k`` on a neighbourhood, and ``u*_k`` maximises the
        concave ``g_k`` on the box), or when it is a global maximiser of ``r`` (the first entry
        is always the global optimum).  For *Max of Three*: ``[((7, 7, -4), 10), ((-5, -5, 3),
        0)]``.
        """
        best = self.optimum_value
        found: list[tuple[FloatArray, float]] = []
        for k, u_star in enumerate(self.branch_maximisers()):
            g = self._branches(u_star, np)
            value = float(self.reward(u_star))
            if float(g[k]) > float(g[1 - k]) or value == best:
                found.append((u_star, value))
        unique: list[tuple[FloatArray, float]] = []
        for u_star, val in sorted(found, key=lambda t: -t[1]):
            if not any(np.array_equal(u_star, v[0]) for v in unique):
                unique.append((u_star, val))
        return tuple(unique)

    @property
    def reward_lower_bound(self) -> float:
        """``max_k min_{u in [-b, b]^N} g_k(u)``, a lower bound of ``r`` on the box.

        ``r >= g_k`` everywhere, and the separable concave ``g_k`` is smallest at the vertex
        farthest from its centre in every coordinate (``-b`` where ``m_{k,i} >= 0``, else ``b``).
        """
        b = self.action_bound
        values = []
        for k, centre in enumerate((self.centre1, self.centre2)):
            far = np.where(np.asarray(centre) >= 0.0, -b, b)
            values.append(float(self._branches(far, np)[k]))
        return max(values)

    @property
    def optimum_value(self) -> float:
        """``max_{u in [-b, b]^N} r(u) = max_k g_k(clip(m_k))``."""
        return max(float(self.reward(u)) for u in self.branch_maximisers())

    @property
    def optimum_action(self) -> FloatArray:
        """A global maximiser of ``r`` over the box (the first branch's on a tie, as for
        *Two Modalities*, whose two optima are both listed in :attr:`optima`)."""
        u1, u2 = self.branch_maximisers()
        return u1 if float(self.reward(u1)) >= float(self.reward(u2)) else u2


def _paper_centre(n_agents: int, head: float, tail: float) -> tuple[float, ...]:
    """``(head, ..., head, tail)`` of length ``n_agents`` (the paper's pattern for ``N = 3``)."""
    if isinstance(n_agents, bool) or not isinstance(n_agents, int) or n_agents < 2:
        raise ValueError(f"n_agents must be an integer >= 2; got {n_agents!r}")
    return (head,) * (n_agents - 1) + (tail,)


def two_modalities(n_agents: int = PAPER_N_AGENTS) -> DifferentialGame:
    """*Two Modalities* (paper Sec. 6, (1.1)).

    ``h_2 = 1, s_2 = 2, m_2 = (7, 7, -3), c_1 = c_2 = 10``: two global optima of value 10,
    at ``(-5, -5, 3)`` and ``(7, 7, -3)``.
    """
    return DifferentialGame(
        n_agents=n_agents,
        centre1=_paper_centre(n_agents, -5.0, 3.0),
        c1=10.0,
        centre2=_paper_centre(n_agents, 7.0, -3.0),
        s2=2.0,
        h2=1.0,
        c2=10.0,
    )


def max_of_three(s2: float = 1.5, n_agents: int = PAPER_N_AGENTS) -> DifferentialGame:
    """*Max of Three* (paper Sec. 6, (1.2)): ``h_2 = 1, m_2 = (7, 7, -4), c_1 = 0, c_2 = 10``.

    Local optimum 0 at ``(-5, -5, 3)``, global optimum 10 at ``(7, 7, -4)``; the paper uses
    ``s_2`` in {3.0, 2.0, 1.5} (smaller ``s_2``: narrower global basin, harder).
    """
    return DifferentialGame(
        n_agents=n_agents,
        centre1=_paper_centre(n_agents, -5.0, 3.0),
        c1=0.0,
        centre2=_paper_centre(n_agents, 7.0, -4.0),
        s2=s2,
        h2=1.0,
        c2=10.0,
    )
