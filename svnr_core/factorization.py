"""Negotiation sets and the representation capacity of a policy factorization.

Paper references: Theorem C.1 (nested factorization requirement) with its proof in App. E.3,
the strictly nested default ``C_i = {1, ..., i}`` (Sec. 4.1, App. F.2) and the relaxed topologies
of App. E.8 (Eq. 16).

Conventions
-----------
Agents are numbered ``0, ..., N-1`` here (array axes); the paper and the command line
(:mod:`svnr_core.cli`) number them from 1.  ``C_i`` is agent ``i``'s negotiation set: its local
policy is ``pi_i(u_i | u_{C_i})``.  The paper's own example ``C_i = {1, ..., i}`` lists ``i``
itself, so ``C_i`` may contain ``i``; conditioning ``u_i`` on itself is vacuous, so every
computation uses the *parents* ``P_i = C_i \\ {i}``.

A joint distribution over the agents' finite action sets is a non-negative array ``joint`` of
shape ``(|U_1|, ..., |U_N|)`` summing to one.  Conditionals are returned in *broadcast form*: an
array with the joint's number of axes whose axes outside ``{i} + P_i`` have length one, so that
products of conditionals broadcast to the joint's shape.  In a context of probability zero a
conditional is defined as the uniform distribution (any choice is a valid conditional there).

Nested vs exact chain
---------------------
*Nested* (Theorem C.1, reading its "subset" as "subset or equal"): there is an ordering ``sigma``
(agent -> position) such that every agent's parents contain all agents placed before it,
``{j : sigma(j) < sigma(i)} <= P_i``.  Then the factorization has full capacity: every joint
``p`` equals ``prod_i p(u_i | u_{pred(i)})`` and each factor is a member of the family
``pi_i(u_i | u_{C_i})`` (a function of ``u_{C_i}`` that ignores ``C_i \\ pred(i)``); for a
positive ``p`` the true conditionals ``p(u_i | u_{C_i})`` even determine ``p`` uniquely
(Gelman & Speed, 1993), which :func:`compose` reconstructs constructively.

*Exact chain* (Gelman & Speed's compatibility condition): some ordering has ``P_i`` *equal* to
the agents before ``i``.  Only then are arbitrary, independently chosen conditionals always
compatible (they are the factors of a chain rule).  ``C_1 = {2}, C_2 = {1}`` is nested but not an
exact chain: two arbitrary conditionals ``p(u_1 | u_2)``, ``q(u_2 | u_1)`` are generally the
conditionals of no joint at all.

The tempting pairwise test "``j in C_i`` or ``i in C_j`` for all pairs" is wrong: the cycle
``C_1 = {2}, C_2 = {3}, C_3 = {1}`` passes it but has no nested ordering.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from numbers import Integral
from typing import Literal

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike, NDArray
from scipy.special import rel_entr

__all__ = [
    "EXACT_FIXED_POINT_MAX_ENTRIES",
    "JOINT_SUM_TOL",
    "NegotiationSets",
    "PeelResult",
    "ProjectionResult",
    "Witness",
    "ancestral_joint",
    "as_joint",
    "as_negotiation_sets",
    "compatibility_gap",
    "compose",
    "compose_nested",
    "conditional",
    "conditionals",
    "dag_order",
    "exact_chain_order",
    "is_exact_chain",
    "is_nested",
    "kl_divergence",
    "marginal",
    "negotiation_fixed_point",
    "nested_order",
    "parity_witness",
    "peel",
    "projection_gap",
    "representation_gap",
    "represented_joint",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Absolute tolerance on ``sum(joint) == 1``; the same budget as ``games.ROW_SUM_TOL``.
JOINT_SUM_TOL = 1e-8

#: Joints with at most this many entries use the exact (linear-algebra) fixed point of the
#: systematic-scan negotiation under ``method="auto"``; larger ones iterate sweeps.  The dense
#: scan kernel has ``n^2`` entries and its null space costs ``O(n^3)``: 1024 entries take well
#: under a second.
EXACT_FIXED_POINT_MAX_ENTRIES = 1024

FixedPointMethod = Literal["auto", "exact", "iterate"]


# ------------------------------------------------------------------------ negotiation sets
def _is_int(value: object) -> bool:
    """Whether ``value`` is an integer (Python or numpy), booleans excluded."""
    return isinstance(value, Integral) and not isinstance(value, bool)


def _agent_ids(entry: Iterable[object], where: str) -> NDArray[np.int64]:
    """The ids of one set as an int64 array; integer arrays and lists take a vectorized path,
    anything else is checked element by element (so the message names the bad element)."""
    if isinstance(entry, list | tuple | range | np.ndarray):
        arr = np.asarray(entry)
        if arr.ndim == 1 and arr.dtype.kind in "iu":
            return arr.astype(np.int64)
    return np.array([_as_agent_id(v, where) for v in entry], dtype=np.int64)


def _as_agent_id(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{where}: agent ids must be integers; got {value!r}")
    return int(value)


@dataclass(frozen=True)
class NegotiationSets:
    """Validated, immutable negotiation sets ``C_0, ..., C_{N-1}`` (0-based agent ids).

    Parameters
    ----------
    sets:
        One iterable of agent ids per agent, in agent order.  ``C_i`` may contain ``i``.
    n_agents:
        If given, the number of sets must equal it.

    Raises
    ------
    ValueError
        With a message naming the offending set: no sets, a wrong number of sets, a set that is
        not a collection of integers (strings, floats and booleans are rejected), an id outside
        ``[0, N)`` or an id listed twice in one set.
    """

    sets: tuple[frozenset[int], ...]
    _adjacency: BoolArray = field(repr=False, compare=False, hash=False)

    def __init__(self, sets: Sequence[Iterable[int]], n_agents: int | None = None) -> None:
        obj: object = sets
        if isinstance(obj, str | bytes) or not isinstance(obj, Sequence | np.ndarray):
            raise ValueError(
                f"negotiation sets must be a sequence with one collection of agent ids per "
                f"agent; got {type(sets).__name__}"
            )
        n = len(sets)
        if n == 0:
            raise ValueError("negotiation sets: need at least one agent (got no sets)")
        if n_agents is not None and n != n_agents:
            raise ValueError(f"expected {n_agents} negotiation sets (one per agent); got {n}")
        out: list[frozenset[int]] = []
        for i, entry in enumerate(sets):
            where = f"C_{i} (agent {i})"
            if isinstance(entry, str | bytes) or not isinstance(entry, Iterable):
                raise ValueError(f"{where} must be a collection of agent ids; got {entry!r}")
            ids = _agent_ids(entry, where)
            bad = (ids < 0) | (ids >= n)
            if bad.any():
                j = int(ids[bad][0])
                raise ValueError(f"{where}: agent id {j} is out of range [0, {n})")
            uniq, counts = np.unique(ids, return_counts=True)
            if (counts > 1).any():
                dup = int(uniq[counts > 1][0])
                raise ValueError(f"{where}: agent id {dup} is listed more than once")
            out.append(frozenset(ids.tolist()))
        adj = np.zeros((n, n), dtype=bool)
        for i, c in enumerate(out):
            adj[i, list(c - {i})] = True
        adj.setflags(write=False)
        object.__setattr__(self, "sets", tuple(out))
        object.__setattr__(self, "_adjacency", adj)

    # ---------------------------------------------------------------- constructors
    @classmethod
    def strictly_nested(cls, n_agents: int) -> NegotiationSets:
        """The paper's default ``C_i = {1, ..., i}`` (0-based: ``{0, ..., i}``), an exact chain."""
        return cls([range(i + 1) for i in range(_positive(n_agents, "n_agents"))])

    @classmethod
    def full(cls, n_agents: int) -> NegotiationSets:
        """``C_i = -i`` (ROMMEO, SVNR-F): nested, and an exact chain only for ``N = 1``."""
        n = _positive(n_agents, "n_agents")
        return cls([[j for j in range(n) if j != i] for i in range(n)])

    @classmethod
    def independent(cls, n_agents: int) -> NegotiationSets:
        """``C_i = {}`` (SVNR-M, independent learners): nested only for ``N = 1``."""
        return cls([[] for _ in range(_positive(n_agents, "n_agents"))])

    # ---------------------------------------------------------------- views
    @property
    def n_agents(self) -> int:
        """Number of agents ``N``."""
        return len(self.sets)

    def parents(self, agent: int) -> frozenset[int]:
        """``P_i = C_i \\ {i}``: the agents that ``agent`` actually conditions on."""
        return self.sets[agent] - {agent}

    def adjacency(self) -> BoolArray:
        """Read-only boolean matrix ``A[i, j] = (j in P_i)``; the diagonal is ``False``."""
        return self._adjacency

    def one_based(self) -> list[list[int]]:
        """The sets with the paper's 1-based agent ids, each sorted."""
        return [sorted(j + 1 for j in c) for c in self.sets]

    def __repr__(self) -> str:
        return f"NegotiationSets({[sorted(c) for c in self.sets]})"

    def __str__(self) -> str:
        return " ".join(
            f"{i + 1}:{','.join(str(j) for j in c)}" for i, c in enumerate(self.one_based())
        )


