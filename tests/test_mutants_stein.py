"""Example tests that kill surviving mutants of `svnr_core.stein`.

See verification/mutants.md.
"""

from __future__ import annotations

import numpy as np
import pytest

from svnr_core.stein import (
    kernelized_stein_discrepancy,
    local_kernel_direction,
    mmd_squared,
    rbf_kernel,
    svgd_direction,
)


def test_rbf_kernel_names_its_particles_argument() -> None:
    with pytest.raises(ValueError, match=r"^particles must have at least 2 axes"):
        rbf_kernel(np.zeros(3))


def test_mmd_accepts_two_points_and_batches_and_names_bad_inputs() -> None:
    rng = np.random.default_rng(0)
    # the smallest valid sets: M = N = 2 (the unbiased estimate needs two points each)
    two = mmd_squared(rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), bandwidth=1.0)
    assert np.isfinite(two)
    # batch axes: each leading index is its own pair of sets (M != d, N != d on purpose)
    x = rng.normal(size=(2, 3, 2))
    y = rng.normal(size=(2, 4, 2))
    batched = mmd_squared(x, y, bandwidth=0.7)
    assert batched.shape == (2,)
    for b in range(2):
        assert batched[b] == pytest.approx(float(mmd_squared(x[b], y[b], bandwidth=0.7)), abs=1e-14)
    with pytest.raises(ValueError, match=r"^x must have at least 2 axes"):
        mmd_squared(np.zeros(3), y[0], bandwidth=1.0)
    with pytest.raises(ValueError, match=r"^y must have at least 2 axes"):
        mmd_squared(x[0], np.zeros(3), bandwidth=1.0)
    with pytest.raises(ValueError, match=r"^x and y must share array library and dtype"):
        mmd_squared(x[0], y[0].astype(np.float32), bandwidth=1.0)
    for a, b in ((x, y[0]), (x[0], y), (x[0], rng.normal(size=(4, 3)))):
        with pytest.raises(ValueError, match=r"^x \(.*\) and y \(.*\) have incompatible shapes"):
            mmd_squared(a, b, bandwidth=1.0)
    with pytest.raises(ValueError, match=r"^mmd_squared needs at least 2 points in x and in y"):
        mmd_squared(x[0, :1], y[0], bandwidth=1.0)


def _mmd_by_hand(x: np.ndarray, y: np.ndarray, h: float) -> float:
    # Gretton et al. (2012), Eq. 3, written out with explicit sums over pairs.
    def k(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.exp(-np.sum((a - b) ** 2) / h))

    m, n = len(x), len(y)
    kxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    kyy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    kxy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return kxx + kyy - 2.0 * kxy


def test_mmd_equals_the_unbiased_estimate_written_out() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 4, 2))
    y = rng.normal(loc=0.5, size=(2, 3, 2))
    got = mmd_squared(x, y, bandwidth=1.7)
    for b in range(2):
        assert got[b] == pytest.approx(_mmd_by_hand(x[b], y[b], 1.7), rel=1e-12, abs=1e-14)


# --------------------------------------------------------------- Eq. 5 local kernel (arguments)

RNG = np.random.default_rng(11)
X = RNG.normal(size=(5, 3))
S = RNG.normal(size=(5, 3))


def test_local_kernel_direction_names_its_particles_argument() -> None:
    with pytest.raises(ValueError, match=r"^particles must have at least 2 axes"):
        local_kernel_direction(X[0], S[0], update=[0], condition=[])


def test_local_kernel_direction_accepts_one_integer_coordinate_index() -> None:
    """``update=1`` is the block ``[1]`` (a one-dimensional agent), also as a numpy integer."""
    block = local_kernel_direction(X, S, update=[1], condition=[0])
    for one in (1, np.int64(1)):
        np.testing.assert_array_equal(
            local_kernel_direction(X, S, update=one, condition=0),
            block,  # type: ignore[arg-type]
        )


def test_ksd_names_its_particles_argument() -> None:
    with pytest.raises(ValueError, match=r"^particles must have at least 2 axes"):
        kernelized_stein_discrepancy(X[0], S[0])


def test_ksd_of_a_batch_is_the_ksd_of_each_particle_set() -> None:
    """Leading axes index independent particle sets: ``KSD^2`` is reduced over ``M x M`` only."""
    rng = np.random.default_rng(12)
    x = rng.normal(size=(2, 5, 3))
    s = rng.normal(size=(2, 5, 3))
    for statistic in ("u", "v"):
        batched = kernelized_stein_discrepancy(x, s, bandwidth=0.9, statistic=statistic)  # type: ignore[arg-type]
        assert batched.shape == (2,)
        for b in range(2):
            one = kernelized_stein_discrepancy(x[b], s[b], bandwidth=0.9, statistic=statistic)  # type: ignore[arg-type]
            assert float(batched[b]) == pytest.approx(float(one), rel=1e-12, abs=1e-14)


