"""Environment steps per second at one update per environment step, against SB3's SAC.

The backbone issue asks for the training speed of this backbone reported beside the reference
users trust, measured in the same run.  Each case trains from scratch in this process (one
thread), one environment, one update per environment step (``algo.update_to_data=1``,
SB3's ``train_freq=1, gradient_steps=1``), learning from step ``WARM``; the figure is the
number of environment steps per second over the ``WINDOW`` steps after ``WARM``, taken from
per-step timestamps, so set-up, the replay warm-up and evaluations are left out.  SB3's SAC
runs first, on single-agent ``HalfCheetah-v5`` with the hyperparameters the anchor command
derives from our preset (:func:`svnr_rl.anchor.sb3_settings`); every other case prints its
ratio to it.  Our cases: MASAC (SAC's update, decentralized actors) and SVNR, each on the
one-agent ``gym-halfcheetah`` (the same environment as SB3's) and on MaMuJoCo HalfCheetah 2x3,
SVNR both with its preset policy step (16 states x M = 16 particles) and with SAC's 256 states.

Run with ``nox -s bench -- -k throughput`` (about 3 minutes); nothing asserts a time, the
printed table is the result.  Skipped without stable-baselines3 (the ``anchors`` extra).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import torch

from svnr_rl.config import Config, apply_overrides, preset

WARM = 512
WINDOW = 200
STEPS = WARM + WINDOW

#: case -> (task, overrides on the task's preset); "sb3-sac" is the reference and runs first
CASES: dict[str, tuple[str, list[str]]] = {
    "sb3-sac": ("gym-halfcheetah", []),
    "masac gym-halfcheetah": ("gym-halfcheetah", ['algo.method="masac"']),
    "svnr gym-halfcheetah": ("gym-halfcheetah", ['algo.method="svnr"']),
    "masac halfcheetah-2x3": ("mamujoco-halfcheetah-2x3", ['algo.method="masac"']),
    "svnr halfcheetah-2x3": ("mamujoco-halfcheetah-2x3", ['algo.method="svnr"']),
    "svnr halfcheetah-2x3 256 states": (
        "mamujoco-halfcheetah-2x3",
        ['algo.method="svnr"', "algo.policy_batch_size=256"],
    ),
}

#: env steps/s per case, filled in order so that every case can print its ratio to SB3's
RATES: dict[str, float] = {}


def _config(task: str, extra: list[str], out: Path) -> Config:
    return apply_overrides(
        preset(task),
        [
            "env.num_envs=1",
            "env.eval_num_envs=1",
            "algo.update_to_data=1",
            f"algo.learning_starts={WARM}",
            "algo.batch_size=256",
            f"train.total_env_steps={STEPS}",
            f"train.eval_interval={STEPS}",
            "train.eval_episodes=1",
            "train.progress=false",
            "train.tensorboard=false",
            "train.threads=1",
            f'train.out_dir="{out}"',
            *extra,
        ],
    )


def _window_rate(stamps: list[float]) -> float:
    """Environment steps per second between step ``WARM`` and step ``WARM + WINDOW``."""
    return WINDOW / (stamps[WARM + WINDOW - 1] - stamps[WARM - 1])


def _sb3_rate(cfg: Config) -> float:
    from stable_baselines3 import SAC
    from stable_baselines3.common.callbacks import BaseCallback

    from svnr_rl.anchor import sb3_settings
    from svnr_rl.envs.gym_single import make_gym

    stamps: list[float] = []

    class _Stamp(BaseCallback):
        def _on_step(self) -> bool:
            stamps.append(time.perf_counter())
            return True

    torch.set_num_threads(1)
    model = SAC("MlpPolicy", make_gym("gym-halfcheetah"), seed=0, device="cpu", **sb3_settings(cfg))
    model.learn(total_timesteps=STEPS, callback=_Stamp())
    return _window_rate(stamps)


def _our_rate(cfg: Config, run_dir: Path) -> float:
    from svnr_rl.loop import Trainer

    stamps: list[float] = []
    trainer = Trainer(cfg, run_dir)
    trainer.run(on_step=lambda _t: stamps.append(time.perf_counter()))
    assert trainer.updates == STEPS - WARM + 1  # one update per step from the WARM-th on
    return _window_rate(stamps)


@pytest.mark.parametrize("case", list(CASES))
def test_env_steps_per_second(case: str, tmp_path: Path, benchmark: Any) -> None:
    pytest.importorskip("stable_baselines3")
    task, extra = CASES[case]
    cfg = _config(task, extra, tmp_path)
    if case == "sb3-sac":
        rate = benchmark.pedantic(_sb3_rate, args=(cfg,), rounds=1, iterations=1)
    else:
        if "sb3-sac" not in RATES:
            pytest.skip("the SB3 reference did not run (select it with -k too)")
        run_dir = tmp_path / "run"
        run_dir.mkdir()
        rate = benchmark.pedantic(_our_rate, args=(cfg, run_dir), rounds=1, iterations=1)
    RATES[case] = rate
    ratio = rate / RATES["sb3-sac"]
    benchmark.extra_info.update(env_steps_per_s=rate, ratio_to_sb3_sac=ratio)
    print(
        f"\n[{case}] {rate:7.1f} env steps/s at 1 update per step "
        f"({1e3 / rate:6.1f} ms per step), {ratio:5.2f}x SB3 SAC's"
    )