def _positive(n: int, name: str) -> int:
    if not _is_int(n) or int(n) < 1:
        raise ValueError(f"{name} must be a positive integer; got {n!r}")
    return int(n)


def as_negotiation_sets(
    sets: NegotiationSets | Sequence[Iterable[int]], n_agents: int | None = None
) -> NegotiationSets:
    """``sets`` as :class:`NegotiationSets`, checking the number of agents if given."""
    if isinstance(sets, NegotiationSets):
        if n_agents is not None and sets.n_agents != n_agents:
            raise ValueError(
                f"expected {n_agents} negotiation sets (one per agent); got {sets.n_agents}"
            )
        return sets
    return NegotiationSets(sets, n_agents)


# ------------------------------------------------------------------------ Theorem C.1
@dataclass(frozen=True)
class PeelResult:
    """Outcome of the greedy peeling behind :func:`nested_order`.

    ``sigma`` maps agent -> position when the sets are nested, else ``None``.  ``stuck`` is the
    set ``R`` of agents left when peeling stops (empty iff nested); every agent of ``R`` misses
    at least one other member of ``R`` in its parents, which is what :func:`parity_witness`
    exploits.  The stuck set does not depend on tie-breaking (see :func:`peel`).
    """

    sigma: tuple[int, ...] | None
    stuck: frozenset[int]

    @property
    def nested(self) -> bool:
        """Whether the sets satisfy Theorem C.1."""
        return self.sigma is not None

    @property
    def order(self) -> tuple[int, ...] | None:
        """The inverse of ``sigma``: ``order[k]`` is the agent at position ``k``."""
        if self.sigma is None:
            return None
        inv = [0] * len(self.sigma)
        for agent, pos in enumerate(self.sigma):
            inv[pos] = agent
        return tuple(inv)


