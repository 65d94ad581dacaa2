"""Eq. 12 (App. A): the SVGD direction and its RBF kernel, on numpy and on torch.

Claims checked, each on both backends (numpy arrays, torch CPU tensors; float64):

* the direction equals the straightforward dense formula of Eq. 12 (an ``M x M x d`` difference
  tensor and a full sort of the distinct pairs for the median) -- the oracle for the fast
  implementation;
* one particle: ``phi = score`` (the kernel is ``[1]``, its gradient vanishes);
* equivariance: permuting particles permutes the direction; translating them leaves it unchanged;
* the Stein identity: at i.i.d. samples of a Gaussian target the mean direction is zero up to
  Monte Carlo error;
* numpy and torch agree to 1e-10;
* torch autograd of the kernel equals the analytic gradient ``(2/h)(x_a - x_b) k``;
* the bandwidth rules are the documented ones; leading batch axes act independently.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from svnr_core.stein import Bandwidth, rbf_kernel, svgd_direction
from verification._backends import (
    BACKENDS,
    bandwidths,
    particles_and_scores,
    to_backend,
    to_numpy,
)

pytestmark = pytest.mark.props

FloatArray = NDArray[np.float64]


def dense_bandwidth(x: FloatArray, bandwidth: Bandwidth) -> FloatArray:
    """Reference bandwidth ``h [...]``: the lower median of the pairs ``a < b`` by a full sort."""
    m = x.shape[-2]
    if not isinstance(bandwidth, str):
        return np.full(x.shape[:-2], float(bandwidth))
    if m == 1:
        return np.ones(x.shape[:-2])
    d2 = np.sum((x[..., :, None, :] - x[..., None, :, :]) ** 2, axis=-1)
    a, b = np.triu_indices(m, 1)
    pairs = np.sort(d2[..., a, b], axis=-1)
    med = pairs[..., (pairs.shape[-1] - 1) // 2]  # the lower median
    largest = d2.max(axis=(-2, -1))
    log_n = math.log(m) if bandwidth == "median" else math.log(m + 1)
    return np.asarray(np.where(med > 0, med / log_n, np.where(largest > 0, largest / log_n, 1.0)))


def dense_svgd_direction(
    x: FloatArray, s: FloatArray, bandwidth: Bandwidth = "median"
) -> FloatArray:
    """Straightforward Eq. 12: ``1/M sum_j [k(x_j, x_l) s_j + grad_{x_j} k(x_j, x_l)]``.

    Forms the ``[..., M, M, d]`` differences explicitly and sorts for the median; the benchmark's
    reference formulation as well as this module's oracle.  Its distances are computed from
    differences, hence exact for coincident points.
    """
    m = x.shape[-2]
    h = dense_bandwidth(x, bandwidth)[..., None, None]
    diff = x[..., :, None, :] - x[..., None, :, :]  # [l, j] = x_l - x_j
    k = np.exp(-np.sum(diff**2, axis=-1) / h)
    grad = (2.0 / h[..., None]) * diff * k[..., None]  # grad_{x_j} k(x_j, x_l)
    return np.asarray((k @ s + grad.sum(axis=-2)) / m)


def _scale(*arrays: FloatArray) -> float:
    return max(1.0, *(float(np.max(np.abs(a))) for a in arrays))


# Rounding: the Gram-matrix distances and the dense differences agree to ~1e-13 relative to
# max|x|^2; exp and the O(M) sums keep that order.  1e-9 * scale^2 leaves three orders of slack
# and still catches any wrong term (those are O(1)).
def _close(a: FloatArray, b: FloatArray, scale: float) -> None:
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * scale**2)


@pytest.mark.parametrize("backend", BACKENDS)
@given(xs=particles_and_scores(), bandwidth=bandwidths)
def test_eq12_direction_equals_dense_formula(
    backend: str, xs: tuple[FloatArray, FloatArray], bandwidth: Bandwidth
) -> None:
    x, s = xs
    phi = to_numpy(
        svgd_direction(to_backend(x, backend), to_backend(s, backend), bandwidth=bandwidth)
    )
    _close(phi, dense_svgd_direction(x, s, bandwidth), _scale(x, s))


@pytest.mark.parametrize("backend", BACKENDS)
@given(xs=particles_and_scores(min_m=1, max_m=1), bandwidth=bandwidths)
def test_eq12_single_particle_direction_is_score(
    backend: str, xs: tuple[FloatArray, FloatArray], bandwidth: Bandwidth
) -> None:
    x, s = xs
    phi = svgd_direction(to_backend(x, backend), to_backend(s, backend), bandwidth=bandwidth)
    np.testing.assert_array_equal(to_numpy(phi), s)  # exact: K = [1], zero repulsion


@pytest.mark.parametrize("backend", BACKENDS)
@given(xs=particles_and_scores(batch=False), bandwidth=bandwidths, data=st.data())
def test_eq12_permutation_equivariance(
    backend: str, xs: tuple[FloatArray, FloatArray], bandwidth: Bandwidth, data: st.DataObject
) -> None:
    x, s = xs
    perm = np.asarray(data.draw(st.permutations(range(x.shape[0]))))
    phi = to_numpy(
        svgd_direction(to_backend(x, backend), to_backend(s, backend), bandwidth=bandwidth)
    )
    phi_p = to_numpy(
        svgd_direction(
            to_backend(x[perm], backend), to_backend(s[perm], backend), bandwidth=bandwidth
        )
    )
    _close(phi_p, phi[perm], _scale(x, s))  # only the summation order changes


@pytest.mark.parametrize("backend", BACKENDS)
@given(
    xs=particles_and_scores(),
    bandwidth=bandwidths,
    shift=st.lists(st.integers(-100 * 1024, 100 * 1024), min_size=4, max_size=4),
)
def test_eq12_translation_invariance(
    backend: str, xs: tuple[FloatArray, FloatArray], bandwidth: Bandwidth, shift: list[int]
) -> None:
    x, s = xs
    c = np.asarray(shift[: x.shape[-1]]) / 1024.0  # x + c is exact (dyadic grid)
    phi = to_numpy(
        svgd_direction(to_backend(x, backend), to_backend(s, backend), bandwidth=bandwidth)
    )
    phi_t = to_numpy(
        svgd_direction(to_backend(x + c, backend), to_backend(s, backend), bandwidth=bandwidth)
    )
    # Only the centring mean (rounded to ~eps * 110) and the Gram sums change: ~1e-13 on the
    # distances, far inside the tolerance of _close.
    _close(phi_t, phi, _scale(x, s))


@pytest.mark.parametrize("backend", BACKENDS)
@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.integers(1, 3),
    mean=st.floats(-5.0, 5.0),
    sd=st.floats(0.3, 3.0),
    h=st.floats(0.5, 20.0),
)
def test_eq12_stein_identity_at_gaussian_samples(
    backend: str, seed: int, d: int, mean: float, sd: float, h: float
) -> None:
    """``E_{x ~ p}[k(x, y) grad log p(x) + grad_x k(x, y)] = 0`` for every ``y``.

    With a fixed bandwidth, ``phi_bar = 1/M^2 sum_{l, j} H(x_j, x_l)`` is a V-statistic whose
    projection onto ``x_l`` vanishes by the identity, so to leading order it is the mean of the
    M terms ``psi_j = 1/M sum_l H(x_j, x_l)`` and its standard error is ``sd(psi) / sqrt(M)``.
    Five standard errors per coordinate: a false failure has probability ~6e-7 per coordinate.
    """
    m = 400
    rng = np.random.default_rng(seed)
    x = mean + sd * rng.standard_normal((m, d))
    s = -(x - mean) / sd**2
    phi = to_numpy(svgd_direction(to_backend(x, backend), to_backend(s, backend), bandwidth=h))
    diff = x[:, None, :] - x[None, :, :]  # [j, l] = x_j - x_l
    k = np.exp(-np.sum(diff**2, axis=-1) / h)
    psi = (k.sum(axis=1)[:, None] * s - (2.0 / h) * np.einsum("jl,jld->jd", k, diff)) / m
    np.testing.assert_allclose(psi.mean(axis=0), phi.mean(axis=0), atol=1e-12)  # same quantity
    se = psi.std(axis=0, ddof=1) / math.sqrt(m)
    assert np.all(np.abs(phi.mean(axis=0)) <= 5.0 * se + 1e-12), (phi.mean(axis=0), se)


@given(xs=particles_and_scores(), bandwidth=bandwidths)
def test_eq12_numpy_and_torch_agree(
    xs: tuple[FloatArray, FloatArray], bandwidth: Bandwidth
) -> None:
    x, s = xs
    a = svgd_direction(x, s, bandwidth=bandwidth)
    b = to_numpy(svgd_direction(torch.from_numpy(x), torch.from_numpy(s), bandwidth=bandwidth))
    # The same formula in float64 on both: differences are BLAS summation order only.
    np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-10 * _scale(x, s) ** 2)
    ka, ha = rbf_kernel(x, bandwidth=bandwidth)
    kb, hb = rbf_kernel(torch.from_numpy(x), bandwidth=bandwidth)
    np.testing.assert_allclose(to_numpy(kb), ka, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(to_numpy(hb), ha, rtol=1e-10)


@given(xs=particles_and_scores(min_m=2), bandwidth=bandwidths)
def test_eq12_torch_autograd_of_kernel_is_analytic_gradient(
    xs: tuple[FloatArray, FloatArray], bandwidth: Bandwidth
) -> None:
    """``d/dx_c sum_{ab} w_ab K_ab = sum_b (w_cb + w_bc) (2/h) (x_b - x_c) K_cb`` (h constant)."""
    x, w_src = xs
    w = np.asarray(w_src[..., :, :1] * np.swapaxes(w_src[..., :, :1], -1, -2))  # any [.., M, M]
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    k, h = rbf_kernel(xt, bandwidth=bandwidth)
    assert not h.requires_grad  # the bandwidth is a constant
    (k * torch.from_numpy(w)).sum().backward()
    assert xt.grad is not None
    kn, hn = to_numpy(k), to_numpy(h)[..., None, None]
    sym = (w + np.swapaxes(w, -1, -2)) * kn
    diff = x[..., None, :, :] - x[..., :, None, :]  # [c, b] = x_b - x_c
    analytic = np.sum((2.0 / hn)[..., None] * sym[..., None] * diff, axis=-2)
    np.testing.assert_allclose(to_numpy(xt.grad), analytic, rtol=1e-9, atol=1e-9 * _scale(x, w))


@pytest.mark.parametrize("backend", BACKENDS)
@given(xs=particles_and_scores(min_m=2))
def test_eq12_bandwidth_rules(backend: str, xs: tuple[FloatArray, FloatArray]) -> None:
    """``median``: med/log M; ``liu_wang``: med/log(M+1) (App. F.2 and the SVGD reference)."""
    x, _ = xs
    for rule in ("median", "liu_wang"):
        _, h = rbf_kernel(to_backend(x, backend), bandwidth=rule)
        np.testing.assert_allclose(to_numpy(h), dense_bandwidth(x, rule), rtol=1e-9)
        assert np.all(to_numpy(h) > 0)


@pytest.mark.parametrize("backend", BACKENDS)
@given(xs=particles_and_scores(), bandwidth=bandwidths)
def test_eq12_batch_axes_are_independent_sets(
    backend: str, xs: tuple[FloatArray, FloatArray], bandwidth: Bandwidth
) -> None:
    x, s = xs
    xb = np.stack([x, 2.0 * x + 1.0])
    sb = np.stack([s, -s])
    phi = to_numpy(
        svgd_direction(to_backend(xb, backend), to_backend(sb, backend), bandwidth=bandwidth)
    )
    for i in range(2):
        one: Any = svgd_direction(
            to_backend(xb[i], backend), to_backend(sb[i], backend), bandwidth=bandwidth
        )
        _close(phi[i], to_numpy(one), _scale(xb, sb))
