"""Reading candidate negotiation sets for ``python -m svnr_core check-factorization``.

The input half of the command (:mod:`svnr_core.cli` is the checking and reporting half):
entries ``i:j,k`` from the command line and JSON documents from files or stdin become
:class:`Candidate` families (0-based internally; 1-based ids in the input, as in the paper).
Malformed input raises :class:`InputError` (a ``ValueError``) with one short message naming the
candidate, the entry and the offending value, never echoing more than :data:`EXCERPT_CHARS`
characters of it, and every size is bounded before anything large is allocated.  (Somewhat
over 400 lines because every accepted form, every bound and every message of the input live
here together, so that one reading shows what the command accepts.)
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from svnr_core.factorization import NegotiationSets

#: Most agents per candidate: the checks build an ``N x N`` adjacency matrix and the text output
#: lists up to ``N^2`` ids, so larger families are refused before any of that is allocated.
MAX_AGENTS = 1000
#: Most candidates per invocation (command line and files together).
MAX_CANDIDATES = 10_000
#: Most agents over all candidates (the cost of a run is about 15 us per agent plus ~1 ms per
#: candidate with a witness): bounds a file of many large candidates to seconds.
MAX_TOTAL_AGENTS = 100_000
#: Largest JSON document read from a file or stdin (the family ``C_i = -i`` of
#: :data:`MAX_AGENTS` agents takes about 5 MB); reading stops one byte past it, so ``/dev/zero``
#: or a runaway pipe is refused instead of filling memory.
MAX_INPUT_BYTES = 16 * 2**20
#: Deepest JSON nesting accepted.  The deepest valid input,
#: ``{"candidates": [{"sets": {"1": [ids]}}]}``, has 5 levels of brackets; the slack keeps the
#: precise structural messages for slightly misshapen input, while the check (done before
#: parsing) keeps a bracket bomb from reaching the recursive JSON parser.
MAX_JSON_DEPTH = 8
#: Longest piece of the user's input (an entry, a value, a path) quoted in an error message.
EXCERPT_CHARS = 40
#: Longest error message printed (a backstop: the excerpts above keep messages short anyway).
MAX_MESSAGE_CHARS = 280
#: Longest candidate name accepted (names are echoed in every line of the report).
MAX_NAME_CHARS = 100
#: JSON integers with more digits than this are kept as text and rejected as ids (any id has at
#: most 4 digits); this also stays clear of Python's 4300-digit int conversion limit.
MAX_ID_DIGITS = 18


class InputError(ValueError):
    """Malformed candidate input; the message says where."""


@dataclass(frozen=True)
class Candidate:
    """A named candidate family of negotiation sets (0-based internally)."""

    name: str
    sets: NegotiationSets


# ------------------------------------------------------------------------------ messages
def _clip(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` made safe to quote in a one-line message: non-printable characters escaped
    (a newline in the input cannot split the ``error:`` line) and cut to ``limit`` characters
    (a megabyte-long entry is not echoed back)."""
    if not text.isprintable():
        text = text.encode("unicode_escape", "backslashreplace").decode("ascii")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _quote(text: str) -> str:
    """``repr``-style quoting (which escapes non-printable characters) of a cut piece of input."""
    if len(text) > EXCERPT_CHARS:
        text = text[: EXCERPT_CHARS - 1] + "…"
    return repr(text)


def _show(value: object) -> str:
    """A short excerpt of a parsed JSON value, as JSON where possible."""
    if isinstance(value, _JsonLiteral):
        return _clip(value.text)
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):  # a sentinel nested in a container
        text = repr(value)
    return _clip(text)


def _show_ids(ids: Sequence[int], limit: int = 5) -> str:
    """A list of ids, with only its first ``limit`` shown when longer."""
    if len(ids) <= limit:
        return str(list(ids))
    return f"[{', '.join(map(str, ids[:limit]))}, ...] ({len(ids)} in all)"


