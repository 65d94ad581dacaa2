"""Example tests that kill surviving mutants of `svnr_core.stein`.

See verification/mutants.md.
"""

from __future__ import annotations

import numpy as np
import pytest

from svnr_core.stein import mmd_squared, rbf_kernel


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
