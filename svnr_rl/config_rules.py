"""What a config field may hold: the names a choice field accepts, the bounds of the sizes, and
the checks that enforce them with a :class:`ConfigError` naming the field (``algo.policy_lr``).

Kept apart from the sections (:mod:`svnr_rl.config_sections`) so that the limits of the whole
configuration can be read and changed in one place.  Torch-free.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Mapping, Sequence

from svnr_rl.errors import ConfigError

__all__ = [
    "CLOCKS",
    "DEVICES",
    "DIFFERENTIAL_TASKS",
    "DTYPES",
    "LIMITS",
    "MAX_CRITIC_ROWS",
    "MAX_KERNEL_ENTRIES",
    "MAX_LAYERS",
    "MAX_WIDTH",
    "METHODS",
    "SCHEDULES",
    "TASKS",
    "TOPOLOGIES",
    "VALUE_PROPOSALS",
    "at_most",
    "choice",
    "fail",
    "nonneg_float",
    "nonneg_int",
    "pos_float",
    "pos_int",
]

#: Tasks of the paper served by :func:`svnr_rl.envs.registry.make_batched`.
TASKS: tuple[str, ...] = (
    "max-of-three",
    "two-modalities",
    "particle-gather",
    "particle-gather-terminal",
    "mamujoco-halfcheetah-2x3",
    "mamujoco-halfcheetah-1p1",
    "mamujoco-ant-2x4",
    "mamujoco-walker2d-2x3",
    "gym-pendulum",
    "gym-halfcheetah",
    "two-optima-symmetric",
    "continuous-climbing",
    "continuous-penalty",
)
#: The single-step games (the paper's differential games and the coordination games of
#: :mod:`svnr_core.coordination_games`): training records their joint actions, and for 3 agents
#: their figures (joint actions, converged samples, mass near the optima) are drawn
#: (:mod:`svnr_rl.plots`).
DIFFERENTIAL_TASKS: tuple[str, ...] = (
    "max-of-three",
    "two-modalities",
    "two-optima-symmetric",
    "continuous-climbing",
    "continuous-penalty",
)
#: Training methods; baselines register further names in :mod:`svnr_rl.agents`.
METHODS: tuple[str, ...] = ("svnr", "maddpg", "masql", "pr2", "pr2-svgd", "rommeo", "masac", "mmq")
#: Named negotiation topologies (App. H.3); an explicit ``"1:;2:1;3:1,2"`` list is also accepted.
TOPOLOGIES: tuple[str, ...] = ("nested", "full", "empty", "random-peers")
SCHEDULES: tuple[str, ...] = ("paper-f2", "staged-f2", "exponential", "linear", "constant")
DEVICES: tuple[str, ...] = ("cpu", "cuda", "auto")
DTYPES: tuple[str, ...] = ("float32", "float64")
VALUE_PROPOSALS: tuple[str, ...] = ("uniform", "policy")
CLOCKS: tuple[str, ...] = ("updates", "env_steps")

#: Upper bounds of the size fields, far above every preset and the paper's ranges (M 16..64,
#: batch 512, replay 1e6) and low enough that one value cannot ask for an allocation that fails
#: later with a traceback.  What the bounds alone cannot see (replay rows x observation size,
#: network widths x agents) is estimated against the machine's memory by
#: :func:`svnr_rl.resources.check_memory` before a run folder exists.
LIMITS: dict[str, dict[str, int]] = {
    "env": {"num_envs": 4096, "eval_num_envs": 4096, "n_agents": 64},
    "algo": {
        "num_particles": 1024,
        "value_samples": 4096,
        "batch_size": 65_536,
        "policy_batch_size": 65_536,
        "buffer_size": 1_000_000_000,
        "noise_dim": 1024,
        "updates_per_step": 1000,
        "peers": 1023,
        "learning_starts": 1_000_000_000,
    },
    "train": {
        "seed": 2**63 - 1,
        "total_env_steps": 10_000_000_000,
        "eval_interval": 10_000_000_000,
        "eval_episodes": 100_000,
        "threads": 256,
        "record_every": 1_000_000_000,
        "record_limit": 10_000_000,
    },
}
#: Network shapes: at most this many hidden layers, each at most this wide.
MAX_LAYERS, MAX_WIDTH = 8, 4096
#: Rows of one update: critic rows ``batch_size * value_samples`` and Stein pairs
#: ``policy_states * num_particles**2`` (the kernel matrix of Eq. 9).
MAX_CRITIC_ROWS, MAX_KERNEL_ENTRIES = 2**24, 2**26


def fail(name: str, msg: str) -> typing.NoReturn:
    """Raise the :class:`ConfigError` ``"{name}: {msg}"``."""
    raise ConfigError(f"{name}: {msg}")


def pos_int(sec: str, obj: object, *names: str) -> None:
    for n in names:
        v = getattr(obj, n)
        if v < 1:
            fail(f"{sec}.{n}", f"must be an integer >= 1; got {v!r}")


def nonneg_int(sec: str, obj: object, *names: str) -> None:
    for n in names:
        v = getattr(obj, n)
        if v < 0:
            fail(f"{sec}.{n}", f"must be an integer >= 0; got {v!r}")


def pos_float(sec: str, obj: object, *names: str) -> None:
    for n in names:
        v = getattr(obj, n)
        if not (math.isfinite(v) and v > 0.0):
            fail(f"{sec}.{n}", f"must be a finite number > 0; got {v!r}")


def nonneg_float(sec: str, obj: object, *names: str) -> None:
    for n in names:
        v = getattr(obj, n)
        if not (math.isfinite(v) and v >= 0.0):
            fail(f"{sec}.{n}", f"must be a finite number >= 0; got {v!r}")


def at_most(sec: str, obj: object, limits: Mapping[str, int]) -> None:
    """Upper bounds on sizes, checked before anything is allocated (see :data:`LIMITS`)."""
    for n, top in limits.items():
        v = getattr(obj, n)
        if v > top:
            fail(f"{sec}.{n}", f"must be at most {top:,}; got {v:,}")


def choice(sec: str, obj: object, name: str, choices: Sequence[str]) -> None:
    v = getattr(obj, name)
    if v not in choices:
        fail(f"{sec}.{name}", f"must be one of {', '.join(choices)}; got {v!r}")
