"""Bad-input corpus of ``python -m svnr_rl`` (issue 15): one parametrized test per command.

Every case is what a careless user could type.  For each, the test asserts the exit status,
that no traceback escapes, that the message names the problem (a case-specific text), and that
nothing is left behind: no run folder for ``train``, an unchanged folder for ``resume`` and
``evaluate``.  The commands run in-process through :func:`svnr_rl.__main__.main` (an exception
would fail the test, so "no traceback" is checked by the call itself and by stderr); a few
cases at the end run the real interpreter for what only a process shows (exit status, Ctrl-C,
import cost).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from svnr_rl.__main__ import main
from tests.rl_helpers import TINY_SET
from tests.study_helpers import grid_study


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err
    return code, err


def _assert_refused(code: int, err: str, expected: str, status: int = 2) -> None:
    assert code == status, err
    assert "Traceback" not in err
    assert expected in err, err
    assert len(err) < 1500, "an error is a line or a usage block, never an echo of the input"


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# ----------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny completed run (seconds), copied by the tests that change it."""
    out = tmp_path_factory.mktemp("finished")
    assert main(["train", "--out", str(out), "--no-progress", *TINY_SET]) == 0
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return run


@pytest.fixture
def run_copy(finished_run: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "run"
    shutil.copytree(finished_run, dst)
    return dst


def _write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


# ----------------------------------------------------------------------------------- train

#: (id, argv after `train`, files {name: content} written into the working folder, expected)
TRAIN_CASES: list[tuple[str, list[str], dict[str, str | bytes], str]] = [
    # sizes: bounded before anything is allocated
    ("particles-1e9", ["--set", "algo.num_particles=1e9"], {}, "algo.num_particles"),
    ("particles-huge", ["--set", "algo.num_particles=100000"], {}, "at most 1,024"),
    ("buffer-1e12-int", ["--set", "algo.buffer_size=1000000000000"], {}, "algo.buffer_size"),
    (
        "replay-beyond-memory",
        ["--set", "algo.buffer_size=1000000000", "--steps", "10000000000"],
        {},
        "algo.buffer_size: this run needs about",
    ),
    (
        "networks-beyond-memory",
        [
            *("--set", "algo.hidden=[4096,4096,4096,4096,4096,4096,4096,4096]"),
            *("--set", "algo.batch_size=4096", "--set", "algo.value_samples=4096"),
        ],
        {},
        "of memory",
    ),
    ("too-many-layers", ["--set", "algo.hidden=[8,8,8,8,8,8,8,8,8]"], {}, "at most 8 layers"),
    ("too-wide", ["--set", "algo.critic_hidden=[100000]"], {}, "algo.critic_hidden"),
    ("empty-hidden", ["--set", "algo.hidden=[]"], {}, "algo.hidden"),
    ("too-many-envs", ["--set", "env.num_envs=100000"], {}, "env.num_envs: must be at most"),
    ("value-samples", ["--set", "algo.value_samples=100000"], {}, "algo.value_samples"),
    (
        "critic-rows",
        ["--set", "algo.batch_size=65536", "--set", "algo.value_samples=4096"],
        {},
        "critic rows per update",
    ),
    ("threads-0", ["--set", "train.threads=0"], {}, "train.threads"),
    ("seed-huge", ["--set", "train.seed=99999999999999999999"], {}, "train.seed"),
    # integers are integers
    (
        "particles-float-file",
        ["--config", "c.toml"],
        {"c.toml": "[algo]\nnum_particles = 16.0\n"},
        "algo.num_particles: expected an integer; got the number 16.0",
    ),
    (
        "buffer-1e12-file",
        ["--config", "c.toml"],
        {"c.toml": "[algo]\nbuffer_size = 1e12\n"},
        "algo.buffer_size: expected an integer",
    ),
    # the task is named once, or everywhere alike
    (
        "task-file-vs-flag",
        ["--config", "c.toml", "--task", "max-of-three"],
        {"c.toml": '[env]\ntask = "two-modalities"\n'},
        "env.task: named differently in two places",
    ),
    (
        "task-set-vs-flag",
        ["--task", "max-of-three", "--set", "env.task=two-modalities"],
        {},
        "env.task: named differently",
    ),
    (
        "task-in-file-invalid",
        ["--config", "c.json"],
        {"c.json": '{"env": {"task": 3}}'},
        "env.task: must be one of",
    ),
    ("s2-on-other-task", ["--task", "two-modalities", "--s2", "2.0"], {}, "--s2 applies only"),
    ("s2-negative", ["--s2", "-1"], {}, "env.s2"),
    ("task-unknown", ["--task", "max-of-four"], {}, "invalid choice: 'max-of-four'"),
    # topology against the game's agents
    (
        "topology-range",
        ["--set", "algo.topology=1:;2:1;3:1,2,5"],
        {},
        "agent 5 is out of range (1..3: max-of-three has 3 agents)",
    ),
    ("topology-missing", ["--set", "algo.topology=1:;2:1"], {}, "max-of-three has 3 agents"),
    ("topology-syntax", ["--set", "algo.topology=1-2"], {}, "algo.topology"),
    ("topology-self", ["--set", "algo.topology=1:1;2:;3:"], {}, "cannot condition on itself"),
    # flags
    ("steps-0", ["--steps", "0"], {}, "--steps: must be in 1.."),
    ("steps-word", ["--steps", "many"], {}, "--steps: expected an integer"),
    ("seed-negative", ["--seed", "-1"], {}, "--seed: must be in 0.."),
    ("device-tpu", ["--device", "tpu"], {}, "invalid choice: 'tpu'"),
    ("unknown-flag", ["--episodes", "5"], {}, "unrecognized arguments: --episodes"),
    # config files
    ("config-missing", ["--config", "nope.toml"], {}, "cannot be read"),
    ("config-yaml", ["--config", "c.yaml"], {"c.yaml": "a: 1\n"}, "must end in .json or .toml"),
    ("config-not-json", ["--config", "c.json"], {"c.json": "{algo: 1"}, "not valid JSON"),
    ("config-not-toml", ["--config", "c.toml"], {"c.toml": "[algo\n"}, "not valid TOML"),
    (
        "config-deep",
        ["--config", "c.json"],
        {"c.json": "[" * 100_000 + "]" * 100_000},
        "nested too deeply",
    ),
    (
        "config-duplicate-key",
        ["--config", "c.json"],
        {"c.json": '{"algo": {"policy_lr": 0.1, "policy_lr": 0.2}}'},
        "policy_lr: given twice",
    ),
    (
        "config-nan",
        ["--config", "c.json"],
        {"c.json": '{"algo": {"policy_lr": NaN}}'},
        "NaN is not a number",
    ),
    ("config-list", ["--config", "c.json"], {"c.json": "[1, 2]"}, "expected a table of sections"),
    ("config-binary", ["--config", "c.toml"], {"c.toml": b"\xff\xfe\x00bad"}, "not UTF-8"),
    ("config-huge", ["--config", "c.json"], {"c.json": " " * 1_000_001 + "{}"}, "larger than"),
    (
        "config-unknown-key",
        ["--config", "c.json"],
        {"c.json": '{"train": {"sed": 1}}'},
        "train.sed: unknown key",
    ),
    (
        "config-unknown-section",
        ["--config", "c.json"],
        {"c.json": '{"trian": {}}'},
        "trian: unknown config section",
    ),
    # overrides
    ("set-no-equals", ["--set", "algo.policy_lr"], {}, "expected section.field=value"),
    ("set-unknown", ["--set", "algo.bogus=1"], {}, "algo.bogus: unknown key"),
    ("set-nan", ["--set", "alpha.alpha_end=NaN"], {}, "alpha.alpha_end"),
    ("set-gamma-1", ["--set", "algo.gamma=1"], {}, "algo.gamma"),
    ("set-bool", ["--set", "algo.twin_critic=3"], {}, "algo.twin_critic"),
    ("run-name-path", ["--set", 'train.run_name="../x"'], {}, "train.run_name"),
    ("out-is-a-file", ["--out", "afile"], {"afile": "x"}, "train.out_dir"),
]


@pytest.mark.parametrize(
    ("argv", "files", "expected"),
    [pytest.param(a, f, e, id=i) for i, a, f, e in TRAIN_CASES],
)
def test_train_refuses_bad_input(
    argv: list[str],
    files: dict[str, str | bytes],
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, content in files.items():
        _write(tmp_path / name, content)
    out = [] if "--out" in argv else ["--out", "runs"]
    code, err = _run(["train", *out, "--no-progress", *argv], capsys)
    _assert_refused(code, err, expected)
    assert not (tmp_path / "runs").exists(), "no run folder is left by refused input"


# ----------------------------------------------------------------------------------- evaluate


def _other_task_checkpoint(run: Path) -> str:
    cfg = json.loads((run / "config.json").read_text())
    cfg["env"]["task"] = "two-modalities"
    (run / "config.json").write_text(json.dumps(cfg))
    return str(run)


def _zip_not_torch(tmp: Path) -> str:
    with zipfile.ZipFile(tmp / "z.pt", "w") as zf:
        zf.writestr("hello.txt", "not a checkpoint")
    return str(tmp / "z.pt")


def _truncated(run: Path) -> str:
    ckpt = run / "checkpoints" / "latest.pt"
    data = ckpt.read_bytes()
    ckpt.write_bytes(data[: len(data) // 2])
    return str(run)


def _no_checkpoint(run: Path) -> str:
    shutil.rmtree(run / "checkpoints")
    return str(run)


#: (id, builder(run copy, tmp) -> target, extra argv, expected)
EVALUATE_CASES: list[tuple[str, Callable[[Path, Path], str], list[str], str]] = [
    (
        "text-file-named-pt",
        lambda r, t: str(_write(t / "x.pt", "hello\n")),
        [],
        "not a torch zip archive",
    ),
    ("zip-not-torch", lambda r, t: _zip_not_torch(t), [], "corrupted or not a checkpoint"),
    ("missing-file", lambda r, t: str(t / "missing.pt"), [], "does not exist"),
    ("folder-not-a-run", lambda r, t: str(t), [], "is not a run folder (no config.json"),
    ("run-without-checkpoint", lambda r, t: _no_checkpoint(r), [], "has no latest.pt checkpoint"),
    (
        "checkpoint-of-another-task",
        lambda r, t: _other_task_checkpoint(r),
        [],
        "does not belong to this run folder: env.task is 'max-of-three' in the checkpoint",
    ),
    ("truncated-checkpoint", lambda r, t: _truncated(r), [], "not a torch zip archive"),
    ("episodes-0", lambda r, t: str(r), ["--episodes", "0"], "--episodes: must be in 1.."),
    ("episodes-huge", lambda r, t: str(r), ["--episodes", "1000000000"], "--episodes"),
    ("seed-negative", lambda r, t: str(r), ["--seed", "-3"], "--seed: must be in 0.."),
    ("which-unknown", lambda r, t: str(r), ["--which", "first"], "invalid choice: 'first'"),
    ("device-unknown", lambda r, t: str(r), ["--device", "gpu"], "invalid choice: 'gpu'"),
]


@pytest.mark.parametrize(
    ("build", "extra", "expected"),
    [pytest.param(b, x, e, id=i) for i, b, x, e in EVALUATE_CASES],
)
def test_evaluate_refuses_bad_input(
    build: Callable[[Path, Path], str],
    extra: list[str],
    expected: str,
    run_copy: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    target = build(run_copy, work)
    before = _snapshot(tmp_path)
    code, err = _run(["evaluate", target, *extra], capsys)
    _assert_refused(code, err, expected)
    assert _snapshot(tmp_path) == before, "evaluate writes nothing"


# ----------------------------------------------------------------------------------- resume


def _changed_config(run: Path) -> str:
    cfg = json.loads((run / "config.json").read_text())
    cfg["algo"]["num_particles"] = 8
    (run / "config.json").write_text(json.dumps(cfg))
    return str(run)


def _config_not_json(run: Path) -> str:
    (run / "config.json").write_text("{")
    return str(run)


def _config_unknown_key(run: Path) -> str:
    cfg = json.loads((run / "config.json").read_text())
    cfg["algo"]["particles"] = 8
    (run / "config.json").write_text(json.dumps(cfg))
    return str(run)


@pytest.fixture
def live_process() -> Iterator[int]:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc.pid
    proc.kill()
    proc.wait()


def _in_progress(run: Path, pid: int) -> str:
    status = {"state": "running", "env_steps": 64, "pid": pid, "host": socket.gethostname()}
    (run / "status.json").write_text(json.dumps(status))
    return str(run)


#: (id, builder(run copy, tmp, live pid) -> target, extra argv, expected)
RESUME_CASES: list[tuple[str, Callable[[Path, Path, int], str], list[str], str]] = [
    ("missing-folder", lambda r, t, p: str(t / "nope"), [], "does not exist"),
    ("folder-not-a-run", lambda r, t, p: str(t), [], "is not a run folder"),
    (
        "config-of-another-run",
        lambda r, t, p: _changed_config(r),
        [],
        "written by a different config: algo.num_particles is 4 in the checkpoint and 8 in "
        "config.json",
    ),
    ("config-not-json", lambda r, t, p: _config_not_json(r), [], "is not valid JSON"),
    ("config-unknown-key", lambda r, t, p: _config_unknown_key(r), [], "algo.particles"),
    ("truncated-checkpoint", lambda r, t, p: _truncated(r), [], "not a torch zip archive"),
    (
        "trained-by-a-live-process",
        lambda r, t, p: _in_progress(r, p),
        [],
        "is being trained by process",
    ),
    ("steps-0", lambda r, t, p: str(r), ["--steps", "0"], "--steps: must be in 1.."),
    ("device-unknown", lambda r, t, p: str(r), ["--device", "tpu"], "invalid choice: 'tpu'"),
]


@pytest.mark.parametrize(
    ("build", "extra", "expected"),
    [pytest.param(b, x, e, id=i) for i, b, x, e in RESUME_CASES],
)
def test_resume_refuses_bad_input(
    build: Callable[[Path, Path, int], str],
    extra: list[str],
    expected: str,
    run_copy: Path,
    tmp_path: Path,
    live_process: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    target = build(run_copy, work, live_process)
    before = _snapshot(tmp_path)
    code, err = _run(["resume", target, "--no-progress", *extra], capsys)
    _assert_refused(code, err, expected)
    assert _snapshot(tmp_path) == before, "a refused resume leaves the folder as it was"


# ----------------------------------------------------------------------------------- status,
# study

OTHER_CASES: list[tuple[str, list[str], str]] = [
    ("status-not-a-run", ["status", "."], "is not a run folder"),
    ("status-no-argument", ["status"], "the following arguments are required: RUN"),
    ("study-no-file", ["study", "run"], "the following arguments are required: FILE"),
    ("study-action-unknown", ["study", "walk", "s.toml"], "invalid choice: 'walk'"),
    ("study-missing-file", ["study", "run", "nope.toml"], "study file 'nope.toml': cannot be read"),
    ("study-not-toml", ["study", "run", "nope.json"], "study file 'nope.json': must end in .toml"),
    ("study-workers-0", ["study", "run", "s.toml", "--workers", "0"], "--workers: must be in 1.."),
    ("study-device", ["study", "run", "s.toml", "--device", "tpu"], "invalid choice: 'tpu'"),
    ("no-command", [], "the following arguments are required: COMMAND"),
    ("unknown-command", ["trian"], "invalid choice: 'trian'"),
]


@pytest.mark.parametrize(
    ("argv", "expected"), [pytest.param(a, e, id=i) for i, a, e in OTHER_CASES]
)
def test_other_commands_refuse_bad_input(
    argv: list[str],
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    code, err = _run(argv, capsys)
    _assert_refused(code, err, expected)
    assert list(tmp_path.iterdir()) == [], "nothing is written"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--workers", "1000"], "--workers 1000: this machine has"),
        (["--out", "/proc/svnr-x"], "--out '/proc/svnr-x': cannot write there"),
    ],
    ids=["workers-over-cpus", "out-not-writable"],
)
def test_study_refuses_what_this_machine_cannot_do_before_ray_starts(
    extra: list[str],
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # issue 33: these were accepted silently, or found only after every trial had trained
    monkeypatch.chdir(tmp_path)
    f = grid_study(tmp_path / "s.toml", seeds="[0]", methods=("svnr",))
    code, err = _run(["study", "run", str(f), "--runs", str(tmp_path / "r"), *extra], capsys)
    _assert_refused(code, err, expected)
    assert not (tmp_path / "r").exists(), "no run folder, no Ray"


def test_study_on_cuda_without_a_gpu_is_refused_at_once(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    f = grid_study(tmp_path / "s.toml", seeds="[0]", methods=("svnr",))
    argv = ["study", "run", str(f), "--runs", str(tmp_path / "r"), "--device", "cuda"]
    code, err = _run([*argv, "--out", str(tmp_path / "o")], capsys)
    _assert_refused(code, err, "--device cuda: this machine has no CUDA device")
    assert not (tmp_path / "r").exists()


# ----------------------------------------------------------------------------------- processes


def _python(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, check=False, **kw
    )  # type: ignore[call-overload,no-any-return]


def test_help_and_usage_errors_do_not_import_torch() -> None:
    """`--help` and argument errors answer without the training stack (seconds of import)."""
    code = (
        "import sys\n"
        "from svnr_rl.__main__ import main\n"
        "for argv in (['--help'], ['train', '--help'], ['evaluate', '--help'], "
        "['resume', '--help'], ['study', '--help'], ['study', 'run', 'x.toml'], "
        "['train', '--steps', '0'], ['study', 'run', 'x.toml', '--workers', '0']):\n"
        "    main(argv)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    proc = _python("-c", code)
    assert proc.returncode == 0, proc.stderr


def test_every_option_has_help_and_shows_its_default() -> None:
    from svnr_rl.__main__ import _build_parser

    parser = _build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():  # type: ignore[attr-defined]
        for action in p._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"
    text = sub.choices["evaluate"].format_help()  # type: ignore[attr-defined]
    assert "(default: 100)" in text
    assert "(default: 12345)" in text


def test_process_exit_status_and_ctrl_c(tmp_path: Path) -> None:
    """A real process: exit 2 on bad input; Ctrl-C in the first second exits 130 without a
    traceback.  (The interpreter's own start-up, some tens of milliseconds before any program
    code runs, is out of every program's reach; the signal is sent after it.)"""
    bad = _python("-m", "svnr_rl", "train", "--set", "algo.num_particles=1e9", cwd=tmp_path)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert bad.stderr.startswith("error: algo.num_particles")
    assert list(tmp_path.iterdir()) == []

    proc = subprocess.Popen(
        [sys.executable, "-m", "svnr_rl", "train", "--out", str(tmp_path / "runs")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a background job of a non-interactive shell inherits SIGINT ignored; restore it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err


def test_evaluate_prints_the_task(finished_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(finished_run), "--episodes", "4"]) == 0
    assert "run: task max-of-three (s2 = 1.5), method svnr, seed 0" in capsys.readouterr().out


def test_ctrl_c_during_native_imports_is_raised_after_them() -> None:
    """A SIGINT inside ``deferred_interrupt`` is held back (a KeyboardInterrupt inside a
    pybind11 module's initialisation would abort the process) and raised when it ends."""
    from svnr_rl.cli_style import deferred_interrupt

    reached_end = False
    try:
        with deferred_interrupt():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the handler runs here; it must not raise
            reached_end = True
    except KeyboardInterrupt:
        raised_after = True
    else:
        raised_after = False
    assert reached_end
    assert raised_after
    with deferred_interrupt():
        pass  # no signal: nothing raised
