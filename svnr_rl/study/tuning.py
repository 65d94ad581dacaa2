"""Tuning with Optuna's TPE, as the paper tunes every method (App. F.2, H.5.2): per task x
method, ``tune.trials`` trials over the study file's ranges, each trained on every tuning
seed and scored by the mean metric; then the best configuration is trained on the
evaluation seeds (``study.seeds``, disjoint from the tuning seeds) into the grid's folders.

Reproducible and resumable by construction:

* the Optuna study lives in a journal file (``RUNS/optuna.journal``), and every run of a
  trial is a run folder (``RUNS/tune/TASK/METHOD/trialNNNN/seedK``) that resumes exactly;
* trials are proposed in batches of ``tune.batch`` from the history of the batches before
  (so the proposals do not depend on ``--workers``), each with its own sampler seed derived
  from ``(tune.sampler_seed, trial number)``; a batch is told only when all of it is done.
  After a kill (``-9`` included) the unfinished batch is completed with the parameters it
  was given, so the study finishes identical to an uninterrupted one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from svnr_rl.study.engine import Engine, Progress
from svnr_rl.study.spec import MethodEntry, ParamSpec, StudySpec, TaskEntry, TuneSpec
from svnr_rl.study.trials import Outcome, Trial

if TYPE_CHECKING:
    import optuna

__all__ = ["JOURNAL", "best_trial", "check_space", "distributions", "override", "tune_study"]

#: the Optuna journal of a study's runs folder
JOURNAL = "optuna.journal"


def override(p: ParamSpec, value: Any) -> list[str]:
    """The ``section.field=value`` overrides that set a parameter's value on its targets."""
    if p.kind == "categorical" and isinstance(value, str) and value[:1] in "[{":
        text = value  # a list or table choice, kept as its JSON text
    elif isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, str):
        text = json.dumps(value)
    elif p.kind == "int" or isinstance(value, int):
        text = str(int(value))
    else:
        text = repr(float(value))
    return [f"{target}={text}" for target in p.targets]


def _distribution(p: ParamSpec) -> Any:
    import optuna

    if p.kind == "categorical":
        return optuna.distributions.CategoricalDistribution(list(p.choices))
    if p.kind == "int":
        return optuna.distributions.IntDistribution(int(p.low), int(p.high), log=p.log)
    return optuna.distributions.FloatDistribution(p.low, p.high, log=p.log)


def distributions(tune: TuneSpec, method_key: str) -> dict[str, Any]:
    """The Optuna search space of one method (parameters restricted to other methods left out)."""
    return {p.name: _distribution(p) for p in tune.params if p.applies_to(method_key)}


def _trial_seed(sampler_seed: int, number: int) -> int:
    return int(np.random.SeedSequence([sampler_seed, number]).generate_state(1)[0])


def best_trial(values: dict[int, float]) -> int | None:
    """The best trial number: largest value, the lowest number among ties."""
    finite = {n: v for n, v in values.items() if math.isfinite(v)}
    if not finite:
        return None
    top = max(finite.values())
    return min(n for n, v in finite.items() if v == top)


@dataclass
class _PairTuner:
    """TPE over one task x method, batch by batch."""

    spec: StudySpec
    task: TaskEntry
    method: MethodEntry
    runs: Path
    device: str
    study: optuna.Study
    pending: dict[int, dict[int, Outcome | None]] = field(default_factory=dict)
    params: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.task.key}/{self.method.key}"

    @property
    def tune(self) -> TuneSpec:
        assert self.spec.tune is not None
        return self.spec.tune

    def _trial(
        self, seed: int, run_dir: Path, params: dict[str, Any], values: dict[str, Any], tuning: str
    ) -> Trial:
        """A run of this task x method with the tuned ``params`` set on their targets."""
        overrides = [
            o for p in self.tune.params if p.name in params for o in override(p, params[p.name])
        ]
        return Trial(
            study=self.spec.name,
            task=self.task,
            method=self.method,
            seed=seed,
            run_dir=str(run_dir),
            study_set=self.spec.set,
            train_episodes=self.spec.train_episodes,
            params=tuple(overrides),
            device=self.device,
            tuning=tuning,
            values=values,
        )

    def _run_trials(self, number: int, params: dict[str, Any]) -> list[Trial]:
        folder = self.runs / "tune" / self.task.key / self.method.key / f"trial{number:04d}"
        tuning = f"{self.key}#{number}"
        return [
            self._trial(s, folder / f"seed{s}", params, dict(params), tuning)
            for s in self.tune.tuning_seeds
        ]

    def next_batch(self) -> list[Trial]:
        """The runs of the current batch: its unfinished trials (after a kill), then new
        proposals up to the batch boundary.  Empty when every trial is told."""
        import optuna

        state = optuna.trial.TrialState
        trials = self.study.get_trials(deepcopy=False)
        running = sorted(t.number for t in trials if t.state == state.RUNNING)
        start = running[0] if running else len(trials)
        end = min(self.tune.trials, (start // self.tune.batch + 1) * self.tune.batch)
        for t in trials:
            if t.state == state.RUNNING:
                self.params[t.number] = dict(t.params)
        space = distributions(self.tune, self.method.key)
        while len(self.study.get_trials(deepcopy=False)) < end:
            n = len(self.study.get_trials(deepcopy=False))
            self.study.sampler = optuna.samplers.TPESampler(
                seed=_trial_seed(self.tune.sampler_seed, n),
                n_startup_trials=self.tune.startup_trials,
            )
            asked = self.study.ask(space)
            self.params[asked.number] = dict(asked.params)
        out: list[Trial] = []
        for number in sorted(self.params):
            if number not in self.pending:
                runs = self._run_trials(number, self.params[number])
                self.pending[number] = {r.seed: None for r in runs}
                out += runs
        return out

    def record(self, o: Outcome) -> bool:
        """Note one run's outcome; ``True`` when the whole batch is done and told."""
        number = int(o.trial.tuning.split("#")[1])
        self.pending[number][o.trial.seed] = o
        if any(v is None for runs in self.pending.values() for v in runs.values()):
            return False
        import optuna

        for n in sorted(self.pending):
            outs = [x for x in self.pending[n].values() if x is not None]
            values = [x.summary.get(self.spec.metric) for x in outs]
            if any(x.action == "failed" for x in outs) or not all(
                isinstance(v, int | float) and math.isfinite(v) for v in values
            ):
                self.study.tell(n, state=optuna.trial.TrialState.FAIL)
            else:
                self.study.tell(n, float(np.mean([float(v) for v in values if v is not None])))
        self.pending.clear()
        self.params.clear()
        return True

    def evaluation(self) -> list[Trial]:
        """The best configuration on the evaluation seeds, in the grid's folders."""
        import optuna

        done = self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        values = {t.number: float(t.value) for t in done if t.value is not None}
        best = best_trial(values)
        if best is None:
            return []
        params = next(t.params for t in done if t.number == best)
        values_of_best = {**params, "_best_trial": best, "_best_value": values[best]}
        folder = self.runs / self.task.key / self.method.key
        return [
            self._trial(s, folder / f"seed{s}", params, values_of_best, "") for s in self.spec.seeds
        ]


def _storage(runs: Path) -> Any:
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    runs.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str(runs / JOURNAL)))


