"""Particle Gather with a guided start: is the failure only a failure of exploration?

Every Particle Gather run of this repository ends near 0 (paper: 4.76 for SVNR) and its
replay buffer never holds a joint arrival (+5; ``docs/results/results.md``).  This diagnostic
separates exploration from learning: for the first ``guided_env_steps`` environment steps the
behaviour policy is the uncoordinated heuristic of
:func:`svnr_rl.experiment.steer_to_landmark_outcomes` (every agent steers its particle straight
to the landmark, ``a = clip(-2 p - v, -1, 1)``; about 11% of its episodes end with a joint
arrival, the rest with a lone one), then the method's own policy takes over.  Everything else
is the method's ``particle-gather`` preset: the same critic, replay, updates (which start as
soon as the buffer allows, on the guided data too), alpha schedule, budget and decentralized
evaluation.  Both kinds of arrival are in the data, so what remains is the paper's question:
does the method learn to arrive together (+5) rather than keep away (0), or does relative
over-generalization by the -2 of lone arrivals win?

It is a diagnostic, not the paper's protocol (the paper's agents explore on their own): the
results are reported apart from Table 2, and a guided run cannot be resumed (``resume`` would
continue it with the plain trainer).

``python -m svnr_rl.guided_start --methods svnr,maddpg --seeds 1`` writes the run folders
under ``runs/guided-start`` and the report ``docs/results/guided_start.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from svnr_rl.config import Config, ConfigError, apply_overrides, config_to_dict, preset
from svnr_rl.experiment import GatherDiagnostics, gather_diagnostics
from svnr_rl.run_status import is_completed
from svnr_rl.table import METHOD_SPECS

if TYPE_CHECKING:
    from svnr_rl.guided_trainer import GuidedStartTrainer as GuidedStartTrainer

__all__ = [
    "GuidedResult",
    "GuidedStartTrainer",
    "completed_runs",
    "guided_config",
    "main",
    "read_guided",
    "run_guided",
    "soft_value_bound",
]

TASK = "particle-gather"
GUIDED_JSON = "guided_start.json"
COMMANDS_LOG = "commands.log"
TARGET = 4.5  # issue 6's bar for Particle Gather (paper: 4.76)
REWARD_MAX = 5.0  # the largest return of an episode (a joint arrival)
JOINT_DIM = 4  # joint action coordinates of Particle Gather


def __getattr__(name: str) -> Any:
    # the trainer subclass needs torch; it is imported on first use, so that `--help` and
    # argument errors of this command answer without the training stack
    if name == "GuidedStartTrainer":
        from svnr_rl.guided_trainer import GuidedStartTrainer

        return GuidedStartTrainer
    raise AttributeError(name)


def soft_value_bound(alpha: float, gamma: float) -> float:
    """The largest soft value of a Particle Gather state-action at temperature ``alpha``:
    the largest return, 5, plus the largest entropy bonus the uniform soft value adds,
    ``alpha D log 2`` per step (``D = 4``) forever, ``alpha D log 2 / (1 - gamma)``.  A mean
    ``Q`` above it is overestimation, whatever the method's soft value."""
    return REWARD_MAX + alpha * JOINT_DIM * math.log(2.0) / (1.0 - gamma)


def guided_config(
    method: str,
    seed: int,
    runs: Path,
    guided_env_steps: int,
    overrides: Sequence[str] = (),
    tag: str = "",
) -> Config:
    """The ``particle-gather`` preset of ``method`` (a name of Table 2's rows, e.g. ``svnr``,
    ``maddpg``, ``svnr-m``) plus ``overrides`` (``section.field=value``), with a run name that
    records the method, ``tag`` (name it when there are overrides) and the guidance."""
    if overrides and not tag:
        raise ConfigError("--tag: name the variant when --set changes the preset")
    spec = METHOD_SPECS.get(method)
    if spec is None:
        raise ConfigError(f"--methods: unknown method {method!r}; known: {', '.join(METHOD_SPECS)}")
    name = f"{method}-{tag}" if tag else method
    return apply_overrides(
        preset(TASK),
        [
            f"algo.method={json.dumps(spec.method)}",
            *spec.overrides,
            *overrides,
            f"train.seed={seed}",
            f"train.out_dir={json.dumps(str(runs))}",
            f"train.run_name={json.dumps(f'{name}-guided{guided_env_steps}-seed{seed}')}",
            "train.progress=false",
        ],
    )


