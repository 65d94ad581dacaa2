"""The figures of a study report: learning curves (Fig. 4) and the joint actions sampled
during training (Fig. 5/7), read from the run folders."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from svnr_rl.study.context import ReportContext

__all__ = ["joint_actions", "learning_curves"]


def _read_metrics(run_dir: Path) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(env_steps, eval_return_mean)`` per evaluation of a run."""
    with (run_dir / "metrics.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    x = np.array([float(r["env_steps"]) for r in rows])
    y = np.array([float(r["eval_return_mean"]) for r in rows])
    return x, y


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def learning_curves(ctx: ReportContext) -> list[str]:
    """Fig. 4 style: per task, the test return over training, mean and ± std over seeds."""
    if not any(c.summaries for c in ctx.cells.values()):
        return []
    plt = _pyplot()
    fig = draw_learning_curves(ctx)
    fig.savefig(ctx.out / "learning_curves.png", dpi=110)
    plt.close(fig)
    return ["![learning curves](learning_curves.png)"]


def draw_learning_curves(ctx: ReportContext) -> Any:
    """The figure of :func:`learning_curves`: one panel per task.  A method keeps its colour
    (its place in the study file) in every panel, also where other methods have no finished
    run yet, and the one legend lists every method drawn in any panel."""
    spec = ctx.spec
    plt = _pyplot()
    n = len(spec.tasks)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.6), squeeze=False)
    handles: dict[str, Any] = {}
    for ax, t in zip(axes[0], spec.tasks, strict=True):
        for idx, m in enumerate(spec.methods):
            c = ctx.cell(t.key, m.key)
            curves = [_read_metrics(Path(s["run_dir"])) for s in c.summaries]
            if not curves:
                continue
            k = min(len(x) for x, _ in curves)
            x = curves[0][0][:k]
            ys = np.stack([y[:k] for _, y in curves])
            mean, std = ys.mean(0), ys.std(0)
            color = f"C{idx % 10}"
            (line,) = ax.plot(x, mean, label=m.title, color=color)
            ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.2)
            handles.setdefault(m.title, line)
        if not ax.lines:
            ax.text(0.5, 0.5, "no finished run yet", ha="center", va="center", fontsize=9)
        ax.set_title(t.title, fontsize=9)
        ax.set_xlabel("environment steps")
        ax.set_ylabel("test return")
        ax.grid(alpha=0.3)
    # the legend goes on the first panel with curves (a task may have no finished run yet)
    first = next(ax for ax in axes[0] if ax.lines)
    order = [m.title for m in spec.methods if m.title in handles]  # the study file's order
    first.legend([handles[t] for t in order], order, fontsize=7)
    fig.suptitle("Test return during training: mean ± std over seeds (cf. paper Fig. 4)")
    fig.tight_layout()
    return fig


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


def joint_actions(ctx: ReportContext) -> list[str]:
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
