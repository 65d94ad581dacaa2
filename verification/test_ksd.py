"""Kernelized Stein discrepancy (App. L.1: agreement as a vanishing Stein discrepancy).

Claims checked on numpy and torch (float64):

* the closed form equals the brute-force double sum of the Stein kernel
  ``u_p(x, y) = s_x.s_y k + s_x.grad_y k + grad_x k.s_y + tr grad_x grad_y k`` (kernel gradients
  taken by torch autograd, so the oracle shares no algebra with the implementation);
* ``KSD^2 >= 0``: the V-statistic is a squared RKHS norm, hence non-negative; the U-statistic
  stays above its exact lower bound ``-mean_a u_p(x_a, x_a) / (M - 1)``;
* at i.i.d. samples of a Gaussian target the U-statistic is zero up to its Monte Carlo error, and
  it is clearly positive at samples of a shifted Gaussian;
* numpy and torch agree to 1e-10.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from svnr_core.stein import Bandwidth, kernelized_stein_discrepancy, rbf_kernel
from verification._backends import (
    BACKENDS,
    bandwidths,
    particles_and_scores,
    to_backend,
    to_numpy,
)

pytestmark = pytest.mark.props

FloatArray = NDArray[np.float64]


def stein_kernel_matrix(x: FloatArray, s: FloatArray, h: float) -> FloatArray:
    """``u_p(x_a, x_b)`` for one set ``[M, d]``, every derivative of k by torch autograd."""
    m, d = x.shape
    out = np.empty((m, m))
    for a in range(m):
        for b in range(m):
            xa = torch.tensor(x[a], requires_grad=True)
            xb = torch.tensor(x[b], requires_grad=True)
            k = torch.exp(-torch.sum((xa - xb) ** 2) / h)
            gxa, gxb = torch.autograd.grad(k, (xa, xb), create_graph=True)
            trace = sum(torch.autograd.grad(gxa[i], xb, retain_graph=True)[0][i] for i in range(d))
            sa, sb = torch.tensor(s[a]), torch.tensor(s[b])
            val = (sa @ sb) * k + sa @ gxb + gxa @ sb + trace
            out[a, b] = float(val.detach())
    return out


@pytest.mark.parametrize("backend", BACKENDS)
@given(xs=particles_and_scores(min_m=2, max_m=6, max_d=3, batch=False), bandwidth=bandwidths)
def test_ksd_closed_form_equals_stein_kernel_double_sum(
    backend: str, xs: tuple[FloatArray, FloatArray], bandwidth: Bandwidth
) -> None:
    x, s = xs
    m = x.shape[0]
    h = float(to_numpy(rbf_kernel(x, bandwidth=bandwidth)[1]))
    u = stein_kernel_matrix(x, s, h)
    xb, sb = to_backend(x, backend), to_backend(s, backend)
    ustat = float(to_numpy(kernelized_stein_discrepancy(xb, sb, bandwidth=bandwidth)))
    vstat = float(
        to_numpy(kernelized_stein_discrepancy(xb, sb, bandwidth=bandwidth, statistic="v"))
    )
    # Terms are at most |s|^2 + 4|s||r|/h + 2d/h + 4|r|^2/h^2; 1e-9 relative to that magnitude.
    tol = 1e-9 * max(1.0, float(np.abs(u).max()))
    assert abs(ustat - (u.sum() - np.trace(u)) / (m * (m - 1))) <= tol
    assert abs(vstat - u.sum() / m**2) <= tol


@pytest.mark.parametrize("backend", BACKENDS)
@given(xs=particles_and_scores(min_m=1), bandwidth=bandwidths)
def test_ksd_is_nonnegative(
    backend: str, xs: tuple[FloatArray, FloatArray], bandwidth: Bandwidth
) -> None:
    x, s = xs
    m, d = x.shape[-2], x.shape[-1]
    xb, sb = to_backend(x, backend), to_backend(s, backend)
    v = to_numpy(kernelized_stein_discrepancy(xb, sb, bandwidth=bandwidth, statistic="v"))
    diag = np.sum(s * s, axis=(-2, -1)) / m + 2.0 * d / to_numpy(
        rbf_kernel(xb, bandwidth=bandwidth)[1]
    )
    # V = ||(1/M) sum_a xi_a||^2 >= 0 exactly; rounding of the O(M^2) sum of terms bounded by
    # diag is below 1e-12 * diag.
    assert np.all(v >= -1e-12 * diag)
    if m >= 2:
        u = to_numpy(kernelized_stein_discrepancy(xb, sb, bandwidth=bandwidth))
        # U = (M V - diag) / (M - 1) >= -diag / (M - 1).
        assert np.all(u >= -diag / (m - 1) - 1e-12 * diag)


@pytest.mark.parametrize("backend", BACKENDS)
@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.integers(1, 3),
    mean=st.floats(-5.0, 5.0),
    sd=st.floats(0.3, 3.0),
    h_over_var=st.floats(0.5, 10.0),
)
def test_ksd_vanishes_at_target_samples_and_detects_a_shift(
    backend: str, seed: int, d: int, mean: float, sd: float, h_over_var: float
) -> None:
    """Under ``x ~ p`` the U-statistic is degenerate: mean 0, standard error
    ``se = sqrt(2 mean_{a != b} u_p^2 / (M (M - 1)))``, and asymptotically distributed as
    ``sum_k lambda_k (Z_k^2 - 1) / M`` (Serfling 5.5.2) -- skewed, not Gaussian.  In the worst
    case a single eigenvalue carries the variance and ``P(U > t se) = P(Z^2 > 1 + t sqrt 2)``;
    ``t = 15`` makes that 2.4e-6 (``t = 5`` would fail about once in 220 draws).  A shift of the
    samples by 2 standard deviations must give a U-statistic beyond the same 15 se."""
    m = 200
    h = h_over_var * sd**2  # a fixed bandwidth on the scale of the target
    rng = np.random.default_rng(seed)
    x = mean + sd * rng.standard_normal((m, d))
    s = -(x - mean) / sd**2
    xb, sb = to_backend(x, backend), to_backend(s, backend)
    ustat = float(to_numpy(kernelized_stein_discrepancy(xb, sb, bandwidth=h)))
    diff = x[:, None, :] - x[None, :, :]
    r2 = np.sum(diff**2, axis=-1)
    k = np.exp(-r2 / h)
    cross = np.einsum("ad,abd->ab", s, diff) - np.einsum("bd,abd->ab", s, diff)
    u = k * (s @ s.T + (2.0 / h) * cross + 2.0 * d / h - 4.0 * r2 / h**2)
    np.fill_diagonal(u, 0.0)
    se = math.sqrt(2.0 * np.sum(u**2) / (m * (m - 1)) / (m * (m - 1)))
    assert abs(ustat) <= 15.0 * se, (ustat, se)
    shifted = x + 2.0 * sd
    s_shift = -(shifted - mean) / sd**2
    ustat_shift = float(
        to_numpy(
            kernelized_stein_discrepancy(
                to_backend(shifted, backend), to_backend(s_shift, backend), bandwidth=h
            )
        )
    )
    assert ustat_shift > 15.0 * se, (ustat_shift, se)


@given(xs=particles_and_scores(min_m=2), bandwidth=bandwidths)
def test_ksd_numpy_and_torch_agree(xs: tuple[FloatArray, FloatArray], bandwidth: Bandwidth) -> None:
    x, s = xs
    for stat in ("u", "v"):
        a = kernelized_stein_discrepancy(x, s, bandwidth=bandwidth, statistic=stat)
        b = kernelized_stein_discrepancy(
            torch.from_numpy(x), torch.from_numpy(s), bandwidth=bandwidth, statistic=stat
        )
        scale = max(1.0, float(np.abs(s).max()) ** 2, float(np.abs(a).max()))
        np.testing.assert_allclose(to_numpy(b), a, rtol=1e-10, atol=1e-10 * scale)
