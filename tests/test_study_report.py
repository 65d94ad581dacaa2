"""Study reports from run folders alone (``svnr_rl.study.report``), on stored summaries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from svnr_rl.study.report import reference_value, write_report
from svnr_rl.study.spec import parse_study
from svnr_rl.study.trials import grid_trials


def _spec() -> Any:
    return parse_study(
        {
            "study": {"name": "r", "seeds": [0, 1]},
            "task": [
                {"key": "mot", "preset": "max-of-three", "s2": 1.5, "title": "MoT"},
                {"key": "hc", "preset": "mamujoco-halfcheetah-2x3", "title": "HC"},
            ],
            "method": [{"key": "svnr", "method": "svnr", "paper": {"mot": [9.71, 0.2]}}],
            "report": {"sections": ["table", "runs", "per_seed"], "notes": "Closing words."},
        },
        "studies/r.toml",
    )


def _finished(run_dir: Path, **summary: Any) -> None:
    run_dir.mkdir(parents=True)
    (run_dir / "status.json").write_text(json.dumps({"state": "completed"}))
    base = {"final_test_return_mean": 1.0, "env_steps": 1000, "wall_time_s": 4.0}
    (run_dir / "summary.json").write_text(json.dumps({**base, **summary}))


def test_report_gives_speed_device_steps_to_target_and_the_paper(tmp_path: Path) -> None:
    spec = _spec()
    runs = tmp_path / "runs"
    mot0, mot1, hc0, hc1 = (Path(t.run_dir) for t in grid_trials(spec, runs))
    _finished(mot0, final_test_return_mean=9.0, target_return=9.5, steps_to_target=18000)
    _finished(
        mot1, final_test_return_mean=10.0, target_return=9.5, steps_to_target=None, updates=500
    )
    _finished(
        hc0,
        final_test_return_mean=150.0,
        env_steps=100_000,
        wall_time_s=400.0,
        updates=80_000,
        device="cuda",
        target_return=None,
    )
    hc1.mkdir(parents=True)  # unfinished: not reported
    (runs / "commands.log").write_text("2026\t1 s\ttrained=3\tpython -m svnr_rl study run x\n")
    out = tmp_path / "out"
    md = write_report(spec, runs, out).read_text()
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    assert "| svnr | 9.50 ± 0.50 | 9.71 ± 0.20 | 150.00 ± 0.00 (1/2 seeds) | — |" in rows
    assert any(
        "| MoT | svnr | 9.71 ± 0.20 | 2 | 9.50 ± 0.50 | 9.00, 10.00 | 18000, never "
        "| 4 | 250 | 8.0 | cpu |" in r
        for r in rows
    )
    assert any(
        "| HC | svnr | — | 1 | 150.00 ± 0.00 | 150.00 | n/a | 400 | 250 | 5.0 | cuda |" in r
        for r in rows
    )
    assert "python -m svnr_rl study run x" in md
    assert "Study file: `studies/r.toml`" in md
    assert md.rstrip().endswith("Closing words.")
    res = json.loads((out / "results.json").read_text())
    assert res["tasks"]["mot"]["svnr"]["mean"] == pytest.approx(9.5)
    assert res["tasks"]["hc"]["svnr"]["seeds"] == [0]
    assert res["study"] == "studies/r.toml"


def test_reference_rows_read_their_figure_from_the_committed_file_each_names(
    tmp_path: Path,
) -> None:
    study_dir, cards = tmp_path / "studies", tmp_path / "cards"
    study_dir.mkdir()
    cards.mkdir()
    (cards / "card.json").write_text(
        json.dumps({"policies": {"oracle": {"last": 5.0}, "sac": {"last": -0.25}, "x": "no"}})
    )

    def ref(title: str, task: str, field: str, file: str = "../cards/card.json") -> Any:
        return {"title": title, "task": task, "file": file, "field": field}

    spec = parse_study(
        {
            "study": {"name": "r", "seeds": [0]},
            "task": [
                {"key": "mot", "preset": "max-of-three", "s2": 1.5, "title": "MoT"},
                {"key": "pg", "preset": "particle-gather", "title": "PG"},
            ],
            "method": [{"key": "svnr", "method": "svnr"}],
            "report": {
                "sections": ["table"],
                "reference": [
                    ref("oracle", "pg", "policies.oracle.last"),
                    ref("SAC", "pg", "policies.sac.last"),
                    ref("broken", "pg", "policies.x"),
                    ref("missing", "pg", "policies.oracle.last", "../cards/none.json"),
                ],
            },
        },
        str(study_dir / "r.toml"),
    )
    out = tmp_path / "out"
    md = write_report(spec, tmp_path / "runs", out).read_text()
    rows = [line for line in md.splitlines() if line.startswith("| *reference:*")]
    assert rows[:2] == [
        "| *reference:* oracle | — | — | 5.00 | — |",
        "| *reference:* SAC | — | — | -0.25 | — |",
    ]
    assert "policies.x in ../cards/card.json is not a finite number" in rows[2]
    assert "unreadable (FileNotFoundError: ../cards/none.json)" in rows[3]
    refs = json.loads((out / "results.json").read_text())["references"]
    assert [r["value"] for r in refs[:2]] == [5.0, -0.25]
    assert reference_value(spec, spec.report.references[0]) == 5.0


def test_an_empty_runs_folder_gives_a_report_of_nothing_run(tmp_path: Path) -> None:
    md = write_report(_spec(), tmp_path / "runs", tmp_path / "out").read_text()
    assert "| svnr | not run | 9.71 ± 0.20 | not run | — |" in md
    assert "(no command logged)" in md


def test_gather_section_bounds_the_critic_of_both_particle_gather_variants(
    tmp_path: Path,
) -> None:
    import shutil

    from svnr_rl.gather_diagnostics import gather_diagnostics, soft_value_bound
    from svnr_rl.train import train
    from tests.rl_helpers import tiny_config

    spec = parse_study(
        {
            "study": {"name": "g", "seeds": [0]},
            "task": [
                {"key": "pg", "preset": "particle-gather"},
                {"key": "pgt", "preset": "particle-gather-terminal"},
            ],
            "method": [{"key": "svnr", "method": "svnr"}],
            "report": {"sections": ["gather"]},
        }
    )
    runs = tmp_path / "runs"
    for trial in grid_trials(spec, runs):
        res = train(tiny_config(tmp_path / "train" / trial.task.key, task=trial.task.preset))
        shutil.copytree(res.run_dir, trial.run_dir)
    md = write_report(spec, runs, tmp_path / "out").read_text()
    rows = {r.split(" | ")[0][2:]: r.split(" | ") for r in md.splitlines() if r.startswith("| pg")}
    assert rows["pg"][1] == "iterated"
    assert rows["pgt"][1] == "terminal"
    for key, task in (("pg", "particle-gather"), ("pgt", "particle-gather-terminal")):
        d = gather_diagnostics(runs / key / "svnr" / "seed0")
        assert rows[key][9] == f"{d.q_mean:.2f}"
        assert rows[key][11] == f"{soft_value_bound(d.alpha, 0.99, task):.2f}"
    # the iterated run records its last-step reward; the fixed policies are the terminal game's
    assert rows["pg"][5] != "—"
    assert "| steer | 0.1 |" in md


def test_coordination_section_gives_return_and_shares_per_cell(tmp_path: Path) -> None:
    spec = parse_study(
        {
            "study": {"name": "c", "seeds": [0, 1]},
            "task": [
                {"key": "pen", "preset": "continuous-penalty", "title": "Penalty"},
                {"key": "tm", "preset": "two-modalities", "title": "TM"},
            ],
            "method": [{"key": "svnr", "method": "svnr"}],
            "report": {"sections": ["coordination"]},
        }
    )
    runs = tmp_path / "runs"
    pen0, pen1, tm0, _ = (Path(t.run_dir) for t in grid_trials(spec, runs))
    figures = {"final_test_miscoordinated_mean": 0.5, "final_test_off_optimum_mean": 1.0}
    _finished(pen0, final_test_return_mean=-40.0, **figures)
    _finished(pen1, final_test_return_mean=10.0, final_test_miscoordinated_mean=0.0)
    _finished(tm0, final_test_return_mean=9.0, final_test_miscoordinated_mean=0.25)
    md = write_report(spec, runs, tmp_path / "out").read_text()
    # seed 1 lacks the off-optimum figure: that mean is not claimed
    assert "| Penalty | svnr | 2 | -15.00 ± 25.00 | 25% ± 25% | — |" in md
    assert "| TM | svnr | 1 | 9.00 ± 0.00 | 25% ± 0% | — |" in md


def test_a_method_keeps_its_colour_in_every_panel_of_the_learning_curves(
    tmp_path: Path,
) -> None:
    """Task 2 has a run of the second method only: it must not take the first method's colour
    (the legend, drawn once, names the colours), and the legend lists both methods."""
    from svnr_rl.study.context import ReportContext
    from svnr_rl.study.figures import draw_learning_curves
    from svnr_rl.study.report import collect

    spec = parse_study(
        {
            "study": {"name": "c", "seeds": [0]},
            "task": [
                {"key": "a", "preset": "max-of-three", "title": "A"},
                {"key": "b", "preset": "max-of-three", "title": "B"},
            ],
            "method": [{"key": "svnr", "method": "svnr"}, {"key": "masac", "method": "masac"}],
        },
        "studies/c.toml",
    )
    runs = tmp_path / "runs"
    trials = {(t.task.key, t.method.key): t for t in grid_trials(spec, runs)}
    for key in [("a", "svnr"), ("a", "masac"), ("b", "masac")]:
        run_dir = Path(trials[key].run_dir)
        _finished(run_dir)
        (run_dir / "metrics.csv").write_text("env_steps,eval_return_mean\n100,1.0\n200,2.0\n")
    fig = draw_learning_curves(ReportContext(spec, runs, tmp_path, collect(spec, runs)))
    ax_a, ax_b = fig.axes
    colour = {line.get_label(): line.get_color() for line in ax_a.lines}
    assert colour["svnr"] != colour["masac"]
    assert [line.get_color() for line in ax_b.lines] == [colour["masac"]]
    assert [t.get_text() for t in ax_a.get_legend().get_texts()] == ["svnr", "masac"]
