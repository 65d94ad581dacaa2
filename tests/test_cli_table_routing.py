"""`python -m svnr_rl table ...` hands its arguments to the Table 2 command's own parser."""

from __future__ import annotations

import pytest

from svnr_rl.__main__ import main


def test_table_help_is_the_table_commands_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["table", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m svnr_rl table")
    assert "--methods" in out


def test_table_bad_method_exits_2_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["table", "--methods", "nope"]) == 2
    err = capsys.readouterr().err
    assert "nope" in err
    assert "Traceback" not in err