def tune_study(
    spec: StudySpec,
    runs: Path,
    workers: int,
    address: str | None,
    progress: Progress,
    device: str = "cpu",
) -> list[Outcome]:
    """Tune every task x method, then train each best configuration on the evaluation seeds."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = _storage(runs)
    tuners: dict[str, _PairTuner] = {}
    for task in spec.tasks:
        for method in spec.methods:
            study = optuna.create_study(
                study_name=f"{task.key}/{method.key}",
                storage=storage,
                direction="maximize",
                load_if_exists=True,
            )
            tuner = _PairTuner(spec, task, method, runs, device, study)
            tuners[tuner.key] = tuner
            told = sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))
            progress.total -= told * len(spec.tune.tuning_seeds) if spec.tune else 0
            if told and progress.out is not None:
                print(
                    f"{tuner.key}: {told} of {spec.tune.trials if spec.tune else 0} trials "
                    "already told (journal)",
                    file=progress.out,
                )
    with Engine(workers, address, progress) as engine:
        for tuner in tuners.values():
            engine.submit(tuner.next_batch() or tuner.evaluation())
        while engine.busy:
            for o in engine.wait():
                if not o.trial.tuning:
                    continue
                tuner = tuners[o.trial.tuning.split("#")[0]]
                if tuner.record(o):
                    engine.submit(tuner.next_batch() or tuner.evaluation())
    return progress.outcomes


def tuning_runs(spec: StudySpec, runs: Path) -> list[dict[str, Any]]:
    """Every finished tuning run folder of a study, read back: ``task``, ``method``,
    ``number``, ``seed``, ``params``, the metric ``value``, ``wall_time_s`` and the task's
    ``target_return`` (None where the task has none)."""
    out = []
    root = runs / "tune"
    for meta_path in sorted(root.glob("*/*/trial*/seed*/trial.json")):
        rd = meta_path.parent
        summary = rd / "summary.json"
        if not summary.is_file():
            continue
        meta = json.loads(meta_path.read_text())
        result = json.loads(summary.read_text())
        out.append(
            {
                "task": meta["task"],
                "method": meta["method"],
                "number": int(str(meta["tuning"]).split("#")[1]),
                "seed": int(meta["seed"]),
                "params": meta["params"],
                "value": result.get(spec.metric),
                "wall_time_s": float(result["wall_time_s"]),
                "target_return": result.get("target_return"),
            }
        )
    return out


def trial_values(rows: Sequence[dict[str, Any]], n_seeds: int) -> dict[int, float]:
    """Mean metric per trial number over its tuning seeds (trials with every seed only)."""
    by: dict[int, list[float]] = {}
    for r in rows:
        by.setdefault(r["number"], []).append(float(r["value"]))
    return {n: float(np.mean(v)) for n, v in by.items() if len(v) == n_seeds}


def check_space(spec: StudySpec, runs: Path) -> None:
    """Refuse a tuning space with a value no configuration accepts (each bound and each
    choice of every parameter, on every task x method), before anything trains."""
    import dataclasses

    from svnr_rl.config import ConfigError
    from svnr_rl.study.trials import grid_trials

    assert spec.tune is not None
    for trial in grid_trials(spec, runs):
        if trial.seed != spec.seeds[0]:
            continue
        for p in spec.tune.params:
            if not p.applies_to(trial.method.key):
                continue
            values: tuple[Any, ...] = p.choices
            if p.kind != "categorical":
                values = (int(p.low), int(p.high)) if p.kind == "int" else (p.low, p.high)
            for v in values:
                try:
                    dataclasses.replace(trial, params=tuple(override(p, v))).config()
                except ConfigError as exc:
                    raise ConfigError(f"tune.param {p.name!r} = {v!r}: {exc}") from None
