"""The guided-start diagnostic of Particle Gather (``svnr_rl.guided_start``)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from svnr_rl.config import ConfigError
from svnr_rl.experiment import steer_actions
from svnr_rl.guided_start import (
    GuidedStartTrainer,
    completed_runs,
    guided_config,
    main,
    soft_value_bound,
)
from tests.rl_helpers import TINY, tiny_config


def test_behaviour_is_the_steering_heuristic_then_the_agent(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path, task="particle-gather")  # 8 envs, 192 env steps
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


def test_guided_config_takes_table_method_names(tmp_path: Path) -> None:
    cfg = guided_config("svnr-m", 3, tmp_path, 20_000)
    assert (cfg.algo.method, cfg.algo.topology, cfg.train.seed) == ("svnr", "empty", 3)
    assert cfg.train.run_name == "svnr-m-guided20000-seed3"
    assert cfg.env.task == "particle-gather"


def test_bad_input_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--methods", "svnr,nope", "--runs", str(tmp_path / "r")]) == 2
    assert "unknown method 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
    assert main(["--seeds", "0", "--runs", str(tmp_path / "r")]) == 2
    with pytest.raises(ConfigError, match="particle-gather"):
        GuidedStartTrainer(tiny_config(tmp_path), tmp_path / "x", 10)
    with pytest.raises(ConfigError, match="guided-steps"):
        GuidedStartTrainer(tiny_config(tmp_path, task="particle-gather"), tmp_path / "x", -1)


def test_a_variant_needs_a_tag_and_names_the_run(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--tag"):
        guided_config("svnr", 0, tmp_path, 100, ['algo.value_proposal="policy"'])
    cfg = guided_config("svnr", 0, tmp_path, 100, ['algo.value_proposal="policy"'], "eq11")
    assert cfg.algo.value_proposal == "policy"
    assert cfg.train.run_name == "svnr-eq11-guided100-seed0"


def test_command_trains_reuses_and_reports_every_run(tmp_path: Path) -> None:
    runs, out = tmp_path / "runs", tmp_path / "guided.md"
    tiny = [w for item in TINY for w in ("--set", item)]
    argv = [*tiny, "--tag", "tiny", "--guided-steps", "64", "--runs", str(runs), "--out", str(out)]
    assert main(["--methods", "svnr", *argv]) == 0
    first = (runs / "svnr-tiny-guided64-seed0" / "summary.json").read_text()
    assert main(["--methods", "svnr,maddpg", *argv]) == 0  # svnr reused, maddpg trained
    assert (runs / "svnr-tiny-guided64-seed0" / "summary.json").read_text() == first
    results = completed_runs(runs)
    assert [(r.method, r.seed, r.guided_env_steps) for r in results] == [
        ("maddpg", 0, 64),
        ("svnr", 0, 64),
    ]
    report = out.read_text()
    assert report.count("python -m svnr_rl.guided_start --methods") == 2  # both commands logged
    for r in results:
        assert r.diagnostics.transitions == 192
        assert f"| {r.method} | {r.variant} | 0 | 64 | {r.final_return:.2f} |" in report


def test_soft_value_bound_is_the_reward_plus_the_entropy_bonus() -> None:
    assert soft_value_bound(0.0, 0.99) == 5.0
    # alpha D log 2 per step forever: 4 log 2 / (1 - 0.99) = 277.26 per unit of alpha
    assert soft_value_bound(1.0, 0.99) == pytest.approx(5.0 + 400.0 * math.log(2.0))
