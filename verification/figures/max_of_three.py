"""Demonstration 3: annealed particle negotiation on *Max of Three* (paper Sec. 6 (1.2), Fig. 5)
started near the local optimum (``max_of_three_annealed.png``, ``max_of_three_conditional.png``).

Max of Three has a local optimum ``(-5, -5, 3)`` worth 0 and a global one ``(7, 7, -4)`` worth
10, whose basin narrows as ``s2`` falls.  Particles start at ``N((-5, -5, 3), 0.5^2 I)`` and
negotiate with nested sets on the annealed target ``pi_k ~ exp(r / alpha_k)``, ``alpha`` falling
geometrically (:func:`verification.annealing.geometric_schedule`): hot enough at first for the
particles to cross to the global basin, cold at the end so that they sit at an optimum.  Each
agent follows either the joint score or the exact Eq. 5 conditional scores
(:mod:`verification.figures.game_targets`).

Finite particles do not all cross: a cluster of particles at a mode of the marginal an agent
follows is a fixed point of SVGD, and the exact marginal of ``u_0`` keeps a local mode behind a
valley (:mod:`verification.figures.max_of_three_marginal`).  The amortized form of the same
negotiation is :mod:`verification.amortized_negotiation`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from svnr_core.conditional_targets import DEFAULT_CELLS
from svnr_core.differential_games import max_of_three
from svnr_core.negotiation import NegotiationResult, SetsSpec, negotiate
from svnr_core.stein import Bandwidth
from verification.annealing import geometric_schedule
from verification.figures.game_targets import ScoreKind, negotiation_target
from verification.figures.style import scatter3d
from verification.game_measures import LOCAL_OPTIMUM, basin_masses, max_of_three_end_measures

__all__ = [
    "MAX_OF_THREE_FIGURES",
    "MAX_OF_THREE_SETUPS",
    "MaxOfThreeOutcome",
    "MaxOfThreeSetup",
    "draw_max_of_three",
    "max_of_three_experiment",
    "max_of_three_negotiation",
]


@dataclass(frozen=True)
class MaxOfThreeSetup:
    """Settings of one annealed Max of Three negotiation (``alpha`` geometric from
    ``alpha_start`` to ``alpha_end`` over ``rounds``, adaptive step ``step_size``)."""

    n_particles: int
    rounds: int
    alpha_start: float
    alpha_end: float
    step_size: float = 0.5


#: The settings of the demonstrations, per score.  Joint: the issue-4 run (3000 rounds from
#: alpha 100).  Conditional: 600 rounds from alpha 10 -- tuning (seed 0, s2 = 1.5) found the
#: outcome flat in the schedule: alpha_start in {5, 10, 20, 100}, 600 to 1500 rounds, alpha_end
#: in {0.05, 0.5}, M in {64, 128} all end with 0.52-0.71 of the particles in the global basin
#: (0.67-0.71 from alpha_start <= 20); adaptive step 0.25 gives 0.69, larger steps (1, 2) keep
#: the particles jittering away from the optimum; the plain step eps_k = c alpha_k with c in
#: {0.5, 2, 8} gives 0.14 / 0.45 / 0.00; bandwidth "liu_wang" 0.67, a fixed h = 50 0.53.
#: The plateau is that of
#: :func:`verification.figures.max_of_three_marginal.max_of_three_u0_marginal`: the particles
#: follow the exact marginal of u_0 until its valley becomes a barrier of about 1 nat and then
#: freeze.
MAX_OF_THREE_SETUPS: dict[str, MaxOfThreeSetup] = {
    "joint": MaxOfThreeSetup(n_particles=64, rounds=3000, alpha_start=100.0, alpha_end=0.05),
    "conditional": MaxOfThreeSetup(n_particles=64, rounds=600, alpha_start=10.0, alpha_end=0.05),
}


@dataclass(frozen=True)
class MaxOfThreeOutcome:
    """Annealed nested negotiation on Max of Three started near the local optimum.

    ``score``: ``"joint"`` or ``"conditional"`` (:data:`ScoreKind`).  ``frac_global`` /
    ``frac_local``: fractions of particles within distance 1 of the global ``(7, 7, -4)`` /
    local ``(-5, -5, 3)`` optimum; ``frac_global_basin``: fraction whose active branch is ``g2``;
    ``frac_u0_global``: fraction with ``u_0 > 1`` (agent 0 past the valley of its marginal);
    ``mean_reward`` and ``best_reward`` over the final particles.
    """

    s2: float
    seed: int
    score: str
    n_particles: int
    rounds: int
    alpha_start: float
    alpha_end: float
    step_size: float
    frac_global: float
    frac_local: float
    frac_global_basin: float
    frac_u0_global: float
    mean_reward: float
    best_reward: float


def _setup(
    score: ScoreKind,
    n_particles: int | None,
    rounds: int | None,
    alpha_start: float | None,
    alpha_end: float | None,
    step_size: float | None,
) -> MaxOfThreeSetup:
    """``MAX_OF_THREE_SETUPS[score]`` with the settings that are not ``None`` replaced."""
    if score not in MAX_OF_THREE_SETUPS:
        raise ValueError(f"score must be 'joint' or 'conditional'; got {score!r}")
    preset = MAX_OF_THREE_SETUPS[score]
    return MaxOfThreeSetup(
        n_particles=preset.n_particles if n_particles is None else n_particles,
        rounds=preset.rounds if rounds is None else rounds,
        alpha_start=preset.alpha_start if alpha_start is None else alpha_start,
        alpha_end=preset.alpha_end if alpha_end is None else alpha_end,
        step_size=preset.step_size if step_size is None else step_size,
    )


def max_of_three_negotiation(
    s2: float,
    seed: int,
    n_particles: int | None = None,
    rounds: int | None = None,
    alpha_start: float | None = None,
    alpha_end: float | None = None,
    sets: SetsSpec = "nested",
    record_every: int | None = None,
    score: ScoreKind = "joint",
    step_size: float | None = None,
    cells: int = DEFAULT_CELLS,
    adaptive: bool = True,
    bandwidth: Bandwidth = "median",
) -> NegotiationResult:
    """Nested negotiation on ``pi_k ~ exp(r / alpha_k)``, ``alpha`` annealed geometrically, from
    ``N((-5, -5, 3), 0.5^2 I)``; adaptive step, clipping to the box.

    ``score="joint"`` gives :func:`negotiate` the joint target ``r`` (every agent follows
    ``d r / d u_i / alpha_k`` at the joint particles); ``score="conditional"`` gives it the exact
    Eq. 5 conditional scores (:class:`DifferentialGameTarget`, ``cells`` quadrature cells per
    marginalised axis).  Settings left ``None`` come from ``MAX_OF_THREE_SETUPS[score]``.
    ``adaptive=False`` replaces the adaptive step by the plain ``eps_k = step_size * alpha_k``
    (the Eq. 9 scaling); ``bandwidth`` is the kernel rule of :mod:`svnr_core.stein`.
    """
    setup = _setup(score, n_particles, rounds, alpha_start, alpha_end, step_size)
    eps = setup.step_size
    game = max_of_three(s2)
    rng = np.random.default_rng(seed)
    init = LOCAL_OPTIMUM + 0.5 * rng.standard_normal((setup.n_particles, game.n_agents))
    alpha = geometric_schedule(setup.alpha_start, setup.alpha_end, setup.rounds)
    return negotiate(
        init,
        negotiation_target(game, score, cells),
        rounds=setup.rounds,
        sets=sets,
        step_size=eps if adaptive else (lambda j: eps * alpha(j)),
        adaptive=adaptive,
        bounds=(-game.action_bound, game.action_bound),
        temperature=alpha,
        record_every=record_every,
        bandwidth=bandwidth,
    )


def max_of_three_experiment(
    s2: float,
    seed: int = 0,
    n_particles: int | None = None,
    rounds: int | None = None,
    alpha_start: float | None = None,
    alpha_end: float | None = None,
    score: ScoreKind = "joint",
    step_size: float | None = None,
    adaptive: bool = True,
    bandwidth: Bandwidth = "median",
) -> MaxOfThreeOutcome:
    """Run :func:`max_of_three_negotiation` and measure where the particles ended."""
    setup = _setup(score, n_particles, rounds, alpha_start, alpha_end, step_size)
    game = max_of_three(s2)
    res = max_of_three_negotiation(
        s2,
        seed,
        setup.n_particles,
        setup.rounds,
        setup.alpha_start,
        setup.alpha_end,
        score=score,
        step_size=setup.step_size,
        adaptive=adaptive,
        bandwidth=bandwidth,
    )
    return MaxOfThreeOutcome(
        s2=s2,
        seed=seed,
        score=score,
        n_particles=setup.n_particles,
        rounds=setup.rounds,
        alpha_start=setup.alpha_start,
        alpha_end=setup.alpha_end,
        step_size=setup.step_size,
        **max_of_three_end_measures(game, np.asarray(res.particles)),
    )


#: File of the annealed Max of Three figure, per score.
MAX_OF_THREE_FIGURES = {
    "joint": "max_of_three_annealed.png",
    "conditional": "max_of_three_conditional.png",
}

#: How each figure's title names the score its agents follow.
_SCORE_TITLES = {
    "joint": "joint score d r / d u_i (Eq. 9/13 approximation)",
    "conditional": "exact conditional scores (Eq. 5, later agents marginalised)",
}


def draw_max_of_three(
    out: Path,
    seed: int = 0,
    s2_values: Sequence[float] = (1.5, 2.0, 3.0),
    score: ScoreKind = "joint",
) -> None:
    """Snapshots of the annealed negotiation (rounds 0, K/6, K/3, K) for each ``s2``, with the
    settings ``MAX_OF_THREE_SETUPS[score]``, saved as ``MAX_OF_THREE_FIGURES[score]``."""
    import matplotlib.pyplot as plt

    setup = MAX_OF_THREE_SETUPS[score]
    rounds = setup.rounds
    every = rounds // 6
    shown = (0, every, 2 * every, rounds)
    alpha = geometric_schedule(setup.alpha_start, setup.alpha_end, rounds)
    fig = plt.figure(figsize=(4 * len(shown), 4 * len(s2_values)))
    sc = None
    for row, s2 in enumerate(s2_values):
        game = max_of_three(s2)
        res = max_of_three_negotiation(s2, seed, score=score, record_every=every)
        snaps = dict(res.trace.snapshots)
        for col, k in enumerate(shown):
            u = np.asarray(snaps[k])
            ax = fig.add_subplot(
                len(s2_values), len(shown), row * len(shown) + col + 1, projection="3d"
            )
            # The schedule has values for rounds 0 .. K-1; the snapshot after the last round
            # was taken at the last value.
            a = alpha(min(k, rounds - 1))
            sc = scatter3d(
                ax,
                u,
                np.asarray(game.reward(u)),
                f"s2 = {s2}, round {k}, alpha = {a:.3g}\n"
                f"in global basin: {basin_masses(game, u)[1]:.2f}",
            )
    assert sc is not None
    fig.colorbar(sc, ax=fig.axes, shrink=0.4, label="reward r(u)")
    fig.suptitle(
        f"Max of Three, nested negotiation with {_SCORE_TITLES[score]},\n"
        f"alpha {setup.alpha_start:g} -> {setup.alpha_end:g} over {rounds} rounds, "
        f"M = {setup.n_particles} (cf. paper Fig. 5), seed {seed}"
    )
    fig.savefig(out / MAX_OF_THREE_FIGURES[score], dpi=100)
    plt.close(fig)
