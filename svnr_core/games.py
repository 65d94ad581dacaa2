"""Finite cooperative stochastic games (paper Sec. 2, "Cooperative Stochastic Game").

A game is the tuple ``(S, {U_i}, P, R, gamma)`` with a *team* reward shared by all agents.
We store it densely:

* ``P[s, u_1, ..., u_N, s']`` -- the probability of moving to ``s'`` after joint action
  ``u = (u_1, ..., u_N)`` in state ``s``;
* ``R[s, u_1, ..., u_N]`` -- the shared reward;
* ``gamma`` in ``[0, 1)`` -- the discount.

Every joint-action quantity (``Q``, a joint policy) uses the same layout ``[s, u_1, ..., u_N]``
so that the soft Bellman code can reduce over "all axes but the first".

The expectation over next states, ``E_{s'}[V(s')]`` for every ``(s, u)`` (inside Eq. 6), is
:meth:`CooperativeGame.expected_next`: a GEMV over ``P`` viewed as a ``(|S||U|, |S|)`` matrix, or
a CSR matvec when ``P`` is large and mostly zeros (``SPARSE_DENSITY``); the CSR form is built once
and cached.

Constructors for the games used throughout the paper and the RO literature live here too:
matrix games (one state, ``gamma = 0``), seeded random games, the climbing game and the penalty
game (Claus & Boutilier, 1998) and the two games of Figure 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

#: A game whose transition tensor has at most this fraction of non-zeros (and at least
#: ``SPARSE_MIN_SIZE`` entries) applies ``P`` as a CSR matrix.  A CSR non-zero costs 12 bytes
#: (value + column index) against 8 for a dense entry, and CSR matvec streams less regularly,
#: so the break-even lies well below 2/3; 1/4 keeps a clear margin.
SPARSE_DENSITY = 0.25
#: Below this many entries of ``P`` the dense path wins whatever the density (call overhead).
SPARSE_MIN_SIZE = 1 << 16

#: Absolute tolerance on ``sum_{s'} P[s, u, s'] == 1``.  Rows built by normalising positive
#: draws are exact to a few ulps; 1e-8 also admits tables typed in by hand with 8+ digits.
ROW_SUM_TOL = 1e-8


def _first_bad_index(mask: NDArray[np.bool_]) -> tuple[int, ...]:
    """Index (as a tuple of ints) of the first ``True`` entry of ``mask``."""
    return tuple(int(i) for i in np.argwhere(mask)[0])


def entry_name(name: str, idx: tuple[int, ...], tail: str = "") -> str:
    """``name[i, j, ...]`` for error messages (``tail`` appends e.g. ``", :"``)."""
    return f"{name}[{', '.join(str(i) for i in idx)}{tail}]"


@dataclass(frozen=True, eq=False)
class CooperativeGame:
    """A finite cooperative stochastic game ``(S, {U_i}, P, R, gamma)``.

    Parameters
    ----------
    P:
        Transition probabilities, shape ``(|S|, |U_1|, ..., |U_N|, |S|)``; every row
        ``P[s, u, :]`` is a probability vector.
    R:
        Team reward, shape ``(|S|, |U_1|, ..., |U_N|)``; finite.
    gamma:
        Discount factor in ``[0, 1)``.

    Raises
    ------
    ValueError
        Naming the offending entry: a shape mismatch, a negative or non-finite probability,
        a row that does not sum to one, a NaN/infinite reward, or ``gamma`` outside ``[0, 1)``.

    The arrays are copied to read-only ``float64`` arrays, so a game is immutable.
    """

    P: FloatArray
    R: FloatArray
    gamma: float
    n_states: int = field(init=False)
    action_counts: tuple[int, ...] = field(init=False)

    def __init__(self, P: ArrayLike, R: ArrayLike, gamma: float) -> None:
        p = np.array(as_float_array(P, "P"), copy=True)
        r = np.array(as_float_array(R, "R"), copy=True)
        try:
            g = float(gamma)
        except (TypeError, ValueError):
            raise ValueError(f"gamma must be a real number in [0, 1); got {gamma!r}") from None
        if r.ndim < 2:
            raise ValueError(
                f"R must have shape (|S|, |U_1|, ..., |U_N|) with at least one agent; "
                f"got an array with {r.ndim} dimension(s)"
            )
        n_states = r.shape[0]
        actions = tuple(int(a) for a in r.shape[1:])
        if n_states == 0 or any(a == 0 for a in actions):
            raise ValueError(f"R has an empty axis: shape {r.shape}")
        expected_p = (n_states, *actions, n_states)
        if p.shape != expected_p:
            raise ValueError(
                f"P has shape {p.shape} but R of shape {r.shape} requires P of shape "
                f"{expected_p} (P[s, u_1, ..., u_N, s'])"
            )
        if not np.isfinite(p).all():
            idx = _first_bad_index(~np.isfinite(p))
            raise ValueError(f"{entry_name('P', idx)} = {float(p[idx])!r} is not finite")
        if (p < 0).any():
            idx = _first_bad_index(p < 0)
            raise ValueError(
                f"{entry_name('P', idx)} = {float(p[idx])!r} is a negative probability"
            )
        row_sums = p.sum(axis=-1)
        bad_rows = np.abs(row_sums - 1.0) > ROW_SUM_TOL
        if bad_rows.any():
            idx = _first_bad_index(bad_rows)
            raise ValueError(
                f"{entry_name('P', idx, ', :')} sums to {float(row_sums[idx])!r}, not 1 "
                f"(row for state {idx[0]}, joint action {idx[1:]})"
            )
        if not np.isfinite(r).all():
            idx = _first_bad_index(~np.isfinite(r))
            raise ValueError(f"{entry_name('R', idx)} = {float(r[idx])!r} is not a finite reward")
        if not np.isfinite(g) or not 0.0 <= g < 1.0:
            raise ValueError(f"gamma must lie in [0, 1); got {gamma!r}")
        p.setflags(write=False)
        r.setflags(write=False)
        object.__setattr__(self, "P", p)
        object.__setattr__(self, "R", r)
        object.__setattr__(self, "gamma", g)
        object.__setattr__(self, "n_states", n_states)
        object.__setattr__(self, "action_counts", actions)

    # ------------------------------------------------------------------ derived views
    @property
    def n_agents(self) -> int:
        """Number of agents ``N``."""
        return len(self.action_counts)

    @property
    def n_joint_actions(self) -> int:
        """``|U| = prod_i |U_i|``."""
        return int(np.prod(self.action_counts))

    @property
    def joint_shape(self) -> tuple[int, ...]:
        """Shape ``(|S|, |U_1|, ..., |U_N|)`` of ``Q``, ``R`` and joint policies."""
        return (self.n_states, *self.action_counts)

    @cached_property
    def transition_matrix(self) -> FloatArray:
        """``P`` as a read-only ``(|S| |U|, |S|)`` matrix (a view; rows in C order of (s, u))."""
        return self.P.reshape(self.n_states * self.n_joint_actions, self.n_states)

    @cached_property
    def transition_density(self) -> float:
        """Fraction of non-zero entries of ``P`` (computed once)."""
        return float(np.count_nonzero(self.P)) / self.P.size

    @cached_property
    def transition_csr(self) -> sp.csr_array:
        """``P`` as a ``(|S| |U|, |S|)`` CSR matrix (built once, on first use)."""
        return sp.csr_array(self.transition_matrix)

    @property
    def is_sparse(self) -> bool:
        """Whether :meth:`expected_next` uses the CSR form (see ``SPARSE_DENSITY``)."""
        return self.P.size >= SPARSE_MIN_SIZE and self.transition_density <= SPARSE_DENSITY

    def expected_next(self, V: FloatArray) -> FloatArray:
        """``E_{s' ~ P(.|s, u)}[V(s')]`` for every ``(s, u)``, shape ``(|S|, |U_1|, ..., |U_N|)``.

        This is the expectation inside Eq. 6 of the paper, i.e. the product
        ``P.reshape(|S||U|, |S|) @ V`` (one GEMV, or a CSR matvec for sparse games).  ``V`` must
        be a float64 vector of length ``|S|``; callers validate it.
        """
        flat = self.transition_csr @ V if self.is_sparse else self.transition_matrix @ V
        return np.asarray(flat, dtype=np.float64).reshape(self.joint_shape)

    def flattened(self) -> CooperativeGame:
        """The same game with one joint-action axis of size ``|U|`` (C order).

        Every quantity of the paper is defined on the joint action ``u`` only, so results
        computed on the flattened game equal the reshaped results of the original one.
        """
        n_u = self.n_joint_actions
        return CooperativeGame(
            self.P.reshape(self.n_states, n_u, self.n_states),
            self.R.reshape(self.n_states, n_u),
            self.gamma,
        )

    def __repr__(self) -> str:
        return (
            f"CooperativeGame(n_states={self.n_states}, action_counts={self.action_counts}, "
            f"gamma={self.gamma})"
        )


# ---------------------------------------------------------------------------- constructors
def matrix_game(payoff: ArrayLike) -> CooperativeGame:
    """A single-state, single-step game (``gamma = 0``) with the given joint payoff.

    ``payoff[u_1, ..., u_N]`` is the shared reward; the only state loops to itself.
    """
    r = as_float_array(payoff, "payoff")
    if r.ndim < 1:
        raise ValueError("a matrix game needs a payoff array with one axis per agent")
    p = np.ones((1, *r.shape, 1))
    return CooperativeGame(p, r[np.newaxis], 0.0)


def random_game(
    seed: int | np.random.Generator,
    n_states: int,
    action_counts: tuple[int, ...],
    gamma: float,
    *,
    reward_scale: float = 1.0,
    sparsity: float = 0.0,
) -> CooperativeGame:
    """A seeded random game.

    Rewards are ``reward_scale * N(0, 1)``.  Each transition row is a normalised draw of
    positive weights; with ``sparsity > 0`` that fraction of the weights is zeroed (one
    successor per row is always kept), which exercises the sparse code paths.
    """
    if n_states < 1 or not action_counts or any(a < 1 for a in action_counts):
        raise ValueError(
            f"need n_states >= 1 and at least one agent with >= 1 action; got "
            f"n_states={n_states}, action_counts={action_counts}"
        )
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity must lie in [0, 1); got {sparsity!r}")
    if not np.isfinite(reward_scale) or reward_scale < 0.0:
        raise ValueError(f"reward_scale must be finite and >= 0; got {reward_scale!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    shape = (n_states, *action_counts)
    weights = rng.exponential(size=(*shape, n_states))
    if sparsity > 0.0:
        weights[rng.random(weights.shape) < sparsity] = 0.0
        keep = rng.integers(n_states, size=shape)
        np.put_along_axis(weights, keep[..., np.newaxis], 1.0, axis=-1)
    p = weights / weights.sum(axis=-1, keepdims=True)
    r = reward_scale * rng.standard_normal(shape)
    return CooperativeGame(p, r, gamma)


def climbing_game() -> CooperativeGame:
    """The climbing game (Claus & Boutilier, 1998).

    Optimum 11 at ``(0, 0)``; the RO trap is the safe Nash equilibrium ``(2, 2)`` worth 5
    (or ``(1, 1)`` worth 7), because action 0 is punished by -30 against a miscoordinated
    partner.
    """
    return matrix_game([[11.0, -30.0, 0.0], [-30.0, 7.0, 6.0], [0.0, 0.0, 5.0]])


def penalty_game(k: float = -100.0) -> CooperativeGame:
    """The penalty game (Claus & Boutilier, 1998) with penalty ``k <= 0``.

    Two optima worth 10 at ``(0, 0)`` and ``(2, 2)``; miscoordinating between them costs
    ``k``, which drives independent learners to the safe action ``(1, 1)`` worth 2.
    """
    if not np.isfinite(k) or k > 0:
        raise ValueError(f"the penalty k must be finite and <= 0; got {k!r}")
    return matrix_game([[10.0, 0.0, k], [0.0, 2.0, 0.0], [k, 0.0, 10.0]])


def figure1_left() -> CooperativeGame:
    """Figure 1 (left) of the paper: the PRO example.

    Rows are agent A's actions, columns agent B's::

              B=0  B=1
        A=0    3    0
        A=1    2    2

    Against a uniform perceived opponent ``rho_A`` action 0 is worth 1.5 and action 1 is
    worth 2, so A settles on ``u_A = 1`` and the team earns 2 instead of 3.
    """
    return matrix_game([[3.0, 0.0], [2.0, 2.0]])


def figure1_right() -> CooperativeGame:
    """Figure 1 (right) of the paper: the ERO example.

    Two equally good coordinated joint actions::

              B=0  B=1
        A=0    3    0
        A=1    0    3

    (The paper's prose names the optima ``(1, 0)`` and ``(0, 1)``, its table the diagonal;
    the two layouts are the same game up to relabelling B's actions.)  The optimal joint
    policy puts 1/2 on each optimum, but executing its marginals independently yields
    ``1/4`` on every cell and an expected payoff of 1.5 instead of 3.
    """
    return matrix_game([[3.0, 0.0], [0.0, 3.0]])


def as_float_array(x: Any, name: str) -> FloatArray:
    """``x`` as a float64 array, or a ``ValueError`` naming ``name`` if it is not numeric."""
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array: {exc}") from None
