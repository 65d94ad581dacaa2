r"""``python -m svnr_rl.table``: the paper's Table 2 (App. G.1), Fig. 4 and Fig. 5/7, reproduced.

Runs methods x tasks x seeds with the one training entry point
(:func:`svnr_rl.train.train`, :func:`svnr_rl.train.resume`), in parallel worker processes, and
writes under ``--out`` (default ``docs/results/table2/``):

* ``table2.md`` -- mean +- std over seeds of the final test return (decentralized execution)
  in the paper's layout, the paper's numbers beside ours, per-seed values, the budget, the
  exact command and the wall clock;
* ``learning_curves.png`` -- per task, the test return over training, mean and shaded +- std
  over seeds for every method (as Fig. 4);
* ``joint_actions_max-of-three-1.5.png`` -- the joint actions sampled during training on Max of
  Three with ``s2 = 1.5`` (seed 0 of every method), coloured by reward (as Fig. 5 and Fig. 7);
* ``results.json`` -- every number above, per run; ``commands.log`` -- one line per invocation
  with its wall clock.

Methods: ``svnr``, ``maddpg``, ``masql``, ``pr2``, ``rommeo`` and the topology ablations
``svnr-m`` (``C_i = {}``) and ``svnr-f`` (``C_i = -i``) of App. H.3.1.  Every method runs the
same task preset (network sizes, replay, batch, learning rates, the one alpha schedule; only
``algo.method`` / ``algo.topology`` differ), see ``docs/baselines.md``.

Runs live in ``--runs/TASK/METHOD/seedK``.  A completed run is reused, an interrupted one is
resumed exactly from its last checkpoint, so the command can be stopped (Ctrl-C) and rerun.
A run folder made with a different configuration is an error (pick another ``--runs``).
Budget flags (``--train-episodes``, ``--seeds``, ``--methods``, ``--tasks``, ``--set``) make a tiny
table for CI in seconds.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import math
import os
import platform
import shlex
import shutil
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from svnr_rl.config import Config, ConfigError, apply_overrides, config_to_dict, preset
from svnr_rl.run_status import is_completed

__all__ = [
    "METHOD_SPECS",
    "PAPER_TABLE2",
    "TASK_SPECS",
    "Job",
    "MethodSpec",
    "RunOutcome",
    "TaskEntry",
    "build_parser",
    "main",
    "run_table",
    "write_report",
]


@dataclass(frozen=True)
class TaskEntry:
    """A column of Table 2: a task preset (and ``s2`` for Max of Three)."""

    task: str
    s2: float | None
    title: str


@dataclass(frozen=True)
class MethodSpec:
    """A row of Table 2: the method of :data:`svnr_rl.agents.AGENTS` plus config overrides."""

    method: str
    overrides: tuple[str, ...]
    title: str


#: columns, in the paper's order
TASK_SPECS: dict[str, TaskEntry] = {
    "max-of-three-3.0": TaskEntry("max-of-three", 3.0, "Max of Three (s2 = 3.0)"),
    "max-of-three-2.0": TaskEntry("max-of-three", 2.0, "Max of Three (s2 = 2.0)"),
    "max-of-three-1.5": TaskEntry("max-of-three", 1.5, "Max of Three (s2 = 1.5)"),
    "particle-gather": TaskEntry("particle-gather", None, "Particle Gather"),
}
#: rows, in the paper's order (Table 2, then the App. H.3.1 ablations)
METHOD_SPECS: dict[str, MethodSpec] = {
    "svnr": MethodSpec("svnr", (), "SVNR"),
    "maddpg": MethodSpec("maddpg", (), "MADDPG"),
    "masql": MethodSpec("masql", (), "MASQL"),
    "pr2": MethodSpec("pr2", (), "PR2"),
    "rommeo": MethodSpec("rommeo", (), "ROMMEO"),
    "svnr-m": MethodSpec("svnr", ('algo.topology="empty"',), "SVNR-M (C_i = {})"),
    "svnr-f": MethodSpec("svnr", ('algo.topology="full"',), "SVNR-F (C_i = -i)"),
}
#: paper Table 2 (App. G.1): mean, std of the test return over 5 seeds
PAPER_TABLE2: dict[str, dict[str, tuple[float, float]]] = {
    "svnr": {
        "max-of-three-3.0": (9.60, 0.30),
        "max-of-three-2.0": (9.64, 0.17),
        "max-of-three-1.5": (9.71, 0.20),
        "particle-gather": (4.76, 0.20),
    },
    "maddpg": {
        "max-of-three-3.0": (2.08, 4.63),
        "max-of-three-2.0": (-0.66, 0.67),
        "max-of-three-1.5": (-0.64, 0.43),
        "particle-gather": (0.00, 0.00),
    },
    "masql": {
        "max-of-three-3.0": (8.92, 0.37),
        "max-of-three-2.0": (-0.58, 0.24),
        "max-of-three-1.5": (-0.34, 0.12),
        "particle-gather": (-0.54, 0.20),
    },
    "pr2": {
        "max-of-three-3.0": (4.76, 3.64),
        "max-of-three-2.0": (-0.64, 0.45),
        "max-of-three-1.5": (-0.29, 0.10),
        "particle-gather": (0.00, 0.02),
    },
    "rommeo": {
        "max-of-three-3.0": (6.14, 4.82),
        "max-of-three-2.0": (1.59, 5.03),
        "max-of-three-1.5": (-0.59, 0.25),
        "particle-gather": (-0.87, 0.22),
    },
}
#: the task whose training-time joint actions make Fig. 5 / Fig. 7
SCATTER_TASK = "max-of-three-1.5"
#: config entries that may differ between an existing run folder and a rerun
_FREE_KEYS = {"progress", "tensorboard", "device", "threads", "out_dir", "run_name"}


@dataclass(frozen=True)
class Job:
    """One training run of the table (picklable: it crosses process boundaries)."""

    task_key: str
    method_key: str
    seed: int
    runs: str
    episodes: int | None
    overrides: tuple[str, ...]
    device: str

    @property
    def run_dir(self) -> Path:
        return Path(self.runs) / self.task_key / self.method_key / f"seed{self.seed}"

    def config(self) -> Config:
        """Preset of the task -> method overrides -> budget -> ``--set`` -> seed and folder."""
        entry = TASK_SPECS[self.task_key]
        cfg = preset(entry.task, s2=entry.s2)
        spec = METHOD_SPECS[self.method_key]
        extra = [f"algo.method={json.dumps(spec.method)}", *spec.overrides]
        extra.append("train.tensorboard=false")
        if self.episodes is not None:
            steps = self.episodes * _episode_steps(self.task_key)
            extra += [
                f"train.total_env_steps={steps}",
                f"train.eval_interval={min(cfg.train.eval_interval, steps)}",
            ]
        extra += list(self.overrides)
        extra += [
            f"train.seed={self.seed}",
            f"train.device={json.dumps(self.device)}",
            f"train.out_dir={json.dumps(str(self.run_dir.parent))}",
            f"train.run_name={json.dumps(self.run_dir.name)}",
            "train.progress=false",
        ]
        return apply_overrides(cfg, extra)


@dataclass(frozen=True)
class RunOutcome:
    """What one job did: ``trained``, ``resumed``, ``reused`` or ``failed`` (with the error)."""

    job: Job
    action: str
    seconds: float
    error: str = ""


@functools.cache
def _episode_steps(task_key: str) -> int:
    """Environment steps of one full-length episode of a task (1 for the differential games)."""
    from svnr_rl.train import make_env

    entry = TASK_SPECS[task_key]
    return int(make_env(preset(entry.task, s2=entry.s2), 1).spec.episode_limit)


def _comparable(d: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {k: dict(v) for k, v in d.items()}
    for k in _FREE_KEYS:
        out["train"].pop(k, None)
    return out


def _check_same_config(run_dir: Path, cfg: Config) -> None:
    saved = json.loads((run_dir / "config.json").read_text())
    if _comparable(saved) != _comparable(config_to_dict(cfg)):
        raise ConfigError(
            f"run folder {str(run_dir)!r} was made with a different configuration; "
            "use another --runs folder (or delete it) to run this budget"
        )


def run_job(job: Job) -> RunOutcome:
    """Train, resume or reuse one run (called in a worker process or in-process)."""
    from svnr_rl.train import resume, train

    t0 = time.perf_counter()
    cfg = job.config()
    rd = job.run_dir
    if (rd / "config.json").is_file():
        _check_same_config(rd, cfg)
        if is_completed(rd) and (rd / "summary.json").is_file():
            return RunOutcome(job, "reused", 0.0)
        resume(rd)
        return RunOutcome(job, "resumed", time.perf_counter() - t0)
    if rd.exists():
        # created but never configured (killed between mkdir and the config write): start over
        shutil.rmtree(rd)
    train(cfg)
    return RunOutcome(job, "trained", time.perf_counter() - t0)


def _run_job_safe(job: Job) -> RunOutcome:
    t0 = time.perf_counter()
    try:
        return run_job(job)
    except ConfigError:
        raise
    except Exception as exc:  # a failed run must not stop the others; it is reported
        return RunOutcome(job, "failed", time.perf_counter() - t0, f"{type(exc).__name__}: {exc}")


def run_table(jobs: Sequence[Job], workers: int, *, log: Any = None) -> list[RunOutcome]:
    """Run ``jobs`` with ``workers`` processes (``1``: in this process)."""
    if workers < 1:
        raise ConfigError(f"--workers must be >= 1; got {workers}")
    for job in jobs:  # validate every config (and clashes) before anything trains
        cfg = job.config()
        if (job.run_dir / "config.json").is_file():
            _check_same_config(job.run_dir, cfg)
    outcomes: list[RunOutcome] = []

    def note(o: RunOutcome) -> None:
        outcomes.append(o)
        if log is not None:
            extra = f" ({o.error})" if o.error else ""
            print(
                f"[{len(outcomes)}/{len(jobs)}] {o.job.task_key} {o.job.method_key} "
                f"seed {o.job.seed}: {o.action} in {o.seconds:.1f} s{extra}",
                file=log,
                flush=True,
            )

    if workers == 1 or len(jobs) <= 1:
        for job in jobs:
            note(_run_job_safe(job))
        return outcomes
    ctx = get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx) as pool:
        futures = {pool.submit(_run_job_safe, job): job for job in jobs}
        try:
            for fut in as_completed(futures):
                try:
                    outcome = fut.result()
                except ConfigError:
                    raise
                except Exception as exc:  # e.g. a worker killed by the OS (BrokenProcessPool)
                    outcome = RunOutcome(
                        futures[fut], "failed", 0.0, f"{type(exc).__name__}: {exc}"
                    )
                note(outcome)
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    return outcomes


# ---------------------------------------------------------------------------------- report


def _read_metrics(run_dir: Path) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(env_steps, eval_return_mean)`` per evaluation of a run."""
    with (run_dir / "metrics.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    x = np.array([float(r["env_steps"]) for r in rows])
    y = np.array([float(r["eval_return_mean"]) for r in rows])
    return x, y


def _read_record(run_dir: Path) -> NDArray[np.float64] | None:
    """The joint actions recorded during training ``[n, 1 + N + 1]`` (steps, actions, reward)."""
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


def _fmt(mean: float, std: float) -> str:
    return f"{mean:.2f} ± {std:.2f}"


def collect(jobs: Sequence[Job]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """``results[task][method]`` = list of per-seed summaries of the completed runs."""
    res: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for job in jobs:
        p = job.run_dir / "summary.json"
        if not p.is_file() or not is_completed(job.run_dir):
            continue
        s = json.loads(p.read_text())
        s["run_dir"] = str(job.run_dir)
        res.setdefault(job.task_key, {}).setdefault(job.method_key, []).append(s)
    return res


def _curves_figure(
    path: Path, tasks: Sequence[str], methods: Sequence[str], jobs: Sequence[Job]
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.6), squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=True):
        for method in methods:
            curves = [
                _read_metrics(j.run_dir)
                for j in jobs
                if j.task_key == task and j.method_key == method and is_completed(j.run_dir)
            ]
            if not curves:
                continue
            n = min(len(c[0]) for c in curves)
            x = curves[0][0][:n]
            ys = np.stack([c[1][:n] for c in curves])
            m, s = ys.mean(0), ys.std(0)
            (line,) = ax.plot(x, m, label=METHOD_SPECS[method].title)
            ax.fill_between(x, m - s, m + s, color=line.get_color(), alpha=0.2)
        ax.set_title(TASK_SPECS[task].title)
        ax.set_xlabel("environment steps")
        ax.set_ylabel("test return")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Test return during training: mean ± std over seeds (cf. paper Fig. 4)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _scatter_figure(path: Path, methods: Sequence[str], jobs: Sequence[Job]) -> list[str]:
    """One 3-D panel per method (its lowest seed); returns the methods drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recs: list[tuple[str, int, NDArray[np.float64]]] = []
    for method in methods:
        cands = sorted(
            (j for j in jobs if j.task_key == SCATTER_TASK and j.method_key == method),
            key=lambda j: j.seed,
        )
        for j in cands:
            rec = _read_record(j.run_dir) if is_completed(j.run_dir) else None
            if rec is not None and rec.shape[1] == 5:
                recs.append((method, j.seed, rec))
                break
    if not recs:
        return []
    cols = min(4, len(recs))
    rows = math.ceil(len(recs) / cols)
    fig = plt.figure(figsize=(4.2 * cols, 3.9 * rows))
    lo = min(float(r[:, 4].min()) for _, _, r in recs)
    hi = max(float(r[:, 4].max()) for _, _, r in recs)
    sc = None
    for k, (method, seed, rec) in enumerate(recs):
        ax = fig.add_subplot(rows, cols, k + 1, projection="3d")
        sc = ax.scatter(
            rec[:, 1], rec[:, 2], rec[:, 3], c=rec[:, 4], cmap="viridis", vmin=lo, vmax=hi, s=5
        )
        for lim in (ax.set_xlim, ax.set_ylim, ax.set_zlim):
            lim(-10, 10)
        ax.set_xlabel("$u_1$")
        ax.set_ylabel("$u_2$")
        ax.set_zlabel("$u_3$")
        steps = f"steps {int(rec[0, 0])}..{int(rec[-1, 0])}"
        ax.set_title(f"{METHOD_SPECS[method].title}, seed {seed}\n{steps}", fontsize=9)
    fig.subplots_adjust(left=0.02, right=0.9, bottom=0.05, top=0.82, wspace=0.15)
    if sc is not None:
        fig.colorbar(sc, cax=fig.add_axes((0.93, 0.2, 0.012, 0.55)), label="reward")
    fig.suptitle("Joint actions sampled during training, Max of Three s2 = 1.5 (cf. Fig. 5, 7)")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [m for m, _, _ in recs]


def write_report(
    out: Path,
    jobs: Sequence[Job],
    tasks: Sequence[str],
    methods: Sequence[str],
    *,
    command: str,
    wall_s: float,
    outcomes: Sequence[RunOutcome],
) -> dict[str, Any]:
    """Write ``table2.md``, ``results.json``, the figures and ``commands.log`` under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    res = collect(jobs)
    seeds = sorted({j.seed for j in jobs})
    summary: dict[str, Any] = {
        "command": command,
        "wall_clock_s": wall_s,
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU(s), {platform.python_version()}",
        "seeds": seeds,
        "tasks": {},
    }
    train_cost = 0.0
    header = ["Method"]
    align = ["---"]
    for t in tasks:
        header += [f"{TASK_SPECS[t].title}: ours", "paper"]
        align += ["---:", "---:"]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    per_seed = ["| Method | Task | Final test return per seed |", "|---|---|---|"]
    for m in methods:
        cells = [METHOD_SPECS[m].title]
        for t in tasks:
            runs = res.get(t, {}).get(m, [])
            vals = np.array([r["final_test_return_mean"] for r in runs])
            paper = PAPER_TABLE2.get(m, {}).get(t)
            ours = _fmt(float(vals.mean()), float(vals.std())) if len(vals) else "not run"
            if len(vals) and len(vals) < len(seeds):
                ours += f" ({len(vals)}/{len(seeds)} seeds)"
            cells += [ours, _fmt(*paper) if paper else "—"]
            walls = [float(r["wall_time_s"]) for r in runs]
            train_cost += sum(walls)
            summary["tasks"].setdefault(t, {})[m] = {
                "seeds": [r["seed"] for r in runs],
                "final_test_return": vals.tolist(),
                "mean": float(vals.mean()) if len(vals) else None,
                "std": float(vals.std()) if len(vals) else None,
                "paper": list(paper) if paper else None,
                "steps_to_target": [r.get("steps_to_target") for r in runs],
                "env_steps": [r["env_steps"] for r in runs],
                "wall_time_s": walls,
            }
            if len(vals):
                per_seed.append(
                    f"| {METHOD_SPECS[m].title} | {TASK_SPECS[t].title} | "
                    + ", ".join(f"{r['seed']}: {v:.2f}" for r, v in zip(runs, vals, strict=True))
                    + " |"
                )
        lines.append("| " + " | ".join(cells) + " |")
    summary["training_compute_s"] = train_cost
    figs: list[str] = []
    if res:
        _curves_figure(out / "learning_curves.png", tasks, methods, jobs)
        figs.append("learning_curves.png")
    drawn: list[str] = []
    if SCATTER_TASK in tasks:
        drawn = _scatter_figure(out / f"joint_actions_{SCATTER_TASK}.png", methods, jobs)
        if drawn:
            figs.append(f"joint_actions_{SCATTER_TASK}.png")
    budgets = []
    for t in tasks:
        j0 = jobs[0]
        cfg = Job(t, methods[0], seeds[0], j0.runs, j0.episodes, j0.overrides, j0.device).config()
        budgets.append(
            f"{TASK_SPECS[t].title}: {cfg.train.total_env_steps} environment steps, test return "
            f"of {cfg.train.eval_episodes} episodes every {cfg.train.eval_interval} steps"
        )
    failed = [o for o in outcomes if o.action == "failed"]
    doc = [
        "# Table 2 reproduction (paper App. G.1)",
        "",
        "Final test return (decentralized execution, the evaluation after the last training",
        f"step), mean ± std over seeds {seeds} (numpy `std`, ddof = 0); the paper's Table 2 beside",
        "ours (5 seeds; `—`: not in Table 2).  Every method runs the same preset and differs only",
        "in `algo.method` / `algo.topology`; no method is tuned on its own (the paper tuned each",
        "with 50 TPE trials).  Fairness protocol and method details: `docs/baselines.md`.",
        "",
        *lines,
        "",
        "Budget per run: " + "; ".join(budgets) + ".",
        "",
        "Produced by",
        "",
        "```",
        command,
        "```",
        "",
        f"Wall clock of this invocation: {wall_s:.0f} s; training-loop time summed over all runs "
        f"in the table: {train_cost:.0f} s ({summary['machine']}).  Run log: `commands.log`.",
        "",
    ]
    if failed:
        doc += ["**Failed runs:**", ""]
        doc += [
            f"- {o.job.task_key} {o.job.method_key} seed {o.job.seed}: {o.error}" for o in failed
        ]
        doc.append("")
    doc += ["## Per seed", "", *per_seed, ""]
    if figs:
        doc += ["## Figures", ""]
        doc += [f"![{f}]({f})" for f in figs]
        doc.append("")
    (out / "table2.md").write_text("\n".join(doc))
    (out / "results.json").write_text(json.dumps(summary, indent=2) + "\n")
    counts = {
        a: sum(o.action == a for o in outcomes) for a in ("trained", "resumed", "reused", "failed")
    }
    with (out / "commands.log").open("a") as fh:
        fh.write(
            f"{summary['date_utc']}\t{wall_s:.1f} s\t"
            + " ".join(f"{k}={v}" for k, v in counts.items())
            + f"\t{command}\n"
        )
    return summary


# ------------------------------------------------------------------------------------ CLI


def _csv_list(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def build_parser(prog: str = "python -m svnr_rl.table") -> argparse.ArgumentParser:
    from svnr_rl.cli_style import DEFAULT_RESULTS, DEVICES, HelpFormatter, bounded_int

    p = argparse.ArgumentParser(
        prog=prog,
        description="Reproduce the paper's Table 2, Fig. 4 and Fig. 5/7 (methods x tasks x "
        "seeds).  Finished runs are reused and interrupted ones resumed, so the same command "
        "continues an interrupted table.",
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "--methods",
        type=_csv_list,
        default=list(METHOD_SPECS),
        help=f"comma-separated subset of {','.join(METHOD_SPECS)} (default: all)",
    )
    p.add_argument(
        "--tasks",
        type=_csv_list,
        default=list(TASK_SPECS),
        help=f"comma-separated subset of {','.join(TASK_SPECS)} (default: all)",
    )
    p.add_argument("--seeds", type=bounded_int(1, 1000), default=5, help="seeds 0..S-1")
    p.add_argument(
        "--train-episodes",
        dest="episodes",
        type=bounded_int(1, 10**8),
        default=None,
        help="training episodes per run (x episode length in steps; default: the task preset)",
    )
    p.add_argument(
        "--workers", type=bounded_int(1, 256), default=2, help="parallel worker processes"
    )
    p.add_argument(
        "--out",
        default=f"{DEFAULT_RESULTS}/table2",
        metavar="DIR",
        help="report folder (the committed report is docs/results/table2)",
    )
    p.add_argument("--runs", default="runs/table2", metavar="DIR", help="folder of the run folders")
    p.add_argument("--device", default="cpu", choices=DEVICES, help="training device")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SEC.KEY=VALUE",
        help="config override applied to every run (e.g. --set algo.hidden=64,64)",
    )
    p.add_argument("--report-only", action="store_true", help="train nothing; rewrite the report")
    return p


def make_jobs(args: argparse.Namespace) -> list[Job]:
    """The jobs of parsed arguments; invalid choices raise :class:`ConfigError`."""
    for name, chosen, known in (
        ("--methods", args.methods, METHOD_SPECS),
        ("--tasks", args.tasks, TASK_SPECS),
    ):
        if not chosen:
            raise ConfigError(f"{name}: needs at least one entry")
        bad = [c for c in chosen if c not in known]
        if bad:
            raise ConfigError(f"{name}: unknown entry {bad[0]!r}; known: {', '.join(known)}")
    if args.seeds < 1:
        raise ConfigError(f"--seeds must be >= 1; got {args.seeds}")
    if args.episodes is not None and args.episodes < 1:
        raise ConfigError(f"--train-episodes must be >= 1; got {args.episodes}")
    tasks = [t for t in TASK_SPECS if t in args.tasks]
    methods = [m for m in METHOD_SPECS if m in args.methods]
    jobs = [
        Job(t, m, s, args.runs, args.episodes, tuple(args.overrides), args.device)
        for t in tasks
        for m in methods
        for s in range(args.seeds)
    ]
    for job in jobs:
        job.config()  # validate every override now
    return jobs


def main(argv: Sequence[str] | None = None, *, prog: str = "python -m svnr_rl.table") -> int:
    """Entry point; 0 on success, 1 if a run failed, 2 on invalid input, 130 if interrupted."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser(prog).parse_args(args_list)
    except SystemExit as exc:  # --help, or a usage error argparse has printed
        return exc.code if isinstance(exc.code, int) else 2
    command = " ".join([prog, *(shlex.quote(a) for a in args_list)])
    t0 = time.perf_counter()
    try:
        jobs = make_jobs(args)
        tasks = [t for t in TASK_SPECS if t in args.tasks]
        methods = [m for m in METHOD_SPECS if m in args.methods]
        outcomes = [] if args.report_only else run_table(jobs, args.workers, log=sys.stdout)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted; finished runs are kept. Continue with: {command}", file=sys.stderr)
        return 130
    wall = time.perf_counter() - t0
    write_report(
        Path(args.out), jobs, tasks, methods, command=command, wall_s=wall, outcomes=outcomes
    )
    print(f"table written to {Path(args.out) / 'table2.md'} ({wall:.0f} s)")
    return 1 if any(o.action == "failed" for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
