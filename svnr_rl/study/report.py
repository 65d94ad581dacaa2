"""A study's report, written from its run folders only (``summary.json``, ``metrics.csv``,
``trial.json``, ``failure.json``, checkpoints): nothing is remembered between invocations, so
``study report FILE`` rewrites the same report at any time, during a study included.

``OUT/report.md`` holds the sections the study file asks for (:data:`SECTION_WRITERS`),
``OUT/results.json`` every number in it, ``OUT/*.png`` the figures, and the report names the
study file and every command that trained its runs (``RUNS/commands.log``).
"""

from __future__ import annotations

import csv
import json
import math
import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from svnr_rl.run_status import is_completed
from svnr_rl.study.spec import StudySpec
from svnr_rl.study.trials import Trial, grid_trials, read_failure

__all__ = ["COMMANDS_LOG", "Cell", "ReportContext", "collect", "fmt", "write_report"]

#: one line per invocation of the study (date, wall clock, counts, command), in the runs folder
COMMANDS_LOG = "commands.log"


def fmt(mean: float, std: float) -> str:
    return f"{mean:.2f} ± {std:.2f}"


@dataclass(frozen=True)
class Cell:
    """The completed runs of one task x method of the evaluation grid."""

    task: str
    method: str
    trials: tuple[Trial, ...]
    summaries: tuple[dict[str, Any], ...]
    failures: tuple[tuple[Trial, str], ...]

    def values(self, metric: str) -> NDArray[np.float64]:
        return np.array([float(s[metric]) for s in self.summaries])


@dataclass(frozen=True)
class ReportContext:
    """What a section writer needs: the study, its folders and the collected cells."""

    spec: StudySpec
    runs: Path
    out: Path
    cells: dict[tuple[str, str], Cell]

    def cell(self, task: str, method: str) -> Cell:
        return self.cells[(task, method)]

    def completed(self) -> list[tuple[Trial, dict[str, Any]]]:
        return [
            (t, s) for c in self.cells.values() for t, s in zip(c.trials, c.summaries, strict=True)
        ]


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
            if is_completed(rd) and (rd / "summary.json").is_file():
                s = json.loads((rd / "summary.json").read_text())
                s["run_dir"] = str(rd)
                done.append(t)
                summaries.append(s)
            else:
                error = read_failure(rd)
                if error is not None:
                    failures.append((t, error))
        cells[key] = Cell(key[0], key[1], tuple(done), tuple(summaries), tuple(failures))
    return cells


