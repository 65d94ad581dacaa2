"""Example tests that kill surviving mutants of `svnr_core.negotiation`.

See verification/mutants.md.
"""

from __future__ import annotations

import numpy as np
import pytest

from svnr_core.negotiation import negotiate, negotiation_sets
from svnr_core.stein import kernelized_stein_discrepancy


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


# ----------------------------------------------------------------- the trace and the Eq. 5 path

MEAN = np.array([1.0, -2.0, 0.5])
PRECISION = np.array([[2.0, 0.8, 0.0], [0.8, 1.5, 0.3], [0.0, 0.3, 1.0]])


def _gaussian(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Correlated Gaussian ``N(MEAN, PRECISION^-1)`` in the dtype of ``u``."""
    mean = MEAN.astype(u.dtype)
    g = -((u - mean) @ PRECISION.astype(u.dtype))
    return 0.5 * np.sum(g * (u - mean), axis=-1), g


class _JointScoreAsConditional:
    """A ConditionalTarget whose Eq. 5 score is the joint score ``grad / T`` (float64 always)."""

    def joint(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _gaussian(u)

    def conditional_score(
        self, u: np.ndarray, update: list[int], condition: list[int], temperature: float
    ) -> np.ndarray:
        return _gaussian(np.asarray(u, dtype=np.float64))[1][..., update] / temperature


def _particles(seed: int, scale: float, m: int = 6) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=scale, size=(m, 3))


def test_batched_trace_records_the_worst_particle_set_of_the_batch() -> None:
    """Each trace entry of a batch ``[B, M, D]`` is the maximum over the B independent runs."""
    u = np.stack([_particles(1, 0.5), _particles(2, 3.0)])
    kw: dict[str, object] = {"rounds": 2, "temperature": 2.0, "bandwidth": 0.8}
    batched = negotiate(u, _gaussian, **kw)  # type: ignore[arg-type]
    runs = [negotiate(u[b], _gaussian, **kw) for b in range(2)]  # type: ignore[arg-type]
    for field in ("direction_norm", "ksd", "mean_log_density"):
        per_set = np.stack([getattr(r.trace, field) for r in runs])
        assert not np.allclose(per_set[0], per_set[1]), field  # the two sets differ
        np.testing.assert_allclose(
            getattr(batched.trace, field), per_set.max(axis=0), rtol=1e-12, err_msg=field
        )


def test_batched_conditional_score_path_matches_single_sets() -> None:
    """Eq. 5 scores of a batch ``[B, M, D]`` have shape ``[B, M, |u_i|]``, run per set."""
    u = np.stack([_particles(1, 0.5), _particles(2, 3.0)])
    batched = negotiate(u, _JointScoreAsConditional(), rounds=2, sets="nested")
    for b in range(2):
        one = negotiate(u[b], _JointScoreAsConditional(), rounds=2, sets="nested")
        np.testing.assert_allclose(batched.particles[b], one.particles, rtol=1e-12, atol=1e-12)


def test_conditional_score_is_cast_to_the_particles_dtype() -> None:
    """float32 particles stay float32 when the Eq. 5 score comes back as float64."""
    u = _particles(3, 1.0).astype(np.float32)
    out = negotiate(u, _JointScoreAsConditional(), rounds=2, sets="full")
    assert out.particles.dtype == np.float32
    joint = negotiate(u, _gaussian, rounds=2, sets="full")  # full sets: Eq. 5 score = joint score
    np.testing.assert_allclose(out.particles, joint.particles, rtol=1e-5, atol=1e-5)


def test_recorded_snapshots_are_copies_not_views_of_the_particles() -> None:
    """The trace keeps copies: neither the caller's initial array nor the returned particles
    share memory with a snapshot (changing them in place leaves the trace as recorded)."""
    initial = _particles(4, 1.0)
    out = negotiate(initial, _gaussian, rounds=2, record_every=1)
    (k0, first), *_, (k_last, last) = out.trace.snapshots
    assert (k0, k_last) == (0, 2)
    assert not np.shares_memory(first, initial)
    assert not np.shares_memory(last, out.particles)
    np.testing.assert_array_equal(first, initial)
    np.testing.assert_array_equal(last, out.particles)


def test_ksd_trace_is_of_the_tempered_target_with_the_given_bandwidth() -> None:
    """``trace.ksd[k]`` is ``KSD^2`` of the particles after round k against ``p^(1/T_k)``
    (score ``grad log p / T_k``), with the bandwidth rule passed to ``negotiate``."""
    initial = _particles(5, 2.0)
    out = negotiate(initial, _gaussian, rounds=1, temperature=4.0, bandwidth=0.3)
    logp, grad = _gaussian(out.particles)
    expected = kernelized_stein_discrepancy(out.particles, grad / 4.0, bandwidth=0.3)
    assert float(out.trace.ksd[0]) == pytest.approx(float(expected), rel=1e-12)
    assert float(out.trace.mean_log_density[0]) == pytest.approx(float(np.mean(logp)), rel=1e-12)


def _first_below(values: np.ndarray, tol: float) -> int:
    return int(np.flatnonzero(values < tol)[0])


def test_ksd_agreement_stops_at_the_first_round_whose_ksd_is_below_tol() -> None:
    initial = _particles(6, 2.0, m=8)
    full = negotiate(initial, _gaussian, rounds=40, step_size=0.05)
    ksd, norm = full.trace.ksd, full.trace.direction_norm
    tol = float(np.sqrt(ksd.max() * ksd.min()))  # reached by the KSD within the 40 rounds
    stop = _first_below(ksd, tol)
    below = np.flatnonzero(norm < tol)
    assert below.size == 0 or below[0] != stop  # the direction rule would stop elsewhere
    out = negotiate(initial, _gaussian, rounds=40, step_size=0.05, tol=tol, agreement="ksd")
    assert out.agreed is True
    assert out.rounds == stop + 1


def test_agreement_needs_the_direction_norm_strictly_below_tol() -> None:
    """ "Stop after the first round whose direction norm is below tol": a norm equal to tol
    does not stop the negotiation."""
    initial = _particles(7, 2.0, m=8)
    full = negotiate(initial, _gaussian, rounds=6, step_size=0.05)
    norm = full.trace.direction_norm
    assert np.all(np.diff(norm) < 0)  # decreasing: the first round at or below norm[2] is 2
    out = negotiate(initial, _gaussian, rounds=6, step_size=0.05, tol=float(norm[2]))
    assert out.rounds == 4  # round index 3 is the first strictly below
    assert out.agreed is True
