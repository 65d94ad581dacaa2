"""Training cost: time per update, SVNR vs a MADDPG-style update, and whole training runs.

Run with ``nox -s bench`` (or ``pytest benchmarks/test_bench_training.py --benchmark-only -s``).
Every ratio is measured against a reference computed in the same process, same batch, same
networks; nothing here asserts a time.

* ``test_update_ratio_*`` -- the median wall clock of one SVNR update (critic step on Eq. 11 +
  the Stein policy step of Eq. 9/10 + targets) over that of one MADDPG-style update (critic
  step + deterministic policy gradient + targets) on the same replay batch and the same
  actor/critic sizes, interleaved so both see the same machine load.  Paper App. H.5.4: SVNR is
  about 2.2x MADDPG in wall clock; our goal is at most 2x.
* ``test_bench_max_of_three_run`` -- one default ``python -m svnr_rl train`` (Max of Three,
  ``s2 = 1.5``): wall clock and the environment steps at which the test return first reaches 9.5.
* ``test_bench_particle_gather_throughput`` -- environment steps per second of the Particle
  Gather preset over a short run, and the implied time for 5000 episodes (125k steps).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from benchmarks.batches import replay_batch
from svnr_rl.agents import Agent, make_agent
from svnr_rl.config import AlgoConfig, apply_overrides, preset
from svnr_rl.envs.base import TaskSpec
from svnr_rl.replay import Batch
from svnr_rl.train import train

CPU = torch.device("cpu")
GAME = TaskSpec(
    name="max-of-three", n_agents=3, obs_dim=1, state_dim=1, action_dim=1, episode_limit=1
)
CHEETAH = TaskSpec(
    name="halfcheetah-2x3", n_agents=2, obs_dim=12, state_dim=17, action_dim=3, episode_limit=1000
)


def _agents(spec: TaskSpec, algo: AlgoConfig) -> tuple[Agent, Agent]:
    from dataclasses import replace

    svnr = make_agent(spec, algo, device=CPU, dtype=torch.float32, seed=0)
    maddpg = make_agent(
        spec, replace(algo, method="maddpg"), device=CPU, dtype=torch.float32, seed=0
    )
    return svnr, maddpg


def _ratio(svnr: Agent, maddpg: Agent, batch: Batch, rounds: int = 30) -> dict[str, float]:
    for _ in range(5):  # warm-up
        svnr.update(batch, 0.5)
        maddpg.update(batch, 0.5)
    ts, tm = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        svnr.update(batch, 0.5)
        t1 = time.perf_counter()
        maddpg.update(batch, 0.5)
        t2 = time.perf_counter()
        ts.append(t1 - t0)
        tm.append(t2 - t1)
    s, m = statistics.median(ts), statistics.median(tm)
    return {"svnr_ms": 1e3 * s, "maddpg_ms": 1e3 * m, "ratio": s / m}


CASES: dict[str, tuple[TaskSpec, AlgoConfig, float]] = {
    # the Max of Three defaults: batch 128; Stein update on 4 states x M = 32 particles, i.e. the
    # critic sees as many (s, u) rows in the policy step as in MADDPG's
    "max-of-three-default": (GAME, preset("max-of-three").algo, 1.0),
    # the same, but M = 32 particles for *every* state of the batch (128 x 32 = 4096 rows)
    "max-of-three-all-states": (
        GAME,
        apply_overrides(preset("max-of-three"), ["algo.policy_batch_size=128"]).algo,
        1.0,
    ),
    # the MaMuJoCo preset sizes (256-unit nets, batch 256, 16 states x M = 16), non-terminal
    # transitions so that the Eq. 11 soft value (16 uniform samples per next state) is computed
    "halfcheetah-2x3-preset": (CHEETAH, preset("mamujoco-halfcheetah-2x3").algo, 0.0),
    # the same with 8 importance samples for the soft value (the Eq. 11 target dominates)
    "halfcheetah-2x3-8-value-samples": (
        CHEETAH,
        apply_overrides(preset("mamujoco-halfcheetah-2x3"), ["algo.value_samples=8"]).algo,
        0.0,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_update_ratio(case: str, benchmark: Any) -> None:
    spec, algo, terminated = CASES[case]
    torch.set_num_threads(1)
    svnr, maddpg = _agents(spec, algo)
    batch = replay_batch(spec, algo.batch_size, terminated)
    r = _ratio(svnr, maddpg, batch)
    print(
        f"\n[{case}] one update (1 thread): SVNR {r['svnr_ms']:.2f} ms, MADDPG-style "
        f"{r['maddpg_ms']:.2f} ms, ratio {r['ratio']:.2f}x (paper ~2.2x, goal <= 2x)"
    )
    benchmark(svnr.update, batch, 0.5)


def test_bench_max_of_three_run(tmp_path: Path, benchmark: Any) -> None:
    cfg = apply_overrides(
        preset("max-of-three"),
        [f'train.out_dir="{tmp_path}"', "train.progress=false", "train.tensorboard=false"],
    )
    out: dict[str, Any] = {}

    def run() -> None:
        t0 = time.perf_counter()
        res = train(cfg)
        out.update(wall=time.perf_counter() - t0, res=res)

    benchmark.pedantic(run, rounds=1, iterations=1)
    res = out["res"]
    print(
        f"\n[max-of-three s2=1.5 default run] {out['wall']:.1f} s wall clock (incl. evaluations "
        f"and plots), final test return {res.final.mean:.3f}, first >= 9.5 at "
        f"{res.steps_to_target} env steps"
    )


def test_bench_particle_gather_throughput(tmp_path: Path, benchmark: Any) -> None:
    steps = 4000
    cfg = apply_overrides(
        preset("particle-gather"),
        [
            f'train.out_dir="{tmp_path}"',
            "train.progress=false",
            "train.tensorboard=false",
            f"train.total_env_steps={steps}",
            "train.eval_interval=4000",
            "train.eval_episodes=8",
            "algo.learning_starts=256",
        ],
    )
    out: dict[str, float] = {}

    def run() -> None:
        t0 = time.perf_counter()
        train(cfg)
        out["wall"] = time.perf_counter() - t0

    benchmark.pedantic(run, rounds=1, iterations=1)
    rate = steps / out["wall"]
    print(
        f"\n[particle-gather preset] {rate:.0f} env steps/s over {steps} steps -> 5000 episodes "
        f"(125k steps) would take ~{125_000 / rate / 60:.1f} min"
    )
