"""Particle Gather diagnostics (``svnr_rl.gather_diagnostics``), used by study reports.  Where
the tests name no variant they mean the terminal one, the diagnostics' default."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from svnr_rl.checkpoint import load_checkpoint, save_checkpoint
from svnr_rl.gather_diagnostics import (
    DIAGNOSTICS_FILE,
    gather_diagnostics,
    random_policy_outcomes,
    soft_value_bound,
    steer_to_landmark_outcomes,
)
from svnr_rl.study.archive import KEPT_SUFFIXES
from svnr_rl.train import train
from tests.rl_helpers import tiny_config

TERMINAL = "particle-gather-terminal"


def test_gather_diagnostics_counts_the_arrivals_in_the_replay(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path, task=TERMINAL)
    res = train(cfg)
    ckpt = res.run_dir / "checkpoints" / "latest.pt"
    data = load_checkpoint(ckpt)
    replay = data["replay"]["data"]
    before = gather_diagnostics(res.run_dir)
    assert before.transitions == res.env_steps
    assert before.joint_arrivals + before.lone_arrivals == int(replay["terminated"].sum())
    # plant one joint and two lone arrivals where the untrained agents made none
    free = torch.nonzero(replay["reward"] == 0.0).flatten()[:3]
    replay["reward"][free] = torch.tensor([5.0, -2.0, -2.0], dtype=replay["reward"].dtype)
    save_checkpoint(ckpt, data)
    after = gather_diagnostics(res.run_dir)
    assert after.joint_arrivals == before.joint_arrivals + 1
    assert after.lone_arrivals == before.lone_arrivals + 2
    assert math.isfinite(after.q_mean)
    assert after.q_max >= after.q_mean
    assert after.alpha == cfg.alpha.value(res.updates)
    assert after.task == TERMINAL


def test_gather_diagnostics_counts_the_steps_of_the_iterated_variant(tmp_path: Path) -> None:
    res = train(tiny_config(tmp_path, task="particle-gather"))
    replay = load_checkpoint(res.run_dir / "checkpoints" / "latest.pt")["replay"]["data"]
    d = gather_diagnostics(res.run_dir)
    assert d.task == "particle-gather"
    # steps, not episodes: no transition of the iterated game terminates
    assert int(replay["terminated"].sum()) == 0
    assert d.joint_arrivals == int((replay["reward"] == 5.0).sum())
    assert d.lone_arrivals == int((replay["reward"] == -2.0).sum())
    assert d.lone_arrivals > 0  # the untrained agents wander into the 0.4 disc


def test_gather_diagnostics_outlive_the_checkpoint(tmp_path: Path) -> None:
    """A study archive keeps run folders without checkpoints: the diagnostics computed while
    the checkpoint was there are written beside the summary and read back without it."""
    res = train(tiny_config(tmp_path, task="particle-gather"))
    computed = gather_diagnostics(res.run_dir)
    saved = res.run_dir / DIAGNOSTICS_FILE
    assert saved.is_file()
    assert saved.name.endswith(KEPT_SUFFIXES)
    (res.run_dir / "checkpoints" / "latest.pt").unlink()
    assert gather_diagnostics(res.run_dir) == computed
    saved.write_text('{"transitions": 1}')
    with pytest.raises(ValueError, match="expected the keys"):
        gather_diagnostics(res.run_dir)
    saved.unlink()
    with pytest.raises(FileNotFoundError, match="neither a checkpoint"):
        gather_diagnostics(res.run_dir)


def test_gather_diagnostics_rejects_runs_of_other_tasks(tmp_path: Path) -> None:
    res = train(tiny_config(tmp_path, task="max-of-three"))
    with pytest.raises(ValueError, match="run_dir"):
        gather_diagnostics(res.run_dir)


def test_random_outcomes_take_the_arrival_radius() -> None:
    small = random_policy_outcomes(TERMINAL, num_envs=16, steps=200)
    large = random_policy_outcomes(TERMINAL, num_envs=16, steps=200, arrival_radius=0.2)
    # same seed and actions: a disc twice as wide is reached by more random walks
    assert large.get(-2.0, 0) + large.get(5.0, 0) > small.get(-2.0, 0) + small.get(5.0, 0)
    with pytest.raises(ValueError, match="arrival_radius"):
        random_policy_outcomes(TERMINAL, num_envs=2, steps=1, arrival_radius=0.0)


def test_steering_to_the_landmark_always_arrives_and_sometimes_together() -> None:
    steer = steer_to_landmark_outcomes(num_envs=16, steps=400)
    # from any start in [-1, 1]^2 the damped controller reaches the landmark within 25 steps
    assert 0.0 not in steer
    rand = random_policy_outcomes(TERMINAL, num_envs=16, steps=400)
    assert steer.get(5.0, 0) > rand.get(5.0, 0)
    assert steer.get(5.0, 0) + steer.get(-2.0, 0) == sum(steer.values())
    assert steer == steer_to_landmark_outcomes(num_envs=16, steps=400, task=TERMINAL)


def test_steering_on_the_iterated_variant_and_bad_tasks() -> None:
    steer = steer_to_landmark_outcomes(num_envs=16, steps=100, task="particle-gather")
    assert sum(steer.values()) == 16 * 4  # 25-step episodes, none terminates
    assert min(steer) > 0  # both particles end inside and stay: many +5 steps
    with pytest.raises(ValueError, match="task must be one of"):
        steer_to_landmark_outcomes(num_envs=2, steps=1, task="max-of-three")
    with pytest.raises(ValueError, match="task must be one of"):
        soft_value_bound(0.1, 0.99, task="max-of-three")


def test_soft_value_bound_of_the_iterated_variant_counts_every_step() -> None:
    assert soft_value_bound(0.0, 0.99, task="particle-gather") == pytest.approx(500.0)
    assert soft_value_bound(0.0, 0.99) == soft_value_bound(0.0, 0.99, task=TERMINAL) == 5.0
    bonus = 4 * math.log(2.0)
    assert soft_value_bound(1.0, 0.9, task="particle-gather") == pytest.approx((5 + bonus) * 10)