# ------------------------------------------------------------------------------ parsing
def _parse_id(text: str, where: str) -> int:
    t = text.strip()
    # isdigit() alone also accepts "²" and other Unicode digits that int() rejects or reads
    # differently; ids are plain ASCII decimals.
    if not (t.isascii() and t.isdigit()):
        raise InputError(f"{where}: {_quote(t)} is not an agent id (a positive integer)")
    if len(t) > MAX_ID_DIGITS:
        raise InputError(
            f"{where}: {_clip(t)} ({len(t)} digits) is not an agent id "
            f"(at most {MAX_AGENTS} agents)"
        )
    value = int(t)
    if value < 1:
        raise InputError(f"{where}: agent ids are 1-based; got {value}")
    return value


def _check_n_agents(n: int, name: str) -> None:
    if n > MAX_AGENTS:
        raise InputError(
            f"{name}: {n} agents; at most {MAX_AGENTS} are supported (the check is O(N^2))"
        )


def parse_candidate(entries: Sequence[str], name: str) -> Candidate:
    """Parse entries ``"i:j,k"`` (1-based) into a :class:`Candidate`."""
    if not entries:
        raise InputError(f"{name}: no entries (expected one 'i:...' per agent)")
    _check_n_agents(len(entries), name)
    by_agent: dict[int, list[int]] = {}
    for entry in entries:
        where = f"{name}, entry {_quote(entry)}"
        if ":" not in entry:
            raise InputError(f"{where}: expected 'i:j,k,...' (agent i, then its set C_i)")
        head, _, tail = entry.partition(":")
        agent = _parse_id(head, where)
        if agent in by_agent:
            raise InputError(f"{where}: agent {agent} is given more than once")
        items = tail.split(",") if tail.strip() else []
        by_agent[agent] = [_parse_id(x, where) for x in items]
    return _candidate_from_mapping(by_agent, name)


def _candidate_from_mapping(by_agent: dict[int, list[int]], name: str) -> Candidate:
    n = len(by_agent)
    _check_n_agents(n, name)
    missing = sorted(set(range(1, n + 1)) - set(by_agent))
    if missing:
        extra = sorted(a for a in by_agent if a > n)
        raise InputError(
            f"{name}: {n} agents need entries 1..{n}; missing {_show_ids(missing)}"
            + (f", unexpected {_show_ids(extra)}" if extra else "")
        )
    return _candidate_from_lists([by_agent[i] for i in range(1, n + 1)], name)


def _candidate_from_lists(sets: Sequence[Sequence[int]], name: str) -> Candidate:
    n = len(sets)
    _check_n_agents(n, name)
    zero_based: list[list[int]] = []
    for i, c in enumerate(sets, start=1):
        seen: set[int] = set()
        for j in c:
            if not 1 <= j <= n:
                raise InputError(f"{name}: C_{i} lists agent {j}, outside 1..{n}")
            if j in seen:
                raise InputError(f"{name}: C_{i} lists agent {j} more than once")
            seen.add(j)
        zero_based.append([j - 1 for j in c])
    try:
        return Candidate(name, NegotiationSets(zero_based))
    except ValueError as exc:  # pragma: no cover - the checks above catch everything first
        raise InputError(f"{name}: {exc}") from None


class _JsonLiteral:
    """A JSON number no agent id can be, kept as its text so that the message can name it
    where it stands: an integer of more than :data:`MAX_ID_DIGITS` digits, or one of the
    ``NaN``/``Infinity``/``-Infinity`` literals that Python's :mod:`json` accepts but JSON does not
    have."""

    def __init__(self, text: str, why: str) -> None:
        self.text = text
        self.why = why

    def __repr__(self) -> str:
        return _clip(self.text)


def _parse_int(text: str) -> int | _JsonLiteral:
    digits = len(text.lstrip("-"))
    if digits > MAX_ID_DIGITS:
        return _JsonLiteral(text, f"{digits} digits; at most {MAX_AGENTS} agents")
    return int(text)


def _parse_constant(text: str) -> _JsonLiteral:
    return _JsonLiteral(text, "JSON has no NaN or Infinity; ids are positive integers")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: a key given twice is an error (plain :func:`json.loads` would keep
    the last value silently, e.g. the second of two ``"sets"``)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InputError(f"duplicate key {_quote(key)} in a JSON object")
        out[key] = value
    return out


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_DEPTH_STEP = np.zeros(256, dtype=np.int8)
_DEPTH_STEP[[ord("["), ord("{")]] = 1
_DEPTH_STEP[[ord("]"), ord("}")]] = -1


