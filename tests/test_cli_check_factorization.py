"""CLI tests: ``python -m svnr_core check-factorization`` (exit codes 0/1/2, text and JSON)."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from svnr_core.cli import main


def _run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, stdin=io.StringIO(stdin))
    return code, out.getvalue(), err.getvalue()


def test_strictly_nested_candidate_has_full_capacity() -> None:
    code, out, err = _run("check-factorization", "1:", "2:1", "3:1,2")
    assert code == 0
    assert err == ""
    assert "full capacity: yes" in out
    assert "nested order (agents by position): 1 2 3" in out
    assert "exact chain: yes" in out


def test_a_quoted_candidate_is_split_into_entries() -> None:
    assert _run("check-factorization", "1: 2:1 3:1,2")[0] == 0
    assert _run("check-factorization", "1:;2:1;3:1,2")[0] == 0


def test_paper_convention_with_own_id_is_accepted() -> None:
    code, out, _ = _run("check-factorization", "1:1", "2:1,2", "3:1,2,3")
    assert code == 0
    assert "exact chain: yes" in out


def test_cycle_is_not_full_capacity_and_reports_witness() -> None:
    code, out, _ = _run("check-factorization", "1:2", "2:3", "3:1")
    assert code == 1
    assert "full capacity: NO" in out
    assert "stuck agents: 1 2 3" in out
    assert f"representation gap {math.log(2):.6f}" in out


def test_several_candidates_json_output() -> None:
    code, out, _ = _run(
        "check-factorization", "--json", "-c", "1:2 2:1", "-c", "1:;2:;3:1,2", "1:", "2:1"
    )
    assert code == 1
    doc = json.loads(out)
    assert doc["all_full_capacity"] is False
    names = [c["name"] for c in doc["candidates"]]
    assert names == ["candidate 1", "candidate 2", "candidate 3"]
    first, second, third = doc["candidates"]
    assert first == {
        "name": "candidate 1",
        "sets": [[], [1]],
        "full_capacity": True,
        "nested_order": [1, 2],
        "exact_chain": True,
        "stuck_agents": [],
        "witness_gap": None,
        "witness_gap_exact": None,
    }
    assert second["full_capacity"] is True
    assert second["exact_chain"] is False
    assert second["nested_order"] == [2, 1]
    assert third["full_capacity"] is False
    assert third["stuck_agents"] == [1, 2]
    assert third["witness_gap"] == pytest.approx(math.log(2), abs=1e-12)


def test_json_file_schemas(tmp_path: Path) -> None:
    path = tmp_path / "cands.json"
    path.write_text(
        json.dumps(
            {
                "candidates": [
                    [[], [1], [1, 2]],
                    {"name": "rommeo", "sets": [[2, 3], [1, 3], [1, 2]]},
                    {"name": "keyed", "sets": {"2": [1], "1": []}},
                ]
            }
        )
    )
    code, out, _ = _run("check-factorization", "--json", "--file", str(path))
    assert code == 0
    doc = json.loads(out)
    assert [c["name"] for c in doc["candidates"]][1:] == ["rommeo", "keyed"]
    assert doc["candidates"][1]["exact_chain"] is False
    # a bare single candidate and a list of candidates, from stdin
    assert _run("check-factorization", "-f", "-", stdin="[[], [1]]")[0] == 0
    code, out, _ = _run("check-factorization", "-f", "-", stdin="[[[2], [1]], [[2], [3], [1]]]")
    assert code == 1
    assert out.count("candidate") == 2


def test_many_agents_with_a_small_stuck_set() -> None:
    # 100 agents: a witness over all agents would need 100 array axes (numpy allows 64)
    entries = ["1:", "2:"] + [f"{i}:{','.join(str(j) for j in range(1, i))}" for i in range(3, 101)]
    code, out, err = _run("check-factorization", *entries)
    assert code == 1
    assert err == ""
    assert "stuck agents: 1 2\n" in out
    assert f"representation gap {math.log(2):.6f}" in out


def test_large_stuck_set_reports_log2_without_evaluation() -> None:
    n = 14
    entries = [f"{i}:" for i in range(1, n + 1)]
    code, out, _ = _run("check-factorization", *entries)
    assert code == 1
    assert "not evaluated" in out


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["1:x"], "", "candidate 1, entry '1:x': 'x' is not an agent id"),
        (["1:0"], "", "agent ids are 1-based"),
        (["1:", "3:1"], "", "missing [2], unexpected [3]"),
        (["1:", "1:"], "", "agent 1 is given more than once"),
        (["1:3", "2:"], "", "C_1 lists agent 3, outside 1..2"),
        (["1:2,2", "2:"], "", "C_1 lists agent 2 more than once"),
        (["12"], "", "expected 'i:j,k,...'"),
        ([], "", "no candidate given"),
        (["-f", "-"], "{bad", "<stdin>: invalid JSON at line 1, column 2"),
        (["-f", "-"], '{"candidates": []}', "'candidates' must be a non-empty list"),
        (["-f", "-"], '{"sets": [[1.5]]}', "1.5 is not an agent id"),
        (["-f", "-"], '{"sets": [[]], "extra": 1}', "unknown key(s) ['extra']"),
        (["-f", "-"], '{"name": "x"}', "missing key 'sets'"),
        (["-f", "-"], '"text"', "a candidate is a non-empty list"),
        (["-f", "-"], '[[[1], "a"]]', "candidate 1, C_2: expected a list of agent ids"),
        (["-f", "/nonexistent/cands.json"], "", "cannot read /nonexistent/cands.json"),
    ],
)
def test_malformed_input_exits_2_with_a_pointed_message(
    argv: list[str], stdin: str, message: str
) -> None:
    code, out, err = _run("check-factorization", *argv, stdin=stdin)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-factorization", "--bogus"]) == 2
    assert main([]) == 2
    assert "usage:" in capsys.readouterr().err


def test_help_documents_syntax_schema_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-factorization", "--help"]) == 0
    text = capsys.readouterr().out
    for fragment in ('"candidates"', "1-based", "exit status", "--json", "exact chain"):
        assert fragment in text


def test_module_entry_point_runs_without_traceback() -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "svnr_core", "check-factorization", "1:", "2:1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0
    assert "full capacity: yes" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "svnr_core", "check-factorization", "1:a"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert "error: candidate 1" in bad.stderr
