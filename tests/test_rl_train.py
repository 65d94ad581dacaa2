"""Training loop: determinism, exact resume, run folder contents, CLI and bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from svnr_rl.__main__ import main
from svnr_rl.checkpoint import load_checkpoint
from svnr_rl.config import METHODS
from svnr_rl.train import Trainer, resume, train
from tests.rl_helpers import tiny_config

ROOT = Path(__file__).resolve().parents[1]


def _params(run_dir: Path) -> dict[str, torch.Tensor]:
    agent = load_checkpoint(run_dir / "checkpoints" / "latest.pt")["agent"]
    out = {}
    for part in ("actors", "critic", "critic_target"):
        out.update({f"{part}.{k}": v for k, v in agent[part].items()})
    return out


def test_two_runs_with_the_same_seed_are_identical(tmp_path: Path) -> None:
    a = train(tiny_config(tmp_path, 'train.run_name="a"'))
    b = train(tiny_config(tmp_path, 'train.run_name="b"'))
    assert (a.run_dir / "metrics.csv").read_text() == (b.run_dir / "metrics.csv").read_text()
    pa, pb = _params(a.run_dir), _params(b.run_dir)
    assert all(torch.equal(pa[k], pb[k]) for k in pa)
    c = train(tiny_config(tmp_path, 'train.run_name="c"', "train.seed=1"))
    assert (c.run_dir / "metrics.csv").read_text() != (a.run_dir / "metrics.csv").read_text()


@pytest.mark.parametrize(
    "extra",
    [
        (),
        # a fractional update-to-data ratio (its carried remainder is checkpointed) on the
        # environment-step clock of the alpha schedule, and MASAC's learned temperature
        ("algo.update_to_data=0.3", 'alpha.clock="env_steps"', 'algo.method="masac"'),
        # the fork's staged F.2 schedule with both later stages inside the run, one of them
        # after the interruption (issue 31's SVNR at ACCF's settings)
        (
            'alpha.schedule="staged-f2"',
            'alpha.clock="env_steps"',
            "alpha.alpha_end=10",
            "alpha.second_start=64",
            "alpha.third_start=120",
        ),
    ],
    ids=["default", "utd-0.3-env-clock-masac", "staged-f2"],
)
def test_interrupted_and_resumed_run_equals_uninterrupted(
    tmp_path: Path, extra: tuple[str, ...]
) -> None:
    full = train(tiny_config(tmp_path, 'train.run_name="full"', *extra))

    def interrupt(tr: Trainer) -> None:
        if tr.vec_steps == 13:  # in the middle of the second segment (8 vector steps each)
            os.kill(os.getpid(), signal.SIGTERM)  # a real signal, as from `kill`

    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(tmp_path, 'train.run_name="cut"', *extra), on_step=interrupt)
    cut = tmp_path / "cut"
    assert json.loads((cut / "status.json").read_text())["state"] == "interrupted"
    assert load_checkpoint(cut / "checkpoints" / "latest.pt")["counters"]["segment"] == 1
    resumed = resume(cut)
    assert (resumed.run_dir / "metrics.csv").read_text() == (
        full.run_dir / "metrics.csv"
    ).read_text()
    pf, pr = _params(full.run_dir), _params(cut)
    assert all(torch.equal(pf[k], pr[k]) for k in pf)
    assert resumed.final == full.final
    assert json.loads((cut / "status.json").read_text())["state"] == "completed"


def test_an_interruption_before_the_first_checkpoint_says_so_and_resume_starts_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupt(tr: Trainer) -> None:
        if tr.vec_steps == 3:  # before the first checkpoint (8 vector steps per segment)
            os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(tmp_path, 'train.run_name="early"'), on_step=interrupt)
    err = capsys.readouterr().err
    assert "no checkpoint had been written yet" in err
    assert "train.eval_interval = 64" in err
    assert "is kept" not in err
    full = train(tiny_config(tmp_path, 'train.run_name="full"'))
    resumed = resume(tmp_path / "early")
    assert "does not exist: training starts from step 0" in capsys.readouterr().err
    assert resumed.final == full.final

    def later(tr: Trainer) -> None:
        if tr.vec_steps == 13:
            os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(tmp_path, 'train.run_name="late"'), on_step=later)
    assert "the last checkpoint (at 64 environment steps) is kept" in capsys.readouterr().err


def test_a_run_anneals_on_the_staged_schedule_of_its_environment_steps(tmp_path: Path) -> None:
    # the fork's three stages on the env-step clock: F.2 (510 -> 10), alpha'/10 from step 64,
    # 0.3 from step 120; each segment reports the temperature of its last update (at 64, 128
    # and 192 environment steps), so a schedule read on the update clock would differ
    res = train(
        tiny_config(
            tmp_path,
            'train.run_name="staged"',
            'alpha.schedule="staged-f2"',
            'alpha.clock="env_steps"',
            "alpha.alpha_end=10",
            "alpha.second_start=64",
            "alpha.third_start=120",
        )
    )
    rows = (res.run_dir / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    alphas = [float(r.split(",")[header.index("alpha")]) for r in rows[1:]]
    assert alphas == [pytest.approx(1.0), pytest.approx(0.3), pytest.approx(0.3)]


@pytest.mark.parametrize("method", METHODS)
def test_policy_batch_size_0_means_batch_over_particles_for_every_method(
    tmp_path: Path, method: str
) -> None:
    # documented edge value: 0 is ``batch_size // num_particles`` states per policy step (32 // 4);
    # MASQL read the raw 0 and died on an empty batch (issue 33)
    res = train(tiny_config(tmp_path, f'algo.method="{method}"', "algo.policy_batch_size=0"))
    assert torch.isfinite(torch.tensor(res.final.mean))


def test_run_folder_contents(tmp_path: Path) -> None:
    res = train(tiny_config(tmp_path, 'train.run_name="r"', "train.tensorboard=true"))
    d = res.run_dir
    for name in (
        "config.json",
        "metrics.csv",
        "summary.json",
        "status.json",
        "checkpoints/latest.pt",
        "checkpoints/best.pt",
        "plots/learning_curve.png",
        "plots/joint_actions.png",
        "plots/converged_samples.png",
    ):
        assert (d / name).is_file(), name
    assert any((d / "tb").glob("events.out.tfevents.*"))
    summary = json.loads((d / "summary.json").read_text())
    assert summary["optimum"] == 10.0
    assert summary["gap_to_optimum"] == pytest.approx(10.0 - summary["final_test_return_mean"])
    lines = (d / "metrics.csv").read_text().splitlines()
    assert len(lines) == 1 + 3  # header + one row per segment
    assert not list(d.rglob("*.tmp"))  # atomic writes leave no temporaries


def test_gamma_path_and_twin_critics_on_particle_gather(tmp_path: Path) -> None:
    cfg = tiny_config(
        tmp_path,
        'train.dtype="float64"',
        "algo.twin_critic=true",
        "train.eval_episodes=2",
        "algo.topology=random-peers",
        task="particle-gather",
    )
    res = train(cfg)
    assert res.env_steps == 192
    assert torch.isfinite(torch.tensor(res.final.mean))


def test_cli_train_evaluate_and_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "train",
        "--out",
        str(tmp_path),
        "--steps",
        "128",
        "--no-progress",
        "--set",
        "train.eval_interval=64",
        "--set",
        "train.eval_episodes=8",
        "--set",
        "algo.batch_size=32",
        "--set",
        "algo.learning_starts=32",
        "--set",
        "algo.num_particles=4",
        "--set",
        "algo.policy_batch_size=4",
        "--set",
        "algo.hidden=16",
        "--set",
        "train.tensorboard=false",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    for text in ("final test return", "gap to optimum", "results in"):
        assert text in out
    run = next(p for p in tmp_path.iterdir() if p.is_dir())
    assert main(["evaluate", str(run), "--episodes", "10"]) == 0
    assert "+-" in capsys.readouterr().out
    before = sorted(tmp_path.iterdir())
    for bad in (
        ["train", "--set", "algo.policy_lr=-1"],
        ["train", "--set", "alpha.alpha_end=0"],
        ["train", "--set", 'alpha.schedule="staged-f2"', "--set", "alpha.third_start=10"],
        ["train", "--set", "algo.num_particles=1"],
        ["train", "--task", "nope"],
        ["train", "--set", "algo.nope=1"],
        ["evaluate", str(tmp_path / "missing.pt")],
        ["resume", str(tmp_path / "nothing")],
    ):
        assert main([*bad, "--out", str(tmp_path)] if bad[0] == "train" else bad) == 2, bad
        assert "error:" in capsys.readouterr().err
    assert sorted(tmp_path.iterdir()) == before  # no run folder created for bad input


def test_cli_method_and_print_config_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "--method", "masql", "--s2", "2.0", "--out", str(tmp_path), "--print-config"]
    assert main(argv) == 0
    cfg = json.loads(capsys.readouterr().out)
    assert (cfg["algo"]["method"], cfg["env"]["s2"]) == ("masql", 2.0)
    assert list(tmp_path.iterdir()) == []  # no run folder
    assert main(["train", "--method", "nope", "--out", str(tmp_path)]) == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_cli_corrupted_checkpoint_exits_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "latest.pt"
    bad.write_bytes(b"\x00not a checkpoint")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "svnr_rl", "evaluate", str(bad)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert proc.returncode == 2
    assert "corrupted" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_mamujoco_samplers_see_local_observations_critic_the_global_state(tmp_path: Path) -> None:
    """App. M.1: on HalfCheetah 2x3 each sampler's input is its 12-d local observation (plus
    noise); the critic's is the 17-d global state plus the 6-d joint action."""
    cfg = tiny_config(
        tmp_path,
        "env.num_envs=2",
        "env.eval_num_envs=1",
        "train.eval_episodes=1",
        "train.total_env_steps=32",
        "train.eval_interval=32",
        "algo.learning_starts=16",
        "algo.batch_size=16",
        task="mamujoco-halfcheetah-2x3",
    )
    res = train(cfg)
    agent = load_checkpoint(res.run_dir / "checkpoints" / "latest.pt")["agent"]
    noise_in = 2 * 3  # N agents x noise_dim (= action_dim 3)
    assert agent["actors"]["0.net.0.weight"].shape[1] == 12 + noise_in
    assert agent["critic"]["heads.0.0.weight"].shape[1] == 17 + 6


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_cuda_without_gpu_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["train", "--device", "cuda", "--out", str(tmp_path)]) == 2
    assert "no CUDA device" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("ratio", "envs", "expected"),
    [(1.0, 8, [8] * 5), (0.25, 8, [2] * 5), (0.3, 4, [1, 1, 1, 1, 2]), (2.0, 1, [2] * 5)],
)
def test_update_to_data_counts_updates_per_environment_step(
    tmp_path: Path, ratio: float, envs: int, expected: list[int]
) -> None:
    """Updates after each of 5 vector steps: ``ratio x envs`` per vector step, the fractional
    rest carried over (0.3 x 4 = 1.2 per step: 1, 1, 1, 1, then 2)."""
    cfg = tiny_config(tmp_path, f"algo.update_to_data={ratio}", f"env.num_envs={envs}")
    tr = Trainer(cfg, tmp_path / "t")
    assert [tr._updates_now() for _ in range(5)] == expected