def json_depth(text: str) -> int:
    """Deepest bracket nesting of a JSON text (brackets inside strings do not count), computed
    without recursion in ``O(len)`` so that a bracket bomb is refused before :func:`json.loads`
    recurses into it (100,000 levels raise :class:`RecursionError`)."""
    outside = _JSON_STRING.sub('""', text).encode("utf-8", "replace")
    steps = _DEPTH_STEP[np.frombuffer(outside, dtype=np.uint8)]
    depth, deepest, chunk = 0, 0, 2**20
    for start in range(0, steps.size, chunk):
        running = np.cumsum(steps[start : start + chunk], dtype=np.int64) + depth
        deepest = max(deepest, int(running.max()))
        depth = int(running[-1])
    return deepest


def _looks_like_one_candidate(doc: list[Any]) -> bool:
    """Whether a top-level list is one candidate ``[C_1, ..., C_N]`` rather than a list of
    candidates: no item is an object or a list holding lists/objects.  Deciding on the shape,
    not on the ids being valid, lets ``[[], [NaN]]`` be read as one candidate whose ``C_2`` has
    a bad id (and say so) instead of a list of candidates whose first one is empty."""
    return not any(
        isinstance(x, dict) or (isinstance(x, list) and any(isinstance(y, list | dict) for y in x))
        for x in doc
    )


def _n_sets(obj: object) -> int:
    """The number of agents a JSON candidate claims (0 when malformed), read before parsing it."""
    sets = obj.get("sets") if isinstance(obj, dict) else obj
    return len(sets) if isinstance(sets, list | dict) else 0


def _json_ids(value: object, where: str) -> list[int]:
    if not isinstance(value, list):
        raise InputError(f"{where}: expected a list of agent ids; got {_show(value)}")
    out = []
    for k, v in enumerate(value, start=1):
        at = f"{where}, item {k}"
        if isinstance(v, _JsonLiteral):
            raise InputError(f"{at}: {_show(v)} is not an agent id ({v.why})")
        if isinstance(v, bool) or not isinstance(v, int):
            raise InputError(f"{at}: {_show(v)} is not an agent id (a positive integer)")
        if v < 1:
            raise InputError(f"{at}: agent ids are 1-based; got {v}")
        out.append(v)
    return out


