"""Studies on Ray's local mode: run, reuse, report, failures, TPE tuning, kill -9 and resume.

One local Ray instance (2 CPUs) serves the in-process tests of this module (the engine leaves
a Ray it did not start running); the kill test starts its own, in a child process.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from svnr_rl.__main__ import main
from svnr_rl.config import config_to_dict
from svnr_rl.study.spec import load_study
from svnr_rl.study.trials import FAILURE_JSON, grid_trials
from tests.study_helpers import grid_study, tune_study

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ray_local() -> Iterator[None]:
    import ray

    from svnr_rl.study.engine import _ray_init

    owned = _ray_init(2, None)
    yield
    if owned:
        ray.shutdown()


def _study(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["study", *argv])
    return code, capsys.readouterr().out


def _summary(run_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    return data


def test_a_study_runs_reports_and_never_trains_a_finished_trial_twice(
    ray_local: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = grid_study(tmp_path / "s.toml")
    runs, out = tmp_path / "runs", tmp_path / "out"
    argv = ["run", str(f), "--runs", str(runs), "--out", str(out), "--workers", "2"]
    code, log = _study(argv, capsys)
    assert code == 0
    assert log.count("trained in") == 4
    assert "[4/4 done, 0 running, 0 failed]" in log
    md = (out / "report.md").read_text()
    assert f"Study file: `{f}`" in md
    assert f"python -m svnr_rl study run {f} --runs {runs}" in md
    assert "| SVNR | " in md
    assert "9.71 ± 0.20" in md
    res = json.loads((out / "results.json").read_text())
    for method in ("svnr", "masql"):
        cell = res["tasks"]["max-of-three-1.5"][method]
        values = [
            _summary(runs / "max-of-three-1.5" / method / f"seed{s}")["final_test_return_mean"]
            for s in (0, 1)
        ]
        assert cell["final_test_return_mean"] == values
        assert cell["seeds"] == [0, 1]
    assert {"learning_curves.png", "joint_actions_max-of-three-1.5.png"} <= {
        p.name for p in out.iterdir()
    }
    # the same command again: everything is reused, nothing trains, Ray is not even started
    mtimes = {p: p.stat().st_mtime_ns for p in runs.rglob("summary.json")}
    code, log = _study(argv, capsys)
    assert code == 0
    assert log.count("reused") == 4
    assert "trained" not in log
    assert "Ray" not in log
    assert {p: p.stat().st_mtime_ns for p in runs.rglob("summary.json")} == mtimes
    lines = (runs / "commands.log").read_text().splitlines()
    assert ["started=1" in x for x in lines] == [True, False, True, False]
    assert "trained=4" in lines[1]
    assert "reused=4" in lines[3]
    # `report` rewrites the report from the run folders alone
    (out / "report.md").unlink()
    assert _study(["report", str(f), "--runs", str(runs), "--out", str(out)], capsys)[0] == 0
    assert (out / "report.md").read_text().count("9.71 ± 0.20") == md.count("9.71 ± 0.20")


def test_a_failed_trial_is_recorded_and_the_others_run(
    ray_local: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = grid_study(tmp_path / "s.toml", methods=("masql",))
    runs, out = tmp_path / "runs", tmp_path / "out"
    spec = load_study(f)
    broken = grid_trials(spec, runs)[0]
    rd = Path(broken.run_dir)
    (rd / "checkpoints").mkdir(parents=True)
    (rd / "config.json").write_text(json.dumps(config_to_dict(broken.config())))
    (rd / "checkpoints" / "latest.pt").write_bytes(b"not a checkpoint")
    code, log = _study(["run", str(f), "--runs", str(runs), "--out", str(out)], capsys)
    assert code == 1
    assert "1 failed]" in log
    error = json.loads((rd / FAILURE_JSON).read_text())["error"]
    assert error.startswith("CheckpointError")
    assert (runs / "max-of-three-1.5" / "masql" / "seed1" / "summary.json").is_file()
    md = (out / "report.md").read_text()
    assert "## Failed runs" in md
    assert "max-of-three-1.5 masql seed 0: CheckpointError" in md
    assert "(1/2 seeds)" in md
    res = json.loads((out / "results.json").read_text())
    assert res["tasks"]["max-of-three-1.5"]["masql"]["failed"][0]["seed"] == 0


def _journal_trials(runs: Path) -> list[tuple[int, str, dict[str, Any], float | None]]:
    import optuna

    from svnr_rl.study.tuning import JOURNAL, _storage

    storage = _storage(runs)
    assert (runs / JOURNAL).is_file()
    study = optuna.load_study(study_name="max-of-three-1.5/masql", storage=storage)
    return [(t.number, t.state.name, t.params, t.value) for t in study.trials]


@pytest.fixture(scope="module")
def tuned(ray_local: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted tiny tuning study (4 trials, 2 per batch, 2 workers)."""
    tmp = tmp_path_factory.mktemp("tuned")
    f = tune_study(tmp / "t.toml")
    assert (
        main(["study", "tune", str(f), "--runs", str(tmp / "runs"), "--out", str(tmp / "out")]) == 0
    )
    return tmp


