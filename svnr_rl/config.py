"""Typed, validated experiment configuration: building it from data, files and overrides.

A run is described by one frozen :class:`Config` tree with four sections::

    env     -- which task, how many environments are stepped together
    algo    -- the method (SVNR or the MADDPG-style reference), its networks and update sizes
    alpha   -- the temperature schedule (App. F.2 or Eq. 20, :mod:`svnr_core.schedules`)
    train   -- seed, length, evaluation/checkpoint cadence, device, dtype, output folder

Sources, applied in this order: the task preset (:func:`preset`), a config file (JSON, or TOML
parsed with :mod:`tomllib`; never executed), then ``section.field=value`` overrides.  Unknown
sections or keys, values of the wrong type and invalid values raise :class:`ConfigError`
(a ``ValueError``) whose message names the entry, e.g. ``algo.policy_lr``.

This module is the one place users import configuration names from; the parts live below it
and are re-exported here:

* :mod:`svnr_rl.config_rules` -- allowed names (tasks, methods, ...), size limits, field checks;
* :mod:`svnr_rl.topology` -- ``algo.topology`` read as negotiation sets;
* :mod:`svnr_rl.config_sections` -- the section dataclasses and :class:`Config`;
* :mod:`svnr_rl.presets` -- the configuration each task starts from;
* :mod:`svnr_rl.config_file` -- reading a JSON/TOML file as data.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from svnr_rl.config_file import MAX_CONFIG_BYTES, read_config_file
from svnr_rl.config_rules import (
    CLOCKS,
    DEVICES,
    DIFFERENTIAL_TASKS,
    DTYPES,
    LIMITS,
    MAX_CRITIC_ROWS,
    MAX_KERNEL_ENTRIES,
    MAX_LAYERS,
    MAX_WIDTH,
    METHODS,
    SCHEDULES,
    TASKS,
    TOPOLOGIES,
    VALUE_PROPOSALS,
    fail,
)
from svnr_rl.config_sections import AlgoConfig, AlphaConfig, Config, EnvConfig, TrainConfig
from svnr_rl.errors import ConfigError
from svnr_rl.presets import preset
from svnr_rl.topology import parse_topology

__all__ = [
    "CLOCKS",
    "DEVICES",
    "DIFFERENTIAL_TASKS",
    "DTYPES",
    "LIMITS",
    "MAX_CONFIG_BYTES",
    "MAX_CRITIC_ROWS",
    "MAX_KERNEL_ENTRIES",
    "MAX_LAYERS",
    "MAX_WIDTH",
    "METHODS",
    "SCHEDULES",
    "TASKS",
    "TOPOLOGIES",
    "VALUE_PROPOSALS",
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
        fail(name, f"value {value!r} matches none of the allowed types")
    if tp is type(None):
        if value is None:
            return None
        fail(name, f"expected null; got {value!r}")
    if tp is bool:
        if isinstance(value, bool):
            return value
        fail(name, f"expected true or false; got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            # 16.0 or 1e9 is refused rather than silently truncated: an integer field given
            # a float is more often a typo of another field's value than a wish
            fail(name, f"expected an integer; got the number {value!r} (write {int(value)})")
        fail(name, f"expected an integer; got {value!r}")
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        fail(name, f"expected a number; got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        fail(name, f"expected a string; got {value!r}")
    if origin is tuple:
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]  # a single size: ``algo.hidden=64``
        if isinstance(value, list | tuple):
            (elem,) = {a for a in typing.get_args(tp) if a is not Ellipsis}
            return tuple(_coerce(f"{name}[{k}]", elem, v) for k, v in enumerate(value))
        fail(name, f"expected a list; got {value!r}")
    raise TypeError(f"unsupported config field type {tp!r} for {name}")  # pragma: no cover


def _build_section(sec: str, cls: type[T], base: T, values: Mapping[str, object]) -> T:
    if not isinstance(values, Mapping):
        fail(sec, f"expected a table of settings; got {values!r}")
    ftypes = _field_types(cls)
    unknown = sorted(set(values) - set(ftypes))
    if unknown:
        fail(f"{sec}.{unknown[0]}", f"unknown key (known: {', '.join(ftypes)})")
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


def resolve_run_length(cfg: Config) -> tuple[Config, list[str]]:
    """``cfg`` with the run length the loop will really train, and a note per change.

    Training runs in whole segments of ``ceil(eval_interval / num_envs)`` vector steps (see
    :mod:`svnr_rl.loop`), so ``eval_interval`` becomes a multiple of ``num_envs`` and
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