def test_stein_directions_are_translation_invariant_far_from_the_origin() -> None:
    """Module doc: centring makes the direction translation invariant up to rounding, with no
    cancellation far from the origin.  Dyadic particles shifted by +-2^30 per coordinate are
    centred exactly, so Eq. 12 and the Eq. 5 local direction agree with the unshifted ones to
    round-off of the O(1) terms (1e-12), not of the O(2^30) coordinates (1e-7)."""
    rng = np.random.default_rng(5)
    x = rng.integers(-8, 9, size=(6, 3)) / 8.0
    s = rng.integers(-8, 9, size=(6, 3)) / 8.0
    shift = np.array([2.0**30, -(2.0**30), 2.0**29])
    for bandwidth in ("median", 0.7):
        np.testing.assert_allclose(
            svgd_direction(x + shift, s, bandwidth=bandwidth),  # type: ignore[arg-type]
            svgd_direction(x, s, bandwidth=bandwidth),  # type: ignore[arg-type]
            rtol=0.0,
            atol=1e-12,
        )
        np.testing.assert_allclose(
            local_kernel_direction(x + shift, s, update=[0, 2], condition=[1], bandwidth=bandwidth),  # type: ignore[arg-type]
            local_kernel_direction(x, s, update=[0, 2], condition=[1], bandwidth=bandwidth),  # type: ignore[arg-type]
            rtol=0.0,
            atol=1e-12,
        )


def test_score_from_another_array_library_is_rejected_by_name() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(
        ValueError, match=r"^score must come from the same array library as particles$"
    ):
        svgd_direction(X, torch.from_numpy(S))


@pytest.mark.parametrize("bandwidth", ["median", "liu_wang"])
def test_single_particle_kernel_keeps_the_float32_dtype(bandwidth: str) -> None:
    """``M = 1`` gives ``h = 1`` (module doc) in the dtype of the particles, and ``K = [1]``."""
    k, h = rbf_kernel(np.zeros((2, 1, 3), dtype=np.float32), bandwidth=bandwidth)  # type: ignore[arg-type]
    assert h.dtype == np.float32
    assert k.dtype == np.float32
    np.testing.assert_array_equal(h, np.ones(2, dtype=np.float32))
    np.testing.assert_array_equal(k, np.ones((2, 1, 1), dtype=np.float32))


def _cluster_and_far_point(ratio: float) -> np.ndarray:
    """Four points in R^1: 0, delta, 2 delta and 4, with ``(2 delta)^2 = ratio * eps * S``,
    ``S = max_a |x_a - xbar|^2 = 9``.  The lower median of the 6 pair distances is the
    cluster's largest, ``(2 delta)^2``."""
    eps = float(np.finfo(np.float64).eps)
    delta = float(np.sqrt(ratio * eps * 9.0 / 4.0))
    return np.array([[0.0], [delta], [2.0 * delta], [4.0]])


@pytest.mark.parametrize("beyond", [17.0, 20.0])
@pytest.mark.parametrize("batch", [(), (1,)])
def test_points_within_the_gram_resolution_count_as_coincident(
    batch: tuple[int, ...], beyond: float
) -> None:
    """``_centred_sq_dists``: squared distances up to ``8 (d + 1) eps S`` (here 16 eps S) are
    set to 0, so the median rule sees the cluster as coincident and falls back to the largest
    distance (module doc); at 17 or 20 eps S the cluster is resolved and sets the bandwidth.
    With d = 1 each entry is one rounded product and two rounded sums (no BLAS reduction), so
    the computed distances (17.1 eps S for 17) are the same IEEE results everywhere."""
    largest = 16.0 / np.log(4.0)
    _, h_within = rbf_kernel(_cluster_and_far_point(10.0).reshape(*batch, 4, 1))
    assert float(np.ravel(h_within)[0]) == pytest.approx(largest, rel=1e-12)
    x_beyond = _cluster_and_far_point(beyond)
    _, h_beyond = rbf_kernel(x_beyond.reshape(*batch, 4, 1))
    resolved = float(x_beyond[2, 0] ** 2) / np.log(4.0)
    assert float(np.ravel(h_beyond)[0]) == pytest.approx(resolved, rel=1e-2)


def test_batched_sets_of_very_different_spreads_get_their_own_bandwidth() -> None:
    """Each particle set of a batch has its own kernel: a set of spread 1e-4 next to one of
    spread 1e4 keeps its own distances (no coincidence threshold borrowed from the other)."""
    rng = np.random.default_rng(13)
    x = np.stack([1e-4 * rng.normal(size=(5, 2)), 1e4 * rng.normal(size=(5, 2))])
    k, h = rbf_kernel(x)
    for b in range(2):
        k_one, h_one = rbf_kernel(x[b])
        assert float(h[b]) == pytest.approx(float(h_one), rel=1e-12)
        np.testing.assert_allclose(k[b], k_one, rtol=1e-12, atol=1e-15)
