"""One trial of a study = one run folder of today's form (``config.json``, ``metrics.csv``,
``summary.json``, checkpoints), trained, resumed or reused by :func:`run_trial`.

A finished trial is never trained twice (its folder is reused); an interrupted one resumes
exactly from its last checkpoint (``kill -9`` included), so a rerun of the study finishes
identical to an uninterrupted one; a failed one leaves ``failure.json`` (the error) in its
folder and is retried by the next invocation.
"""

from __future__ import annotations

import contextlib
import functools
import json
import shutil
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from svnr_rl.atomic_file import write_atomic
from svnr_rl.config import (
    Config,
    ConfigError,
    apply_overrides,
    preset,
    resolve_run_length,
)
from svnr_rl.run_status import is_completed, run_state
from svnr_rl.study.spec import MethodEntry, StudySpec, TaskEntry

if TYPE_CHECKING:
    from svnr_rl.train import Trainer

__all__ = [
    "FAILURE_JSON",
    "TRIAL_JSON",
    "Outcome",
    "Trial",
    "check_same_config",
    "episode_steps",
    "finished_summary",
    "grid_trials",
    "read_failure",
    "record_failure",
    "recorded_trainer_factory",
    "run_trial",
    "run_trial_safe",
    "validate",
]

#: the error of the last failed attempt of a trial (removed when it succeeds)
FAILURE_JSON = "failure.json"
#: what a trial is (study, task, method, seed, tuned parameters), beside config.json
TRIAL_JSON = "trial.json"
#: how long a trial waits for an earlier process to release its folder: the workers of a
#: study killed with ``kill -9`` die within seconds of their Ray node, and a rerun started at
#: once would otherwise find the folder still held
RELEASE_WAIT_S = 60.0
#: config entries that may differ between an existing run folder and a rerun of the study
_FREE_KEYS = ("progress", "tensorboard", "device", "threads", "out_dir", "run_name")


@dataclass(frozen=True)
class Trial:
    """One training run of a study (picklable: it crosses process and machine boundaries).

    ``params`` are tuned values as ``section.field=value`` overrides (empty outside tuning);
    ``tuning`` names the TPE trial (``task/method#number``) a tuning run belongs to."""

    study: str
    task: TaskEntry
    method: MethodEntry
    seed: int
    run_dir: str
    study_set: tuple[str, ...] = ()
    train_episodes: int | None = None
    params: tuple[str, ...] = ()
    device: str = "cpu"
    tuning: str = ""
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        what = f"trial {self.tuning.split('#')[1]} " if self.tuning else ""
        return f"{self.task.key} {self.method.key} {what}seed {self.seed}"

    def config(self) -> Config:
        """Task preset -> method -> budget -> task and study overrides -> tuned values ->
        seed and folder.  Raises :class:`ConfigError` naming the bad entry."""
        cfg = preset(self.task.preset, s2=self.task.s2)
        extra = [f"algo.method={json.dumps(self.method.method)}", *self.method.set]
        extra.append("train.tensorboard=false")
        if self.train_episodes is not None:
            steps = self.train_episodes * episode_steps(self.task.preset, self.task.s2)
            extra += [
                f"train.total_env_steps={steps}",
                f"train.eval_interval={min(cfg.train.eval_interval, steps)}",
            ]
        extra += [*self.task.set, *self.study_set, *self.params]
        rd = Path(self.run_dir)
        extra += [
            f"train.seed={self.seed}",
            f"train.device={json.dumps(self.device)}",
            f"train.out_dir={json.dumps(str(rd.parent))}",
            f"train.run_name={json.dumps(rd.name)}",
            "train.progress=false",
        ]
        try:
            return apply_overrides(cfg, extra)
        except ConfigError as exc:
            raise ConfigError(f"{self.task.key} / {self.method.key}: {exc}") from None


def grid_trials(spec: StudySpec, runs: Path, device: str = "cpu") -> list[Trial]:
    """The evaluation grid: every task x method x seed, folders ``runs/TASK/METHOD/seedK``."""
    return [
        Trial(
            study=spec.name,
            task=t,
            method=m,
            seed=s,
            run_dir=str(runs / t.key / m.key / f"seed{s}"),
            study_set=spec.set,
            train_episodes=spec.train_episodes,
            device=device,
        )
        for t in spec.tasks
        for m in spec.methods
        for s in spec.seeds
    ]


@functools.cache
def episode_steps(task: str, s2: float | None) -> int:
    """Environment steps of one full-length episode (1 for the differential games)."""
    from svnr_rl.envs.registry import make_batched

    env = make_batched(task, 1, **({} if s2 is None else {"s2": s2}))
    try:
        return int(env.spec.episode_limit)
    finally:
        env.close()


@dataclass(frozen=True)
class Outcome:
    """What one attempt at a trial did: ``trained``, ``resumed``, ``reused`` or ``failed``."""

    trial: Trial
    action: str
    seconds: float
    error: str = ""
    summary: dict[str, Any] = field(default_factory=dict)


def check_same_config(run_dir: Path, cfg: Config) -> None:
    """Refuse a run folder that was trained with another configuration than ``cfg`` (whose
    run length is first resolved to whole evaluation segments, as training records it)."""
    from svnr_rl.run_folder import config_differences, load_run_config

    diffs = config_differences(load_run_config(run_dir), resolve_run_length(cfg)[0], _FREE_KEYS)
    if diffs:
        raise ConfigError(
            f"run folder {str(run_dir)!r} was made with a different configuration "
            f"({', '.join(diffs[:3])}{' ...' if len(diffs) > 3 else ''}); "
            "use another --runs folder (or delete it) to run this study"
        )


