"""Study files (``svnr_rl.study.spec``): what they mean, and every way they can be wrong."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from svnr_rl.config import ConfigError
from svnr_rl.study.spec import MAX_RUNS, load_study, parse_study
from svnr_rl.study.trials import grid_trials
from svnr_rl.study.tuning import best_trial, distributions, override
from tests.study_helpers import grid_study, tune_study

ROOT = Path(__file__).resolve().parents[1]
STUDIES = sorted((ROOT / "studies").glob("*.toml"))


def _base() -> dict[str, Any]:
    return {
        "study": {"name": "s", "seeds": [0, 1]},
        "task": [{"key": "t", "preset": "max-of-three", "s2": 1.5}],
        "method": [{"key": "m", "method": "svnr"}],
    }


def test_a_grid_study_is_tasks_x_methods_x_seeds(tmp_path: Path) -> None:
    spec = load_study(grid_study(tmp_path / "s.toml"))
    trials = grid_trials(spec, tmp_path / "runs")
    assert [(t.method.key, t.seed) for t in trials] == [
        ("svnr", 0),
        ("svnr", 1),
        ("masql", 0),
        ("masql", 1),
    ]
    assert trials[0].run_dir == str(tmp_path / "runs" / "max-of-three-1.5" / "svnr" / "seed0")
    cfg = trials[3].config()
    assert (cfg.algo.method, cfg.train.seed, cfg.env.s2) == ("masql", 1, 1.5)
    assert cfg.train.total_env_steps == 128  # 128 episodes of one step
    assert cfg.algo.hidden == (16,)  # the study's overrides
    assert cfg.train.tensorboard is False
    assert spec.method("svnr").paper == {"max-of-three-1.5": (9.71, 0.2)}


def test_episodes_count_full_length_episodes(tmp_path: Path) -> None:
    data = _base()
    data["task"] = [{"key": "pg", "preset": "particle-gather"}]
    data["study"]["train_episodes"] = 2
    (trial, *_) = grid_trials(parse_study(data), tmp_path)
    assert trial.config().train.total_env_steps == 50  # 25 steps per episode


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("study"), "study: required"),
        (lambda d: d["study"].update(colour="red"), "study.colour: unknown key"),
        (lambda d: d.update(tasks=[]), "tasks: unknown key"),
        (lambda d: d["study"].update(seeds=[]), "study.seeds: expected a non-empty list"),
        # a misspelled required key is named (issue 33: only "study.seeds: required" before)
        (
            lambda d: d["study"].update(seedz=d["study"].pop("seeds")),
            "study.seeds: required (the table has 'seedz': a misspelling of 'seeds'?)",
        ),
        (lambda d: d["study"].update(seeds=[0, 0]), "a seed is listed twice"),
        (lambda d: d["study"].update(seeds=[-1]), "at most 1000 seeds in 0..2**31-1"),
        (lambda d: d["study"].update(name="../x"), "study.name: letters, digits"),
        (lambda d: d["study"].update(metric="loss"), "study.metric: must be one of"),
        (lambda d: d["study"].update(train_episodes=0), "study.train_episodes: must be in 1.."),
        (lambda d: d["study"].update(train_episodes=1.5), "expected an integer"),
        (lambda d: d["study"].update(set="algo.x=1"), "study.set: expected a list of strings"),
        (lambda d: d.pop("task"), "task: expected one or more [[task]] tables"),
        (lambda d: d["task"][0].update(preset="max-of-four"), "task[0].preset: must be one of"),
        (lambda d: d["task"].append(dict(d["task"][0])), "task: key 't' is used twice"),
        (lambda d: d["task"][0].update(s2="big"), "task[0].s2: expected a finite number"),
        (
            lambda d: d["task"][0].update(guided_env_steps=10),
            "defined for particle-gather and particle-gather-terminal only",
        ),
        (lambda d: d["method"][0].update(method="qmix"), "method[0].method: must be one of"),
        (lambda d: d["method"][0].update(paper={"x": [1, 2]}), "not a task key of this study"),
        (lambda d: d["method"][0].update(paper={"t": [1]}), "expected [mean, std]"),
        (lambda d: d.update(report={"sections": ["pie"]}), "report.sections: unknown 'pie'"),
        (lambda d: d.update(report={"sections": ["scatter"]}), "report.scatter_task: required"),
        (lambda d: d.update(report={"sections": ["tuning"]}), "'tuning' needs a [tune] table"),
        (
            lambda d: d.update(report={"reference": [{"title": "o", "task": "x"}]}),
            "report.reference[0].task: 'x' is not a task key",
        ),
        (
            lambda d: d.update(
                report={"reference": [{"title": "o", "task": "t", "file": "/a.json", "field": "f"}]}
            ),
            "report.reference[0].file: expected a relative path to a .json file",
        ),
        (
            lambda d: d.update(
                report={"reference": [{"title": "o", "task": "t", "file": "a.json", "field": "a."}]}
            ),
            "report.reference[0].field: expected a dotted path",
        ),
        (
            lambda d: d.update(
                report={
                    "reference": [
                        {"title": "o", "task": "t", "file": "a.json", "field": "f", "value": 5}
                    ]
                }
            ),
            "report.reference[0].value: unknown key",
        ),
        (
            lambda d: d.update(
                tune={
                    "trials": 2,
                    "tuning_seeds": [1],
                    "param": [{"name": "a.b", "low": 0, "high": 1}],
                }
            ),
            "tune.tuning_seeds: seed 1 is also an evaluation seed",
        ),
        (
            lambda d: d.update(
                tune={
                    "trials": 2,
                    "tuning_seeds": [9],
                    "param": [{"name": "a.b", "low": 2, "high": 1}],
                }
            ),
            "needs low < high",
        ),
        (
            lambda d: d.update(
                tune={
                    "trials": 2,
                    "tuning_seeds": [9],
                    "param": [{"name": "lr", "low": 1, "high": 2}],
                }
            ),
            "'lr' is not a section.field name",
        ),
        (
            lambda d: d.update(
                tune={
                    "trials": 2,
                    "tuning_seeds": [9],
                    "param": [{"name": "a.b", "low": 0, "high": 1, "log": True}],
                }
            ),
            "low > 0 with log = true",
        ),
        (
            lambda d: d.update(
                tune={
                    "trials": 2,
                    "tuning_seeds": [9],
                    "param": [{"name": "a.b", "type": "categorical", "choices": []}],
                }
            ),
            "choices: expected a non-empty list",
        ),
        (
            lambda d: d.update(
                tune={
                    "trials": 0,
                    "tuning_seeds": [9],
                    "param": [{"name": "a.b", "low": 0, "high": 1}],
                }
            ),
            "tune.trials: must be in 1..",
        ),
        (
            lambda d: d.update(
                tune={
                    "trials": 10_000,
                    "tuning_seeds": list(range(2, 20)),
                    "param": [{"name": "a.b", "low": 0, "high": 1}],
                }
            ),
            f"at most {MAX_RUNS:,} per study",
        ),
    ],
)
def test_a_bad_study_names_the_entry(change: Any, message: str) -> None:
    data = _base()
    change(data)
    with pytest.raises(ConfigError) as err:
        parse_study(data)
    assert message in str(err.value)


def test_a_bad_file_names_the_file(tmp_path: Path) -> None:
    p = tmp_path / "s.toml"
    p.write_text('[study]\nname = "s"\nname = "t"\n')
    with pytest.raises(ConfigError, match=r"study file '.*s\.toml': not valid TOML"):
        load_study(p)
    with pytest.raises(ConfigError, match=r"must end in \.toml"):
        load_study(tmp_path / "s.json")


@pytest.mark.parametrize("path", STUDIES, ids=[p.stem for p in STUDIES])
def test_every_committed_study_builds_valid_configs(path: Path, tmp_path: Path) -> None:
    spec = load_study(path)
    assert spec.path == str(path)
    for trial in grid_trials(spec, tmp_path):
        trial.config()  # raises on a bad override, task or method
    if spec.tune is not None:
        for m in spec.methods:
            assert distributions(spec.tune, m.key)
        assert not set(spec.tune.tuning_seeds) & set(spec.seeds)


def test_every_committed_study_is_listed_in_the_studies_guide() -> None:
    """docs/studies.md's table is where a newcomer finds a study and its cost: a study file
    missing from it is invisible (four were, before this test)."""
    guide = (ROOT / "docs" / "studies.md").read_text(encoding="utf-8")
    missing = [p.name for p in STUDIES if f"| `studies/{p.name}` |" not in guide]
    assert not missing, f"add a row to docs/studies.md for: {', '.join(missing)}"


def test_parameters_set_every_target_with_its_type(tmp_path: Path) -> None:
    spec = load_study(tune_study(tmp_path / "t.toml"))
    assert spec.tune is not None
    lr, hidden = spec.tune.params
    assert override(lr, 0.01) == ["algo.policy_lr=0.01", "algo.critic_lr=0.01"]
    assert override(hidden, json.dumps([32])) == ["algo.hidden=[32]"]
    table9 = load_study(ROOT / "studies" / "table2_tpe.toml").tune
    assert table9 is not None
    by_name = {p.name: p for p in table9.params}
    assert override(by_name["batch_size"], 256) == ["algo.batch_size=256"]
    assert override(by_name["particles"], 17) == ["algo.num_particles=17"]
    assert override(by_name["polyak"], 0.005) == ["algo.polyak=0.005"]
    assert "particles" not in distributions(table9, "maddpg")
    # categorical lists go to Optuna as their JSON text and come back as lists
    assert hidden.choices == ("[16]", "[32]")
    assert tomllib.loads("x = [16]")["x"] == json.loads(hidden.choices[0])


def test_best_trial_is_the_largest_value_lowest_number_on_ties() -> None:
    assert best_trial({3: 1.0, 1: 2.0, 2: 2.0, 0: float("nan")}) == 1
    assert best_trial({}) is None


def test_a_tuning_space_no_config_accepts_is_refused_before_training(tmp_path: Path) -> None:
    from svnr_rl.study.tuning import check_space

    data = _base()
    data["study"]["seeds"] = [0]
    data["tune"] = {
        "trials": 2,
        "tuning_seeds": [9],
        "param": [{"name": "algo.num_particles", "type": "int", "low": 0, "high": 8}],
    }
    with pytest.raises(ConfigError, match=r"tune.param 'algo.num_particles' = 0: .*num_particles"):
        check_space(parse_study(data), tmp_path)
    data["tune"]["param"][0]["low"] = 2
    check_space(parse_study(data), tmp_path)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("action", "edit", "message"),
    [
        ("run", lambda s: s.replace('set = ["env', 'sets = ["env'), "study.sets: unknown key"),
        ("run", lambda s: s.replace('"algo.hidden=[16]"', '"algo.policy_lr=-1"'), "policy_lr"),
        ("run", lambda s: s.replace('"algo.hidden=[16]"', '"algo.hidden=[0]"'), "algo.hidden"),
        ("tune", lambda s: s, "has no [tune] table; use `study run`"),
    ],
)
def test_the_study_command_refuses_bad_input_before_anything_runs(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    action: str,
    edit: Any,
    message: str,
) -> None:
    from svnr_rl.__main__ import main

    f = grid_study(tmp_path / "s.toml")
    f.write_text(edit(f.read_text()))
    runs = tmp_path / "runs"
    assert main(["study", action, str(f), "--runs", str(runs), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not runs.exists()
    assert not (tmp_path / "o").exists()


def test_a_tuning_study_is_not_run_as_a_grid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from svnr_rl.__main__ import main

    f = tune_study(tmp_path / "t.toml")
    assert main(["study", "run", str(f), "--runs", str(tmp_path / "r")]) == 2
    assert "use `study tune`" in capsys.readouterr().err


def test_a_run_folder_of_another_configuration_is_refused(tmp_path: Path) -> None:
    from svnr_rl.config import apply_overrides, resolve_run_length
    from svnr_rl.run_folder import write_run_config
    from svnr_rl.study.trials import validate

    (trial, *_) = grid_trials(load_study(grid_study(tmp_path / "s.toml")), tmp_path / "runs")
    rd = Path(trial.run_dir)
    rd.mkdir(parents=True)
    same = resolve_run_length(trial.config())[0]
    write_run_config(rd, apply_overrides(same, ["train.progress=true", "train.threads=2"]))
    validate(trial)  # only free fields differ: reused
    write_run_config(rd, apply_overrides(same, ["train.total_env_steps=256"]))
    with pytest.raises(ConfigError, match=r"different configuration \(train.total_env_steps\)"):
        validate(trial)