def test_tuning_tells_every_trial_and_evaluates_the_best(tuned: Path) -> None:
    trials = _journal_trials(tuned / "runs")
    assert [(n, s) for n, s, _, _ in trials] == [(n, "COMPLETE") for n in range(4)]
    values = {n: v for n, _, _, v in trials}
    best = max(values, key=lambda n: (values[n], -n))
    # each trial's value is its run's metric (one tuning seed)
    for n, _, params, v in trials:
        rd = tuned / "runs" / "tune" / "max-of-three-1.5" / "masql" / f"trial{n:04d}" / "seed100"
        assert _summary(rd)["final_test_return_mean"] == v
        assert json.loads((rd / "trial.json").read_text())["params"] == params
        assert json.loads((rd / "config.json").read_text())["algo"]["policy_lr"] == params["lr"]
    evaluation = tuned / "runs" / "max-of-three-1.5" / "masql" / "seed0"
    meta = json.loads((evaluation / "trial.json").read_text())
    assert meta["params"]["_best_trial"] == best
    cfg = json.loads((evaluation / "config.json").read_text())
    assert cfg["algo"]["policy_lr"] == trials[best][2]["lr"]
    assert cfg["train"]["seed"] == 0  # an evaluation seed, not the tuning seed
    md = (tuned / "out" / "report.md").read_text()
    assert "## Tuning" in md
    target = _summary(evaluation)["target_return"]
    reached = sum(v is not None and v >= target for v in values.values())
    assert f"| 4/4 | {reached}/4 | {best} | " in md
    assert "tuning_history.png" in md


