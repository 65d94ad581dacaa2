"""Run figures (:mod:`svnr_rl.plots`): rendered with Agg into a temporary folder.

Protects what a reader of ``plots/`` relies on: a run with a single evaluation still shows its
point on the learning curve; the joint-action scatter's ``u_3`` label and the colour bar do not
cover each other and no tick labels collide at the box's corner; the converged-samples plot
marks the game's known optima; and :func:`svnr_rl.plots.write_plots` writes all three files.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from svnr_rl import plots
from svnr_rl.plots import game_optima, learning_curve_figure, scatter3d_figure


def _row(steps: int, mean: float) -> dict[str, float]:
    return {
        "env_steps": steps,
        "eval_return_mean": mean,
        "eval_return_std": 0.5,
        "train_return": mean - 1.0,
    }


def _count_colour(png: Path, rgb: tuple[float, float, float], tol: float = 0.08) -> int:
    img = imread(png)[..., :3]
    return int((np.abs(img - np.asarray(rgb)).max(axis=-1) < tol).sum())


def test_a_single_evaluation_draws_a_visible_point(tmp_path: Path) -> None:
    """One metrics row: the test-return line has a marker (a line of one point draws nothing),
    and the rendered PNG really contains the marker's colour."""
    fig = learning_curve_figure([_row(100, 7.0)], "one point", optimum_value=10.0)
    ax = fig.axes[0]
    test_line = next(ln for ln in ax.get_lines() if str(ln.get_label()).startswith("test return"))
    assert len(test_line.get_xdata()) == 1  # type: ignore[arg-type]
    assert test_line.get_marker() not in (None, "", " ", "None", "none")
    assert test_line.get_markersize() > 0
    png = tmp_path / "learning_curve.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)
    assert _count_colour(png, matplotlib.colors.to_rgb("C0")) >= 10  # the marker's pixels


def test_many_evaluations_keep_the_band_and_markers(tmp_path: Path) -> None:
    """Several rows: the mean +- std band is drawn and the curves still carry markers."""
    fig = learning_curve_figure([_row(100 * k, 5.0 + k) for k in range(5)], "five points")
    ax = fig.axes[0]
    assert ax.collections  # fill_between
    assert all(
        ln.get_marker() not in (None, "", " ", "None", "none")
        for ln in ax.get_lines()
        if not str(ln.get_label()).startswith("_")
    )
    fig.savefig(tmp_path / "learning_curve.png", dpi=110)
    plt.close(fig)


def _drawn_text_boxes(fig: Figure, monkeypatch: pytest.MonkeyPatch) -> dict[int, Bbox]:
    """Window extents of every non-empty text, taken while the figure is drawn: the 3-D axes
    move their tick labels into place only during the draw, so asking afterwards is wrong."""
    boxes: dict[int, Bbox] = {}
    draw = Text.draw

    def recording_draw(self: Text, renderer: Any) -> None:
        draw(self, renderer)
        if self.get_visible() and self.get_text():
            boxes[id(self)] = self.get_window_extent(renderer)

    with monkeypatch.context() as m:
        m.setattr(Text, "draw", recording_draw)
        fig.canvas.draw()
    return boxes


