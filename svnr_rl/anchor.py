"""The SAC anchor: stable-baselines3's SAC and this backbone on one task, budget and seeds.

``python -m svnr_rl anchor --task gym-pendulum --methods masac,svnr --seeds 3`` trains

* **SB3 SAC**, the reference users trust, on the gymnasium environment of the task: the task
  itself for the single-agent tasks (``gym-pendulum``, ``gym-halfcheetah``) and, for
  ``mamujoco-halfcheetah-2x3``, single-agent ``HalfCheetah-v5`` -- the same robot and reward,
  the joint action on the global state: the centralized upper bound of the two-agent task;
* each named **method of this backbone** on the task (``python -m svnr_rl train`` runs),

with the same environment steps, evaluation interval and number of deterministic test episodes,
SAC's hyperparameters taken from the backbone's preset of the task (learning rate, batch,
buffer, gamma, Polyak, hidden sizes, learning starts, one update per environment step, learned
temperature).  It writes ``anchor.md`` (final and intermediate test returns, mean +- std over
seeds, the ratio to SAC, env steps/s and wall seconds per update of each) and ``anchor.png``
(test return against environment steps) under ``--out``.

Runs are resumable: a finished run is reused (its folder holds ``summary.json``); SB3 runs
restart from scratch when interrupted (SB3 does not checkpoint its replay by default), so they
run first.  ``--workers N`` trains N runs at once, each in a spawned process of one thread;
the curves are those of one run after another (tested), only the speed columns change.
stable-baselines3 is an optional dependency (``pip install -c constraints.txt -e ".[anchors]"``)
and is imported only here, never by the training path.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import shlex
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from svnr_rl.atomic_file import write_atomic
from svnr_rl.config import METHODS, Config, ConfigError, apply_overrides, preset, resolve_run_length
from svnr_rl.run_folder import config_differences, load_run_config
from svnr_rl.run_status import is_completed

__all__ = ["ANCHOR_TASKS", "AnchorRun", "main", "sb3_settings", "update_ratio"]

#: task -> the gymnasium environment SB3 trains on
ANCHOR_TASKS: dict[str, str] = {
    "gym-pendulum": "gym-pendulum",
    "gym-halfcheetah": "gym-halfcheetah",
    "mamujoco-halfcheetah-2x3": "gym-halfcheetah",
}
SB3 = "sb3-sac"


@dataclass(frozen=True)
class AnchorRun:
    """One finished run: its test-return curve and its cost."""

    method: str
    seed: int
    steps: list[int]
    returns: list[float]
    wall_s: float
    updates: int

    @property
    def final(self) -> float:
        return self.returns[-1]


def update_ratio(cfg: Config) -> Fraction:
    """Updates per environment step of the backbone's loop under ``cfg`` (see
    :class:`svnr_rl.config.AlgoConfig`: ``update_to_data``, else ``updates_per_step`` per vector
    step of ``num_envs`` environments)."""
    a = cfg.algo
    if a.update_to_data > 0:
        return Fraction(a.update_to_data).limit_denominator(1000)
    return Fraction(a.updates_per_step, cfg.env.num_envs)


def sb3_settings(cfg: Config) -> dict[str, Any]:
    """SB3 SAC's keyword arguments from the backbone's config of the task (the shared budget):
    the same update-to-data ratio ``p / q`` as ``p`` gradient steps every ``q`` steps."""
    a = cfg.algo
    ratio = update_ratio(cfg)
    return {
        "learning_rate": a.critic_lr,
        "buffer_size": a.buffer_size,
        "learning_starts": a.learning_starts,
        "batch_size": a.batch_size,
        "tau": a.polyak,
        "gamma": a.gamma,
        "train_freq": ratio.denominator,
        "gradient_steps": ratio.numerator,
        "ent_coef": f"auto_{a.init_alpha:g}",
        "policy_kwargs": {"net_arch": {"pi": list(a.hidden), "qf": list(a.critic_hidden)}},
    }


def _sb3_record(task: str, cfg: Config) -> dict[str, Any]:
    """What an SB3 run was made with, as stored in its summary (JSON types)."""
    t = cfg.train
    budget = {
        "task": ANCHOR_TASKS[task],
        "seed": t.seed,
        "total_env_steps": t.total_env_steps,
        "eval_interval": t.eval_interval,
        "eval_episodes": t.eval_episodes,
    }
    record: dict[str, Any] = json.loads(json.dumps({**budget, **sb3_settings(cfg)}))
    return record


def _task_config(task: str, seed: int, steps: int | None, overrides: Sequence[str]) -> Config:
    cfg = preset(task)
    extra = [f"train.seed={seed}", "train.progress=false", *overrides]
    if steps is not None:
        extra.append(f"train.total_env_steps={steps}")
    return resolve_run_length(apply_overrides(cfg, extra))[0]


def _write_curve(path: Path, steps: list[int], returns: list[float]) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["env_steps", "eval_return_mean"])
        w.writerows(zip(steps, returns, strict=True))


def run_sb3(task: str, cfg: Config, run_dir: Path) -> AnchorRun:
    """Train SB3 SAC on the gymnasium form of ``task`` with ``cfg``'s budget (or reuse it)."""
    summary = run_dir / "summary.json"
    wanted = _sb3_record(task, cfg)
    if summary.is_file():
        stored = json.loads(summary.read_text()).get("settings")
        if stored != wanted:
            raise ConfigError(
                f"{run_dir} holds an SB3 run of other settings or budget; use another --runs "
                "folder (or delete it) to run this one"
            )
        return _read_run(run_dir, SB3, cfg.train.seed)
    try:
        from stable_baselines3 import SAC
        from stable_baselines3.common.callbacks import BaseCallback
        from stable_baselines3.common.evaluation import evaluate_policy
        from stable_baselines3.common.monitor import Monitor
    except ImportError:
        raise ConfigError(
            'the SAC anchor needs stable-baselines3: pip install -c constraints.txt -e ".[anchors]"'
        ) from None
    import torch

    from svnr_rl.envs.gym_single import make_gym

    torch.set_num_threads(cfg.train.threads)
    gym_task = ANCHOR_TASKS[task]
    env, eval_env = make_gym(gym_task), Monitor(make_gym(gym_task))
    seed = cfg.train.seed
    t = cfg.train
    steps: list[int] = []
    returns: list[float] = []

    class _Every(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps % t.eval_interval == 0:
                eval_env.reset(seed=seed * 1_000_003 + self.num_timesteps)
                mean, _ = evaluate_policy(
                    self.model, eval_env, n_eval_episodes=t.eval_episodes, deterministic=True
                )
                steps.append(int(self.num_timesteps))
                returns.append(float(mean))  # type: ignore[arg-type]
            return True

    run_dir.mkdir(parents=True, exist_ok=True)
    model = SAC("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **sb3_settings(cfg))
    t0 = time.perf_counter()
    model.learn(total_timesteps=t.total_env_steps, callback=_Every())
    wall = time.perf_counter() - t0
    _write_curve(run_dir / "metrics.csv", steps, returns)
    info = {
        "task": gym_task,
        "seed": seed,
        "wall_time_s": wall,
        "updates": model._n_updates,
        "settings": wanted,
    }
    write_atomic(summary, json.dumps(info, indent=2) + "\n")
    env.close()
    eval_env.close()
    return _read_run(run_dir, SB3, seed)


def _read_curve(path: Path) -> tuple[list[int], list[float]]:
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [int(float(r["env_steps"])) for r in rows], [float(r["eval_return_mean"]) for r in rows]


def _read_run(run_dir: Path, method: str, seed: int) -> AnchorRun:
    """A finished run's test-return curve (``metrics.csv``) and cost (``summary.json``)."""
    info = json.loads((run_dir / "summary.json").read_text())
    steps, returns = _read_curve(run_dir / "metrics.csv")
    return AnchorRun(method, seed, steps, returns, info["wall_time_s"], info["updates"])


def run_ours(method: str, cfg: Config, run_dir: Path) -> AnchorRun:
    """Train (or reuse, or resume) one run of this backbone."""
    from svnr_rl.train import resume, train

    if (run_dir / "config.json").is_file():
        stored = resolve_run_length(load_run_config(run_dir))[0]
        diff = config_differences(stored, cfg)
        if diff:
            raise ConfigError(
                f"{run_dir} holds a run of another configuration ({', '.join(diff[:3])} differ); "
                "use another --runs folder (or delete it) to run this one"
            )
    if not is_completed(run_dir):
        if (run_dir / "config.json").is_file():
            resume(run_dir)
        else:
            if run_dir.exists():  # made but never configured (killed at once): start over
                shutil.rmtree(run_dir)
            train(cfg)
    return _read_run(run_dir, method, cfg.train.seed)


def _run_job(
    task: str, name: str, seed: int, steps: int | None, overrides: Sequence[str], root: Path
) -> AnchorRun:
    """One run of the anchor: SB3 SAC (``name == SB3``) or a method of this backbone."""
    base = _task_config(task, seed, steps, overrides)
    if name == SB3:
        return run_sb3(task, base, _where(root, name, seed))
    cfg = apply_overrides(
        base, [f"algo.method={name}", f'train.out_dir="{root}"', f'train.run_name="{name}-s{seed}"']
    )
    return run_ours(name, cfg, _where(root, name, seed))


def _run_jobs(
    jobs: Sequence[tuple[str, int]], args: argparse.Namespace, root: Path
) -> list[AnchorRun]:
    """All runs, in ``jobs`` order: one after another in this process (``--workers 1``) or in
    ``--workers`` fresh processes at once (spawned, so each sets its own torch threads and
    seeds exactly as a run of its own would: same seed, same result)."""
    if args.workers == 1:
        done = []
        for name, seed in jobs:
            print(f"[{name} seed {seed}] {_where(root, name, seed)}", flush=True)
            done.append(_run_job(args.task, name, seed, args.steps, args.overrides, root))
        return done
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.workers, mp_context=ctx) as pool:
        futures = {
            pool.submit(_run_job, args.task, n, s, args.steps, args.overrides, root): (n, s)
            for n, s in jobs
        }
        print(f"{len(jobs)} runs on {args.workers} workers under {root}", flush=True)
        try:
            for fut in as_completed(futures):
                n, s = futures[fut]
                run = fut.result()
                print(
                    f"[{n} seed {s}] {_where(root, n, s)}: final test return {run.final:.1f}",
                    flush=True,
                )
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        return [fut.result() for fut in futures]


def _where(root: Path, name: str, seed: int) -> Path:
    return root / SB3 / f"s{seed}" if name == SB3 else root / f"{name}-s{seed}"


def _stats(xs: Sequence[float]) -> str:
    m = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / len(xs))
    return f"{m:.1f} ± {sd:.1f}" if len(xs) > 1 else f"{m:.1f}"