@dataclass(frozen=True)
class GuidedResult:
    """One guided run: its test returns and what its replay and critic hold at the end."""

    method: str
    variant: str
    seed: int
    guided_env_steps: int
    final_return: float
    best_return: float
    diagnostics: GatherDiagnostics
    wall_time_s: float
    q_bound: float
    run_dir: Path


def run_guided(
    method: str,
    seed: int,
    runs: Path,
    guided_env_steps: int,
    overrides: Sequence[str] = (),
    tag: str = "",
) -> GuidedResult:
    """Train (or reuse a completed) guided run and read its diagnostics."""
    cfg = guided_config(method, seed, runs, guided_env_steps, overrides, tag)
    run_dir = runs / cfg.train.run_name
    if not is_completed(run_dir):
        from svnr_rl.guided_trainer import GuidedStartTrainer
        from svnr_rl.train import _execute

        if run_dir.exists():
            raise ConfigError(
                f"{run_dir} holds an unfinished guided run (guided runs cannot be resumed); "
                "move it away to rerun it"
            )
        trainer = GuidedStartTrainer(cfg, run_dir, guided_env_steps)
        run_dir.mkdir(parents=True)
        (run_dir / "config.json").write_text(json.dumps(config_to_dict(cfg), indent=2) + "\n")
        meta = {
            "method": method,
            "tag": tag,
            "overrides": list(overrides),
            "seed": seed,
            "guided_env_steps": guided_env_steps,
            "behaviour": "steer",
        }
        (run_dir / GUIDED_JSON).write_text(json.dumps(meta, indent=2) + "\n")
        print(f"[{method} seed {seed}] guided training -> {run_dir}", flush=True)
        _execute(trainer, on_step=None, purge=None)
    else:
        print(f"[{method} seed {seed}] reusing {run_dir}", flush=True)
    return read_guided(run_dir)


def read_guided(run_dir: Path) -> GuidedResult:
    """The result of a completed guided run folder (its metadata, summary and replay)."""
    meta = json.loads((run_dir / GUIDED_JSON).read_text())
    summary = json.loads((run_dir / "summary.json").read_text())
    gamma = float(json.loads((run_dir / "config.json").read_text())["algo"]["gamma"])
    diagnostics = gather_diagnostics(run_dir)
    overrides = meta["overrides"]
    return GuidedResult(
        method=str(meta["method"]),
        variant=" ".join(overrides) if overrides else "preset",
        seed=int(meta["seed"]),
        guided_env_steps=int(meta["guided_env_steps"]),
        final_return=float(summary["final_test_return_mean"]),
        best_return=float(summary["best_test_return"]),
        diagnostics=diagnostics,
        q_bound=soft_value_bound(diagnostics.alpha, gamma),
        wall_time_s=float(summary["wall_time_s"]),
        run_dir=run_dir,
    )


def completed_runs(runs: Path) -> list[GuidedResult]:
    """Every completed guided run under ``runs``, by method, settings and seed."""
    out = []
    for d in sorted(runs.glob(f"*/{GUIDED_JSON}")):
        if is_completed(d.parent):
            out.append(read_guided(d.parent))
    return sorted(out, key=lambda r: (r.method, r.variant, r.guided_env_steps, r.seed))