def test_joint_action_scatter_layout_is_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fig. 5 style (colour = reward): the u_3 label and the z tick labels lie inside the figure
    and clear of the colour bar and its label, and no x tick label overlaps a y tick label (the
    corner where u_1 = 10 met u_2 = -10)."""
    rng = np.random.default_rng(0)
    pts = rng.uniform(-10, 10, (300, 3))
    fig = scatter3d_figure(pts, rng.normal(size=300), "joint actions", "reward")
    boxes = _drawn_text_boxes(fig, monkeypatch)
    ax, cax = fig.axes
    zaxis = ax.zaxis  # type: ignore[attr-defined]
    assert zaxis.label.get_text() == "$u_3$"
    assert cax.yaxis.label.get_text() == "reward"
    z_boxes = [boxes[id(t)] for t in [zaxis.label, *zaxis.get_ticklabels()]]
    bar_boxes = [cax.get_window_extent(), boxes[id(cax.yaxis.label)]]
    for box in z_boxes + bar_boxes:
        assert fig.bbox.contains(box.x0, box.y0), box
        assert fig.bbox.contains(box.x1, box.y1), box
    for zbox, bar in itertools.product(z_boxes, bar_boxes):
        assert not zbox.overlaps(bar), (zbox, bar)
    xs = [boxes[id(t)] for t in ax.xaxis.get_ticklabels()]
    ys = [boxes[id(t)] for t in ax.yaxis.get_ticklabels()]
    assert len(xs) == 4  # -10, -5, 0, 5: the tick at 10 is pruned
    assert len(ys) == 5
    for xb, yb in itertools.product(xs, ys):
        assert not xb.overlaps(yb), (xb, yb)
    png = tmp_path / "joint_actions.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)
    assert png.stat().st_size > 0


@pytest.mark.parametrize(("task", "s2"), [("max-of-three", 1.5), ("two-modalities", 1.5)])
def test_converged_samples_mark_the_known_optima(task: str, s2: float, tmp_path: Path) -> None:
    """Fig. 3: every optimum of the game is drawn as a marker, listed in the legend, drawn after
    (over) the samples, and visible in the PNG."""
    optima = game_optima(task, s2)
    assert len(optima) == 2
    rng = np.random.default_rng(1)
    samples = np.asarray(optima[0]) + rng.normal(size=(500, 3))
    fig = scatter3d_figure(samples, None, "converged", "", optima=optima)
    ax = fig.axes[0]
    marks = [c for c in ax.collections if c.get_label() == "known optima"]
    assert len(marks) == 1
    assert isinstance(marks[0], PathCollection)
    xs, ys, zs = marks[0]._offsets3d  # type: ignore[attr-defined]
    assert np.allclose(np.column_stack([xs, ys, zs]), optima)
    assert ax.collections.index(marks[0]) == len(ax.collections) - 1  # drawn last, on top
    legend = ax.get_legend()
    assert legend is not None
    assert "known optima" in [t.get_text() for t in legend.get_texts()]
    png = tmp_path / "converged_samples.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)
    assert _count_colour(png, (1.0, 0.0, 0.0), tol=0.1) >= 50  # red stars


def test_write_plots_writes_the_three_figures_with_optima(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The training loop's entry point: learning curve, joint actions and converged samples are
    written for a differential game, and the converged plot gets the game's optima."""
    rng = np.random.default_rng(2)
    seen: dict[str, Any] = {}
    original = plots._scatter3d

    def spy(path: Path, *args: Any, **kwargs: Any) -> None:
        seen[Path(path).name] = kwargs.get("optima")
        original(path, *args, **kwargs)

    monkeypatch.setattr(plots, "_scatter3d", spy)
    monkeypatch.setattr(plots, "converged_samples", lambda _tr: rng.normal(size=(50, 3)))
    trainer = SimpleNamespace(
        run_dir=tmp_path,
        cfg=SimpleNamespace(
            env=SimpleNamespace(task="max-of-three", s2=1.5),
            algo=SimpleNamespace(method="svnr"),
            train=SimpleNamespace(seed=0),
        ),
        metrics=[_row(64, 3.0)],
        spec=SimpleNamespace(optimum_value=10.0, n_agents=3),
        record=[[1.0, *rng.uniform(-10, 10, 3), 2.0] for _ in range(20)],
    )
    extra = plots.write_plots(trainer)  # type: ignore[arg-type]
    for name in ("learning_curve.png", "joint_actions.png", "converged_samples.png"):
        assert (tmp_path / "plots" / name).stat().st_size > 0
    assert seen["converged_samples.png"] == game_optima("max-of-three", 1.5)
    assert [m["optimum"] for m in extra["mass_near_optima"]] == seen["converged_samples.png"]