def test_tuning_proposals_do_not_depend_on_the_workers(
    tuned: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tune_study(tmp_path / "t.toml")
    code, _ = _study(
        [
            "tune",
            str(f),
            "--runs",
            str(tmp_path / "runs"),
            "--out",
            str(tmp_path / "o"),
            "--workers",
            "1",
        ],
        capsys,
    )
    assert code == 0
    assert _journal_trials(tmp_path / "runs") == _journal_trials(tuned / "runs")
    # and the same command again trains nothing
    code, log = _study(
        ["tune", str(f), "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "o")], capsys
    )
    assert code == 0
    assert "trained" not in log
    assert "4 of 4 trials already told" in log


def test_a_study_killed_with_sigkill_resumes_and_finishes_identical(
    tuned: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tune_study(tmp_path / "t.toml")
    runs = tmp_path / "runs"
    argv = ["tune", str(f), "--runs", str(runs), "--out", str(tmp_path / "o"), "--workers", "1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "svnr_rl", "study", *argv],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the whole group (driver, Ray, workers) dies together
    )
    first = runs / "tune" / "max-of-three-1.5" / "masql" / "trial0000" / "seed100" / "summary.json"
    deadline = time.monotonic() + 240
    while not first.is_file() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert first.is_file(), "the study did not finish its first trial in time"
    assert not (tmp_path / "o" / "report.md").exists(), "killed before the end"
    code, _ = _study(argv, capsys)
    assert code == 0
    assert _journal_trials(runs) == _journal_trials(tuned / "runs")
    a = _summary(runs / "max-of-three-1.5" / "masql" / "seed0")
    b = _summary(tuned / "runs" / "max-of-three-1.5" / "masql" / "seed0")
    assert a["final_test_return_mean"] == b["final_test_return_mean"]


def test_when_ray_itself_dies_the_study_stops_instead_of_failing_every_trial(
    ray_local: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ray

    def raylet_died(ref: Any) -> Any:
        raise ray.exceptions.LocalRayletDiedError()

    monkeypatch.setattr(ray, "get", raylet_died)
    f = grid_study(tmp_path / "s.toml", methods=("masql",))
    runs = tmp_path / "runs"
    code = main(["study", "run", str(f), "--runs", str(runs), "--out", str(tmp_path / "o")])
    captured = capsys.readouterr()
    assert code == 1
    assert "error: Ray stopped (LocalRayletDiedError)" in captured.err
    assert "Continue with: python -m svnr_rl study run" in captured.err
    assert "Traceback" not in captured.err
    assert not list(runs.rglob(FAILURE_JSON)), "no trial is blamed for Ray's death"
    start, line = (runs / "commands.log").read_text().splitlines()  # the report names it
    assert "started=1" in start
    assert "stopped=1" in line
    assert line.endswith(f"study run {f} --runs {runs} --out {tmp_path / 'o'}")


def test_sigterm_stops_the_study_like_ctrl_c_and_ray_goes_with_it(tmp_path: Path) -> None:
    f = grid_study(tmp_path / "s.toml", seeds="[0, 1, 2, 3]", methods=("masql",))
    argv = ["run", str(f), "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "o")]
    proc = subprocess.Popen(
        [sys.executable, "-m", "svnr_rl", "study", *argv, "--workers", "1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # the first finished trial: Ray is up and a trial is running
        if "1/4 done" in line:
            break
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted; finished runs are kept. Continue with: python -m svnr_rl study" in err
    assert "Traceback" not in err
    assert "logging.cc" not in err  # no stack dump from Ray's own signal handlers
    assert not (tmp_path / "o" / "report.md").exists()
    # the stopped invocation trained a run, so the report to come must name its command
    start, line = (tmp_path / "runs" / "commands.log").read_text().splitlines()
    assert "started=1" in start
    assert re.search(r"\btrained=[1-4]\b", line), line  # 1 finished before the signal
    assert "interrupted=1" in line
    assert line.endswith("python -m svnr_rl study " + " ".join([*argv, "--workers", "1"]))


def test_archive_keeps_finished_runs_without_checkpoints_and_restore_continues_the_study(
    tuned: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    from svnr_rl.study.tuning import JOURNAL

    f = tune_study(tmp_path / "t.toml")
    # a runs folder lost mid-study: one evaluation run still training (its writer is gone,
    # so it reads as stopped), and the journal with a line half written
    runs = tmp_path / "runs"
    shutil.copytree(tuned / "runs", runs)
    unfinished = runs / "max-of-three-1.5" / "masql" / "seed0"
    status = json.loads((unfinished / "status.json").read_text())
    (unfinished / "status.json").write_text(
        json.dumps({**status, "state": "running", "pid": 2**22 + 7})
    )
    with (runs / JOURNAL).open("ab") as fh:
        fh.write(b'{"op_code": 4, "worker_id"')
    archive = tmp_path / "archive"
    code, log = _study(["archive", str(f), "--runs", str(runs), "--archive", str(archive)], capsys)
    assert code == 0
    assert "4 finished runs copied" in log  # the 4 tuning runs, not the evaluation run
    assert not (archive / "max-of-three-1.5" / "masql" / "seed0").exists()
    assert (archive / JOURNAL).read_bytes() == (tuned / "runs" / JOURNAL).read_bytes()
    kept = {".json", ".csv", ".journal", ".log"}
    assert {p.suffix for p in archive.rglob("*") if p.is_file()} <= kept
    assert not list(archive.rglob("*.pt"))
    # archiving again copies nothing new
    code, log = _study(["archive", str(f), "--runs", str(runs), "--archive", str(archive)], capsys)
    assert "0 finished runs copied" in log
    assert "added" not in log
    # a file a report derived from a finished run's checkpoint after it was archived is added
    # to the archived run; a file the archived run has already is never replaced
    archived = next(p.parent for p in sorted(archive.rglob("summary.json")))
    run = runs / archived.relative_to(archive)
    (run / "gather_diagnostics.json").write_text('{"derived": 1}\n')
    metrics = (archived / "metrics.csv").read_bytes()
    (run / "metrics.csv").write_bytes(metrics + b"changed\n")
    code, log = _study(["archive", str(f), "--runs", str(runs), "--archive", str(archive)], capsys)
    assert code == 0
    assert "0 finished runs copied" in log
    assert "4 already there, 1 files they lacked added" in log
    assert (archived / "gather_diagnostics.json").read_text() == '{"derived": 1}\n'
    assert (archived / "metrics.csv").read_bytes() == metrics
    (run / "metrics.csv").write_bytes(metrics)
    # a fresh checkout: restore, then the same tune command trains only the unfinished run
    fresh = tmp_path / "fresh"
    argv = ["--runs", str(fresh), "--archive", str(archive)]
    assert _study(["restore", str(f), *argv], capsys)[0] == 0
    code, log = _study(["tune", str(f), "--runs", str(fresh), "--out", str(tmp_path / "o")], capsys)
    assert code == 0
    assert log.count("trained in") == 1
    assert "4 of 4 trials already told" in log
    assert _journal_trials(fresh) == _journal_trials(tuned / "runs")
    a = _summary(fresh / "max-of-three-1.5" / "masql" / "seed0")
    b = _summary(tuned / "runs" / "max-of-three-1.5" / "masql" / "seed0")
    assert a["final_test_return_mean"] == b["final_test_return_mean"]


def test_archive_carries_only_the_study_s_own_runs_of_a_shared_runs_folder(
    tuned: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Studies share a runs folder to reuse each other's runs; the archive of one must not
    carry the others' finished runs (nor restore put them back)."""
    import shutil

    f = tune_study(tmp_path / "t.toml")
    runs = tmp_path / "runs"
    shutil.copytree(tuned / "runs", runs)
    finished = runs / "max-of-three-1.5" / "masql" / "seed0"
    foreign = [
        runs / "another-task" / "masql" / "seed0",  # another study's grid
        runs / "max-of-three-1.5" / "another-method" / "seed0",  # same task, other method
        runs / "max-of-three-1.5" / "masql" / "seed7",  # same task and method, other seed
        runs / "tune" / "another-task" / "masql" / "trial0000" / "seed0",  # its tuning
    ]
    for rd in foreign:
        shutil.copytree(finished, rd)
    archive = tmp_path / "archive"
    code, log = _study(["archive", str(f), "--runs", str(runs), "--archive", str(archive)], capsys)
    assert code == 0
    assert "5 finished runs copied" in log  # 4 tuning runs + the evaluation run
    assert (archive / "max-of-three-1.5" / "masql" / "seed0" / "summary.json").is_file()
    for rd in foreign:
        assert not (archive / rd.relative_to(runs)).exists()
    # restore reads the study's folders only, too
    for rd in foreign:
        shutil.copytree(finished, archive / rd.relative_to(runs))
    fresh = tmp_path / "fresh"
    argv = ["restore", str(f), "--runs", str(fresh), "--archive", str(archive)]
    code, log = _study(argv, capsys)
    assert code == 0
    assert "5 finished runs copied" in log
    assert not (fresh / "another-task").exists()
    assert not (fresh / "max-of-three-1.5" / "another-method").exists()
    assert not (fresh / "max-of-three-1.5" / "masql" / "seed7").exists()


def test_archive_refuses_a_journal_of_another_study(
    tuned: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from svnr_rl.study.tuning import JOURNAL

    f = tune_study(tmp_path / "t.toml")
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / JOURNAL).write_text('{"op_code": 0, "worker_id": "another study"}\n')
    argv = ["archive", str(f), "--runs", str(tuned / "runs"), "--archive", str(archive)]
    assert main(["study", *argv]) == 2
    assert "diverge" in capsys.readouterr().err
    assert [p.name for p in archive.iterdir()] == [JOURNAL]  # nothing copied
    assert main(["study", "archive", str(f), "--runs", str(tuned / "runs")]) == 2
    assert "needs --archive" in capsys.readouterr().err


def test_only_trains_the_named_keys_and_the_report_covers_the_whole_file(
    ray_local: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = grid_study(tmp_path / "s.toml", seeds="[0]")
    runs, out = tmp_path / "runs", tmp_path / "out"
    argv = ["run", str(f), "--runs", str(runs), "--out", str(out), "--only", "masql"]
    code, log = _study(argv, capsys)
    assert code == 0
    assert "study tiny: 1 runs" in log
    assert [p.parent.parent.name for p in runs.rglob("summary.json")] == ["masql"]
    md = (out / "report.md").read_text()
    assert "| SVNR | not run |" in md
    code = main(["study", "run", str(f), "--runs", str(runs), "--only", "max-of-three-1.5,sac"])
    assert code == 2
    assert "unknown key(s) sac; tasks: max-of-three-1.5; methods: masql, svnr" in (
        capsys.readouterr().err
    )