def _factory_for(guided_env_steps: int) -> Any:
    """The plain trainer, or the guided one for ``guided_env_steps > 0``."""
    if guided_env_steps <= 0:
        from svnr_rl.train import Trainer

        return Trainer
    from svnr_rl.guided_trainer import guided_factory

    return guided_factory(guided_env_steps)


def _trainer_factory(trial: Trial) -> Any:
    """The trainer of ``trial``'s task (guided for a task with ``guided_env_steps``)."""
    return _factory_for(trial.task.guided_env_steps)


def recorded_trainer_factory(run_dir: Path) -> Any:
    """The trainer a run folder was started with, from its ``trial.json`` (a study trial's
    record; the guided start is not in the config): the plain one without a readable record."""
    try:
        meta = json.loads((run_dir / TRIAL_JSON).read_text())
    except (OSError, ValueError):
        return _factory_for(0)  # no record, or an unreadable one: the folder's checks speak
    steps = meta.get("guided_env_steps", 0) if isinstance(meta, dict) else 0
    return _factory_for(steps if isinstance(steps, int) else 0)


def run_trial(trial: Trial, on_step: Callable[[Trainer], None] | None = None) -> Outcome:
    """Train, resume or reuse one trial's run folder (in a Ray worker or in-process).

    ``trial.json`` is written at the first step already (and again at the end), so that a run
    stopped early carries its record (the guided start, which is not in the config, included)
    for ``python -m svnr_rl resume``.  ``on_step`` is passed on to the trainer (tests)."""
    from svnr_rl.train import resume, train

    recorded = False

    def step(trainer: Trainer) -> None:
        nonlocal recorded
        if not recorded:
            _write_trial_json(trial)
            recorded = True
        if on_step is not None:
            on_step(trainer)

    t0 = time.perf_counter()
    cfg = trial.config()
    rd = Path(trial.run_dir)
    factory = _trainer_factory(trial)
    if (rd / "config.json").is_file():
        check_same_config(rd, cfg)
        _wait_for_release(rd)
        done = finished_summary(rd)
        if done is not None:
            return Outcome(trial, "reused", 0.0, summary=done)
        resume(rd, trainer_factory=factory, on_step=step)
        action = "resumed"
    else:
        if rd.exists():
            # made but never configured (killed between mkdir and config.json, or a failure
            # before training): start over
            shutil.rmtree(rd)
        train(cfg, trainer_factory=factory, on_step=step)
        action = "trained"
    _write_trial_json(trial)
    (rd / FAILURE_JSON).unlink(missing_ok=True)
    return Outcome(trial, action, time.perf_counter() - t0, summary=_summary(rd))


def _wait_for_release(rd: Path) -> None:
    """Wait (bounded) while a live process still trains ``rd``; ``resume`` then refuses it
    with a clear error if it is still held."""
    deadline = time.monotonic() + RELEASE_WAIT_S
    while run_state(rd) == "running" and time.monotonic() < deadline:
        time.sleep(0.25)


def _summary(rd: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((rd / "summary.json").read_text())
    return data


def finished_summary(run_dir: Path) -> dict[str, Any] | None:
    """The ``summary.json`` of a run folder that trained to its end, else ``None``."""
    if is_completed(run_dir) and (run_dir / "summary.json").is_file():
        return _summary(run_dir)
    return None


def _write_trial_json(trial: Trial) -> None:
    meta = {
        "study": trial.study,
        "task": trial.task.key,
        "method": trial.method.key,
        "seed": trial.seed,
        "tuning": trial.tuning,
        "params": trial.values,
        # not in the config: `python -m svnr_rl resume` reads it to resume a guided run guided
        "guided_env_steps": trial.task.guided_env_steps,
    }
    write_atomic(Path(trial.run_dir) / TRIAL_JSON, json.dumps(meta, indent=2) + "\n")


def record_failure(trial: Trial, error: str) -> None:
    """Write ``failure.json`` (the error, with its traceback when known) into the folder."""
    data = json.dumps({"trial": trial.label, "error": error}, indent=2) + "\n"
    write_atomic(Path(trial.run_dir) / FAILURE_JSON, data)


def read_failure(run_dir: Path) -> str | None:
    """The recorded error of a failed trial's folder, or ``None``."""
    p = run_dir / FAILURE_JSON
    if not p.is_file():
        return None
    try:
        return str(json.loads(p.read_text())["error"])
    except (ValueError, KeyError, TypeError):
        return "failure.json is unreadable"


def run_trial_safe(trial: Trial) -> Outcome:
    """:func:`run_trial`; an exception becomes a ``failed`` outcome recorded in the folder
    (a failed trial must not stop the study)."""
    t0 = time.perf_counter()
    try:
        return run_trial(trial)
    except Exception as exc:
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" (at {last[0].filename}:{last[0].lineno})" if last else ""
        error = f"{type(exc).__name__}: {exc}{where}"
        with contextlib.suppress(OSError):
            record_failure(trial, error)
        return Outcome(trial, "failed", time.perf_counter() - t0, error)


def validate(trial: Trial) -> Config:
    """The trial's config, checked against an existing folder (before anything trains)."""
    cfg = trial.config()
    rd = Path(trial.run_dir)
    if (rd / "config.json").is_file():
        check_same_config(rd, cfg)
    return cfg
