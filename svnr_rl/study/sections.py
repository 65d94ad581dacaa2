"""Report sections that are diagnostics of particular tasks (Two Modalities, Particle
Gather, the guided start) and of tuning.  Each takes a
:class:`svnr_rl.study.report.ReportContext` and returns markdown lines; what the numbers
mean is written in the study file's ``report.notes``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from svnr_rl.study.context import ReportContext
    from svnr_rl.study.trials import Trial

__all__ = ["gather", "guided", "tuning", "two_modalities"]

#: the two optima of Two Modalities (paper Fig. 3), in native action units
_OPTIMA = ((-5, -5, 3), (7, 7, -3))


def _shares(opt: list[dict[str, Any]]) -> tuple[float, float]:
    m = {tuple(round(v) for v in o["optimum"]): o["mass_near"] for o in opt}
    return m.get(_OPTIMA[0], 0.0), m.get(_OPTIMA[1], 0.0)


def two_modalities(ctx: ReportContext) -> list[str]:
    """Share of converged joint samples near each optimum, per run, beside the exact
    soft-optimal joint policy ``exp(r / alpha)`` integrated on a grid."""
    from svnr_rl.config import preset
    from svnr_rl.plots import boltzmann_mass_near_optima

    rows = [(t, s) for t, s in ctx.completed() if t.task.preset == "two-modalities"]
    if not rows:
        return []
    lines = [
        "Share of 1000 joint samples (decentralized execution) within distance 2 (native action",
        "units) of each optimum.",
        "",
        "| run | near (-5, -5, 3) | near (7, 7, -3) | elsewhere |",
        "|---|---|---|---|",
    ]
    for t, s in rows:
        a, b = _shares(s["mass_near_optima"])
        lines.append(f"| {t.method.key} seed {t.seed} | {a:.1%} | {b:.1%} | {1 - a - b:.1%} |")
    alpha_end = preset("two-modalities").alpha.alpha_end
    for alpha in (alpha_end, 1.0):
        a, b = _shares(boltzmann_mass_near_optima("two-modalities", 2.0, alpha))
        lines.append(
            f"| exact `exp(r/alpha)`, alpha = {alpha:g} | {a:.1%} | {b:.1%} | {1 - a - b:.1%} |"
        )
    a, b = _shares(boltzmann_mass_near_optima("two-modalities", 2.0, alpha_end, tilted=True))
    lines.append(
        f"| policy step's target `exp(r/alpha) prod_d (1 - a_d^2)`, alpha = {alpha_end:g} "
        f"| {a:.1%} | {b:.1%} | {1 - a - b:.1%} |"
    )
    return lines


def gather(ctx: ReportContext) -> list[str]:
    """Episodes of fixed policies (random, uncoordinated steering) at two arrival radii (the
    terminal variant), and what each Particle Gather run's replay holds and its critic believes
    at the end, against the largest soft value any state-action can have (either variant)."""
    from svnr_rl.gather_diagnostics import GATHER_TASKS

    rows = [(t, s) for t, s in ctx.completed() if t.task.preset in GATHER_TASKS]
    if not rows:
        return []
    lines: list[str] = []
    if any(t.task.preset == "particle-gather-terminal" for t, _ in rows):
        lines += [*_fixed_policy_table(), ""]
    return lines + _critic_table(rows)


def _fixed_policy_table() -> list[str]:
    """Episode outcomes of random actions and of uncoordinated steering (terminal variant; an
    iterated variant's fixed policies are in its learnability card)."""
    from svnr_rl.gather_diagnostics import random_policy_outcomes, steer_to_landmark_outcomes

    lines = [
        "Episodes of two fixed policies over 64 environments x 4000 steps (seed 0), terminal",
        "variant: uniform random actions, and every agent steering its particle straight to the",
        "landmark (`svnr_rl.gather_diagnostics.steer_to_landmark_outcomes`, no coordination):",
        "",
        "| policy | arrival radius | episodes | return -2 | return 0 | return 5 |",
        "|---|---|---|---|---|---|",
    ]
    for policy, radius in (("random", 0.1), ("random", 0.2), ("steer", 0.1), ("steer", 0.2)):
        if policy == "random":
            counts = random_policy_outcomes("particle-gather-terminal", arrival_radius=radius)
        else:
            counts = steer_to_landmark_outcomes(arrival_radius=radius)
        total = sum(counts.values())
        lines.append(
            f"| {policy} | {radius:g} | {total} | "
            + " | ".join(f"{counts.get(k, 0)} ({counts.get(k, 0) / total:.2%})" for k in (-2, 0, 5))
            + " |"
        )
    return lines


def _critic_table(rows: list[tuple[Trial, dict[str, Any]]]) -> list[str]:
    """Replay contents and the critic's ``Q`` per run, with :func:`soft_value_bound`."""
    from svnr_rl.gather_diagnostics import gather_diagnostics, soft_value_bound

    lines = [
        "What each run's critic saw and believes at the end (`gather_diagnostics`: rewards in",
        "the whole replay buffer, per transition: in the terminal variant a +5 / -2 ends an",
        "episode, in the iterated one it is a step with both / one particle inside the disc;",
        "`Q` on 1024 replay transitions, divided by the reward scale; *bound*: the largest soft",
        "value any state-action can have at the run's final alpha, `soft_value_bound`: terminal",
        "5 + alpha 4 log 2 / (1 - gamma), iterated (5 + alpha 4 log 2) / (1 - gamma), since a",
        "time limit is bootstrapped; a mean `Q` above it is overestimation):",
        "",
        "| task | variant | method | seed | final test return | last-step reward | transitions "
        "| +5 in replay | -2 in replay | Q mean | Q max | bound | final alpha |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for t, s in rows:
        run_dir = Path(s["run_dir"])
        d = gather_diagnostics(run_dir)
        gamma = float(json.loads((run_dir / "config.json").read_text())["algo"]["gamma"])
        last = s.get("final_test_last_reward_mean")
        last_text = "—" if last is None else f"{last:.2f}"
        variant = "terminal" if d.task == "particle-gather-terminal" else "iterated"
        lines.append(
            f"| {t.task.key} | {variant} | {t.method.key} | {t.seed} | "
            f"{s['final_test_return_mean']:.2f} | {last_text} | {d.transitions} | "
            f"{d.joint_arrivals} | {d.lone_arrivals} | {d.q_mean:.2f} | {d.q_max:.2f} | "
            f"{soft_value_bound(d.alpha, gamma, d.task):.2f} | {d.alpha:.3f} |"
        )
    return lines


def guided(ctx: ReportContext) -> list[str]:
    """Guided Particle Gather runs: test returns, replay and critic, and whether the critic's
    mean ``Q`` exceeds the largest soft value at its final alpha (overestimation)."""
    from svnr_rl.gather_diagnostics import gather_diagnostics, soft_value_bound

    rows = [(t, s) for t, s in ctx.completed() if t.task.guided_env_steps]
    if not rows:
        return []
    lines = [
        "| task | method | seed | guided steps | final test return | best test return "
        "| +5 in replay | -2 in replay | Q mean | Q max | wall clock (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    inflated = 0
    for t, s in rows:
        d = gather_diagnostics(Path(s["run_dir"]))
        gamma = float(json.loads((Path(s["run_dir"]) / "config.json").read_text())["algo"]["gamma"])
        inflated += d.q_mean > soft_value_bound(d.alpha, gamma, d.task)
        lines.append(
            f"| {t.task.key} | {t.method.key} | {t.seed} | {t.task.guided_env_steps} | "
            f"{s['final_test_return_mean']:.2f} | {s['best_test_return']:.2f} | "
            f"{d.joint_arrivals} | {d.lone_arrivals} | {d.q_mean:.2f} | {d.q_max:.2f} | "
            f"{s['wall_time_s']:.0f} |"
        )
    lines += [
        "",
        "Critics whose mean `Q` exceeds the largest soft value at their final alpha "
        "(`soft_value_bound`: terminal variant 5 plus `alpha 4 log 2 / (1 - gamma)`, the most "
        "the uniform soft value's entropy bonus can add; iterated variant "
        "`(5 + alpha 4 log 2) / (1 - gamma)`), i.e. overestimate: "
        f"{inflated} of {len(rows)}.",
    ]
    return lines


def tuning(ctx: ReportContext) -> list[str]:
    """Per task x method: the trial history (value per trial, best so far), the best
    parameters, the parameter importances (PED-ANOVA over the finished trials; fANOVA would
    need scikit-learn) and the compute spent on tuning."""
    from svnr_rl.study.tuning import best_trial, trial_values, tuning_runs

    spec = ctx.spec
    assert spec.tune is not None
    rows = tuning_runs(spec, ctx.runs)
    if not rows:
        return []
    n_seeds = len(spec.tune.tuning_seeds)
    lines = [
        f"TPE (Optuna), {spec.tune.trials} trials per task x method in batches of "
        f"{spec.tune.batch} ({spec.tune.startup_trials} random start-up trials, sampler seed "
        f"{spec.tune.sampler_seed}), each trial scored by the mean `{spec.metric}` over the "
        f"tuning seeds {list(spec.tune.tuning_seeds)}; the best trial's configuration then ran "
        f"on the evaluation seeds {list(spec.seeds)} (the tables above).  *Trials at target*: "
        "how many trials scored at least the task's target return; where the outcome of one "
        "configuration is all-or-nothing across seeds, this share, not the best value, "
        "estimates how often a configuration succeeds, and the best value of a single tuning "
        "seed is the luckiest draw (the evaluation seeds measure how much of it was luck).",
        "",
        "| task | method | trials finished | trials at target | best trial | best value "
        "| best parameters | importances (PED-ANOVA) | tuning compute (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    pairs = [(t, m) for t in spec.tasks for m in spec.methods]
    histories = []
    for t, m in pairs:
        mine = [r for r in rows if r["task"] == t.key and r["method"] == m.key]
        values = trial_values(mine, n_seeds)
        if not values:
            continue
        best = best_trial(values)
        if best is None:
            continue
        params = next(r["params"] for r in mine if r["number"] == best)
        cost = sum(float(r["wall_time_s"]) for r in mine)
        imp = _importances(spec, m.key, mine, values)
        lines.append(
            f"| {t.title} | {m.title} | {len(values)}/{spec.tune.trials} | "
            f"{_at_target(spec.metric, mine, values)} | {best} | "
            f"{values[best]:.3f} | "
            + ", ".join(f"{k} = {_num(v)}" for k, v in params.items())
            + " | "
            + (", ".join(f"{k} {v:.2f}" for k, v in imp.items()) or "—")
            + f" | {cost:.0f} |"
        )
        histories.append((f"{t.title}, {m.title}", values))
    if histories:
        _history_figure(ctx.out / "tuning_history.png", histories)
        lines += ["", "![tuning history](tuning_history.png)"]
    return lines


def _at_target(metric: str, rows: list[dict[str, Any]], values: dict[int, float]) -> str:
    """``k/n``: how many of the ``n`` finished trials reached the task's target return
    (``—`` where the task has none, or where the tuned metric is not a return, which a
    return threshold would not measure)."""
    if "return" not in metric:
        return "—"
    targets = {r["target_return"] for r in rows if r.get("target_return") is not None}
    if len(targets) != 1:
        return "—"
    target = float(targets.pop())
    return f"{sum(v >= target for v in values.values())}/{len(values)}"


def _num(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _importances(
    spec: Any, method_key: str, rows: list[dict[str, Any]], values: dict[int, float]
) -> dict[str, float]:
    """PED-ANOVA importances (Optuna) of the tuned parameters (empty with fewer than 4
    finished trials)."""
    import optuna

    from svnr_rl.study.tuning import distributions

    if len(values) < 4:
        return {}
    space = distributions(spec.tune, method_key)
    params = {r["number"]: r["params"] for r in rows}
    study = optuna.create_study(direction="maximize")
    for n, v in sorted(values.items()):
        study.add_trial(
            optuna.trial.create_trial(
                params={k: params[n][k] for k in space}, distributions=space, value=v
            )
        )
    try:
        evaluator = optuna.importance.PedAnovaImportanceEvaluator()
        return dict(optuna.importance.get_param_importances(study, evaluator=evaluator))
    except (RuntimeError, ValueError):
        return {}


def _history_figure(path: Path, histories: list[tuple[str, dict[int, float]]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(histories)
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, (title, values) in zip(axes.flat, histories, strict=False):
        xs = sorted(values)
        ys = np.array([values[x] for x in xs])
        ax.plot(xs, ys, "o", ms=3, label="trial")
        ax.plot(xs, np.maximum.accumulate(ys), "-", label="best so far")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("trial")
        ax.set_ylabel("mean metric over tuning seeds")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


#: per-episode figures of the single-step games (svnr_core.coordination_games), as summary keys
_COORDINATION_FIGURES = (
    ("final_test_miscoordinated_mean", "miscoordinated"),
    ("final_test_off_optimum_mean", "off an optimum"),
)


def coordination(ctx: ReportContext) -> list[str]:
    """Per task x method: the test return and the share of test joint actions that are
    miscoordinated (and, for the matrix games, off every optimal cell), mean ± std over seeds
    (each seed's share is over its final evaluation's episodes)."""
    spec = ctx.spec
    lines = [
        "Final test return and share of the final evaluation's joint actions that are",
        "*miscoordinated* (agents leaning to different optima, or a matrix game's worst cell;",
        "`svnr_core.coordination_games`) and *off an optimum* (matrix games: not an optimal",
        "cell), mean ± std over seeds:",
        "",
        "| task | method | seeds | test return | miscoordinated | off an optimum |",
        "|---|---|---|---|---|---|",
    ]
    rows = 0
    for t in spec.tasks:
        for m in spec.methods:
            c = ctx.cell(t.key, m.key)
            if not c.summaries:
                continue
            ret = c.values("final_test_return_mean")
            cells = [f"{ret.mean():.2f} ± {ret.std():.2f}"]
            for key, _ in _COORDINATION_FIGURES:
                vals = [float(s[key]) for s in c.summaries if key in s]
                cells.append(
                    "—"
                    if len(vals) < len(c.summaries)
                    else f"{np.mean(vals):.0%} ± {np.std(vals):.0%}"
                )
            lines.append(
                f"| {t.title} | {m.title} | {len(c.summaries)} | " + " | ".join(cells) + " |"
            )
            rows += 1
    return lines if rows else []