def _report(
    out: Path, task: str, runs: dict[str, list[AnchorRun]], command: str, ratio: Fraction
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    sac = runs.get(SB3, [])
    sac_final = sum(r.final for r in sac) / len(sac) if sac else math.nan
    steps = runs[next(iter(runs))][0].steps
    marks = sorted({steps[len(steps) // 4], steps[len(steps) // 2], steps[-1]})
    lines = [
        f"# SAC anchor on `{task}`",
        "",
        f"Command: `{command}`",
        "",
        f"SB3 SAC trains on `{ANCHOR_TASKS[task]}`"
        + (
            " (the joint action on the global state: the centralized upper bound)."
            if task.startswith("mamujoco")
            else " (the same environment)."
        ),
        "Test return: deterministic policy (SB3) or decentralized execution at test (ours), "
        "mean over seeds ± std, at the environment steps of the columns. "
        f"Updates per environment step: {ratio} for every method.",
        "",
        "| method | seeds | "
        + " | ".join(f"{s:,} steps" for s in marks)
        + " | final / SAC's | env steps/s | wall s per update |",
        "|---|---|" + "---|" * len(marks) + "---|---|---|",
    ]
    for method, rs in runs.items():
        cells = []
        for mk in marks:
            vals = [r.returns[r.steps.index(mk)] for r in rs if mk in r.steps]
            cells.append(_stats(vals) if vals else "-")
        final = sum(r.final for r in rs) / len(rs)
        to_sac = final / sac_final if sac and sac_final != 0 else math.nan
        sps = sum(r.steps[-1] / r.wall_s for r in rs) / len(rs)
        per_update = sum(r.wall_s / max(r.updates, 1) for r in rs) / len(rs)
        seeds = ",".join(str(r.seed) for r in rs)
        lines.append(
            f"| {method} | {seeds} | "
            + " | ".join(cells)
            + f" | {to_sac:.2f} | {sps:.0f} | {per_update * 1e3:.1f} ms |"
        )
    lines += [
        "",
        "`final / SAC's` divides mean final returns (meaningful for positive returns; on "
        "Pendulum, where returns are negative, a ratio below 1 is better). Wall seconds per "
        "update include environment steps and evaluations; both depend on the machine and on how "
        "many runs shared it (`--workers` in the command).",
        "",
        "![test return against environment steps](anchor.png)",
    ]
    (out / "anchor.md").write_text("\n".join(lines) + "\n")
    _plot(out / "anchor.png", task, runs)


def _plot(path: Path, task: str, runs: dict[str, list[AnchorRun]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2), constrained_layout=True)
    for method, rs in runs.items():
        for k, r in enumerate(rs):
            ax.plot(
                r.steps,
                r.returns,
                marker="o",
                ms=3,
                alpha=0.35 if len(rs) > 1 else 1.0,
                color=f"C{list(runs).index(method)}",
                label=method if k == 0 else None,
            )
        common = sorted(set.intersection(*(set(r.steps) for r in rs)))
        mean = [sum(r.returns[r.steps.index(s)] for r in rs) / len(rs) for s in common]
        if len(rs) > 1:
            ax.plot(common, mean, lw=2.2, color=f"C{list(runs).index(method)}")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("test return")
    ax.set_title(f"SAC anchor: {task} (thin: seeds, thick: mean)")
    ax.legend()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def build_parser() -> argparse.ArgumentParser:
    from svnr_rl.cli_style import DEFAULT_RESULTS, HelpFormatter, bounded_int

    p = argparse.ArgumentParser(
        prog="python -m svnr_rl anchor",
        description="Train stable-baselines3's SAC and methods of this backbone on one task with "
        "one budget and seeds; write a side-by-side table and curve.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("--task", default="gym-pendulum", choices=tuple(ANCHOR_TASKS), help="task")
    p.add_argument(
        "--methods",
        default="masac",
        help=f"comma-separated methods of this backbone ({', '.join(METHODS)}); SB3 SAC always "
        "runs",
    )
    p.add_argument("--seeds", type=bounded_int(1, 100), default=3, help="seeds 0..S-1")
    p.add_argument(
        "--steps",
        type=bounded_int(1, 10**10),
        default=None,
        help="environment steps per run (default: the preset's)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SEC.KEY=VALUE",
        help="config override for every run, SB3's settings included (repeatable)",
    )
    p.add_argument(
        "--workers",
        type=bounded_int(1, 64),
        default=1,
        help="runs at once, each in its own process with one thread (at most the CPU cores)",
    )
    p.add_argument("--runs", default="runs/anchor", help="folder of the run folders")
    p.add_argument(
        "--out",
        default=f"{DEFAULT_RESULTS}/anchor",
        help="report folder (committed reports: docs/results/anchor)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; 0 on success, 2 on invalid input, 130 when interrupted."""
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(words)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    command = shlex.join(["python", "-m", "svnr_rl", "anchor", *words])
    try:
        methods = list(dict.fromkeys(m.strip() for m in args.methods.split(",") if m.strip()))
        bad = [m for m in methods if m not in METHODS]
        if bad or not methods:
            raise ConfigError(f"--methods: unknown method {bad[:1]}; known: {', '.join(METHODS)}")
        runs_root = Path(args.runs) / args.task
        for seed in range(args.seeds):  # every --set checked before anything trains
            _task_config(args.task, seed, args.steps, args.overrides)
        # SB3's runs first: they cannot resume, so they get the start of a session
        jobs = [(SB3, seed) for seed in range(args.seeds)]
        jobs += [(name, seed) for seed in range(args.seeds) for name in methods]
        results: dict[str, list[AnchorRun]] = {name: [] for name in (SB3, *methods)}
        for run in _run_jobs(jobs, args, runs_root):
            results[run.method].append(run)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted; finished runs are kept. Continue with: {command}", file=sys.stderr)
        return 130
    ratio = update_ratio(_task_config(args.task, 0, args.steps, args.overrides))
    _report(Path(args.out), args.task, results, command, ratio)
    print(f"report: {Path(args.out) / 'anchor.md'}")
    return 0