def peel(sets: NegotiationSets | Sequence[Iterable[int]]) -> PeelResult:
    """Greedy peeling from the back: the exact, ``O(N^2)`` test of Theorem C.1.

    Algorithm.  Keep the set ``R`` of unplaced agents (initially all).  While some ``i in R``
    has ``R \\ {i} <= P_i``, place ``i`` at the last free position and remove it from ``R``.
    Succeed when ``R`` is empty.  A counter ``missing_i = |(R \\ {i}) \\ P_i|`` is kept per agent
    and decremented when a non-parent leaves ``R``, so each step costs ``O(N)``.

    Proof of exactness.  Call an ordering of a set ``R`` *valid* if every agent's parents contain
    all agents of ``R`` placed before it.

    1. *Heredity*: the restriction of a valid ordering of ``R`` to ``R' <= R`` is valid (an
       agent's predecessors only shrink).
    2. *Exchange*: if ``R`` has a valid ordering and ``R \\ {i} <= P_i``, then moving ``i`` to
       the end yields a valid ordering: agents that were after ``i`` lose a predecessor, and
       ``i``'s predecessors become ``R \\ {i} <= P_i``.
    3. If no ``i in R`` has ``R \\ {i} <= P_i``, then ``R`` has no valid ordering (its last agent
       would need exactly that), hence by (1) neither does any superset of ``R``.

    By (2) and (1), a placed agent never destroys a valid ordering of the rest; by (3), getting
    stuck proves that none exists.  So peeling succeeds iff the sets are nested, whatever agent
    is picked among the candidates.  The stuck set is also unique: a candidate of ``R`` stays a
    candidate of every ``R' <= R`` containing it, so any two maximal peelings remove the same
    agents.  Ties are broken by the smallest agent id, making ``sigma`` deterministic.
    """
    s = as_negotiation_sets(sets)
    n = s.n_agents
    not_parent = ~s.adjacency()
    missing = not_parent.sum(axis=1) - 1  # the diagonal is "not a parent" but is not missing
    alive = np.ones(n, dtype=bool)
    heap = [int(i) for i in np.flatnonzero(missing == 0)]
    heapq.heapify(heap)
    sigma = [-1] * n
    next_pos = n - 1
    while heap:
        k = heapq.heappop(heap)
        alive[k] = False
        sigma[k] = next_pos
        next_pos -= 1
        dec = alive & not_parent[:, k]
        missing[dec] -= 1
        for i in np.flatnonzero(dec & (missing == 0)):
            heapq.heappush(heap, int(i))
    if next_pos >= 0:
        return PeelResult(None, frozenset(int(i) for i in np.flatnonzero(alive)))
    return PeelResult(tuple(sigma), frozenset())


def nested_order(sets: NegotiationSets | Sequence[Iterable[int]]) -> tuple[int, ...] | None:
    """The ordering ``sigma`` (agent -> position) of Theorem C.1, or ``None`` if none exists.

    Theorem C.1 read with "subset or equal" and with ``sigma`` mapping agents to positions:
    every agent's parents contain all agents placed before it.  Exact and ``O(N^2)``; see
    :func:`peel` for the algorithm and its proof.
    """
    return peel(sets).sigma


def is_nested(sets: NegotiationSets | Sequence[Iterable[int]]) -> bool:
    """Whether the sets have full representation capacity (Theorem C.1)."""
    return peel(sets).nested


def exact_chain_order(sets: NegotiationSets | Sequence[Iterable[int]]) -> tuple[int, ...] | None:
    """``sigma`` (agent -> position) with ``P_i`` *equal* to the agents before ``i``, or ``None``.

    In an exact chain the agent at position ``k`` has exactly ``k`` parents, so positions are
    forced by ``|P_i|``: the sizes must be a permutation of ``0, ..., N-1``, and then the chain
    holds iff every parent of ``i`` has fewer parents than ``i`` (a set of size ``k`` contained
    in the ``k`` agents before it equals them).  ``O(N^2)`` through the adjacency matrix.
    """
    s = as_negotiation_sets(sets)
    adj = s.adjacency()
    sizes = adj.sum(axis=1)
    if not np.array_equal(np.sort(sizes), np.arange(s.n_agents)):
        return None
    # parents must all sit at smaller positions: sizes[j] < sizes[i] whenever adj[i, j]
    if (adj & (sizes[np.newaxis, :] >= sizes[:, np.newaxis])).any():
        return None
    return tuple(int(k) for k in sizes)


def is_exact_chain(sets: NegotiationSets | Sequence[Iterable[int]]) -> bool:
    """Whether some ordering has every ``P_i`` equal to the agents before ``i`` (Gelman & Speed).

    Implies :func:`is_nested`; the converse fails (``C_1 = {2}, C_2 = {1}``).
    """
    return exact_chain_order(sets) is not None


def dag_order(sets: NegotiationSets | Sequence[Iterable[int]]) -> tuple[int, ...] | None:
    """``sigma`` (agent -> position) with every parent placed before its child, or ``None``.

    The sets then form a directed acyclic graph (a "partially nested DAG" of App. E.8).  Kahn's
    algorithm, smallest id first.
    """
    s = as_negotiation_sets(sets)
    adj = s.adjacency()
    indeg = adj.sum(axis=1)
    heap = [int(i) for i in np.flatnonzero(indeg == 0)]
    heapq.heapify(heap)
    sigma = [-1] * s.n_agents
    pos = 0
    while heap:
        k = heapq.heappop(heap)
        sigma[k] = pos
        pos += 1
        for i in np.flatnonzero(adj[:, k]):
            indeg[i] -= 1
            if indeg[i] == 0:
                heapq.heappush(heap, int(i))
    return tuple(sigma) if pos == s.n_agents else None


