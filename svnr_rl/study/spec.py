"""A study file: experiments as data.

A study is a TOML file under ``studies/`` (parsed with :mod:`tomllib`, never executed).  It
names a grid of tasks x methods x seeds with config overrides, optionally a tuning space
(paper App. F.2 / H.5.2: TPE over the Table 9 ranges), and the report to write::

    [study]
    name = "table2"                       # run folders: runs/studies/table2/...
    title = "Table 2 reproduction"
    seeds = [0, 1, 2, 3, 4]               # evaluation seeds
    metric = "final_test_return_mean"     # a key of summary.json, maximized
    train_episodes = 5000                 # optional: episodes per run (x episode length)
    set = ["train.tensorboard=false"]     # overrides of every run

    [[task]]                              # a column: a preset plus overrides
    key = "max-of-three-1.5"
    preset = "max-of-three"
    s2 = 1.5

    [[method]]                            # a row: algo.method plus overrides
    key = "svnr-m"
    method = "svnr"
    set = ['algo.topology="empty"']
    paper = { "max-of-three-1.5" = [9.71, 0.20] }

    [tune]                                # optional: TPE per task x method
    trials = 30
    tuning_seeds = [100, 101]             # disjoint from study.seeds
    [[tune.param]]
    name = "lr"
    targets = ["algo.policy_lr", "algo.critic_lr"]
    low = 1e-4
    high = 1e-1
    log = true

    [report]
    sections = ["table", "curves"]
    [[report.reference]]                  # optional: a reference policy's row in the table
    title = "oracle (learnability card)"
    task = "particle-gather"
    file = "../docs/results/particle_gather/particle-gather/card.json"  # from this file
    field = "policies.oracle.last_step_mean"

Every table and key is checked: an unknown key, a wrong type, an empty grid, overlapping
tuning and evaluation seeds or a size beyond the bounds below raise :class:`ConfigError`
naming the entry, before anything runs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from svnr_rl.config import TASKS, ConfigError, read_config_file
from svnr_rl.gather_diagnostics import GATHER_TASKS
from svnr_rl.study.toml_table import Table

__all__ = [
    "MAX_RUNS",
    "SECTIONS",
    "MethodEntry",
    "ParamSpec",
    "ReferenceRow",
    "ReportSpec",
    "StudySpec",
    "TaskEntry",
    "TuneSpec",
    "load_study",
    "parse_study",
]

#: the report sections a study may ask for (:mod:`svnr_rl.study.report`)
SECTIONS: tuple[str, ...] = (
    "table",
    "runs",
    "per_seed",
    "curves",
    "scatter",
    "two_modalities",
    "gather",
    "guided",
    "tuning",
    "coordination",
)
#: at most this many training runs per study (grid x seeds, plus trials x tuning seeds)
MAX_RUNS = 100_000
_MAX_TRIALS = 10_000
_METRICS = ("final_test_return_mean", "final_test_last_reward_mean", "best_test_return")
_PARAM_TYPES = ("float", "int", "categorical")


@dataclass(frozen=True)
class TaskEntry:
    """A column of the study: a task preset, ``s2`` for Max of Three, and overrides.

    ``guided_env_steps > 0`` makes the behaviour policy the uncoordinated steer-to-landmark
    heuristic for that many environment steps (Particle Gather only; a diagnostic of
    exploration, :mod:`svnr_rl.guided_trainer`)."""

    key: str
    preset: str
    title: str
    s2: float | None = None
    set: tuple[str, ...] = ()
    guided_env_steps: int = 0


@dataclass(frozen=True)
class MethodEntry:
    """A row of the study: ``algo.method`` plus overrides, and the paper's numbers
    ``paper[task key] = (mean, std)`` where the paper reports them."""

    key: str
    method: str
    title: str
    set: tuple[str, ...] = ()
    paper: Mapping[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class ParamSpec:
    """One tuned parameter: its range and distribution, and the config fields it sets
    (one parameter may set several fields, e.g. the paper's single learning rate)."""

    name: str
    targets: tuple[str, ...]
    kind: str
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    choices: tuple[Any, ...] = ()
    methods: tuple[str, ...] = ()

    def applies_to(self, method_key: str) -> bool:
        """Whether the parameter is tuned for ``method_key`` (all methods when unrestricted)."""
        return not self.methods or method_key in self.methods


@dataclass(frozen=True)
class TuneSpec:
    """TPE per task x method: ``trials`` trials, each trained on every tuning seed and scored
    by the mean metric; ``batch`` trials are proposed together from the same history, so the
    proposals do not depend on how many workers run them."""

    trials: int
    tuning_seeds: tuple[int, ...]
    params: tuple[ParamSpec, ...]
    batch: int = 2
    startup_trials: int = 10
    sampler_seed: int = 0


@dataclass(frozen=True)
class ReferenceRow:
    """A reference policy's figure, shown under the methods in the results table (e.g. a
    scripted oracle or a centralized SAC bound from a learnability card), so that a reader
    sees how close each method comes to what is possible.

    The number is not written in the study file: it is read at report time from ``field``
    (a dotted path, ``policies.oracle.last_step_mean``) of the committed JSON ``file``
    (relative to the study file's folder) that the reference's own command wrote."""

    title: str
    task: str
    file: str
    field: str


@dataclass(frozen=True)
class ReportSpec:
    """Which sections the report holds, the Fig. 5/7 task, free text (markdown) that
    follows the sections (what the numbers mean, written once in the study file), and the
    reference rows of the results table."""

    sections: tuple[str, ...] = ("table", "per_seed", "curves")
    scatter_task: str = ""
    notes: str = ""
    references: tuple[ReferenceRow, ...] = ()


@dataclass(frozen=True)
class StudySpec:
    """A whole study file (:func:`load_study`); ``path`` names it in every report."""

    name: str
    title: str
    description: str
    seeds: tuple[int, ...]
    metric: str
    train_episodes: int | None
    set: tuple[str, ...]
    tasks: tuple[TaskEntry, ...]
    methods: tuple[MethodEntry, ...]
    report: ReportSpec
    tune: TuneSpec | None = None
    path: str = ""

    def task(self, key: str) -> TaskEntry:
        return next(t for t in self.tasks if t.key == key)

    def method(self, key: str) -> MethodEntry:
        return next(m for m in self.methods if m.key == key)


# ---------------------------------------------------------------------------------- parsing


def _key(t: Table) -> str:
    key = t.text("key", required=True)
    if not key or not all(c.isalnum() or c in "-_." for c in key) or key.startswith("."):
        raise ConfigError(f"{t.where}.key: letters, digits, '-', '_' and '.' only; got {key!r}")
    return key


def _unique(entries: Sequence[TaskEntry] | Sequence[MethodEntry], what: str) -> None:
    keys = [e.key for e in entries]
    dup = next((k for k in keys if keys.count(k) > 1), None)
    if dup is not None:
        raise ConfigError(f"{what}: key {dup!r} is used twice")


def _task(t: Table) -> TaskEntry:
    key = _key(t)
    name = t.text("preset", required=True)
    if name not in TASKS:
        raise ConfigError(f"{t.where}.preset: must be one of {', '.join(TASKS)}; got {name!r}")
    entry = TaskEntry(
        key=key,
        preset=name,
        title=t.text("title", key),
        s2=t.number("s2"),
        set=t.strings("set"),
        guided_env_steps=t.integer("guided_env_steps", 0, 0, 10**9),
    )
    if entry.guided_env_steps and name not in GATHER_TASKS:
        raise ConfigError(
            f"{t.where}.guided_env_steps: defined for {' and '.join(GATHER_TASKS)} only"
        )
    t.done()
    return entry


def _method(t: Table, task_keys: set[str]) -> MethodEntry:
    from svnr_rl.config import METHODS

    key = _key(t)
    method = t.text("method", required=True)
    if method not in METHODS:
        raise ConfigError(f"{t.where}.method: must be one of {', '.join(METHODS)}; got {method!r}")
    paper: dict[str, tuple[float, float]] = {}
    raw = t.table("paper")
    if raw is not None:
        for task_key, pair in raw.data.items():
            if task_key not in task_keys:
                raise ConfigError(f"{t.where}.paper.{task_key}: not a task key of this study")
            ok = isinstance(pair, list) and len(pair) == 2
            if not ok or not all(isinstance(x, int | float) and math.isfinite(x) for x in pair):
                raise ConfigError(f"{t.where}.paper.{task_key}: expected [mean, std]")
            paper[task_key] = (float(pair[0]), float(pair[1]))
    entry = MethodEntry(key, method, t.text("title", key), t.strings("set"), paper)
    t.done()
    return entry


def _param(t: Table, method_keys: set[str]) -> ParamSpec:
    name = t.text("name", required=True)
    targets = t.strings("targets") or (name,)
    for target in targets:
        if target.count(".") != 1:
            raise ConfigError(f"{t.where}.targets: {target!r} is not a section.field name")
    kind = t.text("type", "float")
    if kind not in _PARAM_TYPES:
        raise ConfigError(f"{t.where}.type: must be one of {', '.join(_PARAM_TYPES)}")
    methods = t.strings("methods")
    bad = [m for m in methods if m not in method_keys]
    if bad:
        raise ConfigError(f"{t.where}.methods: {bad[0]!r} is not a method key of this study")
    if kind == "categorical":
        raw = t._get("choices", [], True)
        if not isinstance(raw, list) or not raw:
            raise ConfigError(f"{t.where}.choices: expected a non-empty list")
        choices = tuple(json.dumps(c) if isinstance(c, list | dict) else c for c in raw)
        spec = ParamSpec(name, targets, kind, choices=choices, methods=methods)
    else:
        low, high = t.number("low", required=True), t.number("high", required=True)
        assert low is not None
        assert high is not None
        log = t.flag("log", False)
        if not low < high or (log and low <= 0):
            raise ConfigError(f"{t.where}: needs low < high (and low > 0 with log = true)")
        if kind == "int" and (low != int(low) or high != int(high)):
            raise ConfigError(f"{t.where}: an int parameter needs integer low and high")
        spec = ParamSpec(name, targets, kind, low, high, log, methods=methods)
    t.done()
    return spec


def _tune(t: Table, method_keys: set[str], seeds: tuple[int, ...]) -> TuneSpec:
    tuning = t.seeds("tuning_seeds", required=True)
    both = sorted(set(tuning) & set(seeds))
    if both:
        raise ConfigError(
            f"tune.tuning_seeds: seed {both[0]} is also an evaluation seed (study.seeds); "
            "tuning and evaluation seeds must be disjoint"
        )
    params = tuple(_param(p, method_keys) for p in t.tables("param", required=True))
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise ConfigError("tune.param: a parameter name is used twice")
    spec = TuneSpec(
        trials=t.integer("trials", 0, 1, _MAX_TRIALS),
        tuning_seeds=tuning,
        params=params,
        batch=t.integer("batch", 2, 1, 256),
        startup_trials=t.integer("startup_trials", 10, 0, _MAX_TRIALS),
        sampler_seed=t.integer("sampler_seed", 0, 0, 2**31 - 1),
    )
    t.done()
    return spec


def _report(t: Table | None, task_keys: set[str]) -> ReportSpec:
    if t is None:
        return ReportSpec()
    sections = t.strings("sections") or ReportSpec.sections
    bad = [s for s in sections if s not in SECTIONS]
    if bad:
        raise ConfigError(f"report.sections: unknown {bad[0]!r}; known: {', '.join(SECTIONS)}")
    scatter = t.text("scatter_task")
    if scatter and scatter not in task_keys:
        raise ConfigError(f"report.scatter_task: {scatter!r} is not a task key of this study")
    references = tuple(_reference(r, task_keys) for r in t.tables("reference", required=False))
    spec = ReportSpec(tuple(sections), scatter, t.text("notes"), references)
    t.done()
    return spec


def _reference(t: Table, task_keys: set[str]) -> ReferenceRow:
    title = t.text("title", required=True).strip()
    if not title:
        raise ConfigError(f"{t.where}.title: must not be empty")
    task = t.text("task", required=True)
    if task not in task_keys:
        raise ConfigError(f"{t.where}.task: {task!r} is not a task key of this study")
    file = t.text("file", required=True)
    if not file.endswith(".json") or Path(file).is_absolute():
        raise ConfigError(
            f"{t.where}.file: expected a relative path to a .json file (from the study "
            f"file's folder); got {file!r}"
        )
    field = t.text("field", required=True)
    if not all(part.strip() for part in field.split(".")):
        raise ConfigError(f"{t.where}.field: expected a dotted path such as a.b.c; got {field!r}")
    t.done()
    return ReferenceRow(title, task, file, field)


def parse_study(data: Mapping[str, Any], path: str = "") -> StudySpec:
    """The :class:`StudySpec` of parsed TOML ``data`` (``path`` is recorded, not read)."""
    top = Table(dict(data), "")
    head = top.table("study")
    if head is None:
        raise ConfigError("study: required ([study] table with name and seeds)")
    name = _key_like(head.text("name", required=True), "study.name")
    seeds = head.seeds("seeds", required=True)
    metric = head.text("metric", "final_test_return_mean")
    if metric not in _METRICS:
        raise ConfigError(f"study.metric: must be one of {', '.join(_METRICS)}; got {metric!r}")
    episodes = head._get("train_episodes", None, False)
    if episodes is not None:
        episodes = head.integer("train_episodes", 1, 1, 10**8)
    title, description, sets = (
        head.text("title", name),
        head.text("description"),
        head.strings("set"),
    )
    head.done()
    tasks = tuple(_task(t) for t in top.tables("task", required=True))
    _unique(tasks, "task")
    task_keys = {t.key for t in tasks}
    methods = tuple(_method(m, task_keys) for m in top.tables("method", required=True))
    _unique(methods, "method")
    tune_table = top.table("tune")
    tune = None if tune_table is None else _tune(tune_table, {m.key for m in methods}, seeds)
    report = _report(top.table("report"), task_keys)
    top.done()
    if "tuning" in report.sections and tune is None:
        raise ConfigError("report.sections: 'tuning' needs a [tune] table")
    if "scatter" in report.sections and not report.scatter_task:
        raise ConfigError("report.scatter_task: required by the 'scatter' section")
    runs = len(tasks) * len(methods) * len(seeds)
    if tune is not None:
        runs += len(tasks) * len(methods) * tune.trials * len(tune.tuning_seeds)
    if runs > MAX_RUNS:
        raise ConfigError(f"study: {runs:,} training runs; at most {MAX_RUNS:,} per study")
    return StudySpec(
        name=name,
        title=title,
        description=description,
        seeds=seeds,
        metric=metric,
        train_episodes=episodes,
        set=sets,
        tasks=tasks,
        methods=methods,
        report=report,
        tune=tune,
        path=path,
    )


def _key_like(text: str, where: str) -> str:
    if not text or not all(c.isalnum() or c in "-_." for c in text) or text.startswith("."):
        raise ConfigError(f"{where}: letters, digits, '-', '_' and '.' only; got {text!r}")
    return text


def load_study(path: str | Path) -> StudySpec:
    """Read and check a study file (``.toml``); errors name the file and the entry."""
    p = Path(path)
    if p.suffix != ".toml":
        raise ConfigError(f"study file {str(p)!r}: must end in .toml")
    try:
        data = read_config_file(p)
        return parse_study(data, str(p))
    except ConfigError as exc:
        msg = str(exc).replace(f"config file {str(p)!r}: ", "")
        raise ConfigError(f"study file {str(p)!r}: {msg}") from None
