"""Hypothesis strategies for negotiation sets, joints and conditionals (Thm C.1, App. E.8).

Every strategy builds valid objects directly (no ``assume``): nested, exact-chain and
non-nested families are constructed from their definitions, joints are normalised draws of
non-negative weights.  Also here: the brute-force references the properties compare against.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
from hypothesis import strategies as st

from svnr_core.factorization import FloatArray, NegotiationSets

#: Largest number of agents for which properties enumerate all N! orderings (720).
MAX_BRUTE_FORCE_AGENTS = 6


# ------------------------------------------------------------------------ brute force
def valid_orderings(sets: NegotiationSets, exact: bool = False) -> list[tuple[int, ...]]:
    """All ``sigma`` (agent -> position) satisfying Theorem C.1 (``exact``: the exact chain)."""
    n = sets.n_agents
    out = []
    for order in itertools.permutations(range(n)):
        ok = True
        for k, agent in enumerate(order):
            before = set(order[:k])
            parents = sets.parents(agent)
            if not (parents == before if exact else before <= parents):
                ok = False
                break
        if ok:
            sigma = [0] * n
            for k, agent in enumerate(order):
                sigma[agent] = k
            out.append(tuple(sigma))
    return out


# ------------------------------------------------------------------------ negotiation sets
@st.composite
def negotiation_sets(
    draw: st.DrawFn, min_agents: int = 1, max_agents: int = MAX_BRUTE_FORCE_AGENTS
) -> NegotiationSets:
    """Arbitrary sets: each ``C_i`` a random subset of the agents (it may contain ``i``)."""
    n = draw(st.integers(min_agents, max_agents))
    sets = [sorted(draw(st.sets(st.integers(0, n - 1), max_size=n))) for _ in range(n)]
    return NegotiationSets(sets)


@st.composite
def nested_sets(
    draw: st.DrawFn, min_agents: int = 1, max_agents: int = MAX_BRUTE_FORCE_AGENTS
) -> NegotiationSets:
    """Nested sets: a random order; each agent's parents are all its predecessors plus a random
    subset of its successors; ``i`` itself is added at random (the paper's ``C_i = {1..i}``)."""
    n = draw(st.integers(min_agents, max_agents))
    order = draw(st.permutations(range(n)))
    sets: list[list[int]] = [[] for _ in range(n)]
    for k, agent in enumerate(order):
        later = list(order[k + 1 :])
        extra = draw(st.sets(st.sampled_from(later), max_size=len(later))) if later else set()
        own = [agent] if draw(st.booleans()) else []
        sets[agent] = sorted([*order[:k], *extra, *own])
    return NegotiationSets(sets)


@st.composite
def exact_chain_sets(
    draw: st.DrawFn, min_agents: int = 1, max_agents: int = MAX_BRUTE_FORCE_AGENTS
) -> NegotiationSets:
    """Exact chains: a random order; each agent's parents are exactly its predecessors."""
    n = draw(st.integers(min_agents, max_agents))
    order = draw(st.permutations(range(n)))
    sets: list[list[int]] = [[] for _ in range(n)]
    for k, agent in enumerate(order):
        sets[agent] = sorted(order[:k])
    return NegotiationSets(sets)


@st.composite
def nested_not_exact_sets(
    draw: st.DrawFn, min_agents: int = 2, max_agents: int = MAX_BRUTE_FORCE_AGENTS
) -> NegotiationSets:
    """Nested sets that are not an exact chain: some agent also conditions on a successor.

    In an exact chain the numbers of parents are ``0..N-1``; adding a successor to the parents
    of the agent at position ``k < N-1`` gives it ``k+1`` parents, a duplicate, so the result is
    never an exact chain while the original order still witnesses nestedness.
    """
    n = draw(st.integers(max(min_agents, 2), max_agents))
    order = draw(st.permutations(range(n)))
    k = draw(st.integers(0, n - 2))
    sets: list[list[int]] = [sorted(order[:j]) for j in range(n)]
    by_agent: list[list[int]] = [[] for _ in range(n)]
    for j, agent in enumerate(order):
        by_agent[agent] = sets[j]
    successor = draw(st.sampled_from(order[k + 1 :]))
    by_agent[order[k]] = sorted([*by_agent[order[k]], successor])
    return NegotiationSets(by_agent)


@st.composite
def non_nested_sets(
    draw: st.DrawFn, min_agents: int = 2, max_agents: int = MAX_BRUTE_FORCE_AGENTS
) -> NegotiationSets:
    """Sets without a nested order, built from the certificate of :func:`peel`'s proof.

    Pick ``R`` with ``|R| >= 2``; every member of ``R`` misses at least one other member of ``R``
    (its parents are otherwise random).  Then no ordering of ``R`` is valid (its last agent would
    need all of ``R``), hence none of all agents.
    """
    n = draw(st.integers(max(min_agents, 2), max_agents))
    r = sorted(draw(st.sets(st.integers(0, n - 1), min_size=2, max_size=n)))
    sets: list[list[int]] = []
    for i in range(n):
        chosen = set(draw(st.sets(st.integers(0, n - 1), max_size=n)))
        if i in r:
            others = [j for j in r if j != i]
            chosen.discard(draw(st.sampled_from(others)))
        sets.append(sorted(chosen))
    return NegotiationSets(sets)


# ------------------------------------------------------------------------ joints
def shapes_for(
    n_agents: int, max_actions: int = 3, max_entries: int = 256
) -> st.SearchStrategy[tuple[int, ...]]:
    """Action counts for ``n_agents`` agents (each ``1..max_actions``), at most ``max_entries``."""
    per = max(1, min(max_actions, math.floor(max_entries ** (1.0 / max(n_agents, 1)))))
    return st.tuples(*[st.integers(1, per) for _ in range(n_agents)])


@st.composite
def joints(draw: st.DrawFn, shape: Sequence[int], positive: bool = True) -> FloatArray:
    """A joint distribution of the given shape.

    Weights are drawn from ``[0.05, 1]`` (``positive``) or ``{0} + [0.05, 1]`` with one entry
    forced positive; ``0.05`` bounds the ratio of entries, keeping conditionals well conditioned.
    """
    size = math.prod(shape)
    elems = st.floats(0.05, 1.0) if positive else st.one_of(st.just(0.0), st.floats(0.05, 1.0))
    w = np.array(draw(st.lists(elems, min_size=size, max_size=size)), dtype=np.float64)
    if not positive:
        w[draw(st.integers(0, size - 1))] = 1.0
    return np.asarray((w / w.sum()).reshape(tuple(shape)), dtype=np.float64)


@st.composite
def random_conditionals(
    draw: st.DrawFn, sets: NegotiationSets, shape: Sequence[int]
) -> list[FloatArray]:
    """Independently drawn positive conditionals ``pi_i(u_i | u_{C_i})`` in broadcast form."""
    out = []
    for i in range(sets.n_agents):
        allowed = sets.parents(i) | {i}
        bshape = tuple(a if ax in allowed else 1 for ax, a in enumerate(shape))
        size = math.prod(bshape)
        w = np.array(draw(st.lists(st.floats(0.05, 1.0), min_size=size, max_size=size)))
        w = w.reshape(bshape)
        out.append(np.asarray(w / w.sum(axis=i, keepdims=True), dtype=np.float64))
    return out


@st.composite
def dag_and_subdag(
    draw: st.DrawFn, min_agents: int = 1, max_agents: int = 4
) -> tuple[NegotiationSets, NegotiationSets]:
    """A random DAG topology (parents among the predecessors of a random order) and the DAG left
    after removing a random subset of its edges (App. E.8's sparser ``C'_i <= C_i``)."""
    n = draw(st.integers(min_agents, max_agents))
    order = draw(st.permutations(range(n)))
    dense: list[list[int]] = [[] for _ in range(n)]
    sparse: list[list[int]] = [[] for _ in range(n)]
    for k, agent in enumerate(order):
        before = list(order[:k])
        parents = sorted(draw(st.sets(st.sampled_from(before), max_size=k))) if before else []
        kept = (
            sorted(draw(st.sets(st.sampled_from(parents), max_size=len(parents))))
            if parents
            else []
        )
        dense[agent] = parents
        sparse[agent] = kept
    return NegotiationSets(dense), NegotiationSets(sparse)


def bayesian_network(sets: NegotiationSets, conds: Sequence[FloatArray]) -> FloatArray:
    """``prod_i pi_i(u_i | u_{P_i})`` for acyclic sets: a joint that is Markov on the DAG."""
    out: FloatArray = np.ones((1,) * sets.n_agents)
    for c in conds:
        out = out * c
    shape = tuple(max(c.shape[ax] for c in conds) for ax in range(sets.n_agents))
    return np.asarray(np.broadcast_to(out, shape), dtype=np.float64).copy()


# ------------------------------------------------------------------------ matrix games
@st.composite
def matrix_payoffs(
    draw: st.DrawFn, max_agents: int = 3, max_actions: int = 3, bound: float = 3.0
) -> FloatArray:
    """A payoff table ``R[u_1, ..., u_N]`` with 1-3 agents, 1-3 actions each (<= 27 cells)."""
    n = draw(st.integers(1, max_agents))
    shape = draw(st.tuples(*[st.integers(1, max_actions) for _ in range(n)]))
    size = math.prod(shape)
    vals = draw(st.lists(st.floats(-bound, bound), min_size=size, max_size=size))
    return np.asarray(np.array(vals).reshape(shape), dtype=np.float64)


@st.composite
def unique_optimum_payoffs(
    draw: st.DrawFn, margin: float = 0.5, max_agents: int = 3, max_actions: int = 3
) -> FloatArray:
    """A payoff table whose best joint action beats every other one by at least ``margin``."""
    r = draw(matrix_payoffs(max_agents, max_actions))
    best = draw(st.integers(0, r.size - 1))
    flat = r.reshape(-1).copy()
    others = np.delete(flat, best)
    flat[best] = (others.max() if others.size else 0.0) + margin + draw(st.floats(0.0, 2.0))
    return np.asarray(flat.reshape(r.shape), dtype=np.float64)


def opponent_shape(shape: tuple[int, ...], agent: int) -> tuple[int, ...]:
    """Shape of a perceived opponent policy ``rho_i`` (the joint shape without axis ``i``)."""
    return shape[:agent] + shape[agent + 1 :]
