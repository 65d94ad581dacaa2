"""Typed, validated experiment configuration and the paper's presets.

A run is described by one frozen :class:`Config` tree with four sections::

    env     -- which task, how many environments are stepped together
    algo    -- the method (SVNR or the MADDPG-style reference), its networks and update sizes
    alpha   -- the temperature schedule (App. F.2 or Eq. 20, :mod:`svnr_core.schedules`)
    train   -- seed, length, evaluation/checkpoint cadence, device, dtype, output folder

Sources, applied in this order: the task preset (:func:`preset`), a config file (JSON, or TOML
parsed with :mod:`tomllib`; never executed), then ``section.field=value`` overrides.  Unknown
sections or keys, values of the wrong type and invalid values raise :class:`ConfigError`
(a ``ValueError``) whose message names the entry, e.g. ``algo.policy_lr``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "METHODS",
    "TASKS",
    "TOPOLOGIES",
    "AlgoConfig",
    "AlphaConfig",
    "Config",
    "ConfigError",
    "EnvConfig",
    "TrainConfig",
    "apply_overrides",
    "config_from_dict",
    "config_to_dict",
    "load_config_file",
    "parse_topology",
    "preset",
    "read_config_file",
    "resolve_run_length",
]

#: Tasks of the paper served by :func:`svnr_rl.envs.registry.make_batched`.
TASKS: tuple[str, ...] = (
    "max-of-three",
    "two-modalities",
    "particle-gather",
    "mamujoco-halfcheetah-2x3",
    "mamujoco-halfcheetah-1p1",
    "mamujoco-ant-2x4",
    "mamujoco-walker2d-2x3",
    "gym-pendulum",
    "gym-halfcheetah",
)
#: Training methods; baselines register further names in :mod:`svnr_rl.agents`.
METHODS: tuple[str, ...] = ("svnr", "maddpg", "masql", "pr2", "rommeo", "masac")
#: Named negotiation topologies (App. H.3); an explicit ``"1:;2:1;3:1,2"`` list is also accepted.
TOPOLOGIES: tuple[str, ...] = ("nested", "full", "empty", "random-peers")
SCHEDULES: tuple[str, ...] = ("paper-f2", "exponential", "constant")
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


class ConfigError(ValueError):
    """An invalid configuration entry; the message names it (``section.field``)."""


def _fail(name: str, msg: str) -> typing.NoReturn:
    raise ConfigError(f"{name}: {msg}")


def _pos_int(sec: str, obj: object, *names: str) -> None:
    for n in names:
        v = getattr(obj, n)
        if v < 1:
            _fail(f"{sec}.{n}", f"must be an integer >= 1; got {v!r}")


def _nonneg_int(sec: str, obj: object, *names: str) -> None:
    for n in names:
        v = getattr(obj, n)
        if v < 0:
            _fail(f"{sec}.{n}", f"must be an integer >= 0; got {v!r}")


def _pos_float(sec: str, obj: object, *names: str) -> None:
    for n in names:
        v = getattr(obj, n)
        if not (math.isfinite(v) and v > 0.0):
            _fail(f"{sec}.{n}", f"must be a finite number > 0; got {v!r}")


def _nonneg_float(sec: str, obj: object, *names: str) -> None:
    for n in names:
        v = getattr(obj, n)
        if not (math.isfinite(v) and v >= 0.0):
            _fail(f"{sec}.{n}", f"must be a finite number >= 0; got {v!r}")


def _at_most(sec: str, obj: object, limits: Mapping[str, int]) -> None:
    """Upper bounds on sizes, checked before anything is allocated (see :data:`LIMITS`)."""
    for n, top in limits.items():
        v = getattr(obj, n)
        if v > top:
            _fail(f"{sec}.{n}", f"must be at most {top:,}; got {v:,}")


def _choice(sec: str, obj: object, name: str, choices: Sequence[str]) -> None:
    v = getattr(obj, name)
    if v not in choices:
        _fail(f"{sec}.{name}", f"must be one of {', '.join(choices)}; got {v!r}")


def parse_topology(spec: str, n_agents: int | None, task: str = "") -> list[list[int]] | None:
    """Negotiation sets ``C_i`` (0-based, without ``i``) of a topology, or ``None`` if dynamic.

    * ``nested`` -- the paper's ``C_i = {1..i}`` (App. F.2): agent ``i`` conditions on the noise
      of every agent before it, so ``S_i = {i} + C_i = {1..i}``;
    * ``full`` -- SVNR-F, ``C_i = -i`` (App. H.3.1);
    * ``empty`` -- SVNR-M, ``C_i = {}`` (App. H.3.1);
    * ``random-peers`` -- peers resampled every step (App. H.3.2): returns ``None``;
    * an explicit list ``"1:;2:1;3:1,2"`` -- 1-based, one ``agent:peers`` entry per agent
      (any directed graph, a DAG included).

    Raises :class:`ConfigError` (naming ``algo.topology``) for an unknown name, a malformed
    list, an index out of range, a repeated agent or an agent conditioning on itself.  With
    ``n_agents = None`` only the syntax is checked (and ``None`` returned for a list): the
    number of agents is the task's, known once ``task`` is built.
    """
    name = "algo.topology"
    if spec == "random-peers" or (n_agents is None and spec in TOPOLOGIES):
        return None
    if n_agents is not None and spec == "nested":
        return [list(range(i)) for i in range(n_agents)]
    if n_agents is not None and spec == "full":
        return [[j for j in range(n_agents) if j != i] for i in range(n_agents)]
    if n_agents is not None and spec == "empty":
        return [[] for _ in range(n_agents)]
    if len(spec) > 10_000:
        _fail(name, f"an explicit list of at most 10,000 characters; got {len(spec):,}")
    if not re.fullmatch(r"\s*\d+\s*:[\d,\s]*(;\s*\d+\s*:[\d,\s]*)*;?\s*", spec):
        _fail(
            name,
            f"must be one of {', '.join(TOPOLOGIES)} or an explicit list like "
            f"'1:;2:1;3:1,2'; got {spec!r}",
        )
    game = f"{task} has" if task else "the game has"
    sets: dict[int, list[int]] = {}
    for entry in filter(None, (e.strip() for e in spec.split(";"))):
        head, _, tail = entry.partition(":")
        i = int(head)
        peers = [int(p) for p in tail.split(",") if p.strip()]
        for k in [i, *peers]:
            if k < 1 or (n_agents is not None and k > n_agents):
                where = f"1..{n_agents}: {game} {n_agents} agents" if n_agents else "ids >= 1"
                _fail(name, f"agent {k} is out of range ({where})")
        if i in sets:
            _fail(name, f"agent {i} is listed twice")
        if i in peers:
            _fail(name, f"agent {i} cannot condition on itself")
        sets[i] = sorted({p - 1 for p in peers})
    if n_agents is None:
        return None
    missing = [i for i in range(1, n_agents + 1) if i not in sets]
    if missing:
        _fail(
            name,
            f"no entry for agent(s) {missing}: {game} {n_agents} agents, "
            f"so list one entry per agent 1..{n_agents}",
        )
    return [sets[i + 1] for i in range(n_agents)]


@dataclass(frozen=True)
class EnvConfig:
    """Task selection. ``s2`` is the *Max of Three* basin width (paper: 3.0, 2.0, 1.5);
    ``n_agents`` the number of agents of a differential game (0: the paper's 3; 1 makes the
    game a single-agent task, e.g. for MASAC = SAC)."""

    task: str = "max-of-three"
    s2: float = 1.5
    n_agents: int = 0
    num_envs: int = 8
    eval_num_envs: int = 16

    def __post_init__(self) -> None:
        _choice("env", self, "task", TASKS)
        _pos_float("env", self, "s2")
        _nonneg_int("env", self, "n_agents")
        _pos_int("env", self, "num_envs", "eval_num_envs")
        _at_most("env", self, LIMITS["env"])
        if self.n_agents and self.task not in ("max-of-three", "two-modalities"):
            _fail("env.n_agents", f"applies only to the differential games; task is {self.task}")

    def make_params(self) -> dict[str, Any]:
        """Keyword parameters for ``make_batched`` of this task."""
        params: dict[str, Any] = {"s2": self.s2} if self.task == "max-of-three" else {}
        if self.n_agents:
            params["n_agents"] = self.n_agents
        return params


@dataclass(frozen=True)
class AlgoConfig:
    """Method, networks and update sizes (Sec. 5, App. F.2, H.5.2).

    ``num_particles`` is ``M`` of Eq. 9 (paper range 16..64), ``value_samples`` the number of
    importance samples of the Eq. 11 soft value, ``policy_batch_size`` the number of replay
    states whose ``M`` particles enter one Stein update (the defaults keep
    ``policy_batch_size * M = batch_size``: the policy step evaluates the critic on as many
    ``(s, u)`` rows as the critic step and as a deterministic-policy update on the same batch;
    ``0`` means ``batch_size // M``), ``noise_dim`` the per-agent noise size
    (0: the agent's action size).  ``value_proposal``: ``uniform`` importance-samples the soft
    value from the uniform law on ``[-1, 1]^d`` (soft Q-learning); ``policy`` uses the samplers'
    joint actions with ``log q = 0`` (Eq. 11 read literally, ``E_{u'~p}``).
    ``update_to_data`` is the number of updates per *environment* step (SAC: 1), whatever
    ``env.num_envs`` is; ``0`` keeps ``updates_per_step`` updates per *vector* step of
    ``num_envs`` environments.  Fractional ratios carry the remainder from one vector step to the
    next (and across a resume).  ``init_alpha`` is
    the starting temperature of methods that learn their own (MASAC); the others follow
    ``alpha.*``.
    """

    method: str = "svnr"
    topology: str = "nested"
    peers: int = 1
    num_particles: int = 32
    value_samples: int = 32
    value_proposal: str = "uniform"
    policy_batch_size: int = 4
    noise_dim: int = 0
    hidden: tuple[int, ...] = (64, 64)
    critic_hidden: tuple[int, ...] = (128, 128)
    policy_lr: float = 1e-3
    critic_lr: float = 1e-3
    batch_size: int = 128
    buffer_size: int = 1_000_000
    gamma: float = 0.99
    polyak: float = 0.005
    twin_critic: bool = False
    init_alpha: float = 1.0
    reward_scale: float = 1.0
    updates_per_step: int = 1
    update_to_data: float = 0.0
    learning_starts: int = 256
    grad_clip: float = 0.0

    @property
    def policy_states(self) -> int:
        """States per Stein update: ``policy_batch_size``, or ``batch_size // M`` when 0."""
        return self.policy_batch_size or max(1, self.batch_size // self.num_particles)

    def __post_init__(self) -> None:
        _choice("algo", self, "method", METHODS)
        if self.topology not in TOPOLOGIES:
            # syntax only: the number of agents is the task's, checked when the task is built
            parse_topology(self.topology, None)
        _choice("algo", self, "value_proposal", VALUE_PROPOSALS)
        _pos_int("algo", self, "peers", "value_samples", "batch_size")
        _pos_int("algo", self, "buffer_size", "updates_per_step")
        _nonneg_int("algo", self, "noise_dim", "learning_starts", "policy_batch_size")
        if self.num_particles < 2:
            _fail(
                "algo.num_particles",
                f"must be >= 2 (a kernel needs pairs); got {self.num_particles}",
            )
        _at_most("algo", self, LIMITS["algo"])
        for name in ("hidden", "critic_hidden"):
            sizes = getattr(self, name)
            if len(sizes) == 0 or any(h < 1 for h in sizes):
                _fail(f"algo.{name}", f"must be a non-empty list of sizes >= 1; got {sizes!r}")
            if len(sizes) > MAX_LAYERS or max(sizes) > MAX_WIDTH:
                _fail(
                    f"algo.{name}",
                    f"at most {MAX_LAYERS} layers of at most {MAX_WIDTH} units; got {sizes!r}",
                )
        if self.batch_size * self.value_samples > MAX_CRITIC_ROWS:
            _fail(
                "algo.value_samples",
                f"batch_size x value_samples = {self.batch_size * self.value_samples:,} critic "
                f"rows per update; at most {MAX_CRITIC_ROWS:,}",
            )
        kernel = self.policy_states * self.num_particles**2
        if kernel > MAX_KERNEL_ENTRIES:
            _fail(
                "algo.num_particles",
                f"policy states x num_particles^2 = {kernel:,} kernel entries per update; "
                f"at most {MAX_KERNEL_ENTRIES:,}",
            )
        _pos_float("algo", self, "policy_lr", "critic_lr", "reward_scale", "init_alpha")
        _nonneg_float("algo", self, "grad_clip", "update_to_data")
        if self.update_to_data > 1000:
            _fail("algo.update_to_data", f"must be at most 1,000; got {self.update_to_data!r}")
        if not (0.0 <= self.gamma < 1.0):
            _fail("algo.gamma", f"must be in [0, 1); got {self.gamma!r}")
        if not (0.0 < self.polyak <= 1.0):
            _fail("algo.polyak", f"must be in (0, 1]; got {self.polyak!r}")
        if self.buffer_size < self.batch_size:
            _fail("algo.buffer_size", f"must be >= algo.batch_size = {self.batch_size}")


@dataclass(frozen=True)
class AlphaConfig:
    """Temperature schedule (:mod:`svnr_core.schedules`).  ``clock``: ``updates`` (the update
    counter, the default and the presets' clock) or ``env_steps`` (environment steps, so that a
    schedule means the same whatever the update-to-data ratio and the number of environments).

    The default is App. F.2's form with the paper's bonus 500 and delay 10, but a rate of 0.004
    per *update* instead of 0.1 per step: the high-temperature exploration phase then lasts
    ~2000 updates (alpha ~ 0.2 after 2000, ~0.05 after 3000), long enough for the critic to
    learn the narrow global optimum of Max of Three with ``s2 = 1.5``.  With 0.008 and 16k steps,
    3 of 5 seeds settled on the local optimum at ``s2 = 1.5`` (docs/results/results.md).

    ``paper-f2``: ``alpha_end + bonus * exp(-rate * max(t - delay, 0))`` (App. F.2);
    ``exponential``: Eq. 20 with ``alpha_start``, ``alpha_end``, ``tau``;
    ``constant``: ``alpha_end`` throughout.  ``floor`` bounds every schedule from below.
    """

    schedule: str = "paper-f2"
    clock: str = "updates"
    alpha_start: float = 1.0
    alpha_end: float = 0.05
    tau: float = 2000.0
    bonus: float = 500.0
    rate: float = 0.004
    delay: float = 10.0
    floor: float = 0.0

    def __post_init__(self) -> None:
        _choice("alpha", self, "schedule", SCHEDULES)
        _choice("alpha", self, "clock", CLOCKS)
        _pos_float("alpha", self, "alpha_start", "alpha_end", "tau", "rate")
        _nonneg_float("alpha", self, "bonus", "delay", "floor")

    def value(self, step: int) -> float:
        """``alpha`` at ``step`` on the schedule's clock (updates or environment steps)."""
        from svnr_core import schedules

        if self.schedule == "paper-f2":
            return schedules.alpha_paper_f2(
                step,
                self.alpha_end,
                bonus=self.bonus,
                rate=self.rate,
                delay=self.delay,
                floor=self.floor,
            )
        if self.schedule == "exponential":
            return schedules.alpha_exponential(
                step, self.alpha_start, self.alpha_end, self.tau, floor=self.floor
            )
        return schedules.alpha_constant(step, self.alpha_end, floor=self.floor)


@dataclass(frozen=True)
class TrainConfig:
    """Seed, length (environment steps = transitions), cadence, device and output.

    Every ``eval_interval`` environment steps the run is evaluated (decentralized execution,
    ``eval_episodes`` episodes) and checkpointed; episodes in progress at that boundary are
    cut (bootstrapped, not terminal) and all environments are reset from the seed, so that a
    resumed run is identical to an uninterrupted one.
    """

    seed: int = 0
    total_env_steps: int = 24_000
    eval_interval: int = 2_000
    eval_episodes: int = 64
    device: str = "cpu"
    dtype: str = "float32"
    threads: int = 1
    out_dir: str = "runs"
    run_name: str = ""
    progress: bool = True
    tensorboard: bool = True
    record_every: int = 3
    record_limit: int = 1000

    def __post_init__(self) -> None:
        _nonneg_int("train", self, "seed")
        _pos_int("train", self, "total_env_steps", "eval_interval", "eval_episodes", "threads")
        _pos_int("train", self, "record_every")
        _nonneg_int("train", self, "record_limit")
        _at_most("train", self, LIMITS["train"])
        _choice("train", self, "device", DEVICES)
        _choice("train", self, "dtype", DTYPES)
        if self.run_name and not re.fullmatch(r"[A-Za-z0-9_.\-]+", self.run_name):
            _fail(
                "train.run_name",
                f"may contain only letters, digits, '_', '.', '-'; got {self.run_name!r}",
            )


@dataclass(frozen=True)
class Config:
    """The whole experiment configuration (see the module docstring)."""

    env: EnvConfig = field(default_factory=EnvConfig)
    algo: AlgoConfig = field(default_factory=AlgoConfig)
    alpha: AlphaConfig = field(default_factory=AlphaConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


_SECTIONS: dict[str, type[Any]] = {
    "env": EnvConfig,
    "algo": AlgoConfig,
    "alpha": AlphaConfig,
    "train": TrainConfig,
}

T = TypeVar("T")


def _field_types(cls: type[Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _coerce(name: str, tp: Any, value: object) -> object:
    """Check/convert a value (from JSON/TOML or a parsed override) to the field type."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        errors = []
        for arg in typing.get_args(tp):
            try:
                return _coerce(name, arg, value)
            except ConfigError as exc:
                errors.append(str(exc))
        _fail(name, f"value {value!r} matches none of the allowed types")
    if tp is type(None):
        if value is None:
            return None
        _fail(name, f"expected null; got {value!r}")
    if tp is bool:
        if isinstance(value, bool):
            return value
        _fail(name, f"expected true or false; got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            # 16.0 or 1e9 is refused rather than silently truncated: an integer field given
            # a float is more often a typo of another field's value than a wish
            _fail(name, f"expected an integer; got the number {value!r} (write {int(value)})")
        _fail(name, f"expected an integer; got {value!r}")
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        _fail(name, f"expected a number; got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        _fail(name, f"expected a string; got {value!r}")
    if origin is tuple:
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]  # a single size: ``algo.hidden=64``
        if isinstance(value, list | tuple):
            (elem,) = {a for a in typing.get_args(tp) if a is not Ellipsis}
            return tuple(_coerce(f"{name}[{k}]", elem, v) for k, v in enumerate(value))
        _fail(name, f"expected a list; got {value!r}")
    raise TypeError(f"unsupported config field type {tp!r} for {name}")  # pragma: no cover


def _build_section(sec: str, cls: type[T], base: T, values: Mapping[str, object]) -> T:
    if not isinstance(values, Mapping):
        _fail(sec, f"expected a table of settings; got {values!r}")
    ftypes = _field_types(cls)
    unknown = sorted(set(values) - set(ftypes))
    if unknown:
        _fail(f"{sec}.{unknown[0]}", f"unknown key (known: {', '.join(ftypes)})")
    changes = {k: _coerce(f"{sec}.{k}", ftypes[k], v) for k, v in values.items()}
    return dataclasses.replace(base, **changes)  # type: ignore[type-var]


def config_from_dict(data: Mapping[str, object], base: Config | None = None) -> Config:
    """A :class:`Config` from nested ``{section: {key: value}}`` data on top of ``base``.

    Unknown sections/keys and values of the wrong type raise :class:`ConfigError`.
    """
    cfg = base if base is not None else Config()
    if not isinstance(data, Mapping):
        raise ConfigError(f"config: expected a table of sections; got {type(data).__name__}")
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown config section (known: {', '.join(_SECTIONS)})")
    parts = {
        sec: _build_section(sec, cls, getattr(cfg, sec), data[sec])  # type: ignore[arg-type]
        for sec, cls in _SECTIONS.items()
        if sec in data
    }
    return dataclasses.replace(cfg, **parts)


def config_to_dict(cfg: Config) -> dict[str, dict[str, Any]]:
    """Plain JSON-serialisable nested dict (tuples become lists)."""
    out: dict[str, dict[str, Any]] = {}
    for sec in _SECTIONS:
        d = dataclasses.asdict(getattr(cfg, sec))
        out[sec] = {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}
    return out


#: a config file is a few dozen settings; anything bigger is not one
MAX_CONFIG_BYTES = 1_000_000


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in pairs:
        if k in out:
            raise ConfigError(f"{k}: given twice")
        out[k] = v
    return out


def _no_constant(name: str) -> object:
    raise ConfigError(f"{name} is not a number a config may hold")


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The ``{section: {key: value}}`` data of a JSON (``.json``) or TOML (``.toml``) file.

    Files are parsed as data only (``json``/``tomllib``).  A missing, oversized or unparsable
    file, a duplicate key, ``NaN``/``Infinity`` or a top level that is not a table raises
    :class:`ConfigError` naming the file.
    """
    p = Path(path)
    name = f"config file {str(p)!r}"
    if p.suffix not in (".json", ".toml"):
        raise ConfigError(f"{name}: must end in .json or .toml")
    if p.is_dir():
        raise ConfigError(f"{name}: is a folder")
    try:
        with p.open("rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{name}: larger than {MAX_CONFIG_BYTES:,} bytes; not a config file")
    kind = p.suffix[1:].upper()
    try:
        text = raw.decode("utf-8")
        if p.suffix == ".json":
            data = json.loads(
                text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant
            )
        else:
            data = tomllib.loads(text)
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: not UTF-8 text") from None
    except RecursionError:
        raise ConfigError(f"{name}: not valid {kind}: nested too deeply") from None
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{name}: not valid {kind}: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: expected a table of sections; got {type(data).__name__}")
    return data


def load_config_file(path: str | Path, base: Config | None = None) -> Config:
    """Read a JSON (``.json``) or TOML (``.toml``) config file on top of ``base``
    (:func:`read_config_file`, then :func:`config_from_dict`)."""
    return config_from_dict(read_config_file(path), base)


def _parse_value(text: str) -> object:
    """An override's right-hand side: JSON if it parses (numbers, true/false, lists, quoted
    strings), a comma-separated list of numbers, else the raw string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    if re.fullmatch(r"\s*-?\d+(\s*,\s*-?\d+)+\s*", text):
        return [int(x) for x in text.split(",")]
    return text


def apply_overrides(cfg: Config, overrides: Sequence[str]) -> Config:
    """Apply ``section.field=value`` overrides (e.g. ``algo.num_particles=16``,
    ``algo.hidden=64,64``, ``train.device=cuda``)."""
    data: dict[str, dict[str, object]] = {}
    for item in overrides:
        key, sep, text = item.partition("=")
        parts = key.strip().split(".")
        if not sep or len(parts) != 2 or not all(parts):
            raise ConfigError(f"override {item!r}: expected section.field=value")
        sec, name = parts
        data.setdefault(sec, {})[name] = _parse_value(text.strip())
    return config_from_dict(data, cfg)


#: Two Modalities (issue 6).  Under the default (F.2 form, bonus 500, rate 0.004 per update,
#: ~3k updates) the sampler collapses onto the wider optimum (-5, -5, 3) on every seed, although
#: the critic is right at both optima (Q ~ 10 at (7, 7, -3) throughout training).  The collapse
#: is the amortized sampler's: with the *exact* reward as critic the same policy step drops
#: (7, 7, -3) too, while plain particle SVGD with the same direction and schedule keeps it.
#: Likely mechanism (a reading of the runs, not a proof): a smooth map from the noise always
#: sends some particles onto the ridge between the basins, and their pull shifts the split
#: towards the wider basin, so the smaller mode drains slowly; it survives only if the
#: temperature falls slowly enough for the split to form first.  Hence Eq. 20
#: (App. H.5) from alpha = 10 to 0.1 (the ends of App. F.2's range) with tau = 2000 updates,
#: 4 updates per vector step (~11.9k updates in the same 24k environment steps; final
#: alpha ~ 0.126), M = 64 particles (the top of F.2's 16..64) over 2 states (still 128 critic
#: rows per Stein update) and 256-unit samplers (a steeper split of the noise).
_TWO_MODALITIES_ALGO = AlgoConfig(
    num_particles=64, policy_batch_size=2, hidden=(256, 256), updates_per_step=4
)
_TWO_MODALITIES_ALPHA = AlphaConfig(
    schedule="exponential", alpha_start=10.0, alpha_end=0.1, tau=2_000.0
)


#: MaMuJoCo (and, with twin critics, the single-agent gymnasium tasks): SAC's sizes and rates
_MAMUJOCO_ALGO = AlgoConfig(
    hidden=(256, 256),
    critic_hidden=(256, 256),
    batch_size=256,
    num_particles=16,
    value_samples=16,
    policy_batch_size=16,
    policy_lr=3e-4,
    critic_lr=3e-4,
    learning_starts=5_000,
)


def preset(task: str, *, s2: float | None = None) -> Config:
    """The configuration used for ``task`` (the defaults are tuned for Max of Three).

    Differential games are single-step: ``gamma`` is irrelevant and the critic regresses the
    reward.  Particle Gather and MaMuJoCo use longer runs, more environments and bigger nets.
    """
    if task not in TASKS:
        raise ConfigError(f"env.task: must be one of {', '.join(TASKS)}; got {task!r}")
    env = EnvConfig(task=task, s2=1.5 if s2 is None else s2)
    if task == "max-of-three":
        return Config(env=env)
    if task == "two-modalities":
        return Config(env=env, algo=_TWO_MODALITIES_ALGO, alpha=_TWO_MODALITIES_ALPHA)
    if task == "particle-gather":
        return Config(
            env=dataclasses.replace(env, num_envs=8),
            algo=AlgoConfig(
                hidden=(128, 128), critic_hidden=(256, 256), batch_size=256, policy_batch_size=8
            ),
            # Eq. 20 over ~15.6k updates (1 per vector step of 8 environments): alpha ~ 0.017 at
            # the end; tau is in updates
            alpha=AlphaConfig(schedule="exponential", alpha_start=1.0, alpha_end=0.01, tau=3_000),
            train=TrainConfig(total_env_steps=125_000, eval_interval=5_000, eval_episodes=32),
        )
    if task.startswith("gym-"):
        return _single_agent_preset(env)
    return Config(
        env=dataclasses.replace(env, num_envs=4, eval_num_envs=4),
        algo=_MAMUJOCO_ALGO,
        alpha=AlphaConfig(schedule="exponential", alpha_start=1.0, alpha_end=0.05, tau=50_000),
        train=TrainConfig(total_env_steps=1_000_000, eval_interval=20_000, eval_episodes=4),
    )


def resolve_run_length(cfg: Config) -> tuple[Config, list[str]]:
    """``cfg`` with the run length the loop will really train, and a note per change.

    Training runs in whole segments of ``ceil(eval_interval / num_envs)`` vector steps (see
    :mod:`svnr_rl.train`), so ``eval_interval`` becomes a multiple of ``num_envs`` and
    ``total_env_steps`` a multiple of that interval, both rounded up.  The resolved values are
    what ``config.json`` records, so the folder never claims a length the run did not train.
    """
    t, b = cfg.train, cfg.env.num_envs
    interval = math.ceil(t.eval_interval / b) * b
    total = math.ceil(t.total_env_steps / interval) * interval
    notes = []
    if interval != t.eval_interval:
        notes.append(
            f"train.eval_interval: {t.eval_interval} rounded up to {interval} "
            f"(a whole number of vector steps of env.num_envs = {b})"
        )
    if total != t.total_env_steps:
        notes.append(
            f"train.total_env_steps: {t.total_env_steps} rounded up to {total} "
            f"(whole evaluation intervals of {interval} steps)"
        )
    train = dataclasses.replace(t, eval_interval=interval, total_env_steps=total)
    return dataclasses.replace(cfg, train=train), notes


def _single_agent_preset(env: EnvConfig) -> Config:
    """The single-agent gymnasium tasks: stable-baselines3 SAC's settings (rl-zoo for
    HalfCheetah), so that ``algo.method=masac`` with one agent is SAC as users run it.

    One environment and one update per step (update-to-data 1), batch 256, two 256-unit hidden
    layers for actor and critic, Adam 3e-4, replay 1e6, gamma 0.99, Polyak 0.005, twin critics,
    the temperature learned from 1.0 (MASAC); updates start after ``learning_starts`` steps
    (SB3: 100 on Pendulum, rl-zoo: 10,000 on HalfCheetah).  Fields only SVNR reads take the
    MaMuJoCo preset's sizes.
    """
    cheetah = env.task == "gym-halfcheetah"
    return Config(
        env=dataclasses.replace(env, num_envs=1, eval_num_envs=5),
        algo=dataclasses.replace(
            _MAMUJOCO_ALGO, twin_critic=True, learning_starts=10_000 if cheetah else 100
        ),
        alpha=AlphaConfig(schedule="constant", alpha_end=0.05),
        train=TrainConfig(
            total_env_steps=100_000 if cheetah else 20_000,
            eval_interval=5_000 if cheetah else 1_000,
            eval_episodes=5,
        ),
    )
