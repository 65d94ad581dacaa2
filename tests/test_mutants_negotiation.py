"""Example tests that kill surviving mutants of `svnr_core.negotiation`.

See verification/mutants.md.
"""

from __future__ import annotations

import numpy as np
import pytest

from svnr_core.negotiation import negotiate, negotiation_sets


@pytest.mark.parametrize("n_agents", [0, -1, 2.5, True])
def test_negotiation_sets_need_a_positive_integer_agent_count(n_agents: object) -> None:
    with pytest.raises(ValueError, match=rf"^n_agents must be an integer >= 1; got {n_agents!r}"):
        negotiation_sets("nested", n_agents)  # type: ignore[arg-type]


def test_explicit_negotiation_sets_are_validated_by_position() -> None:
    assert negotiation_sets([[1], [0]], 2) == ((1,), (0,))
    with pytest.raises(ValueError, match=r"^sets\[1\] must be a sequence of agent ids; got 5"):
        negotiation_sets([[1], 5], 2)  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"^sets\[1\] must be a sequence of agent ids; got 'ab'"):
        negotiation_sets([[1], "ab"], 2)
    with pytest.raises(ValueError, match=r"^sets\[0\] holds 1\.0, not an integer agent id"):
        negotiation_sets([[1.0], []], 2)  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"^sets\[0\] holds True, not an integer agent id"):
        negotiation_sets([[True], []], 2)
    with pytest.raises(ValueError, match=r"^sets\[0\] holds agent 2 outside \[0, 2\)"):
        negotiation_sets([[2], []], 2)
    with pytest.raises(ValueError, match=r"^sets\[1\] repeats an agent: \[0, 0\]"):
        negotiation_sets([[], [0, 0]], 2)
    with pytest.raises(ValueError, match=r"^sets must hold one set per agent \(2\); got 1"):
        negotiation_sets([[]], 2)
    with pytest.raises(ValueError, match=r"^sets must be 'nested', 'full', 'empty' or explicit"):
        negotiation_sets("chain", 2)  # type: ignore[arg-type]
    assert negotiation_sets("full", 3) == ((1, 2), (0, 2), (0, 1))
    assert negotiation_sets("empty", 2) == ((), ())
    assert negotiation_sets("nested", 3) == ((0,), (0, 1), (0, 1, 2))


def test_agent_blocks_must_be_sequences_of_coordinates() -> None:
    initial = np.zeros((4, 2))

    def target(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return -0.5 * np.sum(u * u, axis=-1), -u

    for bad in (5, "01", []):
        with pytest.raises(ValueError, match=r"^agents\[1\] must be a non-empty sequence of coord"):
            negotiate(initial, target, rounds=1, agents=[[0], bad])  # type: ignore[list-item]


def test_negotiate_validates_its_arguments_by_name() -> None:
    initial = np.zeros((4, 2))

    def target(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return -0.5 * np.sum(u * u, axis=-1), -u

    with pytest.raises(ValueError, match=r"^agents\[0\] holds 0\.0, not an integer coordinate"):
        negotiate(initial, target, rounds=1, agents=[[0.0], [1]])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"^agents must partition the coordinates 0\.\.1 "):
        negotiate(initial, target, rounds=1, agents=[[0], [0]])
    with pytest.raises(ValueError, match=r"^rounds must be an integer >= 1; got 2\.5"):
        negotiate(initial, target, rounds=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^order must be a permutation of the agents 0\.\.1; got"):
        negotiate(initial, target, rounds=1, order=[0, 0])
    with pytest.raises(ValueError, match=r"^step_size must be"):
        negotiate(initial, target, rounds=1, step_size=-1.0)
    # adagrad_decay may be 0 (no memory): the documented range is [0, 1)
    negotiate(initial, target, rounds=1, adaptive=True, adagrad_decay=0.0)


def test_negotiate_names_its_numeric_options_and_keeps_particles_in_the_box() -> None:
    initial = np.array([[-5.0, 5.0], [5.0, -5.0], [0.0, 0.0], [0.5, -0.5]])

    def target(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return -0.5 * np.sum(u * u, axis=-1), -u

    for name, kwargs in (
        ("fudge", {"fudge": 0.0}),
        ("tol", {"tol": -1.0}),
        ("temperature", {"temperature": 0.0}),
    ):
        with pytest.raises(ValueError, match=rf"^{name} must be a finite number > 0; got"):
            negotiate(initial, target, rounds=1, **kwargs)  # type: ignore[arg-type]
    for bad in (0, 1.5):
        with pytest.raises(ValueError, match=r"^record_every must be an integer >= 1 or None"):
            negotiate(initial, target, rounds=1, record_every=bad)  # type: ignore[arg-type]
    recorded = negotiate(initial, target, rounds=2, record_every=1)
    snapshots = recorded.trace.snapshots
    assert [k for k, _ in snapshots] == [0, 1, 2]
    np.testing.assert_array_equal(snapshots[-1][1], recorded.particles)
    with pytest.raises(ValueError, match=r"^bounds must be finite \(low, high\) with low < high"):
        negotiate(initial, target, rounds=1, bounds=(1.0, 1.0))

    # box constraints: a target that pushes particles outwards, starting outside [-1, 1]^2 on
    # both sides: every particle ends on or inside the box, and the box binds on both sides
    def outward(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return 0.5 * np.sum(u * u, axis=-1), u

    out = negotiate(initial, outward, rounds=1, bounds=(-1.0, 1.0), step_size=0.01, record_every=1)
    start = out.trace.snapshots[0][1]  # round 0: the initial particles, projected onto the box
    np.testing.assert_array_equal(start, np.clip(initial, -1.0, 1.0))
    assert out.particles.min() == -1.0
    assert out.particles.max() == 1.0


def test_negotiate_names_a_misbehaving_target() -> None:
    initial = np.zeros((2, 4, 2))  # a batch of two particle sets

    def wrong_shape(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(3), np.zeros_like(u)

    def not_finite(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.full(u.shape[:-1], np.nan), np.zeros_like(u)

    with pytest.raises(ValueError, match=r"^target must return shapes \(2, 4\) and \(2, 4, 2\)"):
        negotiate(initial, wrong_shape, rounds=1)
    with pytest.raises(ValueError, match=r"^target returned NaN or infinite log-density or grad"):
        negotiate(initial, not_finite, rounds=1)


def test_negotiate_uses_the_bandwidth_and_records_the_ksd_from_two_particles() -> None:
    rng = np.random.default_rng(0)
    initial = rng.normal(size=(5, 2))

    def target(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return -0.5 * np.sum(u * u, axis=-1), -u

    median = negotiate(initial, target, rounds=2)
    fixed = negotiate(initial, target, rounds=2, bandwidth=0.3)
    assert not np.allclose(median.particles, fixed.particles)
    assert not np.allclose(median.trace.ksd, fixed.trace.ksd)
    assert median.agreed is False  # no tol: no agreement test, the rounds all run
    assert median.rounds == 2
    # KSD (App. L.1) needs two particles: one particle records 0, two record a positive value
    one = negotiate(initial[:1], target, rounds=1)
    two = negotiate(initial[:2], target, rounds=1)
    assert float(one.trace.ksd[0]) == 0.0
    assert float(two.trace.ksd[0]) != 0.0
