"""The SAC anchor command (svnr_rl.anchor) and the single-agent gymnasium tasks behind it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from svnr_rl.anchor import main, sb3_settings
from svnr_rl.config import apply_overrides, preset
from svnr_rl.envs.gym_single import BatchedGymnasium
from svnr_rl.envs.registry import make_batched

TINY = [
    "--set", "algo.hidden=[16]",
    "--set", "algo.critic_hidden=[16]",
    "--set", "algo.batch_size=32",
    "--set", "algo.learning_starts=100",
    "--set", "train.eval_interval=200",
    "--set", "train.eval_episodes=1",
    "--set", "env.eval_num_envs=1",
    "--set", "train.tensorboard=false",
]  # fmt: skip


def test_gym_pendulum_is_a_one_agent_task_with_scaled_actions() -> None:
    env = make_batched("gym-pendulum", 2)
    assert isinstance(env, BatchedGymnasium)
    spec = env.spec
    assert (spec.n_agents, spec.obs_dim, spec.state_dim, spec.action_dim) == (1, 3, 3, 1)
    assert spec.action_scale == 2.0
    assert spec.episode_limit == 200
    first = env.reset(7)
    assert first.obs.shape == (2, 1, 3)
    assert np.array_equal(first.obs[:, 0], first.state)
    again = make_batched("gym-pendulum", 2).reset(7)
    assert np.array_equal(first.obs, again.obs)  # seeded
    done_at = None
    for t in range(200):
        step = env.step(np.ones((2, 1, 1)))
        if step.truncated.any():
            done_at = t
            break
    assert done_at == 199  # gymnasium's TimeLimit, episode_return reported at the end
    assert (step.episode_return < 0).all()


def test_sb3_settings_come_from_the_backbones_config() -> None:
    cfg = preset("gym-halfcheetah")
    s = sb3_settings(cfg)
    assert s["learning_rate"] == 3e-4
    assert s["batch_size"] == 256
    assert s["learning_starts"] == 10_000
    assert s["ent_coef"] == "auto_1"
    assert s["policy_kwargs"] == {"net_arch": {"pi": [256, 256], "qf": [256, 256]}}
    assert (s["train_freq"], s["gradient_steps"]) == (1, 1)  # SAC's one update per step
    # the MaMuJoCo preset: SAC's one environment and one update per environment step
    mj = sb3_settings(preset("mamujoco-halfcheetah-2x3"))
    assert (mj["train_freq"], mj["gradient_steps"]) == (1, 1)
    # the former preset: 1 update per vector step of 4 environments = SB3 every 4 steps
    old = ["env.num_envs=4", "algo.update_to_data=0"]
    mj4 = sb3_settings(apply_overrides(preset("mamujoco-halfcheetah-2x3"), old))
    assert (mj4["train_freq"], mj4["gradient_steps"]) == (4, 1)
    utd = sb3_settings(apply_overrides(preset("gym-pendulum"), ["algo.update_to_data=1.5"]))
    assert (utd["train_freq"], utd["gradient_steps"]) == (2, 3)


def test_anchor_trains_sb3_and_masac_reuses_them_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("stable_baselines3")
    argv = ["--steps", "400", "--seeds", "1", "--runs", str(tmp_path / "runs")]
    argv += ["--out", str(tmp_path / "out"), *TINY]
    assert main(argv) == 0
    report = (tmp_path / "out" / "anchor.md").read_text()
    assert "| sb3-sac | 0 |" in report
    assert "| masac | 0 |" in report
    assert (tmp_path / "out" / "anchor.png").is_file()
    sb3 = tmp_path / "runs" / "gym-pendulum" / "sb3-sac" / "s0"
    assert json.loads((sb3 / "summary.json").read_text())["updates"] > 0
    assert len((sb3 / "metrics.csv").read_text().splitlines()) == 3  # header + 2 evaluations
    capsys.readouterr()
    assert main(argv) == 0  # a second call reuses both runs
    assert report == (tmp_path / "out" / "anchor.md").read_text()
    longer = [*argv[:1], "600", *argv[2:]]  # another budget in the same runs folder
    assert main(longer) == 2
    assert "SB3 run of other settings or budget" in capsys.readouterr().err
    hotter = [*argv, "--set", "algo.gamma=0.9"]  # another config for our run (SB3's too)
    assert main(hotter) == 2
    assert "other settings or budget" in capsys.readouterr().err
    import shutil

    shutil.rmtree(tmp_path / "runs" / "gym-pendulum" / "sb3-sac")  # SB3 reruns; ours is refused
    assert main(hotter) == 2
    assert "holds a run of another configuration (algo.gamma differ)" in capsys.readouterr().err


def test_anchor_on_two_workers_gives_the_runs_of_one(tmp_path: Path) -> None:
    """``--workers 2`` runs SB3 and our method in spawned processes at once; same seeds, same
    curves and the same table (wall-clock columns aside) as one run after another."""
    pytest.importorskip("stable_baselines3")
    base = ["--steps", "400", "--seeds", "1", "--methods", "masac,masac", *TINY]
    tables = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}"
        argv = [*base, "--workers", workers, "--runs", str(tmp_path / workers), "--out", str(out)]
        assert main(argv) == 0
        rows = [r for r in (out / "anchor.md").read_text().splitlines() if r.startswith("| ")]
        tables.append([r.split(" | ")[:-2] for r in rows])  # drop the speed columns
    assert tables[0] == tables[1]
    assert len(tables[0]) == 3  # header, sb3-sac, masac (the duplicate named once)
    for run in ("sb3-sac/s0", "masac-s0"):
        one, two = (tmp_path / w / "gym-pendulum" / run / "metrics.csv" for w in ("1", "2"))
        assert _returns(one) == _returns(two)  # our metrics.csv has wall-clock columns too


def _returns(path: Path) -> list[str]:
    with path.open(newline="") as fh:
        return [row["eval_return_mean"] for row in csv.DictReader(fh)]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--methods", "nope"], "--methods: unknown method"),
        (["--seeds", "0"], "--seeds: must be in 1..100; got 0"),
        (["--task", "max-of-three"], "invalid choice"),
        (["--set", "algo.batch_size=0"], "algo.batch_size"),
    ],
)
def test_anchor_refuses_bad_input(
    argv: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--runs", str(tmp_path / "r"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()
