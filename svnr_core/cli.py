"""``python -m svnr_core check-factorization``: check candidate negotiation sets (Thm C.1).

Agent ids are 1-based on the command line and in JSON files, as in the paper; the library
(:mod:`svnr_core.factorization`) is 0-based.  Malformed input never raises: :func:`main` prints
one short ``error: ...`` line naming the offending candidate/entry and returns 2 (so that a
script reading the exit status never mistakes bad input for "not full capacity", which is 1).

Limits (each refused with exit 2 and a message, before anything large is allocated): JSON input
of at most :data:`MAX_INPUT_BYTES` bytes nested at most :data:`MAX_JSON_DEPTH` levels, at most
:data:`MAX_AGENTS` agents per candidate, :data:`MAX_CANDIDATES` candidates and
:data:`MAX_TOTAL_AGENTS` agents in all.  Error messages quote at most :data:`EXCERPT_CHARS`
characters of any piece of the input.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn, TextIO

from svnr_core.candidate_input import (
    EXCERPT_CHARS,
    MAX_AGENTS,
    MAX_CANDIDATES,
    MAX_INPUT_BYTES,
    MAX_JSON_DEPTH,
    MAX_MESSAGE_CHARS,
    MAX_TOTAL_AGENTS,
    Candidate,
    InputError,
    _clip,
    _read_file,
    _read_stdin,
    json_depth,
    parse_candidate,
    parse_json_candidates,
)
from svnr_core.factorization import (
    NegotiationSets,
    is_exact_chain,
    parity_witness,
    peel,
)

__all__ = [
    "EXCERPT_CHARS",
    "MAX_AGENTS",
    "MAX_CANDIDATES",
    "MAX_INPUT_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_TOTAL_AGENTS",
    "Candidate",
    "CheckResult",
    "InputError",
    "check",
    "json_depth",
    "main",
    "parse_candidate",
    "parse_json_candidates",
]

#: Witness gaps are evaluated numerically on the parity joint over the stuck agents (2 actions
#: each, 1 for the others), i.e. on ``2^|R|`` entries; above this many stuck agents the gap is
#: reported as its exact value ``log 2`` without evaluation.
MAX_WITNESS_AGENTS = 12
EXIT_FULL = 0
EXIT_NOT_FULL = 1
EXIT_BAD_INPUT = 2

_LIMITS = (
    f"  at most {MAX_AGENTS} agents per candidate, {MAX_CANDIDATES} candidates and "
    f"{MAX_TOTAL_AGENTS} agents in all;\n"
    f"  JSON input of at most {MAX_INPUT_BYTES // 2**20} MiB, nested at most {MAX_JSON_DEPTH} "
    "levels deep."
)

_EPILOG = f"""\
candidate syntax (command line)
  One candidate is a list of entries "i:j,k,...", one per agent i = 1..N, each listing C_i
  (1-based agent ids; C_i may contain i itself, as in the paper's C_i = {{1, ..., i}}; "i:" is an
  empty set).  Example, the paper's strictly nested sets for 3 agents:
      python -m svnr_core check-factorization 1:1 2:1,2 3:1,2,3
  More candidates: repeat -c with a quoted candidate (entries separated by spaces or ';'):
      python -m svnr_core check-factorization -c "1:2 2:3 3:1" -c "1: 2:1 3:1,2"

JSON file (--file PATH, or - for stdin), UTF-8, 1-based ids, any of:
  [[], [1], [1, 2]]                                 one candidate: the list of C_1..C_N
  {{"name": "svnr", "sets": [[], [1], [1, 2]]}}       one named candidate
  {{"candidates": [CANDIDATE, ...]}}                  many; each CANDIDATE is one of the above
  [CANDIDATE, ...]                                  many (a list whose items are not id lists)
  "sets" may also be an object {{"1": [], "2": [1], "3": [1, 2]}} with every key 1..N once.
  Duplicate keys and NaN/Infinity are rejected.

limits
{_LIMITS}

output (per candidate)
  full capacity or not (Thm C.1), the nested order (agents by position), whether the sets are an
  exact chain (Gelman & Speed: arbitrary conditionals always compatible), and for failures the
  stuck agents and the representation gap of the parity witness (log 2 = 0.693147).

exit status
  0 every candidate has full capacity, 1 some candidate does not, 2 malformed input (one
  "error: ..." line on stderr, nothing on stdout).
"""


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
        # "iterate": one sweep, about 1 ms for 12 agents; the exact solve of "auto" takes
        # seconds from 10 agents on (a dense 1024^2 kernel), which a file of many such
        # candidates would multiply.
        witness = parity_witness(restricted, method="iterate")
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
class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors quote at most a short excerpt of the argument."""

    def error(self, message: str) -> NoReturn:
        """Print usage and a clipped ``message`` to stderr, exit with 2."""
        super().error(_clip(message, MAX_MESSAGE_CHARS - 100))


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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


def _gather(args: argparse.Namespace, stdin: TextIO | None, err: TextIO) -> list[Candidate]:
    cands: list[Candidate] = []
    if args.entries:
        entries = " ".join(args.entries).replace(";", " ").split()
        cands.append(parse_candidate(entries, f"candidate {len(cands) + 1}"))
    for text in args.candidate:
        entries = text.replace(";", " ").split()
        cands.append(parse_candidate(entries, f"candidate {len(cands) + 1}"))
    if args.file.count("-") > 1:
        raise InputError("-f - (standard input) can be given only once")
    for path in args.file:
        if path == "-":
            content, source = _read_stdin(stdin, err), "<stdin>"
        else:
            content, source = _read_file(path), path
        cands.extend(parse_json_candidates(content, source))
        if len(cands) > MAX_CANDIDATES:
            raise InputError(f"more than {MAX_CANDIDATES} candidates in all")
        if sum(c.sets.n_agents for c in cands) > MAX_TOTAL_AGENTS:
            raise InputError(f"more than {MAX_TOTAL_AGENTS} agents over all candidates")
    if not cands:
        raise InputError("no candidate given (entries like '1: 2:1 3:1,2', -c or --file)")
    return cands


def _error(message: str, err: TextIO) -> int:
    print(f"error: {_clip(message, MAX_MESSAGE_CHARS)}", file=err)
    return EXIT_BAD_INPUT


def main(
    argv: Sequence[str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Run the command line; returns the exit status (0, 1 or 2, see ``--help``).

    Every kind of bad input (argument, file, JSON, candidate) gives 2 and one ``error:`` line on
    ``stderr``, never a traceback, so that 1 always means "checked: not full capacity"."""
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    inp = sys.stdin if stdin is None else stdin
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse prints its own message (usage errors exit with 2)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_BAD_INPUT
    try:
        cands = _gather(args, inp, err)
        results = [check(c) for c in cands]
    except ValueError as exc:
        return _error(str(exc), err)
    except RecursionError:  # pragma: no cover - the depth check refuses such input first
        return _error("input nested too deeply", err)
    except MemoryError:  # pragma: no cover - the size limits refuse such input first
        return _error("input too large for memory", err)
    all_full = all(r.full_capacity for r in results)
    if args.json:
        doc = {"all_full_capacity": all_full, "candidates": [r.as_json() for r in results]}
        report = json.dumps(doc, indent=2)
    else:
        report = "\n".join(_format_text(r) for r in results)
    try:
        print(report, file=out)
        out.flush()
    except BrokenPipeError:
        # The reader went away (``... | head -1``): the verdict still stands, and the exit status
        # carries it; silence the interpreter's own flush of the dead pipe at exit.
        if out is sys.stdout:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
    return EXIT_FULL if all_full else EXIT_NOT_FULL