def read_metrics(run_dir: Path) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(env_steps, eval_return_mean)`` per evaluation of a run."""
    with (run_dir / "metrics.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    x = np.array([float(r["env_steps"]) for r in rows])
    y = np.array([float(r["eval_return_mean"]) for r in rows])
    return x, y


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
    return [
        f"`{spec.metric}` (decentralized execution), mean ± std over seeds "
        f"{list(spec.seeds)} (numpy `std`, ddof = 0); the paper's number beside ours "
        "(`—`: the paper has none).",
        "",
        *lines,
    ]


def _steps_text(summary: dict[str, Any]) -> str:
    if summary.get("target_return") is None:
        return "n/a"
    steps = summary.get("steps_to_target")
    return "never" if steps is None else str(steps)


def section_runs(ctx: ReportContext) -> list[str]:
    """One row per task x method: per-seed values, steps to target, cost and speed."""
    spec = ctx.spec
    lines = [
        "| task | method | paper | seeds | final, mean ± std | per seed | steps to target "
        "| wall clock per run (s) | env steps/s | device |",
        "|---|---|---|---|---|---|---|---|---|---|",
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
            paper = m.paper.get(t.key)
            devices = sorted({str(s.get("device", "cpu")) for s in c.summaries})
            lines.append(
                f"| {t.title} | {m.title} | {fmt(*paper) if paper else '—'} | {len(vals)} | "
                f"{fmt(float(vals.mean()), float(vals.std()))} | "
                + ", ".join(f"{v:.2f}" for v in vals)
                + " | "
                + ", ".join(_steps_text(s) for s in c.summaries)
                + f" | {np.mean(walls):.0f} | {np.mean(rates):.0f} | {', '.join(devices)} |"
            )
    return lines


def section_per_seed(ctx: ReportContext) -> list[str]:
    lines = ["| Method | Task | Final value per seed |", "|---|---|---|"]
    for m in ctx.spec.methods:
        for t in ctx.spec.tasks:
            c = ctx.cell(t.key, m.key)
            if c.summaries:
                vals = c.values(ctx.spec.metric)
                lines.append(
                    f"| {m.title} | {t.title} | "
                    + ", ".join(f"{tr.seed}: {v:.2f}" for tr, v in zip(c.trials, vals, strict=True))
                    + " |"
                )
    return ["### Per seed", "", *lines]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def section_curves(ctx: ReportContext) -> list[str]:
    """Fig. 4 style: per task, the test return over training, mean and ± std over seeds."""
    spec = ctx.spec
    if not any(c.summaries for c in ctx.cells.values()):
        return []
    plt = _pyplot()
    n = len(spec.tasks)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.6), squeeze=False)
    for ax, t in zip(axes[0], spec.tasks, strict=True):
        for m in spec.methods:
            c = ctx.cell(t.key, m.key)
            curves = [read_metrics(Path(s["run_dir"])) for s in c.summaries]
            if not curves:
                continue
            k = min(len(x) for x, _ in curves)
            x = curves[0][0][:k]
            ys = np.stack([y[:k] for _, y in curves])
            mean, std = ys.mean(0), ys.std(0)
            (line,) = ax.plot(x, mean, label=m.title)
            ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2)
        ax.set_title(t.title, fontsize=9)
        ax.set_xlabel("environment steps")
        ax.set_ylabel("test return")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Test return during training: mean ± std over seeds (cf. paper Fig. 4)")
    fig.tight_layout()
    fig.savefig(ctx.out / "learning_curves.png", dpi=110)
    plt.close(fig)
    return ["![learning curves](learning_curves.png)"]


def _read_record(run_dir: Path) -> NDArray[np.float64] | None:
    """The joint actions recorded during training ``[n, 1 + N + 1]`` (step, actions, reward)."""
    from svnr_rl.checkpoint import CheckpointError, load_checkpoint

    try:
        data = load_checkpoint(run_dir / "checkpoints" / "latest.pt")
    except CheckpointError:
        return None
    rec = data.get("record")
    if rec is None or rec.numel() == 0:
        return None
    out: NDArray[np.float64] = rec.double().numpy()
    return out


def section_scatter(ctx: ReportContext) -> list[str]:
    """Fig. 5/7: the joint actions sampled during training on a three-agent task, one 3-D
    panel per method (its lowest completed seed), coloured by reward."""
    task = ctx.spec.task(ctx.spec.report.scatter_task)
    recs: list[tuple[str, int, NDArray[np.float64]]] = []
    for m in ctx.spec.methods:
        c = ctx.cell(task.key, m.key)
        for tr in sorted(c.trials, key=lambda x: x.seed):
            rec = _read_record(Path(tr.run_dir))
            if rec is not None and rec.shape[1] == 5:
                recs.append((m.title, tr.seed, rec))
                break
    if not recs:
        return []
    plt = _pyplot()
    cols = min(4, len(recs))
    rows = math.ceil(len(recs) / cols)
    fig = plt.figure(figsize=(4.2 * cols, 3.9 * rows))
    lo = min(float(r[:, 4].min()) for _, _, r in recs)
    hi = max(float(r[:, 4].max()) for _, _, r in recs)
    sc = None
    for k, (title, seed, rec) in enumerate(recs):
        ax = fig.add_subplot(rows, cols, k + 1, projection="3d")
        sc = ax.scatter(
            rec[:, 1], rec[:, 2], rec[:, 3], c=rec[:, 4], cmap="viridis", vmin=lo, vmax=hi, s=5
        )
        for lim in (ax.set_xlim, ax.set_ylim, ax.set_zlim):
            lim(-10, 10)
        ax.set_xlabel("$u_1$")
        ax.set_ylabel("$u_2$")
        ax.set_zlabel("$u_3$")
        ax.set_title(f"{title}, seed {seed}\nsteps {int(rec[0, 0])}..{int(rec[-1, 0])}", fontsize=9)
    fig.subplots_adjust(left=0.02, right=0.9, bottom=0.05, top=0.82, wspace=0.15)
    if sc is not None:
        fig.colorbar(sc, cax=fig.add_axes((0.93, 0.2, 0.012, 0.55)), label="reward")
    fig.suptitle(f"Joint actions sampled during training, {task.title} (cf. Fig. 5, 7)")
    name = f"joint_actions_{task.key}.png"
    fig.savefig(ctx.out / name, dpi=100)
    plt.close(fig)
    return [f"![joint actions]({name})"]


def _writers() -> dict[str, tuple[str, Callable[[ReportContext], list[str]]]]:
    from svnr_rl.study import sections

    return {
        "table": ("Results", section_table),
        "runs": ("Runs", section_runs),
        "per_seed": ("", section_per_seed),
        "curves": ("Learning curves", section_curves),
        "scatter": ("Joint actions", section_scatter),
        "two_modalities": ("Two Modalities: converged joint samples", sections.two_modalities),
        "gather": ("Particle Gather: replay and critic", sections.gather),
        "guided": ("Particle Gather with a guided start", sections.guided),
        "tuning": ("Tuning", sections.tuning),
    }


def _budget(spec: StudySpec, runs: Path) -> list[str]:
    out = []
    for t in spec.tasks:
        trial = grid_trials(spec, runs)[[x.task.key for x in grid_trials(spec, runs)].index(t.key)]
        cfg = trial.config()
        out.append(
            f"{t.title}: {cfg.train.total_env_steps} environment steps, test return of "
            f"{cfg.train.eval_episodes} episodes every {cfg.train.eval_interval} steps"
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
