"""A run folder's name, its creation, and the resolved config it records (``config.json``).

The folder is claimed only once everything of a run is built, so bad input never leaves an empty
folder behind.  Comparing two configs (:func:`config_differences`) is how a resume or an
evaluation tells that a checkpoint belongs to a folder.  Torch-free.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from svnr_rl.atomic_file import write_atomic
from svnr_rl.config import Config, ConfigError, config_from_dict, config_to_dict

__all__ = [
    "FREE_TRAIN_KEYS",
    "claim_run_dir",
    "config_differences",
    "describe_differences",
    "load_run_config",
    "run_name",
    "write_run_config",
]

#: train fields a resume or an evaluation may differ in from the run's checkpoint
FREE_TRAIN_KEYS = ("total_env_steps", "progress", "device", "out_dir")


def run_name(cfg: Config) -> str:
    """``train.run_name``, else ``task-method-sSEED-`` and the UTC time to the second."""
    return cfg.train.run_name or (
        f"{cfg.env.task}-{cfg.algo.method}-s{cfg.train.seed}-"
        f"{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
    )


def claim_run_dir(root: Path, name: str) -> Path:
    """Create and return a new folder ``root/name`` (or ``name-1``, ``name-2``, ...).

    ``mkdir`` without ``exist_ok`` is atomic, so two processes started at once into the same
    ``out_dir`` (the same second, the same name) each get a folder of their own.
    """
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"train.out_dir: cannot create {str(root)!r} ({exc.strerror or exc})"
        ) from None
    if not root.is_dir():
        raise ConfigError(f"train.out_dir: {str(root)!r} is not a folder")
    for k in range(10_000):
        path = root / (name if k == 0 else f"{name}-{k}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise ConfigError(
                f"train.out_dir: cannot create {str(path)!r} ({exc.strerror or exc})"
            ) from None
        return path
    raise ConfigError(f"train.out_dir: 10,000 run folders named {name!r} exist already")


def write_run_config(run_dir: Path, cfg: Config) -> None:
    """Record ``cfg`` as the folder's ``config.json``."""
    write_atomic(run_dir / "config.json", json.dumps(config_to_dict(cfg), indent=2) + "\n")


def load_run_config(run_dir: Path) -> Config:
    """The resolved config saved in a run folder (ConfigError if missing/invalid)."""
    if not run_dir.is_dir():
        raise ConfigError(f"run folder {str(run_dir)!r} does not exist")
    p = run_dir / "config.json"
    if not p.is_file():
        raise ConfigError(
            f"{str(run_dir)!r} is not a run folder (no config.json; a run folder is what "
            "`python -m svnr_rl train` prints as 'results in: ...')"
        )
    try:
        data = json.loads(p.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{str(p)!r} is not valid JSON: {exc}") from None
    try:
        return config_from_dict(data)
    except ConfigError as exc:
        raise ConfigError(f"{str(p)!r}: {exc}") from None


def config_differences(
    a: Config, b: Config, free_train_keys: tuple[str, ...] = FREE_TRAIN_KEYS
) -> list[str]:
    """``section.field`` names that differ (the ``train`` fields named free aside), in config
    order.  The default frees what a resume or an evaluation may change."""
    da, db = config_to_dict(a), config_to_dict(b)
    out = []
    for sec in da:
        for key in da[sec]:
            if sec == "train" and key in free_train_keys:
                continue
            if da[sec][key] != db[sec][key]:
                out.append(f"{sec}.{key}")
    return out


def describe_differences(a: Config, b: Config, a_name: str, b_name: str) -> str:
    """The first three differences in words (``algo.method is 'svnr' in A and ... in B``)."""
    da, db = config_to_dict(a), config_to_dict(b)
    diffs = config_differences(a, b)
    parts = []
    for name in diffs[:3]:
        sec, key = name.split(".")
        parts.append(f"{name} is {da[sec][key]!r} in {a_name} and {db[sec][key]!r} in {b_name}")
    more = f" (and {len(diffs) - 3} more)" if len(diffs) > 3 else ""
    return "; ".join(parts) + more
