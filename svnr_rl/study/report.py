"""A study's report, written from its run folders only (``summary.json``, ``metrics.csv``,
``trial.json``, ``failure.json``, checkpoints): nothing is remembered between invocations, so
``study report FILE`` rewrites the same report at any time, during a study included.

``OUT/report.md`` holds the sections the study file asks for (:data:`SECTION_WRITERS`),
``OUT/results.json`` every number in it, ``OUT/*.png`` the figures, and the report names the
study file and every command that trained its runs (``RUNS/commands.log``).
"""

from __future__ import annotations

import json
import math
import os
import platform
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from svnr_rl.study.context import Cell, ReportContext, fmt
from svnr_rl.study.spec import ReferenceRow, StudySpec
from svnr_rl.study.trials import Trial, finished_summary, grid_trials, read_failure

__all__ = ["COMMANDS_LOG", "collect", "log_command", "reference_value", "write_report"]

#: one line per invocation of the study (date, wall clock, counts, command), in the runs folder
COMMANDS_LOG = "commands.log"
#: a reference row's JSON file is not read beyond this size
_MAX_REFERENCE_BYTES = 16 * 2**20


def collect(spec: StudySpec, runs: Path) -> dict[tuple[str, str], Cell]:
    """Every grid cell: its completed runs (with summaries) and its recorded failures."""
    by: dict[tuple[str, str], list[Trial]] = {}
    for t in grid_trials(spec, runs):
        by.setdefault((t.task.key, t.method.key), []).append(t)
    cells = {}
    for key, trials in by.items():
        done, summaries, failures = [], [], []
        for t in trials:
            rd = Path(t.run_dir)
            s = finished_summary(rd)
            if s is not None:
                s["run_dir"] = str(rd)
                done.append(t)
                summaries.append(s)
            else:
                error = read_failure(rd)
                if error is not None:
                    failures.append((t, error))
        cells[key] = Cell(key[0], key[1], tuple(done), tuple(summaries), tuple(failures))
    return cells


# ------------------------------------------------------------------------- generic sections


def section_table(ctx: ReportContext) -> list[str]:
    """Methods x tasks: ours (mean ± std over seeds) beside the paper's number."""
    spec = ctx.spec
    header, align = ["Method"], ["---"]
    for t in spec.tasks:
        header += [f"{t.title}: ours", "paper"]
        align += ["---:", "---:"]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    for m in spec.methods:
        cells = [m.title]
        for t in spec.tasks:
            vals = ctx.cell(t.key, m.key).values(spec.metric)
            ours = fmt(float(vals.mean()), float(vals.std())) if len(vals) else "not run"
            if len(vals) and len(vals) < len(spec.seeds):
                ours += f" ({len(vals)}/{len(spec.seeds)} seeds)"
            paper = m.paper.get(t.key)
            cells += [ours, fmt(*paper) if paper else "—"]
        lines.append("| " + " | ".join(cells) + " |")
    titles = list(dict.fromkeys(r.title for r in spec.report.references))
    for title in titles:
        cells = [f"*reference:* {title}"]
        for t in spec.tasks:
            refs = [r for r in spec.report.references if r.title == title and r.task == t.key]
            value = reference_value(spec, refs[0]) if refs else None
            shown = "—" if value is None else value if isinstance(value, str) else f"{value:.2f}"
            cells += [shown, "—"]
        lines.append("| " + " | ".join(cells) + " |")
    refs_note = (
        " *reference* rows are policies that are not trained by this study, read from the "
        "committed file each names (`results.json`: `references`)."
        if titles
        else ""
    )
    return [
        f"`{spec.metric}` (decentralized execution), mean ± std over seeds "
        f"{list(spec.seeds)} (numpy `std`, ddof = 0); the paper's number beside ours "
        f"(`—`: the paper has none).{refs_note}",
        "",
        *lines,
    ]


