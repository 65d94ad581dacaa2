"""Backends and strategies shared by the Stein properties (numpy and torch CPU, float64)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import NDArray

#: Every property of the Stein modules runs on each of these.
BACKENDS = ("numpy", "torch")


def to_backend(a: NDArray[np.float64], backend: str) -> Any:
    """``a`` as a numpy array or a torch CPU tensor (same dtype, a copy)."""
    if backend == "numpy":
        return np.array(a)
    if backend == "torch":
        return torch.from_numpy(np.array(a))
    raise ValueError(f"unknown backend {backend!r}")


def to_numpy(a: Any) -> NDArray[np.float64]:
    """Back to numpy (detached) for comparisons."""
    if isinstance(a, torch.Tensor):
        return np.asarray(a.detach().cpu().numpy(), dtype=np.float64)
    return np.asarray(a, dtype=np.float64)


_score = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False, width=64)
#: Multiples of 2^-10 in [-10, 10]: sums with shifts on the same grid are exact in float64.
_grid_coord = st.integers(-10 * 1024, 10 * 1024).map(lambda i: i / 1024.0)


@st.composite
def particles_and_scores(
    draw: st.DrawFn,
    *,
    min_m: int = 1,
    max_m: int = 12,
    min_d: int = 1,
    max_d: int = 4,
    batch: bool = True,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(x, s)`` of one shape ``[..., M, d]`` (optionally one leading batch axis of 1-3).

    Particles are multiples of ``2^-10``: distinct particles are then far apart compared with
    the rounding resolution of the Gram-matrix distances (documented in
    :mod:`svnr_core.stein`), coincident ones are frequent, and translations by multiples of
    ``2^-10`` up to 100 are exact.  Scores are arbitrary floats.
    """
    m = draw(st.integers(min_m, max_m))
    d = draw(st.integers(min_d, max_d))
    lead: tuple[int, ...] = (draw(st.integers(1, 3)),) if batch and draw(st.booleans()) else ()
    shape = (*lead, m, d)
    x = draw(hnp.arrays(np.float64, shape, elements=_grid_coord))
    s = draw(hnp.arrays(np.float64, shape, elements=_score))
    return x, s


bandwidths = st.one_of(
    st.sampled_from(["median", "liu_wang"]),
    st.floats(0.05, 200.0, allow_nan=False, allow_infinity=False),
)
