"""The experiment report (``python -m svnr_rl experiment``) from stored run summaries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from svnr_rl.config import ConfigError
from svnr_rl.experiment import EXPERIMENTS, _report, run_experiments


def _summary(tmp: Path, name: str, seed: int, **kw: Any) -> dict[str, Any]:
    run_dir = tmp / "runs" / f"{name}-seed{seed}"
    run_dir.mkdir(parents=True)
    base: dict[str, Any] = {
        "seed": seed,
        "final_test_return_mean": 1.0 + seed,
        "steps_to_target": None,
        "target_return": None,
        "env_steps": 1000,
        "wall_time_s": 4.0,
        "device": "cpu",
        "run_dir": str(run_dir),
    }
    return {**base, **kw}


def test_report_gives_speed_device_and_no_target_for_mamujoco(tmp_path: Path) -> None:
    results = {
        "max-of-three-1.5": [
            _summary(tmp_path, "max-of-three-1.5", 0, target_return=9.5, steps_to_target=18000),
            _summary(tmp_path, "max-of-three-1.5", 1, target_return=9.5),
        ],
        "mamujoco-halfcheetah-2x3": [
            _summary(
                tmp_path,
                "mamujoco-halfcheetah-2x3",
                0,
                env_steps=100_000,
                wall_time_s=400.0,
                device="cuda",
            ),
        ],
    }
    out = tmp_path / "out"
    _report(out, results, seeds=2, command="python -m svnr_rl experiment")
    md = (out / "results.md").read_text()
    rows = {line.split(" | ")[0]: line for line in md.splitlines() if line.startswith("| ")}
    assert "| 18000, never | 4 | 250 | cpu |" in rows["| max-of-three-1.5"]
    assert "| 1.00 +- 0.00 | 1.00 | n/a | 400 | 250 | cuda |" in rows["| mamujoco-halfcheetah-2x3"]
    stored = json.loads((out / "results.json").read_text())
    assert stored["mamujoco-halfcheetah-2x3"]["env_steps_per_s"] == [250.0]
    assert stored["mamujoco-halfcheetah-2x3"]["device"] == ["cuda"]
    assert stored["max-of-three-1.5"]["mean"] == pytest.approx(1.5)


def test_mamujoco_experiment_is_opt_in_and_short() -> None:
    (exp,) = [e for e in EXPERIMENTS if e.name == "mamujoco-halfcheetah-2x3"]
    assert not exp.default
    cfg = exp.config(0, Path("runs"), "cpu", progress=False)
    assert cfg.env.task == "mamujoco-halfcheetah-2x3"
    assert cfg.train.total_env_steps == 100_000


def test_unknown_experiment_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown experiment 'nope'"):
        run_experiments(tmp_path / "out", tmp_path / "runs", only=["nope"])
