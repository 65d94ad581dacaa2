"""Reading one TOML table key by key, with errors that name the entry (``task[0].s2: ...``)
and a final check that refuses the keys nobody asked for (:mod:`svnr_rl.study.spec`)."""

from __future__ import annotations

import difflib
import math
from typing import Any

from svnr_rl.config import ConfigError

__all__ = ["MAX_ENTRIES", "MAX_SEEDS", "Table"]

#: at most this many ``[[task]]`` / ``[[method]]`` / ``[[tune.param]]`` entries
MAX_ENTRIES = 256
#: at most this many seeds in a list
MAX_SEEDS = 1000


class Table:
    """A TOML table read key by key; :meth:`done` refuses the keys nobody asked for."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected a table; got {type(data).__name__}")
        self.data: dict[str, Any] = data
        self.where = where
        self.seen: set[str] = set()

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def _get(self, key: str, default: object, required: bool) -> object:
        self.seen.add(key)
        if key not in self.data:
            if required:
                near = difflib.get_close_matches(key, [str(k) for k in self.data], n=1)
                hint = f" (the table has {near[0]!r}: a misspelling of {key!r}?)" if near else ""
                raise ConfigError(f"{self._name(key)}: required{hint}")
            return default
        return self.data[key]

    def text(self, key: str, default: str = "", *, required: bool = False) -> str:
        v = self._get(key, default, required)
        if not isinstance(v, str):
            raise ConfigError(f"{self._name(key)}: expected a string; got {v!r}")
        return v

    def integer(self, key: str, default: int, lo: int, hi: int) -> int:
        v = self._get(key, default, False)
        if isinstance(v, bool) or not isinstance(v, int):
            raise ConfigError(f"{self._name(key)}: expected an integer; got {v!r}")
        if not lo <= v <= hi:
            raise ConfigError(f"{self._name(key)}: must be in {lo:,}..{hi:,}; got {v:,}")
        return v

    def number(self, key: str, *, required: bool = False) -> float | None:
        v = self._get(key, None, required)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ConfigError(f"{self._name(key)}: expected a finite number; got {v!r}")
        return float(v)

    def flag(self, key: str, default: bool) -> bool:
        v = self._get(key, default, False)
        if not isinstance(v, bool):
            raise ConfigError(f"{self._name(key)}: expected true or false; got {v!r}")
        return v

    def strings(self, key: str) -> tuple[str, ...]:
        v = self._get(key, [], False)
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise ConfigError(f"{self._name(key)}: expected a list of strings; got {v!r}")
        return tuple(v)

    def seeds(self, key: str, *, required: bool) -> tuple[int, ...]:
        v = self._get(key, [], required)
        if (
            not isinstance(v, list)
            or not v
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in v)
        ):
            raise ConfigError(f"{self._name(key)}: expected a non-empty list of integers")
        if len(v) > MAX_SEEDS or any(not 0 <= x < 2**31 for x in v):
            raise ConfigError(f"{self._name(key)}: at most {MAX_SEEDS} seeds in 0..2**31-1")
        if len(set(v)) != len(v):
            raise ConfigError(f"{self._name(key)}: a seed is listed twice")
        return tuple(v)

    def tables(self, key: str, *, required: bool) -> list[Table]:
        v = self._get(key, [], False)
        if not isinstance(v, list) or (required and not v):
            raise ConfigError(f"{self._name(key)}: expected one or more [[{key}]] tables")
        if len(v) > MAX_ENTRIES:
            raise ConfigError(f"{self._name(key)}: at most {MAX_ENTRIES} entries")
        return [Table(x, f"{self._name(key)}[{i}]") for i, x in enumerate(v)]

    def table(self, key: str) -> Table | None:
        v = self._get(key, None, False)
        return None if v is None else Table(v, key if self.where == "" else f"{self._name(key)}")

    def done(self) -> None:
        extra = sorted(set(self.data) - self.seen)
        if extra:
            where = f"{self.where}." if self.where else ""
            known = ", ".join(sorted(self.seen))
            raise ConfigError(f"{where}{extra[0]}: unknown key (known here: {known})")
