"""Figures of a run: learning curve; for the differential games the joint actions sampled during
training coloured by reward (paper Fig. 5 / Fig. 7) and the converged joint samples (Fig. 3).

Also computes, for the differential games, the share of converged joint samples near each
optimum of the game (:func:`mass_near_optima`): a sample is *near* an optimum when its native
joint action lies within :data:`NEAR_RADIUS` of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from numpy.typing import NDArray

from svnr_core.soft_bellman import boltzmann
from svnr_rl.evaluate import decentralize
from svnr_rl.noise import derive_seed

if TYPE_CHECKING:
    from svnr_rl.train import Trainer

__all__ = [
    "NEAR_RADIUS",
    "boltzmann_mass_near_optima",
    "converged_samples",
    "mass_near_optima",
    "write_plots",
]

#: radius (native action units) of "near an optimum".  At distance 2 from the Two Modalities
#: optima the reward is still >= 9 (g_1: 10 - 0.8 * 4 / 9 = 9.64; g_2: 10 - 4 / 4 = 9), while the
#: two optima are 12.4 apart, so the two balls are disjoint and each is a clear mode.
NEAR_RADIUS = 2.0
#: number of joint samples drawn for Fig. 3
N_CONVERGED = 1000


def converged_samples(trainer: Trainer, n: int = N_CONVERGED) -> NDArray[np.float64]:
    """``n`` joint actions (native units, ``[n, N]``) of the trained samplers at the initial state,
    drawn by decentralized execution with a common seed."""
    agents = decentralize(trainer.agent, derive_seed(trainer.cfg.train.seed, 7))
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


def _scatter3d(
    path: Any, pts: NDArray[np.float64], color: NDArray[np.float64] | None, title: str, label: str
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(6, 5))
    ax = fig.add_subplot(projection="3d")
    if color is not None:
        sc = ax.scatter(pts[:, 0], pts[:, 1], pts[:, 2], c=color, cmap="viridis", s=6)
        fig.colorbar(sc, ax=ax, shrink=0.7, label=label)
    else:
        ax.scatter(pts[:, 0], pts[:, 1], pts[:, 2], s=4, alpha=0.5)
    ax.set_xlim(-10, 10)
    ax.set_ylim(-10, 10)
    ax.set_zlim(-10, 10)
    ax.set_xlabel("$u_1$")
    ax.set_ylabel("$u_2$")
    ax.set_zlabel("$u_3$")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_plots(trainer: Trainer) -> dict[str, Any]:
    """Write the run's figures under ``plots/``; returns extra summary entries."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from svnr_rl.train import DIFFERENTIAL_TASKS

    out_dir = trainer.run_dir / "plots"
    out_dir.mkdir(exist_ok=True)
    cfg = trainer.cfg
    rows = trainer.metrics
    extra: dict[str, Any] = {}
    if rows:
        x = np.array([r["env_steps"] for r in rows])
        m = np.array([r["eval_return_mean"] for r in rows])
        s = np.array([r["eval_return_std"] for r in rows])
        tr = np.array([r["train_return"] for r in rows])
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(x, m, label="test return (decentralized)")
        ax.fill_between(x, m - s, m + s, alpha=0.25)
        ax.plot(x, tr, "--", label="training return", alpha=0.7)
        if trainer.spec.optimum_value is not None:
            ax.axhline(trainer.spec.optimum_value, color="k", lw=0.8, ls=":", label="optimum")
        ax.set_xlabel("environment steps")
        ax.set_ylabel("return")
        ax.set_title(f"{cfg.env.task} / {cfg.algo.method} / seed {cfg.train.seed}")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out_dir / "learning_curve.png", dpi=110)
        plt.close(fig)
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
        )
        extra["mass_near_optima"] = mass_near_optima(samples, cfg.env.task, cfg.env.s2)
        extra["near_radius"] = NEAR_RADIUS
    return extra
