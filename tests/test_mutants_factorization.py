"""Example tests that kill surviving mutants of `svnr_core.factorization`.

See verification/mutants.md.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from svnr_core.factorization import (
    EXACT_FIXED_POINT_MAX_ENTRIES,
    NegotiationSets,
    ancestral_joint,
    as_joint,
    as_negotiation_sets,
    compatibility_gap,
    compose,
    conditional,
    conditionals,
    kl_divergence,
    marginal,
    negotiation_fixed_point,
    parity_witness,
    projection_gap,
    representation_gap,
    represented_joint,
)

SWAP = [[1], [0]]  # C_1 = {2}, C_2 = {1}: nested, not an exact chain, scan fixed point used


def _periodic_conditionals() -> list[np.ndarray]:
    # u_0 in {0, 1}, u_1 in {0, 1, 2}; agent 0 copies f(u_1), agent 1 plays g(u_0) = 1 - u_0.
    # One sweep maps (a, b) -> (f(b), 1 - f(b)): from the uniform start the chain alternates
    # between 2/3 (0, 1) + 1/3 (1, 0) and 1/3 (0, 1) + 2/3 (1, 0) -- period 2, no transient.
    f = np.array([0, 1, 0])
    c0 = np.zeros((2, 3))
    c0[f, np.arange(3)] = 1.0
    c1 = np.zeros((2, 3))
    c1[np.arange(2), 1 - np.arange(2)] = 1.0
    return [c0, c1]


def test_periodic_scan_negotiation_returns_the_cesaro_mean() -> None:
    # negotiation_fixed_point docstring: "Cesaro averaging if the chain turns out periodic".
    conds = _periodic_conditionals()
    expected = np.zeros((2, 3))
    expected[0, 1] = expected[1, 0] = 0.5
    iterated = negotiation_fixed_point(conds, SWAP, method="iterate")
    np.testing.assert_allclose(iterated, expected, rtol=0, atol=1e-12)
    exact = negotiation_fixed_point(conds, SWAP, method="exact")
    np.testing.assert_allclose(exact, expected, rtol=0, atol=1e-12)


def test_iterated_scan_counts_its_sweeps() -> None:
    # Independent positive conditionals: the first sweep reaches the product, the second sees no
    # change; so one sweep is not enough and two are.
    conds = [np.array([[0.3], [0.7]]), np.array([[0.6, 0.4]])]
    sets = [[], []]
    with pytest.raises(ValueError, match=r"did not reach a fixed point within 1 sweeps"):
        negotiation_fixed_point(conds, sets, method="iterate", max_sweeps=1)
    joint = negotiation_fixed_point(conds, sets, method="iterate", max_sweeps=2)
    np.testing.assert_allclose(joint, np.outer([0.3, 0.7], [0.6, 0.4]), rtol=0, atol=1e-15)


def test_iterated_and_exact_fixed_points_agree_on_random_incompatible_pairs() -> None:
    rng = np.random.default_rng(5)
    for _ in range(3):
        c0 = rng.random((3, 2)) + 0.1
        c0 /= c0.sum(axis=0, keepdims=True)
        c1 = rng.random((3, 2)) + 0.1
        c1 /= c1.sum(axis=1, keepdims=True)
        exact = negotiation_fixed_point([c0, c1], SWAP, method="exact")
        iterated = negotiation_fixed_point([c0, c1], SWAP, method="iterate")
        np.testing.assert_allclose(iterated, exact, rtol=0, atol=1e-10)
        assert iterated.sum() == pytest.approx(1.0, abs=1e-12)


def _cycle_conditionals(seed: int) -> list[np.ndarray]:
    # C_1 = {2}, C_2 = {3}, C_3 = {1}: not nested, so compose runs the scan to its fixed point.
    rng = np.random.default_rng(seed)
    shapes = [(2, 2, 1), (1, 2, 2), (2, 1, 2)]
    conds = []
    for i, shape in enumerate(shapes):
        c = rng.random(shape) + 0.1
        conds.append(c / c.sum(axis=i, keepdims=True))
    return conds


CYCLE = [[1], [2], [0]]


def test_compose_and_gap_pass_the_scan_order_and_method_through() -> None:
    # For incompatible conditionals on non-nested sets the scan fixed point depends on the scan
    # order; compose and compatibility_gap must use the order (and method) they are given.
    conds = _cycle_conditionals(8)
    fixed = {}
    for order in ([0, 1, 2], [2, 1, 0]):
        direct = negotiation_fixed_point(conds, CYCLE, scan_order=order)
        fixed[tuple(order)] = direct
        np.testing.assert_array_equal(compose(conds, CYCLE, scan_order=order), direct)
        iterated = compose(conds, CYCLE, scan_order=order, method="iterate")
        np.testing.assert_allclose(iterated, direct, rtol=0, atol=1e-10)
        assert not np.array_equal(iterated, direct)  # the iteration, not the exact solve, ran
    assert np.abs(fixed[(0, 1, 2)] - fixed[(2, 1, 0)]).max() > 1e-3
    gaps = [compatibility_gap(conds, CYCLE, scan_order=o) for o in ([0, 1, 2], [2, 1, 0])]
    assert gaps[0] > 1e-3
    assert gaps[0] != pytest.approx(gaps[1], abs=1e-6)
    # the gap is the largest deviation of a given conditional from the composed joint's own
    joint = fixed[(0, 1, 2)]
    worst = 0.0
    for i, c in enumerate(conds):
        ctx = CYCLE[i][0]
        other = 3 - i - ctx
        pair = joint.sum(axis=other, keepdims=True)
        own = pair / pair.sum(axis=i, keepdims=True)
        worst = max(worst, float(np.abs(own - c).max()))
    assert gaps[0] == pytest.approx(worst, abs=1e-12)


def test_marginal_keeps_broadcast_form_and_values() -> None:
    joint = np.arange(1.0, 7.0).reshape(2, 3) / 21.0
    m0 = marginal(joint, [0])
    assert m0.shape == (2, 1)
    np.testing.assert_allclose(m0[:, 0], [6 / 21, 15 / 21], rtol=1e-15)
    assert m0.dtype == np.float64


def test_independent_sets_reject_a_non_positive_count_by_name() -> None:
    with pytest.raises(ValueError, match=r"^n_agents must be a positive integer; got 0"):
        NegotiationSets.independent(0)
    with pytest.raises(ValueError, match=r"^n_agents must be a positive integer; got 0"):
        NegotiationSets.strictly_nested(0)
    assert repr(NegotiationSets.independent(2)) == "NegotiationSets([[], []])"


def _positive_joint(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    p = np.random.default_rng(seed).random(shape) + 0.05
    return p / p.sum()


def test_app_e8_projection_validates_inputs_by_name() -> None:
    p = _positive_joint(1, (2, 2, 2))
    bad = np.full((2, 2, 2), 0.2)
    with pytest.raises(ValueError, match=r"^target sums to "):
        projection_gap(bad, [[], [0], [1]])
    with pytest.raises(ValueError, match=r"^expected 3 negotiation sets \(one per agent\); got 2"):
        projection_gap(p, [[], [0]])
    with pytest.raises(
        ValueError,
        match=r"^projection_gap needs an acyclic topology \(a DAG: parents placed before ch",
    ):
        projection_gap(p, [[1], [0], []])
    with pytest.raises(ValueError, match=r"^the information projection needs a strictly positive"):
        projection_gap(np.array([[0.5, 0.0], [0.25, 0.25]]), [[], [0]])
    with pytest.raises(ValueError, match=r"^init sums to "):
        projection_gap(p, [[], [0], [1]], init=bad)
    with pytest.raises(ValueError, match=r"^init has shape \(2, 2\); the target has \(2, 2, 2\)"):
        projection_gap(p, [[], [0], [1]], init=np.full((2, 2), 0.25))
    with pytest.raises(
        ValueError, match=r"^init is not a member of the topology's family \(not Markov on it\)"
    ):
        projection_gap(p, [[], [], []], init=p)


def test_app_e8_projection_reports_kind_and_sweeps() -> None:
    p = _positive_joint(2, (2, 3, 2))
    chain = [[], [0], [1]]
    moment = projection_gap(p, chain, kind="moment")
    assert moment.kind == "moment"
    assert moment.sweeps == 0
    info = projection_gap(p, chain)
    assert info.kind == "information"
    assert 1 <= info.sweeps < 10_000
    # max_sweeps=0 returns the start (the moment projection), unchanged
    start = projection_gap(p, chain, max_sweeps=0)
    assert start.sweeps == 0
    np.testing.assert_allclose(start.projection, moment.projection, rtol=0, atol=1e-15)
    # the reported count is the number of sweeps actually run
    again = projection_gap(p, chain, max_sweeps=info.sweeps)
    assert again.sweeps == info.sweeps
    np.testing.assert_array_equal(again.projection, info.projection)
    fewer = projection_gap(p, chain, max_sweeps=info.sweeps - 1)
    assert fewer.sweeps == info.sweeps - 1
    assert fewer.kind == "information"
    assert not np.array_equal(fewer.projection, info.projection)
    assert fewer.gap == pytest.approx(kl_divergence(fewer.projection, p), rel=1e-12)
    assert fewer.gap >= info.gap - 1e-15  # sweeps never increase the objective (round-off)
    one = projection_gap(p, chain, max_sweeps=1)
    assert one.sweeps == 1
    assert not np.array_equal(one.projection, start.projection)  # one sweep did run
    # a warm start from a member of the family is used (not replaced by the moment projection)
    warm = projection_gap(p, chain, init=info.projection, max_sweeps=1)
    assert warm.gap <= one.gap
    assert warm.gap == pytest.approx(info.gap, abs=1e-12)


def test_auto_method_is_the_exact_solve_up_to_the_size_limit() -> None:
    # "auto": exact up to EXACT_FIXED_POINT_MAX_ENTRIES (inclusive) -- bitwise the same result as
    # method="exact", and not the sweep iteration.
    conds = _cycle_conditionals(3)
    exact = negotiation_fixed_point(conds, CYCLE, method="exact")
    np.testing.assert_array_equal(negotiation_fixed_point(conds, CYCLE), exact)
    iterated = negotiation_fixed_point(conds, CYCLE, method="iterate")
    assert not np.array_equal(iterated, exact)
    np.testing.assert_allclose(iterated, exact, rtol=0, atol=1e-10)
    assert (negotiation_fixed_point(_periodic_conditionals(), SWAP, method="exact") >= 0).all()
    # exactly EXACT_FIXED_POINT_MAX_ENTRIES = 1024 entries: 5 agents with 4 actions, C_i = {i+1}
    assert EXACT_FIXED_POINT_MAX_ENTRIES == 4**5
    rng = np.random.default_rng(0)
    ring = [[(i + 1) % 5] for i in range(5)]
    big = []
    for i in range(5):
        shape = [1] * 5
        shape[i] = shape[(i + 1) % 5] = 4
        c = rng.random(shape) + 0.5
        big.append(c / c.sum(axis=i, keepdims=True))
    auto = negotiation_fixed_point(big, ring)
    swept = negotiation_fixed_point(big, ring, method="iterate")
    assert not np.array_equal(auto, swept)  # the exact solve ran (one ~1 s solve)
    np.testing.assert_allclose(auto, swept, rtol=0, atol=1e-9)


def test_representation_gap_uses_the_given_scan_order_and_method() -> None:
    p = _positive_joint(4, (2, 2, 2))
    for order in ([0, 1, 2], [2, 1, 0]):
        for method in ("auto", "iterate"):
            composed = represented_joint(p, CYCLE, scan_order=order, method=method)  # type: ignore[arg-type]
            gap = representation_gap(p, CYCLE, scan_order=order, method=method)  # type: ignore[arg-type]
            assert gap == kl_divergence(p, composed)
    gaps = [representation_gap(p, CYCLE, scan_order=o) for o in ([0, 1, 2], [2, 1, 0])]
    assert abs(gaps[0] - gaps[1]) > 1e-6
    assert representation_gap(p, CYCLE, method="iterate") != representation_gap(p, CYCLE)


def test_factorization_errors_name_the_argument() -> None:
    conds = _cycle_conditionals(1)
    with pytest.raises(ValueError, match=r"^scan_order: agent ids must be integers; got 1\.5"):
        negotiation_fixed_point(conds, CYCLE, scan_order=[0, 1.5, 2])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"^scan_order must be a permutation of 0\.\.2; got"):
        negotiation_fixed_point(conds, CYCLE, scan_order=[0, 0, 1])
    with pytest.raises(ValueError, match=r"^action_counts\[0\] must be a positive integer"):
        parity_witness(CYCLE, [2.5, 2, 2])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"^action_counts\[1\] must be a positive integer"):
        parity_witness(CYCLE, [2, 0, 2])
    p = _positive_joint(2, (2, 2))
    with pytest.raises(ValueError, match=r"^agent 0's parents are not all placed before it"):
        ancestral_joint(p, [0, 1], NegotiationSets([[1], []]))


def test_thm_c1_composition_refuses_conditionals_with_zeros() -> None:
    # compose_nested recovers p(u_i | earlier agents) by Brook's identity, which needs positive
    # conditionals: a zero entry is refused by name instead of producing 0/0.
    c0 = np.array([[0.5], [0.5]])
    c1 = np.array([[1.0, 0.0], [0.5, 0.5]])
    with pytest.raises(ValueError, match=r"^conditionals\[1\] has a zero entry"):
        compose([c0, c1], SWAP)


def test_represented_joint_defaults_and_pass_through() -> None:
    p = _positive_joint(6, (2, 2, 2))
    default = represented_joint(p, CYCLE)  # default method "auto"
    np.testing.assert_array_equal(default, represented_joint(p, CYCLE, method="auto"))
    reverse = represented_joint(p, CYCLE, scan_order=[2, 1, 0])
    assert np.abs(reverse - default).max() > 1e-6
    iterated = represented_joint(p, CYCLE, method="iterate")
    assert not np.array_equal(iterated, default)
    np.testing.assert_allclose(iterated, default, rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match=r"^expected 3 negotiation sets"):
        represented_joint(p, [[], [0]])
    # nested but not an exact chain (Brook's identity) works on positive joints ...
    q = _positive_joint(7, (2, 2))
    np.testing.assert_allclose(represented_joint(q, SWAP), q, rtol=0, atol=1e-12)
    # ... and an exact chain does not need positivity
    z = np.array([[0.5, 0.0], [0.25, 0.25]])
    np.testing.assert_allclose(represented_joint(z, [[], [0]]), z, rtol=0, atol=1e-15)


def test_conditionals_are_validated_by_name() -> None:
    good = [np.array([[0.5], [0.5]]), np.array([[0.3, 0.7], [0.6, 0.4]])]
    with pytest.raises(ValueError, match=r"^conditionals\[0\] must be a numeric array"):
        negotiation_fixed_point([[["a"], ["b"]], good[1]], SWAP)
    with pytest.raises(ValueError, match=r"^conditionals\[0\] has a negative or non-finite entry"):
        negotiation_fixed_point([np.array([[1.5], [-0.5]]), good[1]], SWAP)
    bad_counts = [good[0], np.array([[0.2, 0.3, 0.5], [0.2, 0.3, 0.5], [0.2, 0.3, 0.5]])]
    with pytest.raises(
        ValueError, match=r"^conditionals\[1\] has 3 entries on axis 0, but agent 0 has 2 actions"
    ):
        negotiation_fixed_point(bad_counts, [[], [0]])
    with pytest.raises(ValueError, match=r"^expected 2 negotiation sets \(one per agent\); got 3"):
        conditionals(_positive_joint(1, (2, 2)), [[], [0], [1]])
    with pytest.raises(ValueError, match=r"^KL needs equal shapes; got \(2,\) and \(3,\)"):
        kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5])


def test_conditional_validates_agent_ids_by_argument() -> None:
    p = _positive_joint(9, (2, 3))
    for bad in (1.0, 1.5, 2, -1):
        with pytest.raises(ValueError, match=rf"^agent: agent id {bad!r} is out of range \[0, 2\)"):
            conditional(p, bad, [])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^given: agent id 5 is out of range \[0, 2\)"):
        conditional(p, 0, [5])


def test_zero_mass_contexts_get_the_uniform_conditional_without_warnings() -> None:
    # App. E.3 conditional p_{i + C} / p_C: contexts of probability zero get the uniform
    # conditional, computed without a 0/0 (no floating-point warning).
    p = np.array([[0.5, 0.0], [0.5, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = conditional(p, 0, [1])
    np.testing.assert_array_equal(c, [[0.5, 0.5], [0.5, 0.5]])


def test_negotiation_sets_name_every_malformed_input() -> None:
    where = r"^C_0 \(agent 0\): "
    with pytest.raises(ValueError, match=where + "agent ids must be integers; got 0.5"):
        NegotiationSets([{0.5}, []])
    with pytest.raises(ValueError, match=where + "agent ids must be integers; got '1'"):
        NegotiationSets([["1"], []])
    with pytest.raises(ValueError, match=where + r"agent ids must be integers; got \[0, 1\]"):
        NegotiationSets([[[0, 1]], []])
    with pytest.raises(ValueError, match=r"^negotiation sets: need at least one agent"):
        NegotiationSets([])
    with pytest.raises(ValueError, match=r"got int$"):
        NegotiationSets(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^expected 3 negotiation sets \(one per agent\); got 2"):
        as_negotiation_sets(NegotiationSets.independent(2), 3)
    with pytest.raises(ValueError, match=r"^expected 3 negotiation sets \(one per agent\); got 2"):
        as_negotiation_sets([[], []], 3)
    assert NegotiationSets([np.array([1]), (0,)]).sets == (frozenset({1}), frozenset({0}))


def test_joint_and_set_errors_point_at_the_offending_entry() -> None:
    with pytest.raises(ValueError, match=r"^p\(0, 1\) is not finite"):
        as_joint([[0.5, np.nan], [0.25, 0.25]], "p")
    with pytest.raises(ValueError, match=r"^p\(1, 0\) = .*-0\.5.* is negative"):
        as_joint([[0.0, 1.5], [-0.5, 0.0]], "p")
    with pytest.raises(ValueError, match=r"^C_0 \(agent 0\): agent id 1 is listed more than once"):
        NegotiationSets([[0, 1, 1], [], []])
