"""``python -m svnr_core check-factorization``: check candidate negotiation sets (Thm C.1).

Agent ids are 1-based on the command line and in JSON files, as in the paper; the library
(:mod:`svnr_core.factorization`) is 0-based.  Malformed input never raises: :func:`main` prints
``error: ...`` naming the offending candidate/entry and returns 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from svnr_core.factorization import (
    NegotiationSets,
    is_exact_chain,
    parity_witness,
    peel,
)

#: Witness gaps are evaluated numerically on the parity joint over the stuck agents (2 actions
#: each, 1 for the others), i.e. on ``2^|R|`` entries; above this many stuck agents the gap is
#: reported as its exact value ``log 2`` without evaluation.
MAX_WITNESS_AGENTS = 12

EXIT_FULL = 0
EXIT_NOT_FULL = 1
EXIT_BAD_INPUT = 2

_EPILOG = """\
candidate syntax (command line)
  One candidate is a list of entries "i:j,k,...", one per agent i = 1..N, each listing C_i
  (1-based agent ids; C_i may contain i itself, as in the paper's C_i = {1, ..., i}; "i:" is an
  empty set).  Example, the paper's strictly nested sets for 3 agents:
      python -m svnr_core check-factorization 1:1 2:1,2 3:1,2,3
  More candidates: repeat -c with a quoted candidate (entries separated by spaces or ';'):
      python -m svnr_core check-factorization -c "1:2 2:3 3:1" -c "1: 2:1 3:1,2"

JSON file (--file PATH, or - for stdin), 1-based ids, any of:
  [[], [1], [1, 2]]                                 one candidate: the list of C_1..C_N
  {"name": "svnr", "sets": [[], [1], [1, 2]]}       one named candidate
  {"candidates": [CANDIDATE, ...]}                  many; each CANDIDATE is one of the above
  [CANDIDATE, ...]                                  many (a list whose items are not id lists)
  "sets" may also be an object {"1": [], "2": [1], "3": [1, 2]} with every key 1..N once.

output (per candidate)
  full capacity or not (Thm C.1), the nested order (agents by position), whether the sets are an
  exact chain (Gelman & Speed: arbitrary conditionals always compatible), and for failures the
  stuck agents and the representation gap of the parity witness (log 2 = 0.693147).

exit status
  0 every candidate has full capacity, 1 some candidate does not, 2 malformed input.