def _report(results: list[GuidedResult], commands: list[str]) -> str:
    lines = [
        "# Particle Gather with a guided start (diagnostic)",
        "",
        "Produced by (every completed run of the runs folder is reported)",
        "",
        "```",
        *commands,
        "```",
        "",
        "For the first *guided* environment steps every agent steers its particle straight to",
        "the landmark (`svnr_rl/guided_start.py`; no coordination: about 11% of these episodes",
        "end with a joint arrival, +5, and the rest with a lone one, -2); afterwards the",
        "method's own policy acts.  All else is the `particle-gather` preset (125k environment",
        "steps, decentralized evaluation on 32 episodes every 5000 steps).  *Final*: the last",
        "evaluation; *best*: the best evaluation of the run.  Replay and critic columns as in",
        "`docs/results/results.md` (`gather_diagnostics`: +5 and -2 transitions in the whole",
        "buffer; `Q` on 1024 replay transitions).  This is not the paper's protocol, whose",
        "agents explore on their own; it asks whether the methods learn to arrive together",
        "once joint arrivals are in the data.",
        "",
        "| method | settings | seed | guided steps | final test return | best test return "
        "| +5 in replay | -2 in replay | Q mean | Q max | wall clock (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        d = r.diagnostics
        lines.append(
            f"| {r.method} | {r.variant} | {r.seed} | {r.guided_env_steps} | "
            f"{r.final_return:.2f} | "
            f"{r.best_return:.2f} | {d.joint_arrivals} | {d.lone_arrivals} | "
            f"{d.q_mean:.2f} | {d.q_max:.2f} | {r.wall_time_s:.0f} |"
        )
    by_method: dict[tuple[str, str], list[float]] = {}
    for r in results:
        by_method.setdefault((r.method, r.variant), []).append(r.final_return)
    lines += [
        "",
        "| method | settings | final test return, mean +- std over seeds |",
        "|---|---|---|",
    ]
    for (m, variant), v in by_method.items():
        a = np.array(v)
        seeds = f"{len(v)} seed" + "s" * (len(v) > 1)
        lines.append(f"| {m} | {variant} | {a.mean():.2f} +- {a.std():.2f} ({seeds}) |")
    reached = sum(r.final_return >= TARGET for r in results)
    inflated = [r for r in results if r.diagnostics.q_mean > r.q_bound]
    lines += [
        "",
        f"Runs whose final test return reaches {TARGET} (the issue's bar): {reached} of "
        f"{len(results)}.  Critics whose mean `Q` exceeds the largest soft value at their final "
        "alpha (`soft_value_bound`: 5 plus `alpha 4 log 2 / (1 - gamma)`, the most the uniform "
        f"soft value's entropy bonus can add), i.e. overestimate: {len(inflated)} of "
        f"{len(results)}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m svnr_rl.guided_start``: run the methods x seeds and write the report."""
    from svnr_rl.cli_style import DEFAULT_RESULTS, HelpFormatter, bounded_int

    p = argparse.ArgumentParser(
        prog="python -m svnr_rl.guided_start", description=__doc__, formatter_class=HelpFormatter
    )
    p.add_argument("--methods", default="svnr,maddpg", help="comma-separated methods")
    p.add_argument(
        "--seeds", type=bounded_int(1, 1000), default=1, help="seeds 0..S-1 of each method"
    )
    p.add_argument(
        "--guided-steps",
        type=bounded_int(0, 10**9),
        default=20_000,
        help="environment steps of the steer-to-landmark behaviour before the method acts",
    )
    p.add_argument("--runs", default="runs/guided-start", help="folder of the run folders")
    p.add_argument(
        "--out",
        default=f"{DEFAULT_RESULTS}/guided_start.md",
        help="report file (the committed report is docs/results/guided_start.md)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.FIELD=VALUE",
        help="change the preset of every method (repeatable; needs --tag)",
    )
    p.add_argument("--tag", default="", help="name of the --set variant (part of the run name)")
    try:
        args = p.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse has printed
        return exc.code if isinstance(exc.code, int) else 2
    try:
        methods = [m.strip() for m in args.methods.split(",") if m.strip()]
        if not methods:
            raise ConfigError("--methods: name at least one method")
        for m in methods:  # validate every method before the first (long) run
            guided_config(m, 0, Path(args.runs), args.guided_steps, args.set, args.tag)
        for m in methods:
            for seed in range(args.seeds):
                run_guided(m, seed, Path(args.runs), args.guided_steps, args.set, args.tag)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    runs = Path(args.runs)
    words = sys.argv[1:] if argv is None else argv
    log = runs / COMMANDS_LOG
    with log.open("a") as fh:
        fh.write(shlex.join(["python", "-m", "svnr_rl.guided_start", *words]) + "\n")
    commands = list(dict.fromkeys(log.read_text().splitlines()))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(_report(completed_runs(runs), commands))
    print(f"report: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
