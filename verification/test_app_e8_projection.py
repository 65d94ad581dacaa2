"""Appendix E.8: the approximation gap of a sparser (partially nested, acyclic) topology.

The family of a DAG ``P`` is the Bayesian networks ``q = prod_i q_i(u_i | u_{P_i})``.  Removing
edges shrinks it, so the gap never decreases; and the gap is zero when the removed edges are
conditional independencies of the target (the target is Markov on the sparser DAG).  Checked for
the information projection of Eq. 16 (``min KL(q || target)``, coordinate descent) and for the
closed-form moment projection (``min KL(target || q)``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svnr_core.factorization import NegotiationSets, kl_divergence, projection_gap
from svnr_core.reasoning import mean_field_projection, product_of
from verification._factorization_strategies import (
    bayesian_network,
    dag_and_subdag,
    joints,
    random_conditionals,
    shapes_for,
)

pytestmark = pytest.mark.props

#: Slack for comparing two KL values of joints with <= 64 entries: summation round-off is about
#: 64 terms * eps * |log ratio| <= 1e-13; 1e-10 leaves margin and is far below real gaps.
GAP_TOL = 1e-10


@given(data=st.data(), topo=dag_and_subdag())
def test_removing_edges_never_decreases_the_moment_projection_gap(
    data: st.DataObject, topo: tuple[NegotiationSets, NegotiationSets]
) -> None:
    dense, sparse = topo
    target = data.draw(joints(data.draw(shapes_for(dense.n_agents, max_entries=64))))
    g_dense = projection_gap(target, dense, kind="moment").gap
    g_sparse = projection_gap(target, sparse, kind="moment").gap
    assert g_sparse >= g_dense - GAP_TOL


@settings(max_examples=30)  # coordinate descent: up to a few hundred sweeps per example
@given(data=st.data(), topo=dag_and_subdag())
def test_removing_edges_never_decreases_the_information_projection_gap(
    data: st.DataObject, topo: tuple[NegotiationSets, NegotiationSets]
) -> None:
    dense, sparse = topo
    target = data.draw(joints(data.draw(shapes_for(dense.n_agents, max_entries=64))))
    sp = projection_gap(target, sparse)
    # The sparse projection is a member of the dense family; descent from it can only improve.
    dn = projection_gap(target, dense, init=sp.projection)
    assert dn.gap <= sp.gap + GAP_TOL
    # and the reported gap is the KL of the reported projection (Eq. 16)
    assert abs(dn.gap - kl_divergence(dn.projection, target)) <= GAP_TOL


@settings(max_examples=30)
@given(data=st.data(), topo=dag_and_subdag())
def test_gap_is_zero_when_removed_edges_are_conditional_independencies(
    data: st.DataObject, topo: tuple[NegotiationSets, NegotiationSets]
) -> None:
    dense, sparse = topo
    shape = data.draw(shapes_for(dense.n_agents, max_entries=64))
    target = bayesian_network(sparse, data.draw(random_conditionals(sparse, shape)))
    for topology in (sparse, dense):
        assert projection_gap(target, topology, kind="moment").gap <= GAP_TOL
        assert projection_gap(target, topology).gap <= GAP_TOL


@settings(max_examples=30)
@given(data=st.data(), n=st.integers(1, 3))
def test_information_projection_on_the_empty_topology_is_the_mean_field_projection(
    data: st.DataObject, n: int
) -> None:
    """Two implementations: the DAG coordinate descent with no edges and the closed-form
    mean-field updates of :mod:`svnr_core.reasoning`, both from the product of the marginals."""
    target = data.draw(joints(data.draw(shapes_for(n, max_entries=64))))
    empty = NegotiationSets([[] for _ in range(n)])
    res = projection_gap(target, empty)
    marg = [target.sum(axis=tuple(a for a in range(n) if a != i)) for i in range(n)]
    mf = product_of(mean_field_projection(np.log(target), marg))
    # both stop at the same fixed point to within their stopping tolerances (1e-10, 1e-12)
    np.testing.assert_allclose(res.projection, mf, rtol=0, atol=1e-8)
