"""``python -m svnr_rl.table`` on a tiny budget: outputs, resumability, workers, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from svnr_rl.config import Config
from svnr_rl.table import PAPER_TABLE2, build_parser, main, make_jobs
from tests.rl_helpers import TINY

#: the tiny configuration of tests/rl_helpers.py; the length comes from --train-episodes
SETS = [x for x in TINY if not x.startswith("train.total_env_steps")]


def _argv(tmp: Path, *extra: str) -> list[str]:
    out = ["--out", str(tmp / "out"), "--runs", str(tmp / "runs"), "--train-episodes", "128"]
    for s in SETS:
        out += ["--set", s]
    return [*out, *extra]


def test_tiny_table_writes_the_report_and_is_resumable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _argv(tmp_path, "--methods", "svnr,masql", "--tasks", "max-of-three-1.5", "--seeds", "1")
    assert main([*argv, "--workers", "1"]) == 0
    out = tmp_path / "out"
    names = {p.name for p in out.iterdir()}
    assert {
        "table2.md",
        "results.json",
        "learning_curves.png",
        "joint_actions_max-of-three-1.5.png",
        "commands.log",
    } <= names
    md = (out / "table2.md").read_text()
    assert "| SVNR | " in md
    assert "9.71 ± 0.20" in md  # the paper's SVNR number beside ours
    assert "-0.34 ± 0.12" in md  # the paper's MASQL number
    assert "python -m svnr_rl.table --out" in md  # the exact command
    res = json.loads((out / "results.json").read_text())
    for method in ("svnr", "masql"):
        cell = res["tasks"]["max-of-three-1.5"][method]
        run = tmp_path / "runs" / "max-of-three-1.5" / method / "seed0"
        summary = json.loads((run / "summary.json").read_text())
        assert cell["final_test_return"] == [summary["final_test_return_mean"]]
        assert cell["mean"] == summary["final_test_return_mean"]
        assert cell["std"] == 0.0
        assert f"{cell['mean']:.2f} ± 0.00" in md
        assert cell["env_steps"] == [128]
    assert res["tasks"]["max-of-three-1.5"]["svnr"]["paper"] == [9.71, 0.2]
    # rerun: nothing trains again
    capsys.readouterr()
    assert main([*argv, "--workers", "1"]) == 0
    log = capsys.readouterr().out
    assert log.count("reused") == 2
    assert "trained" not in log
    lines = (out / "commands.log").read_text().splitlines()
    assert len(lines) == 2
    assert "trained=2" in lines[0]
    assert "reused=2" in lines[1]
    # --report-only rewrites the report from the run folders without touching them
    (out / "table2.md").unlink()
    assert main([*argv, "--report-only"]) == 0
    assert "9.71 ± 0.20" in (out / "table2.md").read_text()
    assert "trained=0 resumed=0 reused=0 failed=0" in (out / "commands.log").read_text()


def test_an_interrupted_run_is_resumed_not_restarted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _argv(tmp_path, "--methods", "svnr", "--tasks", "max-of-three-3.0", "--seeds", "1")
    assert main([*argv, "--workers", "1"]) == 0
    run = tmp_path / "runs" / "max-of-three-3.0" / "svnr" / "seed0"
    before = json.loads((run / "summary.json").read_text())["final_test_return_mean"]
    (run / "summary.json").unlink()
    (run / "status.json").write_text(json.dumps({"state": "interrupted"}))
    capsys.readouterr()
    assert main([*argv, "--workers", "1"]) == 0
    assert "resumed" in capsys.readouterr().out
    after = json.loads((run / "summary.json").read_text())["final_test_return_mean"]
    assert after == before


def test_parallel_workers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = _argv(
        tmp_path, "--methods", "maddpg,rommeo", "--tasks", "max-of-three-2.0", "--seeds", "1"
    )
    assert main([*argv, "--workers", "2"]) == 0
    log = capsys.readouterr().out
    assert log.count("trained") == 2
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    assert set(res["tasks"]["max-of-three-2.0"]) == {"maddpg", "rommeo"}


def test_a_failed_run_is_reported_and_does_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import svnr_rl.train as train_module

    real = train_module.train

    def flaky(cfg: Config, **kw: Any) -> Any:
        if cfg.algo.method == "maddpg":
            raise RuntimeError("simulated crash")
        return real(cfg, **kw)

    monkeypatch.setattr(train_module, "train", flaky)
    argv = _argv(
        tmp_path, "--methods", "maddpg,svnr", "--tasks", "max-of-three-3.0", "--seeds", "1"
    )
    assert main([*argv, "--workers", "1"]) == 1
    md = (tmp_path / "out" / "table2.md").read_text()
    assert "max-of-three-3.0 maddpg seed 0: RuntimeError: simulated crash" in md
    assert "| MADDPG | not run |" in md
    assert (tmp_path / "runs" / "max-of-three-3.0" / "svnr" / "seed0" / "summary.json").is_file()


def test_jobs_cover_methods_tasks_and_seeds_with_the_ablation_topologies(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        _argv(tmp_path, "--methods", "svnr-f,svnr,svnr-m", "--tasks", "particle-gather")
    )
    args.episodes = 2
    jobs = make_jobs(args)
    assert [(j.method_key, j.seed) for j in jobs] == [
        (m, s) for m in ("svnr", "svnr-m", "svnr-f") for s in range(5)
    ]
    cfgs = {j.method_key: j.config() for j in jobs if j.seed == 0}
    assert cfgs["svnr"].algo.topology == "nested"
    assert cfgs["svnr-m"].algo.topology == "empty"
    assert cfgs["svnr-f"].algo.topology == "full"
    assert {c.algo.method for c in cfgs.values()} == {"svnr"}
    # --train-episodes counts full-length episodes of 25 steps on Particle Gather
    assert cfgs["svnr"].train.total_env_steps == 50
    assert set(PAPER_TABLE2) == {"svnr", "maddpg", "masql", "pr2", "rommeo"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--methods", "svnr,mmq"], "--methods: unknown entry 'mmq'"),
        (["--tasks", "max-of-four"], "--tasks: unknown entry 'max-of-four'"),
        (["--seeds", "0"], "--seeds: must be in 1..1,000; got 0"),
        (["--workers", "0"], "--workers: must be in 1..256; got 0"),
        (["--train-episodes", "0"], "--train-episodes: must be in 1..100,000,000"),
        (["--set", "algo.policy_lr=-1"], "algo.policy_lr"),
    ],
)
def test_invalid_input_exits_2_naming_the_argument(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main([*_argv(tmp_path, "--methods", "svnr"), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_a_run_folder_of_another_budget_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--methods", "maddpg", "--tasks", "max-of-three-3.0", "--seeds", "1", "--workers", "1"]
    assert main([*_argv(tmp_path), *base]) == 0
    argv = _argv(tmp_path)
    argv[argv.index("--train-episodes") + 1] = "64"
    assert main([*argv, *base]) == 2
    assert "different configuration" in capsys.readouterr().err


def test_module_entry_point(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "svnr_rl.table", "--tasks", "max-of-five", "--runs", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode == 2
    assert "--tasks: unknown entry 'max-of-five'" in proc.stderr
    assert "Traceback" not in proc.stderr
