"""Factorization checks at scale, with reference timings measured in the same run.

Run with ``nox -s bench -- -k factorization``.  Goals of issue 3 (printed, never asserted):

* :func:`~svnr_core.factorization.nested_order` on 1000 agents with dense random sets in under a
  second (construction of the validated sets included and timed separately).  Reference: one
  ``O(N^2)`` numpy pass over the adjacency matrix (``adj.sum()``), the least any exact test must
  read.
* :func:`~svnr_core.factorization.representation_gap` on joints with ``10^6`` entries (6 agents
  x 10 actions) in seconds, for strictly nested sets and for ``C_i = -i`` (which needs Brook's
  identity at every agent).  Reference: one ``joint.sum()`` pass over the joint.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from svnr_core.factorization import NegotiationSets, nested_order, representation_gap

N_AGENTS = 1000
SEED = 0


def _seconds(fn: Callable[[], Any], repeat: int = 5) -> float:
    """Best of ``repeat`` plain-timer runs of ``fn``."""
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return float(best)


def _dense_sets(nested: bool) -> list[list[int]]:
    """Dense random sets on 1000 agents: each non-parent edge present with probability 1/2.

    ``nested=True`` adds all predecessors of a random order (so the answer is an order, and the
    peeling runs to completion); otherwise the sets are i.i.d. and (with overwhelming
    probability) not nested.
    """
    rng = np.random.default_rng(SEED)
    adj = rng.random((N_AGENTS, N_AGENTS)) < 0.5
    if nested:
        pos = rng.permutation(N_AGENTS)
        adj |= pos[np.newaxis, :] < pos[:, np.newaxis]
    np.fill_diagonal(adj, False)
    return [np.flatnonzero(row).tolist() for row in adj]


@pytest.mark.parametrize("nested", [True, False], ids=["nested", "not-nested"])
def test_bench_nested_order_1000_agents(benchmark: Any, nested: bool) -> None:
    raw = _dense_sets(nested)
    build = _seconds(lambda: NegotiationSets(raw), repeat=3)
    sets = NegotiationSets(raw)
    result = benchmark(nested_order, sets)
    assert (result is not None) == nested
    reference = _seconds(lambda: sets.adjacency().sum())
    mean = float(benchmark.stats.stats.mean)
    print(
        f"\nnested_order N={N_AGENTS} ({'nested' if nested else 'not nested'}): "
        f"{mean * 1e3:.1f} ms (+ {build * 1e3:.0f} ms to validate the sets; goal < 1000 ms "
        f"total); {mean / reference:.0f}x one numpy pass over the adjacency matrix"
    )


@pytest.mark.parametrize(
    "sets",
    [NegotiationSets.strictly_nested(6), NegotiationSets.full(6)],
    ids=["strictly-nested", "full"],
)
def test_bench_representation_gap_1e6_entries(benchmark: Any, sets: NegotiationSets) -> None:
    rng = np.random.default_rng(SEED)
    joint = rng.uniform(0.1, 1.0, size=(10,) * 6)
    joint /= joint.sum()
    gap = benchmark.pedantic(representation_gap, args=(joint, sets), rounds=3, iterations=1)
    assert gap < 1e-12
    reference = _seconds(joint.sum)
    mean = float(benchmark.stats.stats.mean)
    print(
        f"\nrepresentation_gap 10^6 entries, sets {sets}: {mean:.2f} s (goal: seconds); "
        f"{mean / reference:.0f}x one joint.sum() pass"
    )
