"""Nothing silently wrong (issue 15): what a run folder records is what happened.

The run length recorded is the one trained; the task named in a file picks its preset; two
processes never share a folder; a killed run does not read as running forever; resuming a
finished run writes nothing; sizes that cannot fit in memory are refused by name.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from svnr_rl.__main__ import _build_parser, _train_config, main
from svnr_rl.config import ConfigError, apply_overrides, preset, resolve_run_length
from svnr_rl.resources import check_memory, estimate_memory
from svnr_rl.run_status import read_status, run_state, write_status
from svnr_rl.train import _claim_run_dir
from tests.rl_helpers import TINY, TINY_SET


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_steps_are_rounded_up_with_a_note_and_recorded_as_trained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "--out", str(tmp_path), "--no-progress", *TINY_SET, "--steps", "100"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "note: train.total_env_steps: 100 rounded up to 128" in captured.err
    (run,) = list(tmp_path.iterdir())
    assert json.loads((run / "config.json").read_text())["train"]["total_env_steps"] == 128
    assert json.loads((run / "summary.json").read_text())["env_steps"] == 128
    assert "128 environment steps" in captured.out


def test_resolve_run_length_rounds_the_interval_to_whole_vector_steps() -> None:
    cfg = apply_overrides(preset("max-of-three"), ["env.num_envs=3", "train.total_env_steps=10"])
    resolved, notes = resolve_run_length(cfg)
    assert resolved.train.eval_interval == 2001
    assert resolved.train.total_env_steps == 2001
    assert len(notes) == 2
    again, more = resolve_run_length(resolved)
    assert again == resolved
    assert more == []


def test_the_task_named_in_a_file_picks_its_preset(tmp_path: Path) -> None:
    """A file naming two-modalities, with no --task, trains two-modalities with its own preset
    (not Max of Three's hyperparameters)."""
    f = tmp_path / "c.toml"
    f.write_text('[env]\ntask = "two-modalities"\n')
    args = _build_parser().parse_args(["train", "--config", str(f)])
    cfg, _ = _train_config(args)
    assert cfg.env.task == "two-modalities"
    assert cfg.algo == preset("two-modalities").algo
    assert cfg.alpha == preset("two-modalities").alpha
    same = _build_parser().parse_args(["train", "--config", str(f), "--task", "two-modalities"])
    assert _train_config(same)[0].algo == preset("two-modalities").algo


def test_two_claims_of_one_name_get_two_folders(tmp_path: Path) -> None:
    a = _claim_run_dir(tmp_path, "same")
    b = _claim_run_dir(tmp_path, "same")
    assert a != b
    assert a.is_dir()
    assert b.is_dir()


def test_two_processes_into_one_out_folder(tmp_path: Path) -> None:
    """Started together with the same run name, both finish, each in a folder of its own."""
    argv = [sys.executable, "-m", "svnr_rl", "train", "--out", str(tmp_path), "--no-progress"]
    argv += [*TINY_SET, "--set", 'train.run_name="same"']
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
    procs.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    assert sorted(d.name for d in tmp_path.iterdir()) == ["same", "same-1"]


def test_the_progress_bar_writes_no_frames_into_a_pipe(tmp_path: Path) -> None:
    """``--progress`` with stderr a pipe (a log file, CI): no carriage-return frames (issue 33)."""
    argv = [sys.executable, "-m", "svnr_rl", "train", "--out", str(tmp_path), "--progress"]
    # bytes: text mode would turn the carriage returns into newlines
    tiny = [a for x in TINY if x != "train.progress=false" for a in ("--set", x)]
    proc = subprocess.run([*argv, *tiny], capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert b"\r" not in proc.stderr
    assert b"max-of-three/svnr" not in proc.stderr  # the bar's label: no bar at all


def test_a_killed_run_reads_as_stopped(tmp_path: Path) -> None:
    """``status.json`` written by a process that is gone (kill -9 cannot write its own end)."""
    code = (
        "import sys; from pathlib import Path; from svnr_rl.run_status import write_status; "
        "write_status(Path(sys.argv[1]), 'running', env_steps=4000)"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True)
    assert json.loads((tmp_path / "status.json").read_text())["state"] == "running"
    assert run_state(tmp_path) == "stopped"
    assert read_status(tmp_path)["env_steps"] == 4000
    write_status(tmp_path, "running", env_steps=8000)  # this process: alive
    assert run_state(tmp_path) == "running"


def test_status_command_shows_progress_and_the_resume_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config.json").write_text("{}")
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from svnr_rl.run_status import write_status; "
            "write_status(Path(sys.argv[1]), 'running', env_steps=64, total_env_steps=192)",
            str(tmp_path),
        ],
        check=True,
    )
    assert main(["status", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "stopped, env steps 64/192" in out
    assert f"python -m svnr_rl resume {tmp_path}" in out


def test_resume_of_a_finished_run_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "--out", str(tmp_path), "--no-progress", *TINY_SET]) == 0
    (run,) = list(tmp_path.iterdir())
    first = capsys.readouterr().out.splitlines()[0]
    before = _snapshot(run)
    assert main(["resume", str(run), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "nothing was written" in out
    assert first.split(" over ")[0] in out  # the same final test return
    assert _snapshot(run) == before


def test_memory_estimate_names_the_field_to_lower() -> None:
    cfg = apply_overrides(preset("max-of-three"), ["algo.buffer_size=100000000"])
    cfg = apply_overrides(cfg, ["train.total_env_steps=100000000"])
    sizes = {"n_agents": 3, "obs_dim": 1, "state_dim": 1, "action_dim": 1}
    est = estimate_memory(cfg, **sizes)
    # rows x (2*3 obs + 2 state + 3 actions + 2) float32 values, x 1.5 for geometric growth
    assert est.replay == 100_000_000 * 13 * 4 * 3 // 2
    check_memory(cfg, **sizes, available=10 * est.total)  # fits: no error
    with pytest.raises(ConfigError, match=r"^algo\.buffer_size: this run needs about 7\.3 GiB"):
        check_memory(cfg, **sizes, available=2**30)
