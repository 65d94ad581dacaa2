"""Example-based tests of :mod:`svnr_core.factorization` (Thm C.1, App. E.3, E.8)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from svnr_core.factorization import (
    FloatArray,
    NegotiationSets,
    compatibility_gap,
    compose,
    compose_nested,
    conditional,
    conditionals,
    dag_order,
    exact_chain_order,
    is_exact_chain,
    is_nested,
    kl_divergence,
    marginal,
    negotiation_fixed_point,
    nested_order,
    parity_witness,
    peel,
    projection_gap,
    representation_gap,
)

RNG_SEED = 20240601


def _random_joint(shape: tuple[int, ...], seed: int = RNG_SEED) -> FloatArray:
    w = np.random.default_rng(seed).uniform(0.1, 1.0, size=shape)
    return np.asarray(w / w.sum(), dtype=np.float64)


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    ("sets", "kwargs", "match"),
    [
        ([], {}, "at least one agent"),
        ([[1], [0]], {"n_agents": 3}, "expected 3 negotiation sets"),
        ([[2], [0]], {}, r"C_0 \(agent 0\): agent id 2 is out of range \[0, 2\)"),
        ([[-1], [0]], {}, "agent id -1 is out of range"),
        ([[1, 1], [0]], {}, "agent id 1 is listed more than once"),
        ([[1.0], [0]], {}, "agent ids must be integers; got 1.0"),
        ([[True], [0]], {}, "agent ids must be integers; got True"),
        (["01", [0]], {}, "C_0 .* must be a collection of agent ids"),
        ([5, [0]], {}, "C_0 .* must be a collection of agent ids"),
        ("0:1", {}, "must be a sequence"),
        ({0: [1]}, {}, "must be a sequence"),
    ],
)
def test_invalid_sets_raise_value_error_naming_the_problem(
    sets: object, kwargs: dict[str, int], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        NegotiationSets(sets, **kwargs)  # type: ignore[arg-type]


def test_sets_are_immutable_and_keep_own_id() -> None:
    s = NegotiationSets([[0], [0, 1], [0, 1, 2]])
    assert s == NegotiationSets.strictly_nested(3)
    assert s.parents(2) == frozenset({0, 1})
    assert s.one_based() == [[1], [1, 2], [1, 2, 3]]
    assert str(s) == "1:1 2:1,2 3:1,2,3"
    with pytest.raises(AttributeError):
        s.sets = ()  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        s.adjacency()[0, 1] = True
    numpy_ids = NegotiationSets([[np.int64(1)], [np.int32(0)]])  # type: ignore[list-item]
    assert numpy_ids.sets == (frozenset({1}), frozenset({0}))


def test_constructors() -> None:
    assert NegotiationSets.full(3).sets == (frozenset({1, 2}), frozenset({0, 2}), frozenset({0, 1}))
    assert NegotiationSets.independent(2).sets == (frozenset(), frozenset())
    with pytest.raises(ValueError, match="n_agents must be a positive integer"):
        NegotiationSets.full(0)


# ------------------------------------------------------------------ Theorem C.1
def test_paper_examples() -> None:
    # C_i = {1..i} (strictly nested) is an exact chain in the identity order
    assert nested_order(NegotiationSets.strictly_nested(4)) == (0, 1, 2, 3)
    assert is_exact_chain(NegotiationSets.strictly_nested(4))
    # ROMMEO / SVNR-F: C_i = -i is nested (full capacity) but not an exact chain
    assert is_nested(NegotiationSets.full(3))
    assert not is_exact_chain(NegotiationSets.full(3))
    # SVNR-M: C_i = {} lacks capacity for N >= 2
    assert not is_nested(NegotiationSets.independent(2))
    assert is_nested(NegotiationSets.independent(1))


def test_pairwise_test_counterexample_is_not_nested() -> None:
    """The cycle passes "j in C_i or i in C_j" for every pair but has no nested order."""
    cycle = NegotiationSets([[1], [2], [0]])
    adj = cycle.adjacency()
    assert all(adj[i, j] or adj[j, i] for i in range(3) for j in range(3) if i != j)
    res = peel(cycle)
    assert res.sigma is None
    assert res.stuck == frozenset({0, 1, 2})


def test_nested_not_exact_two_agents() -> None:
    s = NegotiationSets([[1], [0]])
    assert nested_order(s) == (1, 0)  # ties: smallest id peeled first, placed last
    assert exact_chain_order(s) is None


def test_order_needs_the_right_agent_last() -> None:
    # agent 1 has no parents, agent 0 conditions on 1: order must be (1, 0)
    s = NegotiationSets([[1], []])
    assert nested_order(s) == (1, 0)
    assert peel(s).order == (1, 0)
    assert exact_chain_order(s) == (1, 0)


def test_stuck_set_is_only_the_blocking_part() -> None:
    # agents 0, 1 ignore each other; agent 2 conditions on both and can be peeled
    s = NegotiationSets([[], [], [0, 1]])
    assert peel(s).stuck == frozenset({0, 1})


def test_dag_order() -> None:
    assert dag_order([[], [0], [0, 1]]) == (0, 1, 2)
    assert dag_order([[1], [0]]) is None
    assert dag_order([[0], [1]]) == (0, 1)  # own id ignored


# ------------------------------------------------------------------ joints and conditionals
def test_conditional_and_marginal_broadcast_form() -> None:
    p = _random_joint((2, 3, 4))
    c = conditional(p, 1, [0, 1])  # own id ignored
    assert c.shape == (2, 3, 1)
    np.testing.assert_allclose(c.sum(axis=1), 1.0)
    np.testing.assert_allclose(c * marginal(p, [0]), marginal(p, [0, 1]))


def test_zero_mass_context_gets_uniform_conditional() -> None:
    p = np.array([[0.5, 0.5], [0.0, 0.0]])
    c = conditional(p, 1, [0])
    np.testing.assert_array_equal(c, [[0.5, 0.5], [0.5, 0.5]])


@pytest.mark.parametrize(
    ("joint", "match"),
    [
        (np.array([0.5, 0.6]), "sums to"),
        (np.array([1.5, -0.5]), r"joint\(1,\) = .* is negative"),
        (np.array([np.nan, 1.0]), "not finite"),
        (np.float64(1.0), "scalar"),
        (np.zeros((0, 2)), "empty axis"),
        ("abc", "numeric"),
    ],
)
def test_invalid_joint_raises(joint: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        representation_gap(joint, [[]])  # type: ignore[arg-type]


def test_joint_and_sets_must_agree_on_agents() -> None:
    with pytest.raises(ValueError, match="expected 2 negotiation sets"):
        representation_gap(_random_joint((2, 2)), [[]])


def test_compose_nested_reconstructs_from_conditionals_with_later_parents() -> None:
    p = _random_joint((2, 3, 2))
    for sets in ([[1, 2], [0, 2], [0, 1]], [[1], [0], [0, 1]], [[2], [0, 2], [0, 1]]):
        rebuilt = compose_nested(conditionals(p, sets), sets)
        np.testing.assert_allclose(rebuilt, p, rtol=1e-12)


def test_compose_nested_rejects_zero_conditionals_when_brook_is_needed() -> None:
    p = np.array([[0.5, 0.0], [0.0, 0.5]])
    with pytest.raises(ValueError, match="positive"):
        compose_nested(conditionals(p, [[1], [0]]), [[1], [0]])
    # the gap still falls back to the nested family member and is zero
    assert representation_gap(p, [[1], [0]]) == 0.0


def test_compose_nested_rejects_non_nested_sets() -> None:
    p = _random_joint((2, 2))
    with pytest.raises(ValueError, match=r"agents \[0, 1\] have no nested order"):
        compose_nested(conditionals(p, [[], []]), [[], []])


def test_bad_conditionals_are_rejected() -> None:
    p = _random_joint((2, 2))
    conds = list(conditionals(p, [[], [0]]))
    with pytest.raises(ValueError, match="expected 2 conditionals"):
        compose(conds[:1], [[], [0]])
    with pytest.raises(ValueError, match="varies along axis 1, but agent 1 is not in C_0"):
        compose([p / p.sum(axis=0, keepdims=True), conds[1]], [[], [0]])
    with pytest.raises(ValueError, match="does not sum to 1"):
        compose([conds[0] * 2, conds[1]], [[], [0]])
    with pytest.raises(ValueError, match="must have 2 axes"):
        compose([np.array([0.5, 0.5]), conds[1]], [[], [0]])


def test_scan_of_merely_nested_sets_is_not_exact_but_compose_is() -> None:
    """Documented pitfall: the systematic scan of true conditionals need not recover the joint
    for nested sets that are not an exact chain, even in the nested order."""
    sets = [[], [0, 2], [0, 1]]
    p = _random_joint((2, 2, 2), seed=3)
    conds = conditionals(p, sets)
    scanned = negotiation_fixed_point(conds, sets, scan_order=(0, 1, 2))
    assert kl_divergence(p, scanned) > 1e-6
    assert kl_divergence(p, compose(conds, sets)) < 1e-14


def test_exact_chain_scan_in_chain_order_recovers_the_joint() -> None:
    sets = [[], [0], [0, 1]]
    p = _random_joint((2, 3, 2))
    for method in ("exact", "iterate"):
        mu = negotiation_fixed_point(conditionals(p, sets), sets, method=method)
        np.testing.assert_allclose(mu, p, rtol=1e-9)


def test_fixed_point_methods_agree_on_non_nested_sets() -> None:
    sets = [[1], [2], [0]]
    p = _random_joint((2, 2, 3), seed=5)
    conds = conditionals(p, sets)
    exact = negotiation_fixed_point(conds, sets, method="exact")
    it = negotiation_fixed_point(conds, sets, method="iterate")
    np.testing.assert_allclose(exact, it, atol=1e-10)
    assert representation_gap(p, sets) > 0.0


def test_fixed_point_argument_errors() -> None:
    p = _random_joint((2, 2))
    conds = conditionals(p, [[], []])
    with pytest.raises(ValueError, match="scan_order must be a permutation"):
        negotiation_fixed_point(conds, [[], []], scan_order=(0, 0))
    with pytest.raises(ValueError, match="method must be"):
        negotiation_fixed_point(conds, [[], []], method="fast")  # type: ignore[arg-type]


def test_periodic_negotiation_uses_the_cesaro_fixed_point() -> None:
    # u_0 copies u_1 and u_1 flips u_0: the scan is periodic with no limit; the exact null space
    # is one-dimensional (uniform), and iteration averages to it.
    c0 = np.array([[1.0, 0.0], [0.0, 1.0]])  # [u_0, u_1]: u_0 = u_1
    c1 = np.array([[0.0, 1.0], [1.0, 0.0]])  # [u_0, u_1]: u_1 = 1 - u_0
    sets = [[1], [0]]
    exact = negotiation_fixed_point([c0, c1], sets, method="exact")
    it = negotiation_fixed_point([c0, c1], sets, method="iterate", tol=1e-9)
    np.testing.assert_allclose(exact, it, atol=1e-6)


# ------------------------------------------------------------------ witness
def test_parity_witness_exact_numbers() -> None:
    w = parity_witness([[1], [2], [0]])
    assert w is not None
    assert w.stuck == frozenset({0, 1, 2})
    expected = np.zeros((2, 2, 2))
    for idx in np.ndindex(2, 2, 2):
        expected[idx] = 0.25 if sum(idx) % 2 == 0 else 0.0
    np.testing.assert_array_equal(w.joint, expected)
    assert w.gap == pytest.approx(math.log(2), abs=1e-12)


def test_parity_witness_with_more_actions_and_free_agents() -> None:
    sets = [[], [], [0, 1]]  # stuck {0, 1}; agent 2 is peelable
    w = parity_witness(sets, [3, 2, 4])
    assert w is not None
    assert w.stuck == frozenset({0, 1})
    assert w.joint.shape == (3, 2, 4)
    assert w.joint[2].sum() == 0.0  # only the first two actions of stuck agents
    assert w.gap == pytest.approx(math.log(2), abs=1e-10)


def test_parity_witness_none_for_nested_and_errors() -> None:
    assert parity_witness(NegotiationSets.full(3)) is None
    with pytest.raises(ValueError, match="needs at least 2 actions"):
        parity_witness([[], []], [1, 2])
    with pytest.raises(ValueError, match="action_counts needs 2 entries"):
        parity_witness([[], []], [2])


def test_compatibility_gap_examples() -> None:
    c1 = np.array([[0.9, 0.2], [0.1, 0.8]])  # pi(u_0 | u_1), normalised over axis 0
    c2 = np.array([[0.5, 0.5], [0.3, 0.7]])  # pi(u_1 | u_0), normalised over axis 1
    assert compatibility_gap([c1, c2], [[1], [0]]) > 0.1
    p = _random_joint((2, 2))
    assert compatibility_gap(conditionals(p, [[1], [0]]), [[1], [0]]) < 1e-12


# ------------------------------------------------------------------ App. E.8
def test_projection_gap_examples() -> None:
    p = _random_joint((2, 3, 2), seed=11)
    full = projection_gap(p, [[], [0], [0, 1]])
    assert full.gap < 1e-14
    chain = projection_gap(p, [[], [0], [1]])
    empty = projection_gap(p, [[], [], []])
    assert 0.0 < chain.gap < empty.gap
    m = projection_gap(p, [[], [0], [1]], kind="moment")
    assert m.sweeps == 0
    assert m.gap == pytest.approx(kl_divergence(p, m.projection))


def test_projection_gap_errors() -> None:
    p = _random_joint((2, 2))
    with pytest.raises(ValueError, match="acyclic"):
        projection_gap(p, [[1], [0]])
    with pytest.raises(ValueError, match="kind must be"):
        projection_gap(p, [[], []], kind="reverse")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="strictly positive"):
        projection_gap(np.array([[0.5, 0.5], [0.0, 0.0]]), [[], []])
    with pytest.raises(ValueError, match="not a member"):
        projection_gap(p, [[], []], init=p)
