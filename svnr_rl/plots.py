"""Figures of a run: learning curve; for the differential games the joint actions sampled during
training coloured by reward (paper Fig. 5 / Fig. 7) and the converged joint samples (Fig. 3),
on which the game's known optima (:attr:`DifferentialGame.optima`) are marked.

Also computes, for the differential games, the share of converged joint samples near each
optimum of the game (:func:`mass_near_optima`): a sample is *near* an optimum when its native
joint action lies within :data:`NEAR_RADIUS` of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch
from numpy.typing import NDArray

from svnr_core.soft_bellman import boltzmann
from svnr_rl import seed_streams
from svnr_rl.agents import Agent
from svnr_rl.config import DIFFERENTIAL_TASKS, Config
from svnr_rl.envs.base import BatchedEnv, TaskSpec
from svnr_rl.evaluate import decentralize
from svnr_rl.noise import derive_seed

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "NEAR_RADIUS",
    "TrainedRun",
    "boltzmann_mass_near_optima",
    "converged_samples",
    "game_optima",
    "learning_curve_figure",
    "mass_near_optima",
    "plot_learning_curve",
    "scatter3d_figure",
    "write_plots",
]

#: radius (native action units) of "near an optimum".  At distance 2 from the Two Modalities
#: optima the reward is still >= 9 (g_1: 10 - 0.8 * 4 / 9 = 9.64; g_2: 10 - 4 / 4 = 9), while the
#: two optima are 12.4 apart, so the two balls are disjoint and each is a clear mode.
NEAR_RADIUS = 2.0
#: number of joint samples drawn for Fig. 3
N_CONVERGED = 1000


class TrainedRun(Protocol):
    """What the figures read of a run (a :class:`svnr_rl.loop.Trainer`); a protocol rather than
    the class so that the training side can import this module, not the other way round."""

    cfg: Config
    run_dir: Path
    spec: TaskSpec
    agent: Agent
    eval_env: BatchedEnv
    dtype: torch.dtype
    device: torch.device
    metrics: list[dict[str, float]]
    record: list[list[float]]


def converged_samples(trainer: TrainedRun, n: int = N_CONVERGED) -> NDArray[np.float64]:
    """``n`` joint actions (native units, ``[n, N]``) of the trained samplers at the initial state,
    drawn by decentralized execution with a common seed."""
    seed = derive_seed(trainer.cfg.train.seed, seed_streams.CONVERGED_SAMPLES)
    agents = decentralize(trainer.agent, seed)
    step = trainer.eval_env.reset(0)
    obs0 = torch.as_tensor(step.obs[:1], dtype=trainer.dtype, device=trainer.device)
    obs = obs0.expand(n, *obs0.shape[1:])
    acts = torch.stack([a.act(obs[:, a.index], 0) for a in agents], dim=1)
    out: NDArray[np.float64] = acts[..., 0].double().cpu().numpy() * trainer.spec.action_scale
    return out


def mass_near_optima(samples: NDArray[np.float64], task: str, s2: float) -> list[dict[str, Any]]:
    """For each optimum of the game: its action, value and the fraction of samples near it."""
    from svnr_rl.envs.registry import make_game

    game = make_game(task, **({"s2": s2} if task == "max-of-three" else {}))
    out = []
    for action, value in game.optima:
        dist = np.linalg.norm(samples - np.asarray(action)[None, :], axis=-1)
        out.append(
            {
                "optimum": [float(x) for x in action],
                "value": float(value),
                "mass_near": float(np.mean(dist < NEAR_RADIUS)),
            }
        )
    return out


def boltzmann_mass_near_optima(
    task: str, s2: float, alpha: float, grid: int = 121, *, tilted: bool = False
) -> list[dict[str, Any]]:
    """The same shares for the *exact* soft-optimal joint policy ``pi(u) ~ exp(r(u) / alpha)``
    on the box (a reference for the samplers), by a ``grid^3`` midpoint rule in native units.

    ``tilted=True``: the law the SVNR policy step actually targets on the normalised actions
    ``a = u / b`` (:func:`svnr_rl.critic.squashed_score`, the soft Q-learning tanh factor),
    ``exp(r(u) / alpha) prod_d (1 - a_d^2 + TANH_EPS)`` (:func:`svnr_rl.critic.tanh_log_factor`)."""
    from svnr_rl.critic import tanh_log_factor
    from svnr_rl.envs.registry import make_game

    game = make_game(task, **({"s2": s2} if task == "max-of-three" else {}))
    b = game.action_bound
    x = np.linspace(-b, b, grid)
    u = np.stack(np.meshgrid(x, x, x, indexing="ij"), axis=-1).reshape(-1, 3)
    r = np.asarray(game.reward(u), dtype=np.float64)
    if tilted:
        r = r + alpha * tanh_log_factor(u / b)
    w = boltzmann(r, alpha)  # Eq. 1 on the grid (the core's one softmax)
    return [
        {
            "optimum": [float(v) for v in action],
            "value": float(value),
            "mass_near": float(
                w[np.linalg.norm(u - np.asarray(action), axis=-1) < NEAR_RADIUS].sum()
            ),
        }
        for action, value in game.optima
    ]


#: Tick positions on every axis of the 3-D scatters (native units, box ``[-10, 10]^3``).
SCATTER_TICKS = (-10, -5, 0, 5, 10)


def learning_curve_figure(
    rows: Sequence[Mapping[str, Any]],
    title: str,
    optimum_value: float | None = None,
) -> Figure:
    """The test return (mean +- std over evaluation episodes) and the training return against
    environment steps.  Both curves carry markers: a run with a single evaluation has a single
    point, which a line alone would not draw at all (nor would the ``fill_between`` band, so one
    point gets an error bar instead)."""
    import matplotlib.pyplot as plt

    x = np.array([r["env_steps"] for r in rows], dtype=np.float64)
    m = np.array([r["eval_return_mean"] for r in rows], dtype=np.float64)
    s = np.array([r["eval_return_std"] for r in rows], dtype=np.float64)
    tr = np.array([r["train_return"] for r in rows], dtype=np.float64)
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    ax.plot(x, m, marker="o", ms=4, label="test return (decentralized)")
    if len(x) == 1:
        ax.errorbar(x, m, yerr=s, fmt="none", ecolor="C0", alpha=0.5, capsize=3)
    else:
        ax.fill_between(x, m - s, m + s, alpha=0.25)
    ax.plot(x, tr, "--", marker="s", ms=3, label="training return", alpha=0.7)
    if optimum_value is not None:
        ax.axhline(optimum_value, color="k", lw=0.8, ls=":", label="optimum")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("return")
    ax.set_title(title)
    ax.legend()
    return fig


def scatter3d_figure(
    pts: NDArray[np.float64],
    color: NDArray[np.float64] | None,
    title: str,
    label: str,
    optima: Sequence[Sequence[float]] | None = None,
) -> Figure:
    """A 3-D scatter of joint actions on the box ``[-10, 10]^3``, coloured by ``color`` (with a
    colour bar labelled ``label``) when given; ``optima`` (joint actions) are marked with red
    stars drawn over the samples.  Constrained layout and a padded colour bar keep the ``u_3``
    label clear of the bar; the ``u_1`` tick at 10 is left out because it would print over the
    ``u_2`` tick at -10 at the box's front corner."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(6.4, 5), layout="constrained")
    # computed_zorder=False: artists are drawn in the order added, so the optima (added last)
    # stay on top of a dense cloud of samples around them instead of being depth-sorted under it
    ax = fig.add_subplot(projection="3d", computed_zorder=False)
    if color is not None:
        sc = ax.scatter(pts[:, 0], pts[:, 1], pts[:, 2], c=color, cmap="viridis", s=6)
        fig.colorbar(sc, ax=ax, shrink=0.65, pad=0.12, label=label)
    else:
        ax.scatter(pts[:, 0], pts[:, 1], pts[:, 2], s=4, alpha=0.5, label="samples")
    if optima is not None and len(optima):
        o = np.asarray(optima, dtype=np.float64).reshape(-1, 3)
        ax.scatter(
            o[:, 0],
            o[:, 1],
            o[:, 2],
            marker="*",
            s=220,
            c="red",
            edgecolors="black",
            linewidths=0.8,
            depthshade=False,
            label="known optima",
        )
        ax.legend(loc="upper left", fontsize="small")
    ax.set_xlim(-10, 10)
    ax.set_ylim(-10, 10)
    ax.set_zlim(-10, 10)
    ax.set_xticks(SCATTER_TICKS[:-1])
    ax.set_yticks(SCATTER_TICKS)
    ax.set_zticks(SCATTER_TICKS)
    ax.set_xlabel("$u_1$")
    ax.set_ylabel("$u_2$")
    ax.set_zlabel("$u_3$")
    ax.set_title(title)
    return fig


