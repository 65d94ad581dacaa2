"""Eq. 5 / Eq. 13 (App. A, D.1): the local-kernel (message-passing) Stein direction of agent i.

Claims checked on numpy and torch (float64):

* with ``C_i`` = all other agents it is the full SVGD direction (Eq. 12) restricted to ``u_i``,
  for single coordinates and for blocks of coordinates (MaMuJoCo agents);
* it depends on the particles only through ``x_{S_i}``, ``S_i = {i} + C_i``, and on the score
  only through ``score[..., u_i]`` (locality of the kernel ``k_i``);
* with ``C_i = {}`` it is SVGD on agent i's own coordinates with the joint score along them;
* overlap of ``update`` and ``condition`` (the paper's ``C_i = {1..i}`` contains ``i``) changes
  nothing; numpy and torch agree to 1e-10.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from svnr_core.stein import Bandwidth, local_kernel_direction, svgd_direction
from verification._backends import (
    BACKENDS,
    bandwidths,
    particles_and_scores,
    to_backend,
    to_numpy,
)

pytestmark = pytest.mark.props

FloatArray = NDArray[np.float64]


@st.composite
def split(draw: st.DrawFn, d: int) -> tuple[list[int], list[int]]:
    """A non-empty ``update`` block and a ``condition`` set of coordinates of ``0..d-1``."""
    coords = draw(st.permutations(range(d)))
    n_update = draw(st.integers(1, d))
    update = list(coords[:n_update])
    condition = draw(st.lists(st.sampled_from(range(d)), unique=True, max_size=d))
    return update, condition


def _close(a: FloatArray, b: FloatArray, x: FloatArray, s: FloatArray) -> None:
    # Same bound as the Eq. 12 properties: Gram-matrix rounding ~1e-13 * scale^2.
    scale = max(1.0, float(np.abs(x).max()), float(np.abs(s).max()))
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * scale**2)


@pytest.mark.parametrize("backend", BACKENDS)
@given(xs=particles_and_scores(min_d=1, max_d=5), bandwidth=bandwidths, data=st.data())
def test_eq5_full_condition_equals_svgd_restricted_to_agent(
    backend: str, xs: tuple[FloatArray, FloatArray], bandwidth: Bandwidth, data: st.DataObject
) -> None:
    x, s = xs
    d = x.shape[-1]
    update, _ = data.draw(split(d))
    others = [c for c in range(d) if c not in update]
    xb, sb = to_backend(x, backend), to_backend(s, backend)
    local = to_numpy(
        local_kernel_direction(xb, sb, update=update, condition=others, bandwidth=bandwidth)
    )
    full = to_numpy(svgd_direction(xb, sb, bandwidth=bandwidth))
    _close(local, full[..., update], x, s)


@pytest.mark.parametrize("backend", BACKENDS)
@given(xs=particles_and_scores(min_d=2, max_d=5), bandwidth=bandwidths, data=st.data())
def test_eq5_direction_depends_only_on_s_i(
    backend: str, xs: tuple[FloatArray, FloatArray], bandwidth: Bandwidth, data: st.DataObject
) -> None:
    """Changing coordinates outside ``S_i`` and score entries outside ``u_i`` changes nothing."""
    x, s = xs
    d = x.shape[-1]
    update, condition = data.draw(split(d))
    support = sorted(set(update) | set(condition))
    outside = [c for c in range(d) if c not in support]
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x2, s2 = x.copy(), rng.normal(size=s.shape)
    x2[..., outside] = np.round(rng.normal(scale=5.0, size=x2[..., outside].shape) * 1024) / 1024
    s2[..., update] = s[..., update]

    def phi(a: FloatArray, b: FloatArray) -> FloatArray:
        return to_numpy(
            local_kernel_direction(
                to_backend(a, backend),
                to_backend(b, backend),
                update=update,
                condition=condition,
                bandwidth=bandwidth,
            )
        )

    # The kernel sees exactly the same S_i columns, so the result is bit-identical.
    np.testing.assert_array_equal(phi(x2, s2), phi(x, s))


@pytest.mark.parametrize("backend", BACKENDS)
@given(xs=particles_and_scores(min_d=1, max_d=5), bandwidth=bandwidths, data=st.data())
def test_eq5_empty_condition_is_svgd_on_own_coordinates(
    backend: str, xs: tuple[FloatArray, FloatArray], bandwidth: Bandwidth, data: st.DataObject
) -> None:
    x, s = xs
    update, _ = data.draw(split(x.shape[-1]))
    xb, sb = to_backend(x, backend), to_backend(s, backend)
    local = to_numpy(
        local_kernel_direction(xb, sb, update=update, condition=[], bandwidth=bandwidth)
    )
    own = to_numpy(
        svgd_direction(
            to_backend(x[..., update], backend),
            to_backend(s[..., update], backend),
            bandwidth=bandwidth,
        )
    )
    _close(local, own, x, s)


@pytest.mark.parametrize("backend", BACKENDS)
@given(xs=particles_and_scores(min_d=1, max_d=5), bandwidth=bandwidths, data=st.data())
def test_eq5_condition_may_contain_the_agent_itself(
    backend: str, xs: tuple[FloatArray, FloatArray], bandwidth: Bandwidth, data: st.DataObject
) -> None:
    """Nested sets ``C_i = {0..i}`` contain ``i``: ``S_i = update + condition`` is the same."""
    x, s = xs
    update, condition = data.draw(split(x.shape[-1]))
    xb, sb = to_backend(x, backend), to_backend(s, backend)
    a = local_kernel_direction(xb, sb, update=update, condition=condition, bandwidth=bandwidth)
    b = local_kernel_direction(
        xb, sb, update=update, condition=sorted(set(condition) | set(update)), bandwidth=bandwidth
    )
    np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


@given(xs=particles_and_scores(min_d=1, max_d=5), bandwidth=bandwidths, data=st.data())
def test_eq5_numpy_and_torch_agree(
    xs: tuple[FloatArray, FloatArray], bandwidth: Bandwidth, data: st.DataObject
) -> None:
    x, s = xs
    update, condition = data.draw(split(x.shape[-1]))
    a = local_kernel_direction(x, s, update=update, condition=condition, bandwidth=bandwidth)
    b = local_kernel_direction(
        torch.from_numpy(x),
        torch.from_numpy(s),
        update=update,
        condition=condition,
        bandwidth=bandwidth,
    )
    scale = max(1.0, float(np.abs(x).max()), float(np.abs(s).max()))
    np.testing.assert_allclose(to_numpy(b), a, rtol=1e-10, atol=1e-10 * scale**2)