# ------------------------------------------------------------------------ joints and conditionals
def as_joint(joint: ArrayLike, name: str = "joint") -> FloatArray:
    """``joint`` as a float64 probability array over ``N >= 1`` agents' actions.

    Raises ``ValueError`` naming ``name`` for a non-numeric input, zero axes, an empty axis, a
    NaN/infinite or negative entry, or a total that differs from one by more than
    :data:`JOINT_SUM_TOL`.
    """
    try:
        p = np.asarray(joint, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array: {exc}") from None
    if p.ndim == 0:
        raise ValueError(f"{name} needs one axis per agent; got a scalar")
    if 0 in p.shape:
        raise ValueError(f"{name} has an empty axis: shape {p.shape}")
    if not np.isfinite(p).all():
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(p))[0])
        raise ValueError(f"{name}{idx} is not finite")
    if (p < 0).any():
        idx = tuple(int(i) for i in np.argwhere(p < 0)[0])
        raise ValueError(f"{name}{idx} = {p[idx]!r} is negative")
    total = float(p.sum())
    if abs(total - 1.0) > JOINT_SUM_TOL:
        raise ValueError(f"{name} sums to {total!r}, not 1")
    return p


def _other_axes(ndim: int, keep: Iterable[int]) -> tuple[int, ...]:
    k = set(keep)
    return tuple(a for a in range(ndim) if a not in k)


def marginal(joint: ArrayLike, keep: Iterable[int]) -> FloatArray:
    """The marginal of ``joint`` on the agents ``keep``, in broadcast form (other axes length 1)."""
    p = as_joint(joint)
    return np.asarray(p.sum(axis=_other_axes(p.ndim, keep), keepdims=True), dtype=np.float64)


def _normalize_axis(weights: FloatArray, axis: int) -> FloatArray:
    """``weights`` normalised along ``axis``; all-zero slices become uniform."""
    total = weights.sum(axis=axis, keepdims=True)
    size = weights.shape[axis]
    safe = np.where(total > 0, total, 1.0)
    return np.where(total > 0, weights / safe, 1.0 / size)


def conditional(joint: ArrayLike, agent: int, given: Iterable[int]) -> FloatArray:
    """``p(u_agent | u_given)`` in broadcast form (App. E.3: ``p_{{i} + C} / p_C``).

    ``given`` may contain ``agent`` (ignored, as for ``C_i = {1..i}``).  Contexts of probability
    zero get the uniform conditional.
    """
    p = as_joint(joint)
    _check_agent(agent, p.ndim, "agent")
    g = {int(j) for j in given} - {agent}
    for j in g:
        _check_agent(j, p.ndim, "given")
    joint_marg = np.asarray(p.sum(axis=_other_axes(p.ndim, g | {agent}), keepdims=True))
    return _normalize_axis(joint_marg, agent)


def _check_agent(agent: int, n: int, name: str) -> None:
    if not _is_int(agent) or not 0 <= int(agent) < n:
        raise ValueError(f"{name}: agent id {agent!r} is out of range [0, {n})")


def conditionals(
    joint: ArrayLike, sets: NegotiationSets | Sequence[Iterable[int]]
) -> tuple[FloatArray, ...]:
    """The true conditionals ``pi(u_i | u_{C_i})`` of ``joint``, one per agent (broadcast form)."""
    p = as_joint(joint)
    s = as_negotiation_sets(sets, p.ndim)
    return tuple(conditional(p, i, s.parents(i)) for i in range(s.n_agents))


