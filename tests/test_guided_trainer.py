"""The guided start of Particle Gather (``svnr_rl.guided_trainer``) and its study trials."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from svnr_rl.__main__ import main
from svnr_rl.config import ConfigError
from svnr_rl.gather_diagnostics import soft_value_bound, steer_actions
from svnr_rl.guided_trainer import GuidedStartTrainer, guided_factory
from svnr_rl.study.spec import parse_study
from svnr_rl.study.trials import grid_trials, run_trial
from svnr_rl.train import Trainer, train
from tests.rl_helpers import tiny_config
from tests.study_helpers import TINY_SET


@pytest.mark.parametrize("task", ["particle-gather", "particle-gather-terminal"])
def test_behaviour_is_the_steering_heuristic_then_the_agent(tmp_path: Path, task: str) -> None:
    cfg = tiny_config(tmp_path, task=task)  # 8 envs, 192 env steps
    guided = 64
    trainer = GuidedStartTrainer(cfg, tmp_path / "run", guided)
    (tmp_path / "run").mkdir()
    trainer.run()
    data = trainer.replay.state_dict()["data"]
    assert isinstance(data, dict)
    state = data["state"].double().numpy()
    action = data["action"].double().numpy()
    steer = steer_actions(state)
    # transitions are added one vector step (8 environments) at a time, in order
    np.testing.assert_allclose(action[:guided], steer[:guided], rtol=0, atol=1e-6)
    assert not np.allclose(action[guided:], steer[guided:], atol=1e-3)
    assert trainer.env_steps == 192
    assert trainer.updates > 0


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="particle-gather"):
        GuidedStartTrainer(tiny_config(tmp_path), tmp_path / "x", 10)
    with pytest.raises(ConfigError, match="guided_env_steps must be >= 0"):
        GuidedStartTrainer(tiny_config(tmp_path, task="particle-gather"), tmp_path / "x", -1)


def test_soft_value_bound_is_the_reward_plus_the_entropy_bonus() -> None:
    assert soft_value_bound(0.0, 0.99) == 5.0
    # alpha D log 2 per step forever: 4 log 2 / (1 - 0.99) = 277.26 per unit of alpha
    assert soft_value_bound(1.0, 0.99) == pytest.approx(5.0 + 400.0 * math.log(2.0))


def test_a_guided_trial_resumes_guided_and_finishes_identical(tmp_path: Path) -> None:
    spec = parse_study(
        {
            "study": {"name": "g", "seeds": [0], "train_episodes": 8, "set": TINY_SET},
            "task": [{"key": "pg", "preset": "particle-gather", "guided_env_steps": 64}],
            "method": [{"key": "svnr", "method": "svnr"}],
        }
    )
    (whole,) = grid_trials(spec, tmp_path / "a")
    (broken,) = grid_trials(spec, tmp_path / "b")
    assert run_trial(whole).action == "trained"

    class Stop(Exception):
        pass

    def stop_after_the_guidance(trainer: Trainer) -> None:
        if trainer.env_steps > 96:
            raise Stop

    with pytest.raises(Stop):
        train(broken.config(), trainer_factory=guided_factory(64), on_step=stop_after_the_guidance)
    assert run_trial(broken).action == "resumed"
    a = json.loads((Path(whole.run_dir) / "summary.json").read_text())
    b = json.loads((Path(broken.run_dir) / "summary.json").read_text())
    assert a["final_test_return_mean"] == b["final_test_return_mean"]
    assert json.loads((Path(broken.run_dir) / "trial.json").read_text())["task"] == "pg"


def test_a_guided_trial_stopped_mid_guidance_resumes_guided_from_the_command_line(
    tmp_path: Path,
) -> None:
    """``python -m svnr_rl resume RUN`` of a study's guided trial (issue 33: it resumed
    unguided, since the guided start is not in the config; trial.json now records it)."""
    spec = parse_study(
        {
            "study": {"name": "g", "seeds": [0], "train_episodes": 8, "set": TINY_SET},
            "task": [{"key": "pg", "preset": "particle-gather", "guided_env_steps": 128}],
            "method": [{"key": "svnr", "method": "svnr"}],
        }
    )
    (whole,) = grid_trials(spec, tmp_path / "a")
    (broken,) = grid_trials(spec, tmp_path / "b")
    assert run_trial(whole).action == "trained"
    assert json.loads((Path(whole.run_dir) / "trial.json").read_text())["guided_env_steps"] == 128

    class Stop(Exception):
        pass

    def stop_mid_guidance(trainer: Trainer) -> None:
        if trainer.env_steps > 80:  # after the first checkpoint (64), before 128
            raise Stop

    with pytest.raises(Stop):
        run_trial(broken, on_step=stop_mid_guidance)
    assert main(["resume", broken.run_dir, "--no-progress"]) == 0
    # the behaviour policy's returns of every segment (guided or not) and the final test
    a, b = (Path(t.run_dir) / "metrics.csv" for t in (whole, broken))
    assert a.read_text() == b.read_text()
