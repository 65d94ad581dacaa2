"""Demonstration 3, amortized: SVNR's own policy step (Eq. 9-10) with the exact reward as critic
on Max of Three (``max_of_three_amortized.png``, ``max_of_three_amortized_trace.png``).

The runs themselves are :func:`verification.amortized_negotiation.amortized_max_of_three_run`
(the mathematics is in that module's docstring); this module runs the grid of the report --
nested sets (SVNR) and empty sets (SVNR-M), ``s2`` in {1.5, 2, 3}, seeds 0-2 -- and draws it:
the samplers' joint samples at the start and at the end, and the share of samples in the global
basin along the annealing against the exact share of the annealed target
(:func:`verification.amortized_negotiation.exact_basin_mass`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from svnr_core.differential_games import max_of_three
from verification.amortized_negotiation import (
    AmortizedRun,
    AmortizedSetup,
    amortized_max_of_three_run,
    exact_basin_mass,
)
from verification.annealing import geometric_schedule
from verification.figures.style import scatter3d
from verification.game_measures import basin_masses

__all__ = [
    "AMORTIZED_RECORD_EVERY",
    "AmortizedRuns",
    "draw_amortized_samples",
    "draw_amortized_trace",
    "run_max_of_three_amortized",
]

#: Rounds between two trace points of the amortized runs (3000 rounds: 12 points).
AMORTIZED_RECORD_EVERY = 250

#: The runs of the report keyed by ``(topology, s2, seed)``.
AmortizedRuns = dict[tuple[str, float, int], AmortizedRun]


def run_max_of_three_amortized(seeds: Sequence[int] = (0, 1, 2)) -> AmortizedRuns:
    """The amortized negotiation (:func:`amortized_max_of_three_run`, default setup) for nested
    and empty sets, ``s2`` in {1.5, 2, 3} and ``seeds``, keyed by ``(topology, s2, seed)``."""
    return {
        (topology, s2, seed): amortized_max_of_three_run(
            s2,
            seed,
            AmortizedSetup(topology=topology),
            record_every=AMORTIZED_RECORD_EVERY,
        )
        for topology in ("nested", "empty")
        for s2 in (1.5, 2.0, 3.0)
        for seed in seeds
    }


def _s2_values(runs: AmortizedRuns) -> list[float]:
    return sorted({s2 for _, s2, _ in runs})


def draw_amortized_samples(out: Path, runs: AmortizedRuns, seed: int = 0) -> None:
    """``max_of_three_amortized.png``: per ``s2``, the samplers' joint samples at the start and at
    the end with nested sets (SVNR) and with empty sets (SVNR-M), seed ``seed``."""
    import matplotlib.pyplot as plt

    s2_values = _s2_values(runs)
    fig = plt.figure(figsize=(12, 4 * len(s2_values)))
    sc = None
    for row, s2 in enumerate(s2_values):
        game = max_of_three(s2)
        nested, empty = runs["nested", s2, seed], runs["empty", s2, seed]
        # Both topologies are initialised to about N((-5, -5, 3), 0.5^2 I) (initialise_near);
        # the nested run's start stands for both.
        panels = (
            (nested.initial, "start"),
            (nested.final, "end, nested sets (SVNR)"),
            (empty.final, "end, empty sets (SVNR-M)"),
        )
        for col, (u, what) in enumerate(panels):
            ax = fig.add_subplot(len(s2_values), 3, 3 * row + col + 1, projection="3d")
            sc = scatter3d(
                ax,
                u,
                np.asarray(game.reward(u)),
                f"s2 = {s2}, {what}\nin global basin: {basin_masses(game, u)[1]:.2f}",
            )
    assert sc is not None
    fig.colorbar(sc, ax=fig.axes, shrink=0.4, label="reward r(u)")
    first = next(iter(runs.values())).outcome
    fig.suptitle(
        "Max of Three, amortized negotiation (SVNR's policy step, Eq. 9-10, exact reward as "
        f"critic),\nalpha {first.alpha_start:g} -> {first.alpha_end:g} over {first.rounds} "
        f"rounds, M = {first.num_particles}, 1000 fresh joint samples, seed {seed}"
    )
    fig.savefig(out / "max_of_three_amortized.png", dpi=100)
    plt.close(fig)


def draw_amortized_trace(out: Path, runs: AmortizedRuns, seed: int = 0) -> None:
    """``max_of_three_amortized_trace.png``: per ``s2``, the share of samples in the global basin
    along the annealing, every seed and both topologies (the legend names seed ``seed``'s), against
    the exact share of the annealed target (dashed)."""
    import matplotlib.pyplot as plt

    s2_values = _s2_values(runs)
    fig, axes = plt.subplots(1, len(s2_values), figsize=(5 * len(s2_values), 4), sharey=True)
    for ax, s2 in zip(np.atleast_1d(axes), s2_values, strict=True):
        for (topology, s2_run, run_seed), run in runs.items():
            if s2_run != s2:
                continue
            k, _, frac = zip(*run.outcome.trace, strict=True)
            ax.plot(
                k,
                frac,
                color="tab:blue" if topology == "nested" else "tab:orange",
                alpha=0.7,
                label=f"{topology} sets" if run_seed == seed else None,
            )
        ref = next(r for (t, s, _), r in runs.items() if s == s2 and t == "nested").outcome
        # Five exact points per trace interval, on the 64^3 quadrature grid that
        # `python -m verification.amortized_negotiation` reports too (the default 128^3 is
        # eight times the work).
        rounds = np.arange(0, ref.rounds, AMORTIZED_RECORD_EVERY // 5)
        alpha = geometric_schedule(ref.alpha_start, ref.alpha_end, ref.rounds)
        exact = [exact_basin_mass(s2, alpha(int(k)), points=64) for k in rounds]
        ax.plot(rounds, exact, "k--", label="exact target")
        ax.set_title(f"s2 = {s2}")
        ax.set_xlabel("round (alpha annealed geometrically)")
    np.atleast_1d(axes)[0].set_ylabel("share of samples in the global basin")
    np.atleast_1d(axes)[0].legend()
    fig.suptitle("Amortized negotiation: share in the global basin (every seed)")
    fig.tight_layout()
    fig.savefig(out / "max_of_three_amortized_trace.png", dpi=100)
    plt.close(fig)