def _json_name(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{where}: 'name' must be a string; got {_show(value)}")
    if not value.strip():
        raise InputError(f"{where}: 'name' is empty")
    if len(value) > MAX_NAME_CHARS:
        raise InputError(f"{where}: 'name' is longer than {MAX_NAME_CHARS} characters")
    if not value.isprintable():
        raise InputError(
            f"{where}: 'name' {_quote(value)} contains control or unpaired surrogate characters"
        )
    return value


def _json_candidate(obj: object, name: str) -> Candidate:
    sets: object = obj
    if isinstance(obj, dict):
        unknown = sorted(set(obj) - {"name", "sets"})
        if unknown:
            shown = [_clip(k) for k in unknown[:5]]
            raise InputError(f"{name}: unknown key(s) {shown} (expected 'name' and 'sets')")
        if "sets" not in obj:
            raise InputError(f"{name}: missing key 'sets'")
        if "name" in obj:
            name = _json_name(obj["name"], name)
        sets = obj["sets"]
    if isinstance(sets, dict):
        _check_n_agents(len(sets), name)
        by_agent: dict[int, list[int]] = {}
        for key, value in sets.items():
            where = f"{name}, key {_quote(key)}"
            agent = _parse_id(key, where)
            if agent in by_agent:  # "1" and "01"
                raise InputError(f"{where}: agent {agent} is given more than once")
            by_agent[agent] = _json_ids(value, f"{name}, C_{agent}")
        if not by_agent:
            raise InputError(f"{name}: 'sets' is empty")
        return _candidate_from_mapping(by_agent, name)
    if isinstance(sets, list) and not sets:
        raise InputError(f"{name}: no sets (a candidate lists C_1..C_N for N >= 1 agents)")
    if not isinstance(sets, list):
        raise InputError(
            f"{name}: a candidate is a non-empty list of sets C_1..C_N (or an object with "
            f"'sets'); got {_show(sets)}"
        )
    _check_n_agents(len(sets), name)
    return _candidate_from_lists(
        [_json_ids(c, f"{name}, C_{i}") for i, c in enumerate(sets, start=1)], name
    )


def parse_json_candidates(text: str, source: str) -> list[Candidate]:
    """Candidates from a JSON document (schema in the ``--help`` epilog).

    Refuses, each with a message naming ``source``: empty input, nesting deeper than
    :data:`MAX_JSON_DEPTH`, invalid JSON, duplicate keys, ``NaN``/``Infinity``, and every
    structural or id error (naming the candidate, the set ``C_i`` and the item)."""
    source = _clip(source)
    text = text.removeprefix("\ufeff")  # a UTF-8 byte-order mark, as Windows editors write
    if not text.strip():
        raise InputError(f"{source}: empty input (expected a JSON document, see --help)")
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise InputError(
            f"{source}: JSON nested {depth} levels deep; at most {MAX_JSON_DEPTH} are accepted "
            "(a valid input needs 5)"
        )
    try:
        doc: Any = json.loads(
            text,
            object_pairs_hook=_no_duplicate_keys,
            parse_int=_parse_int,
            parse_constant=_parse_constant,
        )
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{source}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None
    except RecursionError:  # pragma: no cover - json_depth refuses such input first
        raise InputError(f"{source}: JSON nested too deeply") from None
    if isinstance(doc, dict) and "candidates" in doc:
        extra = sorted(set(doc) - {"candidates"})
        if extra:
            shown = [_clip(k) for k in extra[:5]]
            raise InputError(f"{source}: unknown top-level key(s) {shown}")
        items = doc["candidates"]
        if not isinstance(items, list) or not items:
            raise InputError(f"{source}: 'candidates' must be a non-empty list")
    elif isinstance(doc, list) and doc and not _looks_like_one_candidate(doc):
        items = doc
    else:
        items = [doc]
    if len(items) > MAX_CANDIDATES:
        raise InputError(
            f"{source}: {len(items)} candidates; at most {MAX_CANDIDATES} are supported"
        )
    total = sum(_n_sets(x) for x in items)
    if total > MAX_TOTAL_AGENTS:
        raise InputError(
            f"{source}: {total} agents over all candidates; at most {MAX_TOTAL_AGENTS} are "
            "supported"
        )
    return [_json_candidate(obj, f"{source}: candidate {k}") for k, obj in enumerate(items, 1)]


# ------------------------------------------------------------------------------ reading
def _decode(raw: bytes, source: str) -> str:
    """UTF-8 text of at most :data:`MAX_INPUT_BYTES` bytes (a byte-order mark is allowed)."""
    if len(raw) > MAX_INPUT_BYTES:
        raise InputError(
            f"{source}: larger than {MAX_INPUT_BYTES // 2**20} MiB; not a candidate file?"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None


def _read_stdin(stdin: TextIO | None, err: TextIO) -> str:
    """Standard input, bounded; bytes are decoded here so that the check does not depend on the
    locale's encoding."""
    if stdin is None or stdin.closed:  # started with stdin closed (``<&-``): sys.stdin is None
        raise InputError("<stdin>: standard input is closed (-f - reads JSON from it)")
    if stdin.isatty():
        print("reading JSON from standard input (end with Ctrl-D)", file=err)
    try:
        buffer = getattr(stdin, "buffer", None)
        if buffer is not None:
            return _decode(buffer.read(MAX_INPUT_BYTES + 1), "<stdin>")
        text = stdin.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"<stdin>: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError("<stdin>: not UTF-8 text") from None
    if len(text) > MAX_INPUT_BYTES:
        raise InputError(f"<stdin>: larger than {MAX_INPUT_BYTES // 2**20} MiB")
    return text


def _read_file(path: str) -> str:
    """A candidate file, bounded: a directory, a missing file or an endless device is refused."""
    if not path:
        raise InputError("--file needs a path (or - for stdin)")
    shown = _clip(path)
    if os.path.isdir(path):
        raise InputError(f"cannot read {shown}: is a directory (give a JSON file)")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read {shown}: {exc.strerror or exc}") from None
    except ValueError as exc:  # e.g. an embedded NUL character in the path
        raise InputError(f"cannot read {shown}: {exc}") from None
    return _decode(raw, shown)
