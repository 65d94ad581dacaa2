"""Reading a config file (JSON or TOML) as data: never executed, bounded in size, strict.

Torch-free; :func:`svnr_rl.config.load_config_file` builds a :class:`~svnr_rl.config.Config`
from what :func:`read_config_file` returns.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from svnr_rl.errors import ConfigError

__all__ = ["MAX_CONFIG_BYTES", "read_config_file"]


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