def _check_conditionals(
    conds: Sequence[ArrayLike], s: NegotiationSets
) -> tuple[tuple[FloatArray, ...], tuple[int, ...]]:
    """Validate broadcast-form conditionals against the sets; return them and the action counts."""
    if len(conds) != s.n_agents:
        raise ValueError(f"expected {s.n_agents} conditionals (one per agent); got {len(conds)}")
    out: list[FloatArray] = []
    counts = [0] * s.n_agents
    for i, c in enumerate(conds):
        name = f"conditionals[{i}]"
        try:
            a = np.asarray(c, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be a numeric array: {exc}") from None
        if a.ndim != s.n_agents:
            raise ValueError(f"{name} must have {s.n_agents} axes (broadcast form); got {a.ndim}")
        allowed = s.parents(i) | {i}
        for ax in range(a.ndim):
            if ax not in allowed and a.shape[ax] != 1:
                raise ValueError(
                    f"{name} varies along axis {ax}, but agent {ax} is not in C_{i}; axes "
                    f"outside C_{i} + {{{i}}} must have length 1"
                )
        if not np.isfinite(a).all() or (a < 0).any():
            raise ValueError(f"{name} has a negative or non-finite entry")
        if np.abs(a.sum(axis=i) - 1.0).max() > JOINT_SUM_TOL:
            raise ValueError(f"{name} does not sum to 1 over agent {i}'s actions (axis {i})")
        counts[i] = a.shape[i]
        out.append(a)
    for i, a in enumerate(out):
        for ax in range(a.ndim):
            if a.shape[ax] != 1 and a.shape[ax] != counts[ax]:
                raise ValueError(
                    f"conditionals[{i}] has {a.shape[ax]} entries on axis {ax}, but agent {ax} "
                    f"has {counts[ax]} actions"
                )
    return tuple(out), tuple(counts)


# ------------------------------------------------------------------------ composition
def compose_nested(
    conds: Sequence[ArrayLike], sets: NegotiationSets | Sequence[Iterable[int]]
) -> FloatArray:
    """The unique joint with the given (positive) conditionals, for nested sets (Thm C.1, E.3).

    Ancestral composition in the nested order ``a_0, ..., a_{N-1}``, from the back.  Let
    ``Q_{k+1} = p(u_{>k} | u_{<=k})`` (positions), ``Q_N = 1``.  Agent ``a = a_k`` has parents
    ``P_a = pred(a) + S`` with ``S`` the later agents it conditions on.  If ``S`` is empty its
    conditional *is* the ancestral factor ``r = p(u_a | u_{<k})``; otherwise Bayes' rule,
    ``p(u_a | u_{<k}, u_S) = r(u_a) p(u_S | u_a, u_{<k}) / p(u_S | u_{<k})``, gives Brook's
    identity ``r(u_a) ∝ p(u_a | u_{<k}, u_S*) / p(u_S* | u_{<=k})`` at a reference ``u_S*``
    (action 0 of each agent in ``S``), where ``p(u_S | u_{<=k})`` is a marginal of ``Q_{k+1}``.
    Then ``Q_k = r Q_{k+1}`` and the joint is ``Q_0``.  When ``S`` is never needed (an exact
    chain) this is plain ancestral sampling, and it works with zeros.  With ``S`` the
    reconstruction needs positive conditionals (otherwise conditionals need not determine the
    joint: ``C_1={2}, C_2={1}`` and any mixture of two point masses on the diagonal).

    Raises ``ValueError`` if the sets are not nested or a Brook step meets a zero.
    """
    s = as_negotiation_sets(sets)
    c, counts = _check_conditionals(conds, s)
    res = peel(s)
    if res.order is None:
        raise ValueError(
            f"compose_nested needs nested negotiation sets; agents {sorted(res.stuck)} have no "
            f"nested order (use compose / negotiation_fixed_point)"
        )
    order = res.order
    n = s.n_agents
    q: FloatArray = np.ones((1,) * n)
    for k in range(n - 1, -1, -1):
        a = order[k]
        later = set(order[k + 1 :])
        extra = sorted(s.parents(a) & later)
        if not extra:
            r = c[a]
        else:
            cond = c[a]
            if (cond <= 0).any():
                raise ValueError(
                    f"conditionals[{a}] has a zero entry; recovering p(u_{a} | earlier agents) "
                    f"from it by Brook's identity needs positive conditionals"
                )
            m = q.sum(axis=tuple(sorted(later - set(extra))), keepdims=True)
            ref = tuple(slice(0, 1) if ax in extra else slice(None) for ax in range(n))
            m_ref = m[ref]
            if (m_ref <= 0).any():
                raise ValueError(
                    f"the reconstructed p(u_S | earlier agents) has a zero at the reference "
                    f"action of S = {extra}; the conditionals are not positive/compatible"
                )
            r = _normalize_axis(cond[ref] / m_ref, a)
        q = r * q
    return np.asarray(np.broadcast_to(q, counts), dtype=np.float64).copy()


def _scan_step(dist: FloatArray, cond: FloatArray, agent: int) -> FloatArray:
    """One negotiation step: agent re-draws ``u_i ~ pi(u_i | u_{C_i})``; acts on distributions.

    ``dist`` may carry leading batch axes (``dist.ndim > cond.ndim``).
    """
    axis = dist.ndim - cond.ndim + agent
    return np.asarray(dist.sum(axis=axis, keepdims=True) * cond, dtype=np.float64)


def _sweep(dist: FloatArray, conds: Sequence[FloatArray], scan: Sequence[int]) -> FloatArray:
    for i in scan:
        dist = _scan_step(dist, conds[i], i)
    return dist


def _check_scan(scan_order: Sequence[int] | None, n: int) -> tuple[int, ...]:
    if scan_order is None:
        return tuple(range(n))
    scan = tuple(_as_agent_id(v, "scan_order") for v in scan_order)
    if sorted(scan) != list(range(n)):
        raise ValueError(f"scan_order must be a permutation of 0..{n - 1}; got {list(scan)}")
    return scan


def negotiation_fixed_point(
    conds: Sequence[ArrayLike],
    sets: NegotiationSets | Sequence[Iterable[int]],
    *,
    scan_order: Sequence[int] | None = None,
    method: FixedPointMethod = "auto",
    tol: float = 1e-12,
    max_sweeps: int = 100_000,
) -> FloatArray:
    """Fixed point of systematic-scan negotiation of the conditionals (any sets).

    One sweep lets the agents, in ``scan_order`` (default ``0..N-1``), each re-draw its action
    from ``pi_i(u_i | u_{C_i})`` given the others' current actions (the tabular analogue of the
    negotiation rounds of Eq. 4).  On distributions a step is
    ``p'(u) = (sum_{u_i} p(u)) pi_i(u_i | u_{C_i})``, a Markov kernel; the sweep kernel ``T`` is
    their product.  The fixed point is the stationary distribution ``mu = mu T``:

    * ``"exact"``: the null space of ``T^T - I`` (``T`` built densely); if it is not
      one-dimensional (the conditionals have zeros and the chain is reducible), the method falls
      back to iteration from the uniform start;
    * ``"iterate"``: sweeps from the uniform distribution until the L1 change is ``< tol``, with
      Cesaro averaging if the chain turns out periodic;
    * ``"auto"``: exact up to :data:`EXACT_FIXED_POINT_MAX_ENTRIES` entries.

    For compatible conditionals of an exact chain scanned in chain order the fixed point is the
    joint itself.  For merely nested sets the scan need not be exact (e.g. ``C_1 = {}``,
    ``C_2 = {1, 3}``, ``C_3 = {1, 2}``): use :func:`compose_nested` there.
    """
    s = as_negotiation_sets(sets)
    c, counts = _check_conditionals(conds, s)
    scan = _check_scan(scan_order, s.n_agents)
    n_entries = math.prod(counts)
    if method not in ("auto", "exact", "iterate"):
        raise ValueError(f"method must be 'auto', 'exact' or 'iterate'; got {method!r}")
    if method == "exact" or (method == "auto" and n_entries <= EXACT_FIXED_POINT_MAX_ENTRIES):
        mu = _exact_fixed_point(c, counts, scan)
        if mu is not None:
            return mu
    return _iterate_fixed_point(c, counts, scan, tol, max_sweeps)


def _exact_fixed_point(
    c: Sequence[FloatArray], counts: tuple[int, ...], scan: Sequence[int]
) -> FloatArray | None:
    n_entries = math.prod(counts)
    basis = np.eye(n_entries).reshape((n_entries, *counts))
    kernel = _sweep(basis, c, scan).reshape(n_entries, n_entries)  # row s: T[s, :]
    ns = scipy.linalg.null_space(kernel.T - np.eye(n_entries))
    if ns.shape[1] != 1:
        return None
    v = ns[:, 0]
    v = v / v.sum()
    # Round-off leaves entries of order -1e-16 where the stationary mass is zero.
    v = np.clip(v, 0.0, None)
    return np.asarray((v / v.sum()).reshape(counts), dtype=np.float64)


def _iterate_fixed_point(
    c: Sequence[FloatArray],
    counts: tuple[int, ...],
    scan: Sequence[int],
    tol: float,
    max_sweeps: int,
) -> FloatArray:
    mu = np.full(counts, 1.0 / math.prod(counts))
    avg = np.zeros(counts)
    prev_avg = avg
    for t in range(1, max_sweeps + 1):
        nxt = _sweep(mu, c, scan)
        if float(np.abs(nxt - mu).sum()) < tol:
            return nxt
        mu = nxt
        avg = avg + (mu - avg) / t  # Cesaro mean, the fixed point of a periodic chain
        if t % 1000 == 0:
            if float(np.abs(avg - prev_avg).sum()) < tol * 1000:
                return avg
            prev_avg = avg.copy()
    raise ValueError(
        f"systematic-scan negotiation did not reach a fixed point within {max_sweeps} sweeps "
        f"(tol {tol}); use method='exact' on small joints"
    )


def compose(
    conds: Sequence[ArrayLike],
    sets: NegotiationSets | Sequence[Iterable[int]],
    *,
    scan_order: Sequence[int] | None = None,
    method: FixedPointMethod = "auto",
) -> FloatArray:
    """Compose conditionals back into a joint by negotiation.

    Nested sets: :func:`compose_nested` (ancestral composition in the nested order).  Other
    sets: :func:`negotiation_fixed_point` (systematic scan run to its fixed point).
    """
    if is_nested(sets):
        return compose_nested(conds, sets)
    return negotiation_fixed_point(conds, sets, scan_order=scan_order, method=method)


def compatibility_gap(
    conds: Sequence[ArrayLike],
    sets: NegotiationSets | Sequence[Iterable[int]],
    *,
    scan_order: Sequence[int] | None = None,
) -> float:
    """How far the given conditionals are from being the conditionals of one joint.

    Composes them (:func:`compose`) and returns the largest absolute difference between each
    given ``pi_i(u_i | u_{C_i})`` and the composed joint's own conditional, over contexts of
    positive composed probability.  Zero (to round-off) iff the conditionals are compatible
    with the composed joint.  For an exact chain every family of conditionals is compatible;
    for ``C_1 = {2}, C_2 = {1}`` generic pairs are not.
    """
    s = as_negotiation_sets(sets)
    c, _ = _check_conditionals(conds, s)
    joint = compose(c, s, scan_order=scan_order)
    worst = 0.0
    for i in range(s.n_agents):
        ctx = s.parents(i)
        mass = joint.sum(axis=_other_axes(joint.ndim, ctx), keepdims=True)
        diff = np.abs(conditional(joint, i, ctx) - c[i])
        diff = np.where(mass > 0, diff, 0.0)
        worst = max(worst, float(diff.max()))
    return worst


def kl_divergence(p: ArrayLike, q: ArrayLike) -> float:
    """``KL(p || q) = sum p log(p / q)`` in nats (``0 log 0 = 0``; ``inf`` if ``q = 0 < p``)."""
    pa = np.asarray(p, dtype=np.float64)
    qa = np.asarray(q, dtype=np.float64)
    if pa.shape != qa.shape:
        raise ValueError(f"KL needs equal shapes; got {pa.shape} and {qa.shape}")
    # rel_entr is exact at p = 0 and inf at q = 0 < p.  Clip: summation round-off of a few ulps
    # can make sum(p log p/q) of two almost equal distributions slightly negative.
    return max(float(rel_entr(pa, qa).sum()), 0.0)


def ancestral_joint(joint: ArrayLike, sigma: Sequence[int], parents: NegotiationSets) -> FloatArray:
    """``prod_i p(u_i | u_{P_i})`` for parents that precede each agent in ``sigma``.

    With ``P_i = pred(i)`` this is the chain rule (the joint itself); with fewer parents it is
    the moment projection onto the Bayesian network of ``parents`` (App. E.8).
    """
    p = as_joint(joint)
    out: FloatArray = np.ones((1,) * p.ndim)
    for i in range(p.ndim):
        if any(sigma[j] >= sigma[i] for j in parents.parents(i)):
            raise ValueError(f"agent {i}'s parents are not all placed before it in sigma")
        out = out * conditional(p, i, parents.parents(i))
    return np.asarray(np.broadcast_to(out, p.shape), dtype=np.float64).copy()


def represented_joint(
    joint: ArrayLike,
    sets: NegotiationSets | Sequence[Iterable[int]],
    *,
    scan_order: Sequence[int] | None = None,
    method: FixedPointMethod = "auto",
) -> FloatArray:
    """What negotiation over ``sets`` composes from the true conditionals of ``joint``.

    Nested sets: :func:`compose_nested` of the true conditionals ``pi(u_i | u_{C_i})``, which
    returns ``joint`` itself (Theorem C.1).  When a Brook step would be needed (some agent
    conditions on a later one) but a conditional has a zero -- e.g. a Boltzmann policy that
    underflows at small ``alpha`` -- the conditionals need not determine the joint, and the
    nested family member ``pi_i = p(u_i | u_{pred(i)})`` (a function of ``u_{C_i}`` because
    ``pred(i) <= C_i``) is composed ancestrally instead, which is ``joint`` by the chain rule.
    Other sets: the fixed point of systematic-scan negotiation (:func:`negotiation_fixed_point`).
    """
    p = as_joint(joint)
    s = as_negotiation_sets(sets, p.ndim)
    conds = conditionals(p, s)
    res = peel(s)
    if res.sigma is None:
        return negotiation_fixed_point(conds, s, scan_order=scan_order, method=method)
    sigma = res.sigma
    needs_brook = any(sigma[j] > sigma[i] for i in range(s.n_agents) for j in s.parents(i))
    if needs_brook and any(bool((c <= 0).any()) for c in conds):
        order = res.order
        assert order is not None
        chain = NegotiationSets([order[: sigma[i]] for i in range(s.n_agents)])
        return ancestral_joint(p, sigma, chain)
    return compose_nested(conds, s)


def representation_gap(
    joint: ArrayLike,
    sets: NegotiationSets | Sequence[Iterable[int]],
    *,
    scan_order: Sequence[int] | None = None,
    method: FixedPointMethod = "auto",
) -> float:
    """``KL(joint || represented_joint(joint, sets))``: what the sets cannot represent.

    Zero (to round-off) for nested sets (Theorem C.1); ``log 2`` for the parity joint of
    :func:`parity_witness` on sets without a nested order, under every scan order.  Cost for
    nested sets: ``O(N |U|)`` (a few passes over the joint per agent); see
    :func:`represented_joint` for the composition used.
    """
    p = as_joint(joint)
    composed = represented_joint(p, sets, scan_order=scan_order, method=method)
    return kl_divergence(p, composed)


@dataclass(frozen=True)
class Witness:
    """A joint that the sets cannot represent (:func:`parity_witness`)."""

    joint: FloatArray
    stuck: frozenset[int]
    gap: float


def parity_witness(
    sets: NegotiationSets | Sequence[Iterable[int]],
    action_counts: Sequence[int] | None = None,
    *,
    scan_order: Sequence[int] | None = None,
    method: FixedPointMethod = "auto",
) -> Witness | None:
    """A joint with representation gap ``log 2`` for sets without a nested order, else ``None``.

    Let ``R`` be the stuck set of :func:`peel`: every agent of ``R`` misses some other member of
    ``R`` in its parents.  The witness puts the even-parity distribution on the first two actions
    of the agents of ``R`` (``u_i in {0, 1}``, ``sum_{i in R} u_i`` even, all equally likely) and
    makes the other agents uniform and independent.  Every proper subset of a parity vector is
    uniform, so every true conditional ``pi(u_i | u_{C_i})`` is uniform (on ``{0, 1}`` for agents
    of ``R``): no negotiation over these conditionals can see the parity, their fixed point is
    the uniform distribution on the same support, and the gap is
    ``KL = log(2^{1-|R|} / 2^{-|R|}) = log 2`` for every scan order.

    ``action_counts`` defaults to two actions per agent; agents of ``R`` need at least two.
    ``method`` is passed to :func:`negotiation_fixed_point`: ``"iterate"`` needs one sweep here
    (every conditional is uniform) and takes about a millisecond for 12 agents, where ``"auto"``
    solves the dense ``4096^2`` (or, for 10 agents, ``1024^2``) kernel exactly.
    """
    s = as_negotiation_sets(sets)
    res = peel(s)
    if res.nested:
        return None
    counts = tuple(action_counts) if action_counts is not None else (2,) * s.n_agents
    if len(counts) != s.n_agents:
        raise ValueError(f"action_counts needs {s.n_agents} entries; got {len(counts)}")
    for i, a in enumerate(counts):
        if not _is_int(a) or a < 1:
            raise ValueError(f"action_counts[{i}] must be a positive integer; got {a!r}")
        if i in res.stuck and a < 2:
            raise ValueError(f"agent {i} is in the stuck set and needs at least 2 actions")
    joint: FloatArray = np.ones((1,) * s.n_agents)
    parity = np.zeros((1,) * s.n_agents, dtype=np.int64)
    for i in range(s.n_agents):
        shape = [1] * s.n_agents
        shape[i] = counts[i]
        if i in res.stuck:
            f = np.zeros(counts[i])
            f[:2] = 1.0
            parity = parity + np.arange(counts[i]).reshape(shape)
        else:
            f = np.full(counts[i], 1.0)
        joint = joint * f.reshape(shape)
    joint = joint * (parity % 2 == 0)
    joint = np.asarray(np.broadcast_to(joint, counts), dtype=np.float64)
    joint = joint / joint.sum()
    return Witness(
        joint, res.stuck, representation_gap(joint, s, scan_order=scan_order, method=method)
    )


# ------------------------------------------------------------------------ App. E.8
@dataclass(frozen=True)
class ProjectionResult:
    """Projection of a target joint onto the Bayesian-network family of a DAG topology (E.8).

    ``projection`` is the family member found, ``gap`` its divergence (``KL(projection ||
    target)`` for the information projection of Eq. 16, ``KL(target || projection)`` for the
    moment projection), ``sweeps`` the coordinate-descent sweeps used (0 for the closed form).
    """

    kind: Literal["information", "moment"]
    projection: FloatArray
    gap: float
    sweeps: int


def projection_gap(
    target: ArrayLike,
    topology: NegotiationSets | Sequence[Iterable[int]],
    *,
    kind: Literal["information", "moment"] = "information",
    init: ArrayLike | None = None,
    tol: float = 1e-10,
    max_sweeps: int = 10_000,
) -> ProjectionResult:
    """Approximation gap of a sparser (acyclic) negotiation topology, App. E.8.

    The family ``Pi_sparse`` holds the joints ``q(u) = prod_i q_i(u_i | u_{P_i})`` of the DAG
    ``P`` (parents precede children; :func:`dag_order`).  Removing an edge shrinks the family, so
    both gaps below never decrease, and both vanish iff the target is Markov with respect to the
    DAG (the removed edges are conditional independencies of the target).

    * ``kind="information"``: Eq. 16, ``min_{q in Pi_sparse} KL(q || target)`` (target > 0),
      by exact block-coordinate descent over the factors.  Fixing all factors but ``q_i``,
      ``KL = sum_{pa} q(pa) sum_{u_i} q_i(u_i|pa) [log q_i(u_i|pa) + G_i(u_i, pa)] + const``
      with ``G_i(u_i, pa) = E[h | u_i, pa]`` under ``W = prod_{j != i} q_j`` and
      ``h = sum_{j != i} log q_j - log target``, so the block minimiser is
      ``q_i ∝ exp(-G_i)``.  Sweeps stop when no factor moves by more than ``tol`` (sup norm;
      ``max_sweeps`` caps them).  Each sweep never increases the objective; the objective is
      non-convex in general, so this is a local minimum; pass ``init`` (a member of the family,
      e.g. the projection onto a sparser DAG) to warm-start, which makes the gap of a denser DAG
      at most that of ``init``.  The default start is the moment projection.
    * ``kind="moment"``: ``min_q KL(target || q)``, attained in closed form by
      ``q = prod_i target(u_i | u_{P_i})``, gap ``sum_i I(u_i ; u_{pred(i) \\ P_i} | u_{P_i})``.
    """
    p = as_joint(target, "target")
    s = as_negotiation_sets(topology, p.ndim)
    sigma = dag_order(s)
    if sigma is None:
        raise ValueError(
            "projection_gap needs an acyclic topology (a DAG: parents placed before children); "
            f"got cyclic sets {s}"
        )
    moment = ancestral_joint(p, sigma, s)
    if kind == "moment":
        return ProjectionResult("moment", moment, kl_divergence(p, moment), 0)
    if kind != "information":
        raise ValueError(f"kind must be 'information' or 'moment'; got {kind!r}")
    if (p <= 0).any():
        raise ValueError("the information projection needs a strictly positive target")
    start = moment if init is None else as_joint(init, "init")
    if start.shape != p.shape:
        raise ValueError(f"init has shape {start.shape}; the target has {p.shape}")
    factors = [conditional(start, i, s.parents(i)) for i in range(s.n_agents)]
    if init is not None:
        rebuilt = np.broadcast_to(math.prod(factors, start=np.ones((1,) * p.ndim)), p.shape)
        # init must lie in the family: its own DAG factors must rebuild it (to round-off).
        if float(np.abs(rebuilt - start).max()) > 1e-9:
            raise ValueError("init is not a member of the topology's family (not Markov on it)")
    log_p = np.log(p)
    order = sorted(range(s.n_agents), key=lambda i: sigma[i])
    q = start
    for sweep in range(1, max_sweeps + 1):
        change = 0.0
        for i in order:
            others = [f for j, f in enumerate(factors) if j != i]
            w = np.broadcast_to(math.prod(others, start=np.ones((1,) * p.ndim)), p.shape)
            h = sum((np.log(f) for f in others), start=np.zeros((1,) * p.ndim)) - log_p
            axes = _other_axes(p.ndim, s.parents(i) | {i})
            num = (w * h).sum(axis=axes, keepdims=True)
            den = w.sum(axis=axes, keepdims=True)
            g = num / np.where(den > 0, den, 1.0)
            g = g - g.min(axis=i, keepdims=True)
            new = _normalize_axis(np.exp(-g), i)
            change = max(change, float(np.abs(new - factors[i]).max()))
            factors[i] = new
        q = np.broadcast_to(math.prod(factors, start=np.ones((1,) * p.ndim)), p.shape)
        if change <= tol:
            return ProjectionResult("information", np.array(q), kl_divergence(q, p), sweep)
    return ProjectionResult("information", np.array(q), kl_divergence(q, p), max_sweeps)
