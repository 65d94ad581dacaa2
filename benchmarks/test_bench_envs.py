"""Environment throughput: every task single and batched, with ratios measured in the same run.

Run with ``nox -s bench -- -k envs`` (or ``pytest benchmarks/test_bench_envs.py --benchmark-only
-s``).  Each test times the candidate with pytest-benchmark and a reference with a plain timer in
the same process, then prints the ratio against the goal of issue 5:

* batched differential game: at least ``1e7`` agent-steps per second;
* batched Particle Gather at batch 1024: at least 100x the steps per second of the mpe2
  reference ``ParallelEnv``;
* MaMuJoCo adapter: overhead under 15% over the raw gymnasium-robotics environments (the same
  simulator objects stepped through MaMuJoCo's own ``ParallelEnv.step`` plus ``state()``, which a
  collector needs for the critic; the overhead without ``state()`` is printed as well).

MaMuJoCo at batch 1024 needs about 2.3 GB and a minute to build, so it runs only with
``SVNR_BENCH_MAMUJOCO_1024=1``.  Nothing here asserts a time.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from svnr_rl.envs import make_batched, make_parallel
from svnr_rl.envs.mamujoco import BatchedMaMuJoCo
from svnr_rl.envs.particle_gather import AGENT_NAMES, ParticleGatherParallelEnv
from svnr_rl.envs.registry import MAMUJOCO_TASKS

BATCHES = (1, 64, 1024)
MAMUJOCO_BATCHES = (1, 64, 1024) if os.environ.get("SVNR_BENCH_MAMUJOCO_1024") else (1, 64)


def _calls_per_second(fn: Callable[[], Any], min_seconds: float = 1.0) -> float:
    """Plain-timer reference: calls of ``fn`` per second over at least ``min_seconds``."""
    fn()  # warm-up
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < min_seconds:
        fn()
        n += 1
    return n / elapsed


def _mean_seconds(benchmark: Any) -> float:
    return float(benchmark.stats.stats.mean)


def _reference_particle_gather() -> float:
    """Steps per second of the mpe2 reference form (one environment, resets included)."""
    env = ParticleGatherParallelEnv()
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    acts = {a: rng.uniform(-1, 1, size=1) for a in AGENT_NAMES}

    def step() -> None:
        env.step(acts)
        if not env.agents:
            env.reset()

    return _calls_per_second(step)


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("task", ["max-of-three", "two-modalities"])
def test_bench_differential(benchmark: Any, task: str, batch: int) -> None:
    env = make_batched(task, batch)
    env.reset(0)
    actions = np.random.default_rng(0).uniform(-1, 1, size=(batch, env.spec.n_agents, 1))
    benchmark(env.step, actions)
    agent_steps = batch * env.spec.n_agents / _mean_seconds(benchmark)
    par = make_parallel(task)
    par.reset(seed=0)
    acts = {a: np.array([1.0]) for a in par.possible_agents}

    def par_step() -> None:
        par.step(acts)
        par.reset()

    ref = _calls_per_second(par_step) * env.spec.n_agents
    print(
        f"\n[{task} B={batch}] {agent_steps:.3g} agent-steps/s "
        f"({agent_steps / 1e7:.2f}x the 1e7 goal); PettingZoo form {ref:.3g} agent-steps/s "
        f"(batched/PettingZoo = {agent_steps / ref:.1f}x)"
    )


def test_bench_particle_gather_reference(benchmark: Any) -> None:
    env = ParticleGatherParallelEnv()
    env.reset(seed=0)
    acts = {a: np.array([0.3]) for a in AGENT_NAMES}

    def step() -> None:
        env.step(acts)
        if not env.agents:
            env.reset()

    benchmark(step)
    print(f"\n[particle-gather reference] {1 / _mean_seconds(benchmark):.3g} steps/s")


@pytest.mark.parametrize("batch", BATCHES)
def test_bench_particle_gather_batched(benchmark: Any, batch: int) -> None:
    env = make_batched("particle-gather", batch)
    env.reset(0)
    actions = np.random.default_rng(0).uniform(-1, 1, size=(batch, 4, 1))
    benchmark(env.step, actions)
    rate = batch / _mean_seconds(benchmark)
    ref = _reference_particle_gather()
    print(
        f"\n[particle-gather B={batch}] {rate:.3g} env-steps/s; mpe2 reference {ref:.3g} "
        f"steps/s; ratio {rate / ref:.0f}x (goal at B=1024: >= 100x)"
    )


def _raw_loop(env: BatchedMaMuJoCo, actions: np.ndarray[Any, Any], with_state: bool) -> Any:
    """The same simulators stepped through MaMuJoCo's own ParallelEnv API (dict actions)."""
    names = env.agent_names
    per_env = [{a: actions[b, i] for i, a in enumerate(names)} for b in range(env.num_envs)]

    def step() -> None:
        for raw, acts in zip(env.envs, per_env, strict=True):
            _, _, term, trunc, _ = raw.step(acts)
            if with_state:
                raw.state()
            if term[names[0]] or trunc[names[0]]:
                raw.reset()

    return step


@pytest.mark.parametrize("batch", MAMUJOCO_BATCHES)
@pytest.mark.parametrize("task", list(MAMUJOCO_TASKS))
def test_bench_mamujoco(benchmark: Any, task: str, batch: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        env = make_batched(task, batch)
    assert isinstance(env, BatchedMaMuJoCo)
    env.reset(0)
    actions = np.random.default_rng(0).uniform(-1, 1, size=(batch, 2, env.spec.action_dim))
    seconds = 1.0 if batch < 1024 else 5.0
    benchmark.pedantic(env.step, args=(actions,), rounds=max(10, 2000 // batch), iterations=1)
    rate = batch / _mean_seconds(benchmark)
    raw_state = batch * _calls_per_second(_raw_loop(env, actions, True), seconds)
    raw_bare = batch * _calls_per_second(_raw_loop(env, actions, False), seconds)
    print(
        f"\n[{task} B={batch}] adapter {rate:.3g} env-steps/s; raw step+state {raw_state:.3g} "
        f"(overhead {raw_state / rate - 1:+.1%}); raw step only {raw_bare:.3g} "
        f"(overhead {raw_bare / rate - 1:+.1%}); goal < +15%"
    )
    env.close()
