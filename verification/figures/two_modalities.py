"""Demonstration 2: negotiated reasoning on *Two Modalities* (paper Sec. 6 (1.1), Fig. 3)
against exact samples of its target (``two_modalities_negotiation.png``).

The target is ``pi*(u) ~ exp(r(u) / alpha)`` with ``alpha = 1`` on ``[-10, 10]^3``; the reward has
two optima worth 10 (``(-5, -5, 3)`` and ``(7, 7, -3)``).  With nested negotiation sets and the
exact Eq. 5 conditional scores the particles should recover the joint target (its split of the
mass between the optima, nothing on the mixed corners worth ``< 0``); with empty sets each agent
follows its own marginal and the particles approach the *product* of the marginals, which puts
mass on the mixed corners -- what decentralised, uncoordinated sampling would execute.  The
joint score (``d r / d u_i`` at the joint particles) is run with nested, full and empty sets for
comparison.  Exact samples are drawn from a fine grid (:mod:`verification.figures.grid_sampling`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from svnr_core.conditional_targets import DEFAULT_CELLS
from svnr_core.differential_games import DifferentialGame, two_modalities
from svnr_core.negotiation import NegotiationResult, SetsSpec, negotiate
from svnr_core.stein import mmd_squared
from verification.annealing import geometric_schedule
from verification.figures.game_targets import ScoreKind, negotiation_target
from verification.figures.grid_sampling import Sampler, grid_sampler
from verification.figures.style import scatter3d
from verification.game_measures import FloatArray, basin_masses, low_reward_mass

__all__ = [
    "GAME_MMD_BANDWIDTH",
    "TwoModalitiesOutcome",
    "draw_two_modalities",
    "two_modalities_experiment",
    "two_modalities_negotiation",
    "two_modalities_sampler",
]

#: Kernel bandwidth ``h`` of the MMD on the differential games (``k = exp(-d^2 / h)``): between
#: the spread inside a mode (``E d^2`` of two draws: 34 for the wide, 12 for the narrow mode)
#: and the distance between the modes (``d^2 = 324``), so the MMD sees both shape and weights.
GAME_MMD_BANDWIDTH = 20.0

# The grid sampler evaluates the reward on 120^3 cells; building it once per process keeps the
# many experiments of one report (and of one test session) from repeating that work.
_SAMPLERS: dict[str, Sampler] = {}


def two_modalities_sampler() -> Sampler:
    """Exact sampler of Two Modalities' ``pi* ~ exp(r)`` (built once per process)."""
    if "two_modalities" not in _SAMPLERS:
        game = two_modalities()
        _SAMPLERS["two_modalities"] = grid_sampler(
            lambda x: np.asarray(game.reward(x)), game.n_agents, game.action_bound
        )
    return _SAMPLERS["two_modalities"]


@dataclass(frozen=True)
class TwoModalitiesOutcome:
    """Negotiated reasoning on Two Modalities (alpha = 1) against exact target samples.

    ``mass_*``: fractions in the basin of the optimum ``(-5, -5, 3)`` (``g1`` active) and of
    ``(7, 7, -3)``; ``low_reward_mass``: fraction with ``r(u) < 0`` (worth little: the optima are
    worth 10, and the exact target puts ~0 mass there -- it takes a 4.5-sigma deviation from an
    optimum); ``mmd2``: unbiased MMD^2 (``h = GAME_MMD_BANDWIDTH``) to ``n_exact`` exact samples;
    ``mean_reward``: mean ``r`` over particles.  The ``exact_*`` fields describe the
    target itself (from the grid) and ``product_*`` the product of its exact marginals (exact
    samples with each coordinate shuffled independently): what decentralised, uncoordinated
    sampling of the exact marginals would execute.  ``mmd2_iid_*``: the MMD^2 of independent
    exact samples of the same size as the particles (median and largest of ``n_null``).
    ``score``: ``"joint"`` or ``"conditional"`` (:func:`two_modalities_negotiation`).
    """

    sets: str
    seed: int
    n_particles: int
    rounds: int
    mass_first: float
    mass_second: float
    low_reward_mass: float
    mmd2: float
    mean_reward: float
    exact_mass_first: float
    exact_low_reward_mass: float
    exact_mean_reward: float
    product_mass_first: float
    product_low_reward_mass: float
    product_mean_reward: float
    product_mmd2: float
    mmd2_iid_median: float
    mmd2_iid_max: float
    score: str = "joint"