def reference_value(spec: StudySpec, ref: ReferenceRow) -> float | str:
    """The number at ``ref.field`` of ``ref.file`` (relative to the study file's folder), or
    a short text saying why there is none, shown in its cell instead of failing the report."""
    folder = Path(spec.path).parent if spec.path else Path(".")
    path = folder / ref.file
    try:
        if path.stat().st_size > _MAX_REFERENCE_BYTES:
            return f"{ref.file}: larger than {_MAX_REFERENCE_BYTES // 2**20} MiB"
        node: Any = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        return f"unreadable ({type(err).__name__}: {ref.file})"
    for part in ref.field.split("."):
        if not isinstance(node, dict) or part not in node:
            return f"no field {ref.field} in {ref.file}"
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, int | float) or not math.isfinite(node):
        return f"{ref.field} in {ref.file} is not a finite number"
    return float(node)


def _steps_text(summary: dict[str, Any]) -> str:
    if summary.get("target_return") is None:
        return "n/a"
    steps = summary.get("steps_to_target")
    return "never" if steps is None else str(steps)


def section_runs(ctx: ReportContext) -> list[str]:
    """One row per task x method: per-seed values, steps to target, cost and speed.

    Wall milliseconds per update divide a run's training-loop wall time by its gradient
    updates, so they include its environment steps and evaluations (as the anchor's table
    does); on one thread per run they stand for CPU time per update only when no other
    process shared that core."""
    spec = ctx.spec
    lines = [
        "| task | method | paper | seeds | final, mean ± std | per seed | steps to target "
        "| wall clock per run (s) | env steps/s | wall ms per update | device |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for t in spec.tasks:
        for m in spec.methods:
            c = ctx.cell(t.key, m.key)
            if not c.summaries:
                continue
            vals = c.values(spec.metric)
            walls = [float(s["wall_time_s"]) for s in c.summaries]
            rates = [
                float(s["env_steps"]) / max(w, 1e-9)
                for s, w in zip(c.summaries, walls, strict=True)
            ]
            per_update_ms = [
                1000.0 * w / int(s["updates"])
                for s, w in zip(c.summaries, walls, strict=True)
                if int(s.get("updates", 0)) > 0
            ]
            per_update = f"{np.mean(per_update_ms):.1f}" if per_update_ms else "—"
            paper = m.paper.get(t.key)
            devices = sorted({str(s.get("device", "cpu")) for s in c.summaries})
            lines.append(
                f"| {t.title} | {m.title} | {fmt(*paper) if paper else '—'} | {len(vals)} | "
                f"{fmt(float(vals.mean()), float(vals.std()))} | "
                + ", ".join(f"{v:.2f}" for v in vals)
                + " | "
                + ", ".join(_steps_text(s) for s in c.summaries)
                + f" | {np.mean(walls):.0f} | {np.mean(rates):.0f} | {per_update}"
                + f" | {', '.join(devices)} |"
            )
    return lines


def section_per_seed(ctx: ReportContext) -> list[str]:
    """The metric of every seed; the episode return beside it where the metric is another
    figure (e.g. the last step's reward of an iterated game)."""
    metric = ctx.spec.metric
    with_return = metric != "final_test_return_mean"
    head = f"Final `{metric}` per seed" + (" (episode return)" if with_return else "")
    lines = [f"| Method | Task | {head} |", "|---|---|---|"]
    for m in ctx.spec.methods:
        for t in ctx.spec.tasks:
            c = ctx.cell(t.key, m.key)
            if c.summaries:
                vals = c.values(metric)
                rets = c.values("final_test_return_mean")
                lines.append(
                    f"| {m.title} | {t.title} | "
                    + ", ".join(
                        f"{tr.seed}: {v:.2f}" + (f" ({r:.2f})" if with_return else "")
                        for tr, v, r in zip(c.trials, vals, rets, strict=True)
                    )
                    + " |"
                )
    return ["### Per seed", "", *lines]


def _writers() -> dict[str, tuple[str, Callable[[ReportContext], list[str]]]]:
    from svnr_rl.study import figures, sections

    return {
        "table": ("Results", section_table),
        "runs": ("Runs", section_runs),
        "per_seed": ("", section_per_seed),
        "curves": ("Learning curves", figures.learning_curves),
        "scatter": ("Joint actions", figures.joint_actions),
        "two_modalities": ("Two Modalities: converged joint samples", sections.two_modalities),
        "gather": ("Particle Gather: replay and critic", sections.gather),
        "guided": ("Particle Gather with a guided start", sections.guided),
        "tuning": ("Tuning", sections.tuning),
        "coordination": ("Coordination at test", sections.coordination),
    }


def _budget(spec: StudySpec, runs: Path) -> list[str]:
    """Per task, the run length and evaluation of its first method's first seed."""
    first: dict[str, Trial] = {}
    for t in grid_trials(spec, runs):
        first.setdefault(t.task.key, t)
    out = []
    for trial in first.values():
        cfg = trial.config()
        out.append(
            f"{trial.task.title}: {cfg.train.total_env_steps} environment steps, test return "
            f"of {cfg.train.eval_episodes} episodes every {cfg.train.eval_interval} steps"
        )
    return out


def _results_json(ctx: ReportContext) -> dict[str, Any]:
    spec = ctx.spec
    tasks: dict[str, Any] = {}
    for (task, method), c in ctx.cells.items():
        vals = c.values(spec.metric)
        tasks.setdefault(task, {})[method] = {
            "seeds": [t.seed for t in c.trials],
            spec.metric: vals.tolist(),
            "mean": float(vals.mean()) if len(vals) else None,
            "std": float(vals.std()) if len(vals) else None,
            "paper": list(spec.method(method).paper[task])
            if task in spec.method(method).paper
            else None,
            "steps_to_target": [s.get("steps_to_target") for s in c.summaries],
            "env_steps": [s["env_steps"] for s in c.summaries],
            "wall_time_s": [s["wall_time_s"] for s in c.summaries],
            "failed": [{"seed": t.seed, "error": e} for t, e in c.failures],
        }
    return {
        "study": spec.path,
        "name": spec.name,
        "metric": spec.metric,
        "seeds": list(spec.seeds),
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU(s), {platform.python_version()}",
        "training_compute_s": float(sum(float(s["wall_time_s"]) for _, s in ctx.completed())),
        "tasks": tasks,
        "references": [
            {
                "title": r.title,
                "task": r.task,
                "file": r.file,
                "field": r.field,
                "value": reference_value(spec, r),
            }
            for r in spec.report.references
        ],
    }


def write_report(spec: StudySpec, runs: Path, out: Path) -> Path:
    """Write ``report.md``, ``results.json`` and the figures of ``spec`` under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    ctx = ReportContext(spec, runs, out, collect(spec, runs))
    log = runs / COMMANDS_LOG
    commands = (
        list(
            dict.fromkeys(
                line.split("\t")[-1] for line in log.read_text().splitlines() if line.strip()
            )
        )
        if log.is_file()
        else []
    )
    summary = _results_json(ctx)
    doc = [f"# {spec.title}", ""]
    if spec.description:
        doc += [spec.description.strip(), ""]
    doc += [
        f"Study file: `{spec.path}`.  Produced by (every command that trained runs of this "
        "report, from the runs folder's `commands.log`):",
        "",
        "```",
        *(commands or ["(no command logged)"]),
        "```",
        "",
        "Budget per run: " + "; ".join(_budget(spec, runs)) + ".  Training-loop time summed "
        f"over the reported runs: {summary['training_compute_s']:.0f} s ({summary['machine']}).",
        "",
    ]
    writers = _writers()
    for name in spec.report.sections:
        heading, writer = writers[name]
        body = writer(ctx)
        if not body:
            continue
        if heading:
            doc += [f"## {heading}", ""]
        doc += [*body, ""]
    failures = [(t, e) for c in ctx.cells.values() for t, e in c.failures]
    if failures:
        doc += ["## Failed runs", ""]
        doc += [f"- {t.label}: {e}" for t, e in failures]
        doc.append("")
    if spec.report.notes:
        doc += [spec.report.notes.strip(), ""]
    path = out / "report.md"
    path.write_text("\n".join(doc))
    (out / "results.json").write_text(json.dumps(summary, indent=2) + "\n")
    return path


def log_command(runs: Path, command: str, wall_s: float, counts: Sequence[tuple[str, int]]) -> None:
    """Append one invocation to ``RUNS/commands.log`` (date, wall clock, counts, command)."""
    runs.mkdir(parents=True, exist_ok=True)
    date = datetime.now(UTC).isoformat(timespec="seconds")
    text = " ".join(f"{k}={v}" for k, v in counts)
    with (runs / COMMANDS_LOG).open("a") as fh:
        fh.write(f"{date}\t{wall_s:.1f} s\t{text}\t{command}\n")
