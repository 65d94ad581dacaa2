"""Theorem C.1 (nested factorization requirement) and its proof (App. E.3).

* The greedy peeling of :func:`~svnr_core.factorization.nested_order` agrees with brute force over
  all ``N!`` orderings (``N <= 6``), and so does the exact-chain test.
* Nested sets represent every joint: the representation gap is zero on random joints (positive
  ones are reconstructed from their true conditionals alone, by Brook's identity).
* Sets without a nested order cannot: the parity witness has gap ``log 2`` under every scan
  order of the negotiation.
* Gelman & Speed: in an exact chain independently drawn conditionals are always compatible;
  nested-but-not-exact sets admit incompatible ones (``C_1 = {2}, C_2 = {1}``).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svnr_core.factorization import (
    NegotiationSets,
    compatibility_gap,
    compose_nested,
    conditionals,
    exact_chain_order,
    is_exact_chain,
    nested_order,
    parity_witness,
    peel,
    representation_gap,
)
from verification._factorization_strategies import (
    exact_chain_sets,
    joints,
    negotiation_sets,
    nested_not_exact_sets,
    nested_sets,
    non_nested_sets,
    random_conditionals,
    shapes_for,
    valid_orderings,
)

pytestmark = pytest.mark.props

#: Round-off budget for a KL between a joint and its reconstruction: each entry of the
#: reconstruction is a product of <= 6 ratios of sums of <= 256 terms, relative error about
#: 1e-14, and the KL of two distributions that close is O(1e-28) up to summation round-off of
#: size 1e-15 per term.  1e-10 is far above that and far below any structural gap (log 2).
KL_TOL = 1e-10


@given(sets=negotiation_sets())
def test_nested_order_agrees_with_brute_force_over_all_orderings(sets: NegotiationSets) -> None:
    valid = valid_orderings(sets)
    sigma = nested_order(sets)
    assert (sigma is not None) == bool(valid)
    if sigma is not None:
        assert sigma in valid
    res = peel(sets)
    assert res.stuck == frozenset() if valid else len(res.stuck) >= 2


@given(sets=nested_sets())
def test_nested_construction_is_recognised_with_a_valid_order(sets: NegotiationSets) -> None:
    sigma = nested_order(sets)
    assert sigma is not None
    assert sigma in valid_orderings(sets)


@given(sets=non_nested_sets())
def test_stuck_agents_each_miss_another_stuck_agent(sets: NegotiationSets) -> None:
    res = peel(sets)
    assert not res.nested
    assert not valid_orderings(sets)
    for i in res.stuck:
        assert not (res.stuck - {i}) <= sets.parents(i)


@given(sets=st.one_of(negotiation_sets(), exact_chain_sets(), nested_not_exact_sets()))
def test_exact_chain_agrees_with_brute_force_over_all_orderings(sets: NegotiationSets) -> None:
    valid = valid_orderings(sets, exact=True)
    assert is_exact_chain(sets) == bool(valid)
    sigma = exact_chain_order(sets)
    if sigma is not None:
        assert sigma in valid
        assert nested_order(sets) is not None  # exact chain => nested


@given(data=st.data(), sets=nested_sets(max_agents=5))
def test_nested_sets_have_zero_representation_gap_on_random_joints(
    data: st.DataObject, sets: NegotiationSets
) -> None:
    shape = data.draw(shapes_for(sets.n_agents))
    joint = data.draw(joints(shape, positive=data.draw(st.booleans())))
    assert representation_gap(joint, sets) <= KL_TOL


@given(data=st.data(), sets=nested_sets(max_agents=5))
def test_true_conditionals_of_a_positive_joint_determine_it(
    data: st.DataObject, sets: NegotiationSets
) -> None:
    shape = data.draw(shapes_for(sets.n_agents))
    joint = data.draw(joints(shape))
    rebuilt = compose_nested(conditionals(joint, sets), sets)
    # entries are O(1/256) or larger; 1e-12 absolute is ~1e-10 relative, far above round-off
    np.testing.assert_allclose(rebuilt, joint, rtol=0, atol=1e-12)


@settings(max_examples=30)  # each example runs N! <= 120 scan orders on <= 2^5 entries
@given(sets=non_nested_sets(max_agents=5))
def test_witness_gap_is_at_least_log2_under_every_scan_order(sets: NegotiationSets) -> None:
    witness = parity_witness(sets)
    assert witness is not None
    assert witness.stuck == peel(sets).stuck
    for scan in itertools.permutations(range(sets.n_agents)):
        gap = representation_gap(witness.joint, sets, scan_order=scan)
        assert gap >= math.log(2) - KL_TOL


@given(data=st.data(), sets=exact_chain_sets(max_agents=5))
def test_exact_chain_makes_independent_random_conditionals_compatible(
    data: st.DataObject, sets: NegotiationSets
) -> None:
    shape = data.draw(shapes_for(sets.n_agents))
    conds = data.draw(random_conditionals(sets, shape))
    # composed joint reproduces every conditional; ratios of positive O(1) numbers: 1e-12 slack
    assert compatibility_gap(conds, sets) <= 1e-12


@given(sets=nested_not_exact_sets(max_agents=4))
def test_nested_but_not_exact_sets_admit_incompatible_conditionals(sets: NegotiationSets) -> None:
    """Construct an incompatible pair explicitly.

    Some agent ``a`` conditions on a successor ``b``, and ``b`` (placed after ``a``) conditions
    on ``a``.  All conditionals come from the uniform joint on binary actions except two:
    ``pi_a`` copies ``u_b`` with probability 0.9 and ``pi_b`` differs from ``u_a`` with
    probability 0.8.  A positive joint with both would need
    ``p(0,0) = 9 p(1,0) = 36 p(1,1) = 36 * 9 p(0,1) = 36^2 p(0,0)`` on ``(u_a, u_b)``: none exists.
    """
    sigma = nested_order(sets)
    assert sigma is not None
    n = sets.n_agents
    shape = (2,) * n
    uniform = np.full(shape, 1.0 / 2**n)
    conds = list(conditionals(uniform, sets))
    a, b = next((i, j) for i in range(n) for j in sorted(sets.parents(i)) if sigma[j] > sigma[i])
    bshape = [1] * n
    bshape[a] = 2
    bshape[b] = 2
    copy = np.array([[0.9, 0.1], [0.1, 0.9]])  # [u_a, u_b] if a < b
    conds[a] = (copy if a < b else copy.T).reshape(bshape)
    assert a in sets.parents(b)  # b's parents hold all its predecessors, a among them
    anti = np.array([[0.2, 0.8], [0.8, 0.2]])  # [u_a, u_b] if a < b (symmetric anyway)
    conds[b] = (anti if a < b else anti.T).reshape(bshape)
    assert compatibility_gap(conds, sets) > 1e-3