def two_modalities_negotiation(
    sets: SetsSpec,
    seed: int,
    n_particles: int = 200,
    rounds: int = 600,
    warmup_alpha: float = 10.0,
    record_every: int | None = None,
    score: ScoreKind = "joint",
    cells: int = DEFAULT_CELLS,
) -> tuple[FloatArray, NegotiationResult]:
    """Negotiation on Two Modalities from particles uniform on the box (independent coordinates).

    ``score="joint"``: every agent follows ``d r / d u_i / alpha`` at the joint particles;
    ``score="conditional"``: the exact Eq. 5 targets ``grad log pi*(u_i | u_{C_i})``, the agents
    outside ``{i} + C_i`` marginalised by quadrature (``cells`` per axis) -- with empty sets each
    agent then follows its own exact marginal, and the particles approach the product of the
    marginals.

    Adaptive step (Liu & Wang rule, step 0.5), median bandwidth, clipping to ``[-10, 10]``.  A
    tempering warm-up: ``alpha`` falls geometrically from ``warmup_alpha`` to the target's
    ``alpha = 1`` over the first half of the rounds and stays there (``warmup_alpha = 1``: none).
    The warm-up lets particles cross between the basins while the tempered target still joins
    them; without it the split between the optima is frozen by the first rounds.
    """
    game = two_modalities()
    rng = np.random.default_rng(seed)
    b = game.action_bound
    init = rng.uniform(-b, b, size=(n_particles, game.n_agents))
    half = max(rounds // 2, 1)
    warm = geometric_schedule(warmup_alpha, 1.0, half + 1)
    res = negotiate(
        init,
        negotiation_target(game, score, cells),
        rounds=rounds,
        sets=sets,
        step_size=0.5,
        adaptive=True,
        bounds=(-b, b),
        temperature=lambda k: warm(min(k, half)),
        record_every=record_every,
    )
    return init, res


def two_modalities_experiment(
    sets: str,
    seed: int = 0,
    n_particles: int = 200,
    rounds: int = 600,
    n_exact: int = 4000,
    n_null: int = 20,
    warmup_alpha: float = 10.0,
    score: ScoreKind = "joint",
) -> TwoModalitiesOutcome:
    """Run :func:`two_modalities_negotiation` and measure it against the exact target, the
    product of its exact marginals and the null range of independent exact samples
    (:class:`TwoModalitiesOutcome`).  The reference samples come from their own generator
    (``seed + 1000``), independent of the particles' initialisation."""
    game = two_modalities()
    _, res = two_modalities_negotiation(
        sets,  # type: ignore[arg-type]
        seed,
        n_particles,
        rounds,
        warmup_alpha,
        score=score,
    )
    u = np.asarray(res.particles)
    rng = np.random.default_rng(seed + 1000)
    sample = two_modalities_sampler()
    exact = sample(n_exact, rng)
    ref = sample(n_exact, rng)
    # Shuffling each coordinate independently keeps every marginal and breaks every dependence:
    # exact samples of the product of the marginals.
    product = np.stack([rng.permutation(ref[:, i]) for i in range(game.n_agents)], axis=1)
    null = [
        float(mmd_squared(sample(n_particles, rng), exact, bandwidth=GAME_MMD_BANDWIDTH))
        for _ in range(n_null)
    ]
    return TwoModalitiesOutcome(
        sets=sets,
        seed=seed,
        n_particles=n_particles,
        rounds=rounds,
        mass_first=basin_masses(game, u)[0],
        mass_second=basin_masses(game, u)[1],
        low_reward_mass=low_reward_mass(game, u),
        mmd2=float(mmd_squared(u, exact, bandwidth=GAME_MMD_BANDWIDTH)),
        mean_reward=float(np.mean(game.reward(u))),
        exact_mass_first=basin_masses(game, ref)[0],
        exact_low_reward_mass=low_reward_mass(game, ref),
        exact_mean_reward=float(np.mean(game.reward(ref))),
        product_mass_first=basin_masses(game, product)[0],
        product_low_reward_mass=low_reward_mass(game, product),
        product_mean_reward=float(np.mean(game.reward(product))),
        product_mmd2=float(mmd_squared(product[:n_particles], exact, bandwidth=GAME_MMD_BANDWIDTH)),
        mmd2_iid_median=float(np.median(null)),
        mmd2_iid_max=float(np.max(null)),
        score=score,
    )


def _panel_title(game: DifferentialGame, title: str, u: FloatArray) -> str:
    """``title`` with the basin masses and the mass worth ``< 0`` of the joint actions ``u``."""
    m1, m2 = basin_masses(game, u)
    low = low_reward_mass(game, u)
    return f"{title}\nmass {m1:.2f} / {m2:.2f}, r < 0: {low:.2f}"


def draw_two_modalities(out: Path, seed: int = 0) -> None:
    """``two_modalities_negotiation.png``: exact samples and the product of the exact marginals,
    then the negotiated particles with the joint score (nested, full, empty sets; top row) and
    with the exact Eq. 5 conditional scores (nested, empty sets; bottom row)."""
    import matplotlib.pyplot as plt

    game = two_modalities()
    rng = np.random.default_rng(seed + 1000)
    exact = two_modalities_sampler()(400, rng)
    product = np.stack([rng.permutation(exact[:, i]) for i in range(3)], axis=1)
    rows: list[list[tuple[str, FloatArray]]] = [
        [("exact samples of $\\pi^* \\propto e^{r}$", exact)],
        [("product of exact marginals", product)],
    ]
    row_settings: tuple[tuple[int, ScoreKind, tuple[SetsSpec, ...]], ...] = (
        (0, "joint", ("nested", "full", "empty")),
        (1, "conditional", ("nested", "empty")),
    )
    for row, score, all_sets in row_settings:
        for sets in all_sets:
            _, res = two_modalities_negotiation(sets, seed, score=score)
            how = "joint score" if score == "joint" else "Eq. 5 scores"
            rows[row].append((f"{sets} sets, {how}", np.asarray(res.particles)))
    fig = plt.figure(figsize=(16, 8.4))
    sc = None
    for r, panels in enumerate(rows):
        for c, (title, u) in enumerate(panels):
            ax = fig.add_subplot(2, 4, 4 * r + c + 1, projection="3d")
            sc = scatter3d(ax, u, np.asarray(game.reward(u)), _panel_title(game, title, u))
    assert sc is not None
    fig.colorbar(sc, ax=fig.axes, shrink=0.6, label="reward r(u)")
    fig.suptitle(f"Two Modalities, alpha = 1 (cf. paper Fig. 3), negotiation, seed {seed}")
    fig.savefig(out / "two_modalities_negotiation.png", dpi=100)
    plt.close(fig)
