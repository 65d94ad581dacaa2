"""Cost of the Stein direction (Eq. 12) against the number of particles ``M`` and the dimension
``d`` (run by ``nox -s bench``; no timed assertions).

For every case the benchmark prints and stores in ``benchmark.extra_info``:

* ``svgd_direction`` on numpy float64 (the timed call) -- one ``M x M`` distance matrix from a
  Gram product, reused for the kernel, the exact median (``numpy.partition``, linear time) and
  both terms of the direction through one product ``K [score, x]``;
* the straightforward dense reference of the same run (``verification.test_eq12_svgd``:
  an ``M x M x d`` difference tensor, a full sort of the pair distances for the median, the
  repulsion as a sum over that tensor), its time and the speed-up ``t_ref / t_fast`` (goal:
  >= 3 at M = 1024).  The reference is skipped where its difference tensor would exceed
  ``REFERENCE_MAX_BYTES``;
* the same function on torch CPU tensors, and on CUDA when a GPU is present (synchronised).

Timings are minima over repeats (``time.perf_counter``); inputs come from fixed seeds; numbers
depend on the machine and on the BLAS threads (``OMP_NUM_THREADS``, printed).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from svnr_core.stein import svgd_direction
from verification.test_eq12_svgd import dense_svgd_direction

#: Largest ``M * M * d * 8`` bytes of the reference's difference tensor that we allocate.
REFERENCE_MAX_BYTES = 600e6

CASES = [(m, d) for m in (16, 64, 256, 1024, 4096) for d in (3, 16)]


def best_time(fn: Callable[[], object], budget_s: float = 1.0, max_repeats: int = 50) -> float:
    """Minimum time of one call over repeats that fit in about ``budget_s`` (after a warm-up)."""
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    repeats = max(2, min(max_repeats, int(budget_s / max(first, 1e-6))))
    best = first
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _threads() -> str:
    return os.environ.get("OMP_NUM_THREADS", "unset")


@pytest.mark.parametrize(("m", "d"), CASES, ids=[f"M{m}_d{d}" for m, d in CASES])
def test_bench_svgd_direction(benchmark: Any, m: int, d: int) -> None:
    rng = np.random.default_rng(m * 100 + d)
    x = rng.standard_normal((m, d))
    s = rng.standard_normal((m, d))

    fast = svgd_direction(x, s)
    t_fast = best_time(lambda: svgd_direction(x, s))
    info: dict[str, Any] = {"M": m, "d": d, "t_fast_ms": t_fast * 1e3, "OMP": _threads()}

    if m * m * d * 8 <= REFERENCE_MAX_BYTES:
        ref = dense_svgd_direction(x, s)
        np.testing.assert_allclose(fast, ref, rtol=1e-9, atol=1e-9)  # same result, same run
        t_ref = best_time(lambda: dense_svgd_direction(x, s), budget_s=2.0, max_repeats=5)
        info.update({"t_reference_ms": t_ref * 1e3, "speedup_vs_reference": t_ref / t_fast})
    else:
        info.update({"t_reference_ms": math.nan, "speedup_vs_reference": math.nan})

    xt, st = torch.from_numpy(x), torch.from_numpy(s)
    info["t_torch_cpu_ms"] = best_time(lambda: svgd_direction(xt, st)) * 1e3
    if torch.cuda.is_available():  # pragma: no cover - needs a GPU
        xc, sc = xt.cuda(), st.cuda()

        def on_gpu() -> None:
            svgd_direction(xc, sc)
            torch.cuda.synchronize()

        xf, sf = xc.float(), sc.float()

        def on_gpu_float32() -> None:
            svgd_direction(xf, sf)
            torch.cuda.synchronize()

        info["t_cuda_ms"] = best_time(on_gpu) * 1e3
        info["t_cuda_float32_ms"] = best_time(on_gpu_float32) * 1e3
    else:
        info["t_cuda_ms"] = math.nan

    benchmark.extra_info.update(info)
    ratio = info["speedup_vs_reference"]
    print(
        f"\n[svgd_direction M={m} d={d}] numpy {info['t_fast_ms']:.3f} ms | dense reference "
        f"{info['t_reference_ms']:.3f} ms (x{ratio:.1f}) | torch cpu "
        f"{info['t_torch_cpu_ms']:.3f} ms"
        f" | cuda {info['t_cuda_ms']:.3f} ms | OMP_NUM_THREADS={info['OMP']}"
    )
    benchmark.pedantic(svgd_direction, args=(x, s), rounds=3, iterations=1)
