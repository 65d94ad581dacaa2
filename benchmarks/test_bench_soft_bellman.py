"""Throughput of the soft Bellman core (run by ``nox -s bench``; no timed assertions).

Figures printed per case (``-s``) and stored in ``benchmark.extra_info``:

* ``soft_bellman_operator`` on dense games, 64 states x 3 agents x 6 actions (P: 7.1 MB) and
  256 states x 2 agents x 10 actions (P: 52 MB): time per application, effective GB/s over the
  bytes of ``P`` (the operator must read all of ``P`` once: it is a GEMV
  ``P.reshape(|S||U|, |S|) @ V`` plus a log-sum-exp over the small ``Q``), the speed-up over a
  straightforward reference that loops over states and joint actions, and the ratio against
  the memory-bandwidth bound measured in the same run: ``np.copyto`` of an array the size of
  ``P`` (it reads and writes ``bytes(P)``, so ``t_copy / 2`` is the time to stream ``P`` once at
  the measured bandwidth; ``t_op / (t_copy / 2)`` is the ratio to that bound, goal <= 2).
* exact ``soft_policy_evaluation`` at ``|S| |U| = 10^4`` state-joint-action pairs, dense and
  sparse (goal: under a second).

All timings are the minimum over repeats (``time.perf_counter``), seeds are fixed; the numbers
depend on the machine and on the BLAS threads (``OMP_NUM_THREADS``), which are printed.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from svnr_core.games import CooperativeGame, FloatArray, random_game
from svnr_core.soft_bellman import (
    boltzmann_policy,
    soft_bellman_operator,
    soft_policy_evaluation,
)

ALPHA = 0.5


def best_time(fn: Callable[[], object], repeats: int, number: int = 1) -> float:
    """Minimum over ``repeats`` of the mean time of ``number`` calls (seconds)."""
    fn()  # warm-up (caches, lazy CSR/density properties)
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def reference_soft_bellman(game: CooperativeGame, q: FloatArray, alpha: float) -> FloatArray:
    """Straightforward Eq. 6: loops over states for V, then over states and joint actions."""
    n_s, n_u = game.n_states, game.n_joint_actions
    q2 = q.reshape(n_s, n_u)
    p3 = game.P.reshape(n_s, n_u, n_s)
    r2 = game.R.reshape(n_s, n_u)
    v = np.empty(n_s)
    for s in range(n_s):
        m = q2[s].max()
        v[s] = m + alpha * math.log(float(np.exp((q2[s] - m) / alpha).sum()))
    out = np.empty((n_s, n_u))
    for s in range(n_s):
        for u in range(n_u):
            out[s, u] = r2[s, u] + game.gamma * float(p3[s, u] @ v)
    return out.reshape(game.joint_shape)


def _threads() -> str:
    return os.environ.get("OMP_NUM_THREADS", "unset")


OPERATOR_CASES = {
    "S64_3x6": (64, (6, 6, 6)),
    "S256_2x10": (256, (10, 10)),
}


@pytest.mark.parametrize("case", list(OPERATOR_CASES))
def test_bench_soft_bellman_operator(benchmark: Any, case: str) -> None:
    n_states, actions = OPERATOR_CASES[case]
    game = random_game(0, n_states, actions, 0.95)
    q = np.random.default_rng(1).normal(size=game.joint_shape)
    nbytes = game.P.nbytes

    # Correctness of the timed call against the reference (same run, same inputs).
    fast = soft_bellman_operator(game, q, ALPHA)
    ref = reference_soft_bellman(game, q, ALPHA)
    np.testing.assert_allclose(fast, ref, rtol=1e-12, atol=1e-12)

    t_op = best_time(lambda: soft_bellman_operator(game, q, ALPHA), repeats=30, number=5)
    dst = np.empty_like(game.P)
    t_copy = best_time(lambda: np.copyto(dst, game.P), repeats=30, number=5)
    t_ref = best_time(lambda: reference_soft_bellman(game, q, ALPHA), repeats=3)

    read_bound = t_copy / 2.0  # stream bytes(P) once at the copy's bandwidth
    info = {
        "P_MB": nbytes / 1e6,
        "t_op_ms": t_op * 1e3,
        "op_GBps_over_P": nbytes / t_op / 1e9,
        "t_copy_ms": t_copy * 1e3,
        "copy_GBps_read_plus_write": 2 * nbytes / t_copy / 1e9,
        "op_over_copy": t_op / t_copy,
        "op_over_read_bound": t_op / read_bound,
        "t_loop_reference_ms": t_ref * 1e3,
        "speedup_vs_loop_reference": t_ref / t_op,
        "OMP_NUM_THREADS": _threads(),
    }
    benchmark.extra_info.update(info)
    print(
        f"\n[soft_bellman_operator {case}] P {info['P_MB']:.1f} MB | op {info['t_op_ms']:.3f} ms"
        f" = {info['op_GBps_over_P']:.2f} GB/s over P | copy of P {info['t_copy_ms']:.3f} ms"
        f" ({info['copy_GBps_read_plus_write']:.2f} GB/s r+w) | op/copy {info['op_over_copy']:.2f}"
        f" | op/read-bound {info['op_over_read_bound']:.2f} | loop reference"
        f" {info['t_loop_reference_ms']:.1f} ms (x{info['speedup_vs_loop_reference']:.0f})"
        f" | OMP_NUM_THREADS={info['OMP_NUM_THREADS']}"
    )
    benchmark(soft_bellman_operator, game, q, ALPHA)


EVALUATION_CASES = {
    # name: (n_states, action_counts, sparsity, solver); every case has |S| |U| = 10^4.
    "S100_U100_dense": (100, (10, 10), 0.0, "dense"),
    "S1000_U10_dense": (1000, (10,), 0.0, "dense"),
    "S1000_U10_sparse1pct": (1000, (10,), 0.99, "sparse"),
    "S1000_U10_sparse1pct_densesolve": (1000, (10,), 0.99, "dense"),
}


@pytest.mark.parametrize("case", list(EVALUATION_CASES))
def test_bench_exact_soft_policy_evaluation(benchmark: Any, case: str) -> None:
    n_states, actions, sparsity, solver = EVALUATION_CASES[case]
    game = random_game(2, n_states, actions, 0.95, sparsity=sparsity)
    policy = boltzmann_policy(game.R, 1.0)

    def run() -> object:
        return soft_policy_evaluation(game, policy, ALPHA, solver=solver)  # type: ignore[arg-type]

    sol = soft_policy_evaluation(game, policy, ALPHA, solver=solver)  # type: ignore[arg-type]
    t = best_time(run, repeats=5)
    info = {
        "pairs": n_states * game.n_joint_actions,
        "density": game.transition_density,
        "solver": solver,
        "t_s": t,
        "residual": sol.residual,
        "OMP_NUM_THREADS": _threads(),
    }
    benchmark.extra_info.update(info)
    print(
        f"\n[exact soft_policy_evaluation {case}] |S||U| = {info['pairs']} | density"
        f" {game.transition_density:.3f} | {solver} | {t * 1e3:.1f} ms | residual"
        f" {sol.residual:.1e} | OMP_NUM_THREADS={info['OMP_NUM_THREADS']}"
    )
    benchmark.pedantic(run, rounds=3, iterations=1)


def chain_game(n_states: int, seed: int) -> CooperativeGame:
    """A random-walk chain: action ``u`` in {0, 1, 2} moves to ``s + u - 1`` (clipped); each row
    of ``P`` has one non-zero, so ``P_pi`` is tridiagonal (the sparse LU case)."""
    rng = np.random.default_rng(seed)
    p = np.zeros((n_states, 3, n_states))
    s = np.arange(n_states)
    for u in range(3):
        p[s, u, np.clip(s + u - 1, 0, n_states - 1)] = 1.0
    return CooperativeGame(p, rng.standard_normal((n_states, 3)), 0.95)


@pytest.mark.parametrize("solver", ["sparse", "dense"])
def test_bench_exact_soft_policy_evaluation_chain(benchmark: Any, solver: str) -> None:
    """|S||U| = 3333 x 3 = 9999 pairs, tridiagonal P_pi: sparse LU against dense LU."""
    game = chain_game(3333, 3)
    policy = boltzmann_policy(game.R, 1.0)

    def run() -> object:
        return soft_policy_evaluation(game, policy, ALPHA, solver=solver)  # type: ignore[arg-type]

    sol = soft_policy_evaluation(game, policy, ALPHA, solver=solver)  # type: ignore[arg-type]
    t = best_time(run, repeats=3)
    benchmark.extra_info.update(
        {"pairs": 9999, "solver": solver, "t_s": t, "residual": sol.residual}
    )
    print(
        f"\n[exact soft_policy_evaluation chain S3333_U3 {solver}] |S||U| = 9999 |"
        f" {t * 1e3:.1f} ms | residual {sol.residual:.1e} | OMP_NUM_THREADS={_threads()}"
    )
    benchmark.pedantic(run, rounds=3, iterations=1)
