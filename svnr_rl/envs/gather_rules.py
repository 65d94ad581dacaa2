"""Particle Gather's rules, apart from its physics: the two variants and their parameters, the
initial positions, arrival and the reward (numpy only; :mod:`svnr_rl.envs.particle_gather` has
the physics and the two forms, and re-exports everything here).

* ``particle-gather`` (:data:`ITERATED`) -- the paper's *iterated* game: the reward at every one
  of the ``episode_limit = 25`` steps, **no termination** (every episode is truncated after 25
  steps).  The particle-world conventions of mpe2's ``simple_spread`` and of the MMQ code's
  particle RO tasks: particle size ``0.15``, arrival radius ``0.4 = 0.15 + 0.05 + 0.2``.  Return
  in ``[-48, 120]`` (the first step cannot move a particle at rest: its reward is always 0).
* ``particle-gather-terminal`` (:data:`TERMINAL`) -- the harder variant this project used
  first: particle size ``0.05`` (mpe2's default entity), arrival radius ``0.1`` (the discs
  touch), and the episode **terminates at the first step with an arrival** (truncated after 25
  steps otherwise), so the return is ``5``, ``-2`` or ``0``.

Both: initial positions uniform in ``[-w, w]^2`` per particle (``start_half_width`` ``w = 1``,
as ``simple_spread``), redrawn while a particle starts arrived; velocities zero.  The iterated
variant also redraws particle 1 while the two particles would overlap (centres closer than
``2 * 0.15``: the contact force, up to 30, would exceed any action force, 5 per axis).
``docs/environments.md`` gives the evidence for each value.

Seeding: environment ``b`` of a batch reset with ``seed`` draws its episodes from
``np.random.default_rng(np.random.SeedSequence(seed).spawn(B)[b])``, i.e. the child
``SeedSequence(seed, spawn_key=(b,))`` (:func:`env_rng`); its episodes take their initial
positions from that stream in blocks of 32 candidates (:class:`InitialPositions`), in both forms
of the task.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypedDict

import numpy as np
from numpy.typing import NDArray

from svnr_rl.envs.base import BoolArray, FloatArray

__all__ = [
    "DEFAULT_EPISODE_LIMIT",
    "ITERATED",
    "LANDMARK_SIZE",
    "MMQ_ARRIVAL_MARGIN",
    "N_PARTICLES",
    "PARAMS",
    "PARTICLE_SIZE",
    "REWARD_BOTH",
    "REWARD_ONE",
    "SPREAD_AGENT_SIZE",
    "TERMINAL",
    "VARIANTS",
    "InitialPositions",
    "Variant",
    "arrived",
    "env_rng",
    "gather_reward",
    "initial_positions",
    "make_variant",
]

IntArray = NDArray[np.intp]

PARTICLE_SIZE = 0.05  # mpe2's default entity size: the terminal variant's particles
LANDMARK_SIZE = 0.05
#: mpe2 ``simple_spread``'s agent size (and the MMQ code's particle RO tasks'): the iterated
#: variant's particles
SPREAD_AGENT_SIZE = 0.15
#: the MMQ code's particle RO tasks: arrived within agent size + landmark size + 0.2
MMQ_ARRIVAL_MARGIN = 0.2

N_PARTICLES = 2
DEFAULT_EPISODE_LIMIT = 25
REWARD_BOTH = 5.0
REWARD_ONE = -2.0


class VariantParams(TypedDict):
    """The parameters of a variant that a task may override (keyword arguments)."""

    arrival_radius: float
    episode_limit: int
    particle_size: float
    start_half_width: float


@dataclass(frozen=True)
class Variant:
    """One variant of Particle Gather: its task name, whether it terminates at the first
    arrival, and its default parameters (each can be overridden; see :func:`make_variant`)."""

    name: str
    terminal: bool
    arrival_radius: float
    particle_size: float
    start_half_width: float = 1.0
    episode_limit: int = DEFAULT_EPISODE_LIMIT
    #: redraw particle 1's start while the two particles would start overlapping
    separate_starts: bool = False

    def params(self) -> VariantParams:
        """The overridable parameters, as keyword arguments of the environments."""
        return VariantParams(
            arrival_radius=self.arrival_radius,
            episode_limit=self.episode_limit,
            particle_size=self.particle_size,
            start_half_width=self.start_half_width,
        )


ITERATED = "particle-gather"
TERMINAL = "particle-gather-terminal"
#: task name -> variant with its defaults
VARIANTS: dict[str, Variant] = {
    ITERATED: Variant(
        ITERATED,
        terminal=False,
        arrival_radius=SPREAD_AGENT_SIZE + LANDMARK_SIZE + MMQ_ARRIVAL_MARGIN,  # 0.4
        particle_size=SPREAD_AGENT_SIZE,
        separate_starts=True,
    ),
    TERMINAL: Variant(
        TERMINAL,
        terminal=True,
        arrival_radius=PARTICLE_SIZE + LANDMARK_SIZE,  # 0.1: the discs touch
        particle_size=PARTICLE_SIZE,
    ),
}
#: the task parameters of both variants
PARAMS: tuple[str, ...] = ("arrival_radius", "episode_limit", "particle_size", "start_half_width")


def make_variant(
    variant: str,
    arrival_radius: float | None = None,
    episode_limit: int | None = None,
    particle_size: float | None = None,
    start_half_width: float | None = None,
) -> Variant:
    """The :class:`Variant` ``variant`` with the given parameters replacing its defaults;
    ``ValueError`` naming the parameter for an invalid value."""
    if variant not in VARIANTS:
        raise ValueError(
            f"unknown Particle Gather variant {variant!r}; valid: {', '.join(VARIANTS)}"
        )
    v = VARIANTS[variant]
    r = v.arrival_radius if arrival_radius is None else _number("arrival_radius", arrival_radius)
    if not 0.0 < r <= 0.5:
        raise ValueError(f"arrival_radius must be in (0, 0.5]; got {arrival_radius!r}")
    s = v.particle_size if particle_size is None else _number("particle_size", particle_size)
    if not 0.0 < s <= 0.5:
        raise ValueError(f"particle_size must be in (0, 0.5]; got {particle_size!r}")
    w = (
        v.start_half_width
        if start_half_width is None
        else _number("start_half_width", start_half_width)
    )
    if not r < w <= 10.0:
        raise ValueError(
            f"start_half_width must be in (arrival_radius, 10] = ({r:g}, 10] (some starts must "
            f"lie outside the arrival disc); got {start_half_width!r}"
        )
    if v.separate_starts and 2.0 * s > w:
        # otherwise particle 1 could find no place at all beside particle 0
        raise ValueError(
            f"particle_size must be at most start_half_width / 2 = {w / 2:g} in {variant} (its "
            f"particles start apart); got {particle_size!r}"
        )
    n = v.episode_limit if episode_limit is None else episode_limit
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"episode_limit must be an integer >= 1; got {episode_limit!r}")
    return replace(v, arrival_radius=r, particle_size=s, start_half_width=w, episode_limit=n)


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ValueError(f"{name} must be a number; got {value!r}")
    x = float(value)
    if not np.isfinite(x):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return x


def env_rng(seed: int, env_index: int = 0) -> np.random.Generator:
    """The random stream of environment ``env_index`` for a reset with ``seed``.

    Equal to ``np.random.default_rng(np.random.SeedSequence(seed).spawn(B)[env_index])``.
    """
    if env_index < 0:
        raise ValueError(f"env_index must be >= 0; got {env_index}")
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(env_index,)))


class InitialPositions:
    """Initial particle positions of ``B`` environments, each from its own random stream.

    Environment ``b`` owns a stream of candidate positions (relative to the landmark): the
    concatenation of the blocks ``rngs[b].uniform(-w, w, size=(BLOCK, 2))`` (``w`` =
    ``half_width``).  At each reset of ``b``, particle 0 and then particle 1 take the next
    candidates of the stream, skipping every candidate that would start arrived
    (:func:`arrived`) and, for particle 1, every candidate closer than ``min_separation`` to
    particle 0 (``0``: none skipped).  The reset of many environments at once is vectorised;
    both forms of the task use this class, so equal seeds give equal episodes.
    """

    BLOCK = 32

    def __init__(
        self,
        rngs: list[np.random.Generator],
        arrival_radius: float,
        half_width: float = 1.0,
        min_separation: float = 0.0,
    ) -> None:
        self._rngs = rngs
        self._radius = arrival_radius
        self._half_width = half_width
        self._min_sep = min_separation
        self._cand = np.empty((len(rngs), self.BLOCK, 2))
        self._ptr = np.full(len(rngs), self.BLOCK, dtype=np.intp)  # empty: refill on first use

    def _take(self, rows: IntArray) -> FloatArray:
        w = self._half_width
        for b in rows[self._ptr[rows] >= self.BLOCK]:
            self._cand[b] = self._rngs[b].uniform(-w, w, size=(self.BLOCK, 2))
            self._ptr[b] = 0
        out = self._cand[rows, self._ptr[rows]]
        self._ptr[rows] += 1
        return out

    def sample(self, rows: IntArray) -> FloatArray:
        """Positions ``[len(rows), 2, 2]`` for the (distinct) environments ``rows``."""
        out = np.empty((len(rows), N_PARTICLES, 2))
        for j in range(N_PARTICLES):
            pending = np.arange(len(rows))
            while pending.size:
                cand = self._take(rows[pending])
                out[pending, j] = cand
                redraw = arrived(cand, self._radius)
                if j > 0 and self._min_sep > 0.0:
                    gap = np.sqrt(np.sum(np.square(cand - out[pending, 0]), axis=-1))
                    redraw |= gap < self._min_sep
                pending = pending[redraw]
        return out


def initial_positions(rngs: list[np.random.Generator], variant: Variant) -> InitialPositions:
    """The :class:`InitialPositions` of ``variant`` (both forms use this)."""
    sep = 2.0 * variant.particle_size if variant.separate_starts else 0.0
    return InitialPositions(rngs, variant.arrival_radius, variant.start_half_width, sep)


def arrived(rel_pos: FloatArray, arrival_radius: float) -> BoolArray:
    """``|p - L| <= arrival_radius`` for positions relative to the landmark, shape ``[..., 2]``."""
    return np.asarray(np.sqrt(np.sum(np.square(rel_pos), axis=-1)) <= arrival_radius)


def gather_reward(n_arrived: IntArray) -> FloatArray:
    """Shared reward from the number of arrived particles: ``+5`` (2), ``-2`` (1), ``0`` (0)."""
    return np.where(n_arrived == 2, REWARD_BOTH, np.where(n_arrived == 1, REWARD_ONE, 0.0))
