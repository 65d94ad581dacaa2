"""Example-based tests of svnr_core.stein: input validation, dtypes and devices, autograd, and
the fixed-seed SVGD convergence demonstration on a 2-D Gaussian mixture (Eq. 12)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from svnr_core.stein import (
    kernelized_stein_discrepancy,
    local_kernel_direction,
    mmd_squared,
    rbf_kernel,
    svgd_direction,
)
from verification.figures.svgd_gmm import gmm_experiment

RNG = np.random.default_rng(0)
X = RNG.normal(size=(5, 3))
S = RNG.normal(size=(5, 3))


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bandwidth": "silverman"}, "bandwidth"),
        ({"bandwidth": -1.0}, "bandwidth"),
        ({"bandwidth": 0.0}, "bandwidth"),
        ({"bandwidth": float("nan")}, "bandwidth"),
        ({"bandwidth": float("inf")}, "bandwidth"),
        ({"bandwidth": True}, "bandwidth"),
    ],
)
def test_bad_bandwidth_is_rejected(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        svgd_direction(X, S, **kwargs)
    with pytest.raises(ValueError, match=match):
        rbf_kernel(X, **kwargs)


def test_bad_particles_and_scores_are_rejected() -> None:
    with pytest.raises(ValueError, match="particles must have at least 2 axes"):
        svgd_direction(X[0], S[0])
    with pytest.raises(ValueError, match="particles must be a real floating"):
        svgd_direction(np.ones((4, 2), dtype=np.int64), np.ones((4, 2)))
    bad = X.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="particles contains NaN"):
        svgd_direction(bad, S)
    bad_s = S.copy()
    bad_s[0, 0] = np.inf
    with pytest.raises(ValueError, match="score contains NaN or infinite"):
        svgd_direction(X, bad_s)
    with pytest.raises(ValueError, match="score must have shape"):
        svgd_direction(X, S[:, :2])
    with pytest.raises(ValueError, match="score dtype"):
        svgd_direction(X, S.astype(np.float32))
    with pytest.raises(ValueError, match="same array library"):
        svgd_direction(X, torch.from_numpy(S))
    with pytest.raises(ValueError, match="empty axis"):
        svgd_direction(np.zeros((0, 3)), np.zeros((0, 3)))


@pytest.mark.parametrize(
    ("update", "condition", "match"),
    [
        ([], [0], "update must name at least one"),
        ([3], [], r"update\[0\] = 3 is outside"),
        ([0, 0], [], "update has repeated"),
        ([0], [-1], r"condition\[0\] = -1 is outside"),
        ([0], [1.5], r"condition\[0\] = 1.5 is not an integer"),
        ("0", [], "update must be a sequence"),
    ],
)
def test_bad_coordinate_sets_are_rejected(update: Any, condition: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        local_kernel_direction(X, S, update=update, condition=condition)


def test_ksd_and_mmd_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="at least 2 particles"):
        kernelized_stein_discrepancy(X[:1], S[:1])
    with pytest.raises(ValueError, match="statistic"):
        kernelized_stein_discrepancy(X, S, statistic="w")  # type: ignore[arg-type]
    assert np.isfinite(kernelized_stein_discrepancy(X[:1], S[:1], statistic="v"))
    with pytest.raises(ValueError, match="fixed float"):
        mmd_squared(X, X, bandwidth="median")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="incompatible shapes"):
        mmd_squared(X, X[:, :2], bandwidth=1.0)
    with pytest.raises(ValueError, match="at least 2 points"):
        mmd_squared(X[:1], X, bandwidth=1.0)


# --------------------------------------------------------------------------- values


def test_lists_are_accepted_as_float64() -> None:
    phi = svgd_direction(X.tolist(), S.tolist())
    assert isinstance(phi, np.ndarray)
    assert phi.dtype == np.float64
    np.testing.assert_allclose(phi, svgd_direction(X, S))


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_float32_is_kept(backend: str) -> None:
    x32, s32 = X.astype(np.float32), S.astype(np.float32)
    xb: Any = torch.from_numpy(x32) if backend == "torch" else x32
    sb: Any = torch.from_numpy(s32) if backend == "torch" else s32
    for out in (
        svgd_direction(xb, sb),
        local_kernel_direction(xb, sb, update=[1], condition=[0]),
        kernelized_stein_discrepancy(xb, sb),
        rbf_kernel(xb)[0],
        rbf_kernel(xb)[1],
    ):
        assert str(out.dtype).endswith("float32")
    phi = np.asarray(svgd_direction(xb, sb))
    # float32 rounding (eps 1.2e-7) through O(M) sums of O(10) terms.
    np.testing.assert_allclose(phi, svgd_direction(X, S), rtol=1e-4, atol=1e-5)


def test_coincident_particles_use_the_fallback_bandwidth() -> None:
    """All particles equal: ``med = max = 0``, ``h = 1``, ``K = 1``, ``phi_l = mean score``."""
    x = np.full((6, 2), 3.0)
    k, h = rbf_kernel(x)
    assert float(h) == 1.0
    np.testing.assert_array_equal(k, np.ones((6, 6)))
    s = np.arange(12.0).reshape(6, 2)
    np.testing.assert_allclose(svgd_direction(x, s), np.broadcast_to(s.mean(axis=0), (6, 2)))


def test_more_than_half_coincident_pairs_use_the_largest_distance() -> None:
    x = np.zeros((5, 1))
    x[0, 0] = 2.0  # 4 of 10 pairs at distance^2 4, 6 at 0: median 0
    _, h = rbf_kernel(x, bandwidth="median")
    assert float(h) == pytest.approx(4.0 / np.log(5))


def test_torch_inputs_requiring_grad_give_the_detached_result_and_a_gradient() -> None:
    xt = torch.from_numpy(X.copy()).requires_grad_(True)
    st = torch.from_numpy(S.copy())
    phi = svgd_direction(xt, st)
    assert phi.requires_grad
    np.testing.assert_allclose(phi.detach().numpy(), svgd_direction(X, S), rtol=1e-12, atol=1e-12)
    phi.sum().backward()
    assert xt.grad is not None
    assert torch.isfinite(xt.grad).all()


def test_eq9_direction_is_alpha_times_svgd_with_scaled_score() -> None:
    """``E[k grad Q + alpha grad k] = alpha * phi(score = grad Q / alpha)`` (Eq. 9 / 13)."""
    alpha = 0.3
    grad_q = S
    k, h = rbf_kernel(X)
    diff = X[:, None, :] - X[None, :, :]  # x_l - x_j
    grad_k = (2.0 / h) * np.sum(diff * k[..., None], axis=1)
    eq9 = (k @ grad_q + alpha * grad_k) / X.shape[0]
    np.testing.assert_allclose(alpha * svgd_direction(X, grad_q / alpha), eq9, rtol=1e-12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_matches_cpu() -> None:  # pragma: no cover - needs a GPU
    xc = torch.from_numpy(X).cuda()
    sc = torch.from_numpy(S).cuda()
    phi = svgd_direction(xc, sc)
    assert phi.device.type == "cuda"
    np.testing.assert_allclose(phi.cpu().numpy(), svgd_direction(X, S), rtol=1e-10, atol=1e-10)
    ksd = kernelized_stein_discrepancy(xc, sc)
    np.testing.assert_allclose(ksd.cpu().numpy(), kernelized_stein_discrepancy(X, S), rtol=1e-10)


# --------------------------------------------------------------------------- convergence


def _check_gmm(seed: int) -> None:
    out = gmm_experiment(seed=seed, n_particles=100, steps=500)
    # SVGD particles must be at least as close (in MMD^2) to the mixture as the worst of 20
    # independent exact samples of the same size -- i.e. indistinguishable from exact sampling
    # at this size -- while the initial N(0, 9 I) particles are clearly farther (3x that level).
    assert out.mmd2_svgd <= out.mmd2_iid_max, out
    assert out.mmd2_initial >= 3.0 * out.mmd2_iid_max, out


def test_svgd_reaches_small_mmd_on_gaussian_mixture() -> None:
    _check_gmm(seed=0)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_svgd_reaches_small_mmd_on_gaussian_mixture_more_seeds(seed: int) -> None:
    _check_gmm(seed=seed)