"""


class InputError(ValueError):
    """Malformed candidate input; the message says where."""


@dataclass(frozen=True)
class Candidate:
    """A named candidate family of negotiation sets (0-based internally)."""

    name: str
    sets: NegotiationSets


# ------------------------------------------------------------------------------ parsing
def _parse_id(text: str, where: str) -> int:
    t = text.strip()
    if not t.isdigit():
        raise InputError(f"{where}: {t!r} is not an agent id (a positive integer)")
    value = int(t)
    if value < 1:
        raise InputError(f"{where}: agent ids are 1-based; got {value}")
    return value


def parse_candidate(entries: Sequence[str], name: str) -> Candidate:
    """Parse entries ``"i:j,k"`` (1-based) into a :class:`Candidate`."""
    if not entries:
        raise InputError(f"{name}: no entries (expected one 'i:...' per agent)")
    by_agent: dict[int, list[int]] = {}
    for entry in entries:
        where = f"{name}, entry {entry!r}"
        if ":" not in entry:
            raise InputError(f"{where}: expected 'i:j,k,...' (agent i, then its set C_i)")
        head, _, tail = entry.partition(":")
        agent = _parse_id(head, where)
        if agent in by_agent:
            raise InputError(f"{where}: agent {agent} is given more than once")
        items = [x for x in tail.split(",")] if tail.strip() else []
        by_agent[agent] = [_parse_id(x, where) for x in items]
    return _candidate_from_mapping(by_agent, name)


def _candidate_from_mapping(by_agent: dict[int, list[int]], name: str) -> Candidate:
    n = len(by_agent)
    missing = sorted(set(range(1, n + 1)) - set(by_agent))
    if missing:
        extra = sorted(a for a in by_agent if a > n)
        raise InputError(
            f"{name}: {n} agents need entries 1..{n}; missing {missing}"
            + (f", unexpected {extra}" if extra else "")
        )
    return _candidate_from_lists([by_agent[i] for i in range(1, n + 1)], name)


def _candidate_from_lists(sets: Sequence[Sequence[int]], name: str) -> Candidate:
    n = len(sets)
    zero_based: list[list[int]] = []
    for i, c in enumerate(sets, start=1):
        for j in c:
            if not 1 <= j <= n:
                raise InputError(f"{name}: C_{i} lists agent {j}, outside 1..{n}")
        if len(set(c)) != len(c):
            dup = next(j for j in c if list(c).count(j) > 1)
            raise InputError(f"{name}: C_{i} lists agent {dup} more than once")
        zero_based.append([j - 1 for j in c])
    try:
        return Candidate(name, NegotiationSets(zero_based))
    except ValueError as exc:  # pragma: no cover - the checks above catch everything first
        raise InputError(f"{name}: {exc}") from None


def _is_id_list(x: object) -> bool:
    return isinstance(x, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in x)


def _json_ids(value: object, where: str) -> list[int]:
    if not isinstance(value, list):
        raise InputError(f"{where}: expected a list of agent ids; got {json.dumps(value)}")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int):
            raise InputError(f"{where}: {json.dumps(v)} is not an agent id (a positive integer)")
        if v < 1:
            raise InputError(f"{where}: agent ids are 1-based; got {v}")
        out.append(v)
    return out


def _json_candidate(obj: object, name: str) -> Candidate:
    sets: object = obj
    if isinstance(obj, dict):
        unknown = sorted(set(obj) - {"name", "sets"})
        if unknown:
            raise InputError(f"{name}: unknown key(s) {unknown} (expected 'name' and 'sets')")
        if "sets" not in obj:
            raise InputError(f"{name}: missing key 'sets'")
        if "name" in obj:
            if not isinstance(obj["name"], str):
                raise InputError(f"{name}: 'name' must be a string")
            name = obj["name"]
        sets = obj["sets"]
    if isinstance(sets, dict):
        by_agent: dict[int, list[int]] = {}
        for key, value in sets.items():
            agent = _parse_id(str(key), f"{name}, key {key!r}")
            by_agent[agent] = _json_ids(value, f"{name}, C_{agent}")
        if not by_agent:
            raise InputError(f"{name}: 'sets' is empty")
        return _candidate_from_mapping(by_agent, name)
    if not isinstance(sets, list) or not sets:
        raise InputError(
            f"{name}: a candidate is a non-empty list of sets C_1..C_N (or an object with "
            f"'sets'); got {json.dumps(sets)[:80]}"
        )
    return _candidate_from_lists(
        [_json_ids(c, f"{name}, C_{i}") for i, c in enumerate(sets, start=1)], name
    )


def parse_json_candidates(text: str, source: str) -> list[Candidate]:
    """Candidates from a JSON document (schema in the ``--help`` epilog)."""
    try:
        doc: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{source}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    if isinstance(doc, dict) and "candidates" in doc:
        extra = sorted(set(doc) - {"candidates"})
        if extra:
            raise InputError(f"{source}: unknown top-level key(s) {extra}")
        items = doc["candidates"]
        if not isinstance(items, list) or not items:
            raise InputError(f"{source}: 'candidates' must be a non-empty list")
    elif isinstance(doc, list) and doc and not all(_is_id_list(x) for x in doc):
        items = doc
    else:
        items = [doc]
    return [_json_candidate(obj, f"{source}: candidate {k}") for k, obj in enumerate(items, 1)]


# ------------------------------------------------------------------------------ checking
@dataclass(frozen=True)
class CheckResult:
    """What the command reports for one candidate (1-based agent ids)."""

    name: str
    sets: list[list[int]]
    full_capacity: bool
    nested_order: list[int] | None
    exact_chain: bool
    stuck_agents: list[int]
    witness_gap: float | None

    def as_json(self) -> dict[str, object]:
        """JSON-ready dictionary."""
        return {
            "name": self.name,
            "sets": self.sets,
            "full_capacity": self.full_capacity,
            "nested_order": self.nested_order,
            "exact_chain": self.exact_chain,
            "stuck_agents": self.stuck_agents,
            "witness_gap": self.witness_gap,
            "witness_gap_exact": None if self.full_capacity else math.log(2.0),
        }


def check(candidate: Candidate) -> CheckResult:
    """Run the nested check, the exact-chain check and (for failures) the witness."""
    s = candidate.sets
    res = peel(s)
    order = None if res.order is None else [a + 1 for a in res.order]
    gap: float | None = None
    if not res.nested and len(res.stuck) <= MAX_WITNESS_AGENTS:
        # The witness lives on the stuck agents (the others get a single action), so evaluate it
        # on the sets restricted to them: same gap, and at most 12 array axes whatever N is.
        stuck = sorted(res.stuck)
        index = {a: k for k, a in enumerate(stuck)}
        restricted = NegotiationSets(
            [[index[j] for j in s.parents(a) if j in index] for a in stuck]
        )
        witness = parity_witness(restricted)
        assert witness is not None
        gap = witness.gap
    return CheckResult(
        candidate.name,
        s.one_based(),
        res.nested,
        order,
        is_exact_chain(s),
        sorted(a + 1 for a in res.stuck),
        gap,
    )


def _format_text(r: CheckResult) -> str:
    sets = " ".join(f"{i}:{','.join(map(str, c))}" for i, c in enumerate(r.sets, 1))
    lines = [f"{r.name}: {sets}"]
    if r.full_capacity:
        assert r.nested_order is not None
        lines.append("  full capacity: yes (Thm C.1)")
        lines.append(f"  nested order (agents by position): {' '.join(map(str, r.nested_order))}")
    else:
        lines.append("  full capacity: NO (no nested order exists)")
    lines.append(f"  exact chain: {'yes' if r.exact_chain else 'no'}")
    if not r.full_capacity:
        lines.append(f"  stuck agents: {' '.join(map(str, r.stuck_agents))}")
        if r.witness_gap is None:
            lines.append(
                f"  witness: parity over the stuck agents, gap log 2 = {math.log(2):.6f} "
                f"(not evaluated: more than {MAX_WITNESS_AGENTS} stuck agents)"
            )
        else:
            lines.append(
                f"  witness: parity over the stuck agents, representation gap "
                f"{r.witness_gap:.6f} nats (log 2 = {math.log(2):.6f})"
            )
    return "\n".join(lines)


# ------------------------------------------------------------------------------ entry point
def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m svnr_core",
        description="Tools of the SVNR numerical core.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chk = sub.add_parser(
        "check-factorization",
        help="check candidate negotiation sets C_1..C_N for full capacity (Thm C.1)",
        description=(
            "Check candidate negotiation sets C_1..C_N for full joint-policy representation "
            "capacity (Theorem C.1: some ordering in which every agent conditions on at least "
            "all agents before it)."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    chk.add_argument("entries", nargs="*", metavar="i:C_i", help="one candidate, one entry/agent")
    chk.add_argument(
        "-c",
        "--candidate",
        action="append",
        default=[],
        metavar="SETS",
        help="a further candidate as one quoted string, e.g. '1: 2:1 3:1,2' (repeatable)",
    )
    chk.add_argument(
        "-f", "--file", action="append", default=[], metavar="PATH", help="JSON file (- = stdin)"
    )
    chk.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def _gather(args: argparse.Namespace, stdin: TextIO) -> list[Candidate]:
    cands: list[Candidate] = []
    if args.entries:
        entries = " ".join(args.entries).replace(";", " ").split()
        cands.append(parse_candidate(entries, f"candidate {len(cands) + 1}"))
    for text in args.candidate:
        entries = text.replace(";", " ").split()
        cands.append(parse_candidate(entries, f"candidate {len(cands) + 1}"))
    for path in args.file:
        if path == "-":
            content, source = stdin.read(), "<stdin>"
        else:
            try:
                with open(path, encoding="utf-8") as fh:
                    content = fh.read()
            except OSError as exc:
                raise InputError(f"cannot read {path}: {exc.strerror}") from None
            except UnicodeDecodeError:
                raise InputError(f"{path}: not a UTF-8 text file") from None
            source = path
        cands.extend(parse_json_candidates(content, source))
    if not cands:
        raise InputError("no candidate given (entries like '1: 2:1 3:1,2', -c or --file)")
    return cands


def main(
    argv: Sequence[str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Run the command line; returns the exit status (0, 1 or 2, see ``--help``)."""
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    inp = sys.stdin if stdin is None else stdin
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse prints its own message (usage errors exit with 2)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_BAD_INPUT
    try:
        cands = _gather(args, inp)
        results = [check(c) for c in cands]
    except ValueError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_BAD_INPUT
    all_full = all(r.full_capacity for r in results)
    if args.json:
        doc = {"all_full_capacity": all_full, "candidates": [r.as_json() for r in results]}
        print(json.dumps(doc, indent=2), file=out)
    else:
        print("\n".join(_format_text(r) for r in results), file=out)
    return EXIT_FULL if all_full else EXIT_NOT_FULL