def _save(fig: Figure, path: Any) -> None:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_learning_curve(
    path: Any,
    rows: Sequence[Mapping[str, Any]],
    title: str,
    optimum_value: float | None = None,
) -> None:
    """Write :func:`learning_curve_figure` to ``path``."""
    _use_agg()
    _save(learning_curve_figure(rows, title, optimum_value), path)


def _scatter3d(
    path: Any,
    pts: NDArray[np.float64],
    color: NDArray[np.float64] | None,
    title: str,
    label: str,
    optima: Sequence[Sequence[float]] | None = None,
) -> None:
    """Write :func:`scatter3d_figure` to ``path``."""
    _use_agg()
    _save(scatter3d_figure(pts, color, title, label, optima), path)


def _use_agg() -> None:
    import matplotlib

    matplotlib.use("Agg")


def game_optima(task: str, s2: float) -> list[list[float]]:
    """The joint actions of the optima of a differential game (best first, native units)."""
    from svnr_rl.envs.registry import make_game

    game = make_game(task, **({"s2": s2} if task == "max-of-three" else {}))
    return [[float(x) for x in action] for action, _ in game.optima]


def write_plots(trainer: TrainedRun) -> dict[str, Any]:
    """Write the run's figures under ``plots/``; returns extra summary entries."""
    out_dir = trainer.run_dir / "plots"
    out_dir.mkdir(exist_ok=True)
    cfg = trainer.cfg
    rows = trainer.metrics
    extra: dict[str, Any] = {}
    if rows:
        plot_learning_curve(
            out_dir / "learning_curve.png",
            rows,
            f"{cfg.env.task} / {cfg.algo.method} / seed {cfg.train.seed}",
            trainer.spec.optimum_value,
        )
    if cfg.env.task in DIFFERENTIAL_TASKS and trainer.spec.n_agents == 3:
        if trainer.record:
            rec = np.asarray(trainer.record)
            _scatter3d(
                out_dir / "joint_actions.png",
                rec[:, 1:4],
                rec[:, 4],
                f"joint actions during training ({cfg.env.task})",
                "reward",
            )
        samples = converged_samples(trainer)
        np.save(trainer.run_dir / "converged_samples.npy", samples)
        _scatter3d(
            out_dir / "converged_samples.png",
            samples,
            None,
            f"{N_CONVERGED} converged joint samples ({cfg.env.task})",
            "",
            optima=game_optima(cfg.env.task, cfg.env.s2),
        )
        extra["mass_near_optima"] = mass_near_optima(samples, cfg.env.task, cfg.env.s2)
        extra["near_radius"] = NEAR_RADIUS
    return extra
