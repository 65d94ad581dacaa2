"""Reading a run folder's state (``svnr_rl.run_status``)."""

from __future__ import annotations

from pathlib import Path

from svnr_rl.run_status import is_completed, run_state


def test_state_of_missing_corrupt_and_written_status(tmp_path: Path) -> None:
    assert run_state(tmp_path) == ""
    (tmp_path / "status.json").write_text("{not json")
    assert run_state(tmp_path) == ""
    assert not is_completed(tmp_path)
    (tmp_path / "status.json").write_text('{"state": "interrupted", "env_steps": 64}')
    assert run_state(tmp_path) == "interrupted"
    assert not is_completed(tmp_path)
    (tmp_path / "status.json").write_text('{"state": "completed"}')
    assert is_completed(tmp_path)
