"""``python -m svnr_rl experiment``: the results tables of ``docs/results/`` (paper Table 2, Fig. 3,
Fig. 5), produced from scratch by training runs with fixed seeds.

Experiments (``--only NAME`` selects; the default runs all but Particle Gather):

* ``max-of-three-3.0``, ``max-of-three-2.0``, ``max-of-three-1.5`` -- SVNR with the default
  configuration, ``s2`` as named, seeds ``0..S-1``: final test return (decentralized execution,
  64 episodes), environment steps until the first evaluation at or above 9.5.
* ``two-modalities`` -- the share of 1000 converged joint samples within distance 2 of each of the
  two optima (:func:`svnr_rl.plots.mass_near_optima`).
* ``max-of-three-1.5-fast-anneal``, ``max-of-three-1.5-eq20`` -- temperature-schedule ablations
  on ``s2 = 1.5``: the faster F.2 annealing tried first, and the H.5 Eq. 20 schedule.
* ``particle-gather`` -- the preset (125k environment steps = 5000 episodes of 25 steps);
  long on a CPU, so run only when asked; ``particle-gather-eq11`` (Eq. 11's soft value over the
  samplers' own samples, ``algo.value_proposal = "policy"``) and ``particle-gather-rs100``
  (reward scale 100) are the variants tried against its failure; the report adds what each
  run's critic saw and believes (:func:`gather_diagnostics`).

Every run lives in ``RUNS/NAME-seedK``; a completed run is reused, an interrupted one resumed, so
the command can be stopped and restarted.  The report (``results.md``, ``results.json``, figures)
is rewritten from the run folders at the end.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from svnr_rl.config import Config, ConfigError, apply_overrides, config_to_dict, preset
from svnr_rl.run_status import is_completed

__all__ = [
    "EXPERIMENTS",
    "Experiment",
    "GatherDiagnostics",
    "gather_diagnostics",
    "random_policy_outcomes",
    "run_experiments",
    "steer_actions",
    "steer_to_landmark_outcomes",
]


@dataclass(frozen=True)
class Experiment:
    """One row group of the report: a preset plus overrides, run for every seed."""

    name: str
    task: str
    s2: float | None
    overrides: tuple[str, ...]
    paper: str
    default: bool = True

    def config(self, seed: int, runs: Path, device: str, progress: bool) -> Config:
        cfg = preset(self.task, s2=self.s2)
        return apply_overrides(
            cfg,
            [
                *self.overrides,
                f"train.seed={seed}",
                f"train.out_dir={json.dumps(str(runs))}",
                f"train.run_name={json.dumps(f'{self.name}-seed{seed}')}",
                f"train.device={json.dumps(device)}",
                f"train.progress={'true' if progress else 'false'}",
            ],
        )


EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment("max-of-three-3.0", "max-of-three", 3.0, (), "9.60 +- 0.30"),
    Experiment("max-of-three-2.0", "max-of-three", 2.0, (), "9.64 +- 0.17"),
    Experiment("max-of-three-1.5", "max-of-three", 1.5, (), "9.71 +- 0.20"),
    Experiment("two-modalities", "two-modalities", None, (), "both modes (Fig. 3)"),
    # ablations of the temperature schedule on the hardest game (what was tried first)
    Experiment(
        "max-of-three-1.5-fast-anneal",
        "max-of-three",
        1.5,
        ("alpha.rate=0.008", "train.total_env_steps=16000"),
        "(ablation: F.2 form, rate 0.008, 16k steps)",
    ),
    Experiment(
        "max-of-three-1.5-eq20",
        "max-of-three",
        1.5,
        (
            "alpha.schedule=exponential",
            "alpha.alpha_start=1.0",
            "alpha.alpha_end=0.01",
            "alpha.tau=2000",
        ),
        "(ablation: Eq. 20, alpha 1 -> 0.01, tau 2000)",
    ),
    Experiment("particle-gather", "particle-gather", None, (), "4.76 +- 0.20", default=False),
    # Eq. 11 read literally: the soft value over the samplers' own joint actions (no uniform
    # proposal, hence no alpha * D log 2 entropy bonus per step in the critic target)
    Experiment(
        "particle-gather-eq11",
        "particle-gather",
        None,
        ('algo.value_proposal="policy"',),
        "(variant: Eq. 11 value over the policy's samples)",
        default=False,
    ),
    # a shared setting of every method (App. H.5 Table 9): the entropy bonus shrinks 100-fold
    # against the rewards
    Experiment(
        "particle-gather-rs100",
        "particle-gather",
        None,
        ("algo.reward_scale=100",),
        "(variant: reward scale 100, Table 9)",
        default=False,
    ),
    # a short MaMuJoCo run that measures speed (env steps/s) and early learning on any device;
    # the paper's 8853 is at its full (unstated) budget, the preset's 1e6 steps take hours here
    Experiment(
        "mamujoco-halfcheetah-2x3",
        "mamujoco-halfcheetah-2x3",
        None,
        ("train.total_env_steps=100000", "train.eval_interval=20000"),
        "(Table 1: 8853 +- 212 at full budget; here 100k steps)",
        default=False,
    ),
)


def _run_one(exp: Experiment, seed: int, runs: Path, device: str, progress: bool) -> dict[str, Any]:
    from svnr_rl.train import resume, train

    cfg = exp.config(seed, runs, device, progress)
    run_dir = runs / cfg.train.run_name
    if (run_dir / "config.json").is_file():
        stored = json.loads((run_dir / "config.json").read_text())
        wanted = config_to_dict(cfg)
        for d in (stored, wanted):
            for key in ("progress", "device", "out_dir"):
                d["train"].pop(key, None)
        if stored != wanted:
            raise ConfigError(
                f"{run_dir} was trained with another configuration than {exp.name!r} now has; "
                "move it away (or use another --runs folder) to rerun it"
            )
    if is_completed(run_dir):
        print(f"[{exp.name} seed {seed}] reusing {run_dir}", flush=True)
    elif run_dir.is_dir():
        print(f"[{exp.name} seed {seed}] resuming {run_dir}", flush=True)
        resume(run_dir)
    else:
        print(f"[{exp.name} seed {seed}] training -> {run_dir}", flush=True)
        train(cfg)
    summary: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    summary["run_dir"] = str(run_dir)
    return summary


def _fmt(x: float | None, nd: int = 2) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{nd}f}"


def _steps_text(summary: dict[str, Any]) -> str:
    """Steps to the target return: a count, ``never``, or ``n/a`` for a task without a target."""
    if summary.get("target_return") is None:
        return "n/a"
    steps = summary.get("steps_to_target")
    return "never" if steps is None else str(steps)


_GATHER = ("particle-gather", "particle-gather-eq11", "particle-gather-rs100")


def _gather_section(runs: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The report's Particle Gather section: reward sparsity, what each run's critic saw and
    believes (:func:`gather_diagnostics`), and why the uniform soft value keeps agents away."""
    lines = [
        "",
        "## Particle Gather: why the runs end at 0.00 (paper: 4.76)",
        "",
        "Episodes of two fixed policies over 64 environments x 4000 steps (seed 0): uniform",
        "random actions, and every agent steering its particle straight to the landmark",
        "(`steer_to_landmark_outcomes`, no coordination):",
        "",
        "| policy | arrival radius | episodes | return -2 | return 0 | return 5 |",
        "|---|---|---|---|---|---|",
    ]
    for policy, radius in (("random", 0.1), ("random", 0.2), ("steer", 0.1), ("steer", 0.2)):
        if policy == "random":
            counts = random_policy_outcomes("particle-gather", arrival_radius=radius)
        else:
            counts = steer_to_landmark_outcomes(arrival_radius=radius)
        total = sum(counts.values())
        lines.append(
            f"| {policy} | {radius:g} | {total} | "
            + " | ".join(f"{counts.get(k, 0)} ({counts.get(k, 0) / total:.2%})" for k in (-2, 0, 5))
            + " |"
        )
    lines += [
        "",
        "(0.1 is our default, particle size + landmark size; 0.2 would follow mpe2's",
        "`simple_spread` agent size 0.15.  The paper states no radius; all runs use 0.1.)  A",
        "budget of 5000 episodes thus expects about half a joint arrival from undirected",
        "exploration, at either radius.  Steering both particles to the landmark scores +5",
        "far more often (they arrive at the same step when they start at similar distances),",
        "but nothing pulls the agents there before a +5 has been seen.  What each run's",
        "critic saw and believes at the end",
        "(`gather_diagnostics`",
        "in `svnr_rl/experiment.py`: rewards in the whole replay buffer; `Q` on 1024 replay",
        "transitions, divided by the reward scale; the true return of any episode lies in",
        "[-2, 5]):",
        "",
        "| experiment | seed | final test return | transitions | +5 in replay "
        "| -2 in replay | Q mean | Q max | final alpha |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    diags = [gather_diagnostics(Path(r["run_dir"])) for _, r in runs]
    for (name, r), d in zip(runs, diags, strict=True):
        lines.append(
            f"| {name} | {r['seed']} | {r['final_test_return_mean']:.2f} | {d.transitions} | "
            f"{d.joint_arrivals} | {d.lone_arrivals} | {d.q_mean:.2f} | {d.q_max:.2f} | "
            f"{d.alpha:.3f} |"
        )
    lines += [
        "",
        "**The uniform soft value pays the agents for not arriving.**  With",
        '`algo.value_proposal = "uniform"` (the default, soft Q-learning\'s proposal) the',
        "critic target is `r + gamma V(s')` with",
        "`V(s') = alpha log E_{u ~ U[-1,1]^D}[exp(Q(s', u) / alpha)] + alpha D log 2`: the last",
        "term is the entropy of the uniform law, so every non-terminal step adds a bonus of",
        "`4 log 2 alpha = 2.77 alpha` (D = 4 joint action coordinates), worth up to",
        "`2.77 alpha / (1 - gamma) = 277 alpha` to an episode that never ends (truncation after 25",
        "steps is bootstrapped, as it must be for a time limit).  An arrival terminates the",
        "episode and forfeits this bonus, so the critic rates every arrival, +5 included, below",
        "staying away until `alpha < 5 / 277 = 0.018`, which the preset's schedule reaches only",
        "in its last ~1100 of 15.6k updates.  The `particle-gather` row shows it: Q far above",
        "any true return, and fewer lone arrivals than random actions make (the agents learned",
        "to keep away from the landmark).  The MaxEnt baselines MASQL and PR2 use the same",
        "uniform soft value.  Variants tried on seed 0 (5000 episodes each, all else as the",
        "preset):",
        "",
        '* `particle-gather-eq11` takes Eq. 11 literally (`algo.value_proposal = "policy"`:',
        "  the soft value over the samplers' own joint actions, no entropy term).  This removes",
        "  the bonus and its Q is far lower, though still above 5 at the end: at small alpha the",
        "  soft maximum over 32 samples of a single critic overestimates.  This setting is",
        "  SVNR's own (the baselines keep their value estimates).",
        "* `particle-gather-rs100` multiplies the rewards by 100 (`algo.reward_scale = 100`, a",
        "  setting shared by every method, App. H.5 Table 9), shrinking the bonus 100-fold",
        "  against the rewards; its Q, in reward units, ends like that of `-eq11`, and its",
        "  agents again arrive alone less often than random ones.",
    ]
    if all(d.joint_arrivals == 0 for d in diags):
        lines += [
            "",
            "In every run the replay buffer never holds a +5: with no joint arrival ever observed,",
            "no critic can learn its value, and the agents settle on avoiding the -2 (return 0).",
        ]
    if all(r["final_test_return_mean"] < 4.5 for _, r in runs):
        lines += [
            "No setting reached the issue's bar (4.5 on seed 0), so the `particle-gather` preset",
            "is unchanged; its 5-seed runs, with every baseline, are the Particle Gather column",
            "of `docs/results/table2/table2.md`.  The paper's 4.76 is not reproduced here.",
            "",
            "Is the failure only one of exploration?  `python -m svnr_rl.guided_start` fills the",
            "first 20k environment steps with an uncoordinated steer-to-landmark behaviour, so",
            "that joint arrivals (+5) reach the replay buffer, and then lets each method act:",
            "`docs/results/guided_start.md`.",
        ]
    return lines


def _report(out: Path, results: dict[str, list[dict[str, Any]]], seeds: int, command: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    fig_dir = out / "figures"
    fig_dir.mkdir(exist_ok=True)
    lines = [
        "# Training results (SVNR)",
        "",
        "Produced by",
        "",
        "```",
        command,
        "```",
        "",
        f"on the device named in each row (CPU: 1 thread per run), seeds `0..{seeds - 1}`, with",
        "the default configuration of each preset (`svnr_rl/config.py`); the *ablation* rows",
        "change only the settings they name.  The `particle-gather*` experiments (about 12",
        "minutes per seed here; only seed 0 of each was run, with `--only particle-gather...",
        "--seeds 1`, for lack of time) and `mamujoco-halfcheetah-2x3` (100k environment steps,",
        "a speed and early-learning check, not the paper's budget) run only when named with",
        "`--only`.  Each run's resolved config, metrics, checkpoints and plots are in its run",
        "folder (`--runs`).  Test return: decentralized execution (each agent alone,",
        "common-seed noise), 64 episodes per evaluation (32 for Particle Gather, 4 for",
        "MaMuJoCo); *final* is the evaluation after the last training step.  *Steps to",
        "target*: the environment steps (= episodes for the single-step games) at the first",
        "evaluation with mean test return >= 9.5 (evaluations every 2000 steps; 4.5 for",
        "Particle Gather, every 5000 steps; no target for MaMuJoCo).  Wall clock and env",
        "steps/s: training + evaluations of one run on this shared 2-core machine (or the",
        "device named).  Differential games follow the paper's formula (distance divided",
        "inside the square), not the older reference code (`svnr_core/differential_games.py`).",
        "",
    ]
    table = [
        "| experiment | paper (Table 1 or 2) | seeds | final test return, mean +- std over seeds | "
        "per seed | steps to target (per seed) | wall clock per run (s) | env steps/s | device |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    summary_json: dict[str, Any] = {}
    for exp in EXPERIMENTS:
        rows = results.get(exp.name)
        if not rows:
            continue
        finals = np.array([r["final_test_return_mean"] for r in rows])
        steps = [r["steps_to_target"] for r in rows]
        walls = [r["wall_time_s"] for r in rows]
        rates = [float(r["env_steps"]) / float(r["wall_time_s"]) for r in rows]
        devices = sorted({str(r.get("device", "cpu")) for r in rows})
        table.append(
            f"| {exp.name} | {exp.paper} | {len(rows)} | "
            f"{finals.mean():.2f} +- {finals.std():.2f} | "
            + ", ".join(f"{x:.2f}" for x in finals)
            + " | "
            + ", ".join(_steps_text(r) for r in rows)
            + f" | {np.mean(walls):.0f} | {np.mean(rates):.0f} | {', '.join(devices)} |"
        )
        summary_json[exp.name] = {
            "seeds": [r["seed"] for r in rows],
            "final_test_return": finals.tolist(),
            "mean": float(finals.mean()),
            "std": float(finals.std()),
            "steps_to_target": steps,
            "wall_time_s": walls,
            "env_steps_per_s": rates,
            "device": devices,
            "paper": exp.paper,
            "mass_near_optima": [r.get("mass_near_optima") for r in rows],
        }
        src = Path(rows[0]["run_dir"]) / "plots"
        for name in ("learning_curve.png", "joint_actions.png", "converged_samples.png"):
            if (src / name).is_file():
                shutil.copy(src / name, fig_dir / f"{exp.name}-seed0-{name}")
    lines += table
    tm = results.get("two-modalities")
    if tm:
        lines += [
            "",
            "## Two Modalities: converged joint samples near each optimum",
            "",
            "Share of 1000 joint samples (decentralized execution) within distance 2 (native",
            "action units) of each optimum; target: at least 25% near each.",
            "",
            "| seed | near (-5, -5, 3) | near (7, 7, -3) | elsewhere |",
            "|---|---|---|---|",
        ]
        from svnr_rl.plots import boltzmann_mass_near_optima

        def shares(opt: list[dict[str, Any]]) -> tuple[float, float]:
            m = {tuple(round(v) for v in o["optimum"]): o["mass_near"] for o in opt}
            return m.get((-5, -5, 3), 0.0), m.get((7, 7, -3), 0.0)

        for r in tm:
            a, b = shares(r["mass_near_optima"])
            lines.append(f"| {r['seed']} | {a:.1%} | {b:.1%} | {1 - a - b:.1%} |")
        alpha_end = preset("two-modalities").alpha.alpha_end
        for alpha in (alpha_end, 1.0):
            a, b = shares(boltzmann_mass_near_optima("two-modalities", 2.0, alpha))
            lines.append(
                f"| exact `exp(r/alpha)`, alpha = {alpha:g} | {a:.1%} | {b:.1%} | {1 - a - b:.1%} |"
            )
        a, b = shares(boltzmann_mass_near_optima("two-modalities", 2.0, alpha_end, tilted=True))
        lines.append(
            f"| policy step's target `exp(r/alpha) prod_d (1 - a_d^2)`, alpha = {alpha_end:g} "
            f"| {a:.1%} | {b:.1%} | {1 - a - b:.1%} |"
        )
        lines += [
            "",
            "The last rows integrate the exact soft-optimal joint policy on a 121^3 grid: the",
            "optimum at (-5, -5, 3) is wider (g_1 has scale 3/sqrt(0.8) against 2 for g_2), so",
            "even the exact target puts only about 17.5% of its mass near (7, 7, -3) at small",
            "alpha (the ratio of the two Gaussian volumes, (5.625/2)^1.5 = 4.7 : 1).  The 25%",
            "target for each optimum is therefore out of reach of a correct sampler of this game",
            "as the paper defines it.",
            "",
            "The two-modalities preset (`svnr_rl/config.py`: Eq. 20 from alpha 10 to 0.1 with",
            "tau = 2000 updates, 4 updates per step, M = 64, 256-unit samplers) replaced the",
            "Max of Three defaults, under which every seed put 0.0% near (7, 7, -3) (this report",
            "at commit c16b5cf): the amortized samplers drop the narrower mode when alpha falls",
            "fast, even with the exact reward as critic",
            "(`tests/test_two_modalities_training.py::test_collapse_is_the_samplers_not_the_critics`),",
            "while particle negotiation keeps it.  The samplers still hold less there than the",
            "exact `exp(r/alpha)`, but about what their own target holds: the policy step",
            "follows the soft Q-learning tanh factor `prod_d (1 - a_d^2)` (`a = u / 10`,",
            "`svnr_rl.critic.squashed_score`), which weighs against (7, 7, -3), the optimum",
            "farther from the centre of the box (last row).",
        ]
    gather_runs = [(name, r) for name, rows in results.items() for r in rows if name in _GATHER]
    if gather_runs:
        lines += _gather_section(gather_runs)
    lines += ["", "## Figures (seed 0 of each experiment)", ""]
    for f in sorted(fig_dir.iterdir()):
        lines.append(f"![{f.stem}](figures/{f.name})")
    (out / "results.md").write_text("\n".join(lines) + "\n")
    (out / "results.json").write_text(json.dumps(summary_json, indent=2) + "\n")


@dataclass(frozen=True)
class GatherDiagnostics:
    """What a Particle Gather run's critic saw and believes, read from its last checkpoint.

    ``joint_arrivals`` / ``lone_arrivals``: replay transitions with reward ``+5`` / ``-2``
    (each ends one episode); ``q_mean`` / ``q_max``: the critic ``Q(s, u)`` on 1024 replay
    transitions (drawn with ``torch.Generator().manual_seed(0)``) divided by
    ``algo.reward_scale``, to compare with the true returns, which lie in ``[-2, 5]``;
    ``alpha``: the temperature at the last update.
    """

    transitions: int
    joint_arrivals: int
    lone_arrivals: int
    q_mean: float
    q_max: float
    alpha: float


def gather_diagnostics(run_dir: Path) -> GatherDiagnostics:
    """:class:`GatherDiagnostics` of the run folder ``run_dir`` (its ``latest.pt``)."""
    import torch

    from svnr_rl.checkpoint import load_checkpoint
    from svnr_rl.config import config_from_dict
    from svnr_rl.train import Trainer

    data = load_checkpoint(run_dir / "checkpoints" / "latest.pt")
    cfg = config_from_dict(data["config"])
    if cfg.env.task != "particle-gather":
        raise ValueError(
            f"run_dir: {str(run_dir)!r} is a {cfg.env.task!r} run, not Particle Gather"
        )
    trainer = Trainer(cfg, run_dir)
    trainer.load_state(data)
    reward = data["replay"]["data"]["reward"][: trainer.replay.size]
    batch = trainer.replay.sample(1024, torch.Generator().manual_seed(0))
    with torch.no_grad():
        q = trainer.agent.critic.q_min(batch.state, batch.action.flatten(1)) / cfg.algo.reward_scale
    return GatherDiagnostics(
        transitions=trainer.replay.size,
        joint_arrivals=int((reward == 5.0).sum()),
        lone_arrivals=int((reward == -2.0).sum()),
        q_mean=float(q.mean()),
        q_max=float(q.max()),
        alpha=cfg.alpha.value(trainer._clock()),
    )


def random_policy_outcomes(
    task: str, num_envs: int = 64, steps: int = 4000, **params: Any
) -> dict[float, int]:
    """Episode returns of uniformly random actions: ``{return: count}`` (seeded, reproducible);
    ``params`` are the task's parameters (e.g. ``arrival_radius`` of Particle Gather)."""
    return _outcomes(task, None, num_envs, steps, params)


def steer_to_landmark_outcomes(
    num_envs: int = 64, steps: int = 4000, **params: Any
) -> dict[float, int]:
    """Particle Gather returns when every agent steers its particle to the landmark:
    ``a = clip(-2 p - v, -1, 1)`` per axis (``p``, ``v``: the particle's position relative to
    the landmark and its velocity, from the shared observation).  No coordination at all:
    both particles head straight in, and +5 comes only when they happen to arrive at the
    same step."""
    return _outcomes("particle-gather", steer_actions, num_envs, steps, params)


def steer_actions(state: NDArray[np.float64]) -> NDArray[np.float64]:
    """The steer-to-landmark actions ``[B, 4, 1]`` of Particle Gather states ``[B, 8]``."""
    # state [B, 8] = [p0 (2), v0 (2), p1 (2), v1 (2)] -> actions [B, 4, 1] (p0_x, p0_y, p1_x, p1_y)
    pos, vel = state[:, [0, 1, 4, 5]], state[:, [2, 3, 6, 7]]
    out: NDArray[np.float64] = np.clip(-2.0 * pos - vel, -1.0, 1.0)[..., None]
    return out


def _outcomes(
    task: str,
    policy: Callable[[NDArray[np.float64]], NDArray[np.float64]] | None,
    num_envs: int,
    steps: int,
    params: dict[str, Any],
) -> dict[float, int]:
    """``{return: count}`` of ``policy(state)`` (uniform random actions when ``None``)."""
    from svnr_rl.envs.registry import make_batched

    env = make_batched(task, num_envs, **params)
    step = env.reset(0)
    rng = np.random.default_rng(0)
    shape = (num_envs, env.spec.n_agents, env.spec.action_dim)
    counts: dict[float, int] = {}
    for _ in range(steps):
        actions = rng.uniform(-1.0, 1.0, shape) if policy is None else policy(step.state)
        step = env.step(actions)
        for r in step.episode_return[np.logical_or(step.terminated, step.truncated)]:
            counts[float(r)] = counts.get(float(r), 0) + 1
    env.close()
    return counts


def run_experiments(
    out: Path,
    runs: Path,
    *,
    seeds: int = 5,
    only: Sequence[str] = (),
    device: str = "cpu",
    progress: bool = False,
) -> dict[str, list[dict[str, Any]]]:
    """Run (or reuse/resume) the selected experiments and write the report under ``out``."""
    names = {e.name for e in EXPERIMENTS}
    bad = sorted(set(only) - names)
    if bad:
        raise ConfigError(
            f"--only: unknown experiment {bad[0]!r}; known: {', '.join(sorted(names))}"
        )
    if seeds < 1:
        raise ConfigError(f"--seeds must be >= 1; got {seeds}")
    chosen = [e for e in EXPERIMENTS if (e.name in only if only else e.default)]
    results: dict[str, list[dict[str, Any]]] = {}
    # report everything already in the runs folder too (e.g. an earlier --only run)
    for exp in EXPERIMENTS:
        rows = []
        for seed in range(seeds):
            d = runs / f"{exp.name}-seed{seed}"
            if exp in chosen:
                rows.append(_run_one(exp, seed, runs, device, progress))
            elif (d / "summary.json").is_file():
                rows.append({**json.loads((d / "summary.json").read_text()), "run_dir": str(d)})
        if rows:
            results[exp.name] = rows
    argv = " ".join(sys.argv[1:]) if sys.argv[0].endswith("__main__.py") else "experiment"
    _report(out, results, seeds, f"python -m svnr_rl {argv}")
    return results
