"""Bad-input corpus for ``python -m svnr_core check-factorization``.

Protects the exit-status contract of the command: whatever a careless user types or feeds it
(bracket bombs, duplicate keys, NaN, huge numbers, binary files, directories, closed stdin, too
many agents), it exits with 2 (never 1, which scripts read as "checked: not full capacity"),
prints no traceback, names the problem in one short message, and prints nothing on stdout.
A few cases run the real module in a subprocess (real exit status, real stdin and stderr); the
rest call :func:`svnr_core.cli.main` in-process, which is much faster.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import pytest

from svnr_core.cli import MAX_AGENTS, MAX_CANDIDATES, MAX_INPUT_BYTES, main

REPO = Path(__file__).resolve().parents[1]
#: the longest stderr accepted for a bad input: one line (plus argparse's usage line)
MAX_STDERR = 300


@dataclass(frozen=True)
class Case:
    """One bad input: ``argv`` after ``check-factorization`` (``{file}`` is replaced by the path
    of a file holding ``file``, ``{dir}`` by a directory), optional ``stdin``, and a substring
    that the message must contain."""

    name: str
    argv: tuple[str, ...]
    expect: str
    stdin: str | bytes | None = None
    file: str | bytes | None = None
    subprocess: bool = False
    closed_stdin: bool = False


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


STDIN = ("-f", "-")
FILE = ("-f", "{file}")

CASES = [
    # --- issue 15, item 1: bracket bombs
    Case("deep-100000", FILE, "nested 100000 levels deep", file=_deep(100_000), subprocess=True),
    Case("deep-900", STDIN, "nested 900 levels deep", stdin=_deep(900)),
    Case(
        "deep-inside-candidates",
        STDIN,
        "nested 12 levels deep",
        stdin='{"candidates": ' + _deep(11) + "}",
    ),
    # --- item 2: duplicate keys
    Case("dup-key-sets", STDIN, "duplicate key 'sets'", stdin='{"sets": [[]], "sets": [[2], [1]]}'),
    Case("dup-key-agent", STDIN, "duplicate key '1'", stdin='{"sets": {"1": [], "1": [1]}}'),
    Case(
        "dup-agent-01",
        STDIN,
        "key '01': agent 1 is given more than once",
        stdin='{"sets": {"1": [], "01": []}}',
    ),
    Case(
        "dup-key-top",
        STDIN,
        "duplicate key 'candidates'",
        stdin='{"candidates": [[[]]], "candidates": [[[]]]}',
    ),
    # --- item 3: bad ids in the bare-list form are named with their position
    Case("nan", STDIN, "C_2, item 1: NaN is not an agent id", stdin="[[], [NaN], [1, 2]]"),
    Case(
        "infinity", STDIN, "C_2, item 2: -Infinity is not an agent id", stdin="[[], [1, -Infinity]]"
    ),
    Case("float-id", STDIN, "C_2, item 1: 1.0 is not an agent id", stdin="[[], [1.0]]"),
    Case("bool-id", STDIN, "C_2, item 1: true is not an agent id", stdin="[[], [true]]"),
    Case("string-id", STDIN, 'C_2, item 1: "1" is not an agent id', stdin='[[], ["1"]]'),
    Case(
        "named-nan",
        STDIN,
        "C_1, item 1: NaN is not an agent id",
        stdin='{"name": "x", "sets": [[NaN]]}',
    ),
    # --- item 4: every other way in
    Case("huge-id-json", STDIN, "(101 digits", stdin=f"[[], [{10**100}]]"),
    Case("huge-id-cli", ("1:" + str(10**100), "2:"), "(101 digits)"),
    Case("int-digit-limit", STDIN, "(5000 digits", stdin="[[" + "7" * 5000 + "]]"),
    Case("negative-id", STDIN, "C_2, item 1: agent ids are 1-based; got -1", stdin="[[], [-1]]"),
    Case("zero-id", ("1:0", "2:"), "agent ids are 1-based; got 0"),
    Case("id-above-n", ("1:3", "2:"), "C_1 lists agent 3, outside 1..2"),
    Case("unicode-digit", ("1:²",), "'²' is not an agent id"),
    Case("trailing-comma-entry", ("1:2,", "2:"), "'' is not an agent id"),
    Case("missing-agent", ("1:", "3:1"), "missing [2], unexpected [3]"),
    Case("no-colon", ("12",), "expected 'i:j,k,...'"),
    Case("megabyte-entry", ("1:" + "x" * 1_000_000,), "is not an agent id"),
    Case("empty-c", ("-c", ""), "candidate 1: no entries"),
    Case("nothing", (), "no candidate given"),
    Case("empty-file", FILE, "empty input", file=""),
    Case("blank-stdin", STDIN, "<stdin>: empty input", stdin=" \n\t\n"),
    Case(
        "binary-file",
        FILE,
        "not UTF-8 text (byte 0x89 at offset 0)",
        file=b"\x89PNG\r\n\x1a\n\x00\x00",
    ),
    Case("binary-stdin", STDIN, "<stdin>: not UTF-8 text", stdin=b"[[\xff]]", subprocess=True),
    Case("nul-bytes", FILE, "invalid JSON at line 1, column 1", file=b"\x00" * 64),
    Case("oversize-file", FILE, "larger than 16 MiB", file=b" " * (MAX_INPUT_BYTES + 1)),
    Case("directory", ("-f", "{dir}"), "is a directory"),
    Case("missing-file", ("-f", "/nonexistent/c.json"), "No such file or directory"),
    Case("empty-path", ("-f", ""), "--file needs a path"),
    Case("stdin-closed", STDIN, "standard input is closed", subprocess=True, closed_stdin=True),
    Case("stdin-closed-inproc", STDIN, "standard input is closed", closed_stdin=True),
    Case("stdin-twice", ("-f", "-", "-f", "-"), "can be given only once", stdin="[[]]"),
    Case("invalid-json", STDIN, "invalid JSON at line 1, column 10", stdin="[[], [1],]"),
    Case("scalar-doc", STDIN, "a candidate is a non-empty list", stdin="3"),
    Case("flat-list", STDIN, "C_1: expected a list of agent ids; got 1", stdin="[1, 2, 3]"),
    Case("empty-list", STDIN, "candidate 1: no sets", stdin="[]"),
    Case(
        "empty-candidates",
        STDIN,
        "'candidates' must be a non-empty list",
        stdin='{"candidates": []}',
    ),
    Case("empty-sets-object", STDIN, "'sets' is empty", stdin='{"sets": {}}'),
    Case("unknown-key", STDIN, "unknown key(s) ['set']", stdin='{"set": [[]]}'),
    Case("missing-sets", STDIN, "missing key 'sets'", stdin='{"name": "x"}'),
    Case(
        "name-not-string",
        STDIN,
        "'name' must be a string; got 3",
        stdin='{"name": 3, "sets": [[]]}',
    ),
    Case("name-newline", STDIN, "contains control", stdin='{"name": "a\\nb", "sets": [[]]}'),
    Case("name-surrogate", STDIN, "unpaired surrogate", stdin='{"name": "\\ud800", "sets": [[]]}'),
    Case(
        "name-huge",
        STDIN,
        "longer than 100 characters",
        stdin=json.dumps({"name": "n" * 100_000, "sets": [[]]}),
    ),
    Case("bad-key", STDIN, "is not an agent id", stdin='{"sets": {"a\\u0000": []}}'),
    Case(
        "brackets-in-string",  # brackets inside a string are not nesting: the id error shows
        STDIN,
        "agent ids are 1-based; got 0",
        stdin='{"name": "[[[[[[[[[[[[", "sets": [[0]]}',
    ),
    Case(
        "too-many-agents",
        STDIN,
        f"{MAX_AGENTS + 1} agents; at most {MAX_AGENTS}",
        stdin=json.dumps([[]] * (MAX_AGENTS + 1)),
    ),
    Case(
        "too-many-cli-agents",
        tuple(f"{i}:" for i in range(1, MAX_AGENTS + 2)),
        f"{MAX_AGENTS + 1} agents",
    ),
    Case(
        "too-many-candidates",
        STDIN,
        f"{MAX_CANDIDATES + 1} candidates",
        stdin=json.dumps([[[]]] * (MAX_CANDIDATES + 1)),
    ),
    Case(
        "too-many-agents-in-all",
        STDIN,
        "120000 agents over all candidates",
        stdin=json.dumps([[[]] * 600] * 200),
    ),
    Case(
        "missing-agents-listed-short",
        STDIN,
        "missing [2, 4, 6, 8, 10, ...] (500 in all), unexpected [1001,",
        stdin=json.dumps({"sets": {str(k): [] for k in range(1, 2000, 2)}}),
    ),
    Case("json-output-error", ("--json", "1:x"), "'x' is not an agent id", subprocess=True),
    Case("unknown-option", ("--bogus",), "unrecognized arguments: --bogus"),
    Case("negative-entry", ("-1:",), "unrecognized arguments: -1:"),
    Case("file-without-path", ("-f",), "expected one argument"),
    Case("huge-option", ("--x" + "y" * 100_000,), "unrecognized arguments: --xyyy"),
]


def _stdin_stream(case: Case) -> TextIO:
    if case.closed_stdin:
        stream = io.StringIO()
        stream.close()
        return stream
    if isinstance(case.stdin, bytes):  # like sys.stdin: text over a byte buffer
        return io.TextIOWrapper(io.BytesIO(case.stdin), encoding="utf-8")
    return io.StringIO(case.stdin or "")


def _run_subprocess(case: Case, argv: list[str]) -> tuple[int, str, str]:
    cmd = [sys.executable, "-m", "svnr_core", "check-factorization", *argv]
    if case.closed_stdin:  # "<&-": the interpreter starts with sys.stdin None
        cmd = ["sh", "-c", 'exec "$@" <&-', "sh", *cmd]
    data = case.stdin.encode() if isinstance(case.stdin, str) else case.stdin
    done = subprocess.run(cmd, input=data, capture_output=True, cwd=REPO, check=False, timeout=60)
    return done.returncode, done.stdout.decode(), done.stderr.decode("utf-8", "replace")


def _run_in_process(case: Case, argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["check-factorization", *argv], stdout=out, stderr=err, stdin=_stdin_stream(case))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_exits_2_with_a_short_message_naming_the_problem(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 2, no traceback, nothing on stdout, a short stderr naming the problem."""
    path = tmp_path / "cands.json"
    if case.file is not None:
        data = case.file.encode() if isinstance(case.file, str) else case.file
        path.write_bytes(data)
    argv = [a.replace("{file}", str(path)).replace("{dir}", str(tmp_path)) for a in case.argv]
    if case.subprocess:
        code, out, err = _run_subprocess(case, argv)
    else:
        code, out, err = _run_in_process(case, argv)
        captured = capsys.readouterr()  # argparse writes to sys.stderr itself
        out, err = out + captured.out, err + captured.err
    assert code == 2, err
    assert "Traceback" not in err
    assert out == ""
    assert case.expect in err
    assert len(err) < MAX_STDERR, err
    assert err.count("error:") == 1


def test_the_corpus_is_large() -> None:
    """The corpus keeps covering many kinds of careless input (issue 15 asks for >= 25)."""
    assert len(CASES) >= 25
    assert len({c.name for c in CASES}) == len(CASES)


def test_limits_admit_valid_input_at_the_edge() -> None:
    """The limits refuse only what is past them: MAX_AGENTS agents, a byte-order mark, a depth-5
    document and brackets inside names all still check normally."""
    out, err = io.StringIO(), io.StringIO()
    doc = "\ufeff" + json.dumps(
        {"candidates": [{"name": "[[[[[[[[[[", "sets": {"1": [], "2": [1]}}, [[]] * MAX_AGENTS]}
    )
    code = main(["check-factorization", "-f", "-"], stdout=out, stderr=err, stdin=io.StringIO(doc))
    assert err.getvalue() == ""
    assert code == 1  # MAX_AGENTS independent agents: not full capacity, witness not evaluated
    assert "not evaluated" in out.getvalue()
