"""The learnability card of Particle Gather (``python -m svnr_rl.particle_gather_card``)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from svnr_rl.envs.gather_rules import ITERATED, TERMINAL, make_variant
from svnr_rl.gather_diagnostics import oracle_actions
from svnr_rl.particle_gather_card import POLICIES, card, main, measure

SMALL = ["--envs", "16", "--episodes-per-env", "4"]


def test_the_oracle_scores_the_maximum_of_each_variant() -> None:
    it = {f.policy: f for f in card(make_variant(ITERATED), 32, 4, seed=0)}
    oracle = it["oracle"]
    # iterated: never exactly one particle inside, both inside at the last step of every
    # episode: the largest last-step reward, 5, and no -2 ever
    assert oracle.episodes == 128
    assert (oracle.outcome_both, oracle.steps_one, oracle.last_step_mean) == (1.0, 0.0, 5.0)
    assert oracle.length_mean == 25.0
    assert oracle.per_step_mean == pytest.approx(oracle.return_mean / 25)
    term = {f.policy: f for f in card(make_variant(TERMINAL), 32, 4, seed=0)}
    # terminal: every episode ends with a joint arrival, the largest return
    assert (term["oracle"].outcome_both, term["oracle"].return_mean) == (1.0, 5.0)
    assert term["oracle"].return_std == 0.0
    # steering without coordination mostly arrives alone in the terminal variant
    assert term["steer"].outcome_one > 0.5
    for rows in (it, term):
        assert list(rows) == list(POLICIES)
        assert rows["stay"].return_mean == rows["stay"].last_step_mean == 0.0
        for f in rows.values():
            assert all(math.isfinite(v) for v in asdict(f).values() if isinstance(v, float))
            assert f.outcome_both + f.outcome_one + f.outcome_none == pytest.approx(1.0)
            assert f.steps_both + f.steps_one + f.steps_none == pytest.approx(1.0)


def test_figures_are_reproducible_and_follow_the_seed() -> None:
    variant = make_variant(ITERATED)

    def rand(seed: int) -> dict[str, float]:
        rng = np.random.default_rng(seed)
        f = measure(lambda s: rng.uniform(-1, 1, (s.shape[0], 4, 1)), "random", variant, 8, 3, seed)
        return asdict(f)

    assert rand(1) == rand(1)
    assert rand(1) != rand(2)


def test_the_oracle_reads_the_state_only_and_is_decentralizable() -> None:
    """Each agent computes the joint action from the shared observation and keeps its own
    coordinate: the same numbers as the joint policy, row by row."""
    rng = np.random.default_rng(0)
    state = rng.uniform(-1, 1, size=(64, 8))
    joint = oracle_actions(state, 0.4)
    for b in range(64):
        alone = oracle_actions(state[b : b + 1], 0.4)
        np.testing.assert_array_equal(alone[0], joint[b])
    assert np.all(np.abs(joint) <= 1.0)


def test_the_card_command_writes_the_same_card_for_the_same_seed(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["--variant", "particle-gather", "--out", str(a), *SMALL]) == 0
    assert main(["--variant", "particle-gather", "--out", str(b), *SMALL]) == 0
    data = json.loads((a / "card.json").read_text())
    assert data["variant"]["name"] == ITERATED
    assert data["settings"]["episodes"] == 64
    assert list(data["policies"]) == list(POLICIES)
    ja, jb = (a / "card.json").read_text(), (b / "card.json").read_text()
    assert ja.replace(str(a), "") == jb.replace(str(b), "")
    md = (a / "card.md").read_text()
    assert "| oracle | 100.0% / 0.0% / 0.0% |" in md
    c = tmp_path / "c"
    assert (
        main(["--variant", TERMINAL, "--out", str(c), "--param", "arrival_radius=0.2", *SMALL]) == 0
    )
    assert json.loads((c / "card.json").read_text())["variant"]["arrival_radius"] == 0.2


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--variant", "particle-gather-x", "--out", "X"], "invalid choice"),
        (["--variant", "particle-gather"], "--out"),
        (["--out", "X"], "--variant"),
        (["--variant", "particle-gather", "--out", "X", "--envs", "0"], "--envs"),
        (["--variant", "particle-gather", "--out", "X", "--sac-steps", "-5"], "--sac-steps"),
        (["--variant", "particle-gather", "--out", "X", "--param", "radius=1"], "NAME=VALUE"),
        (["--variant", "particle-gather", "--out", "X", "--param", "arrival_radius=x"], "number"),
        (
            ["--variant", "particle-gather", "--out", "X", "--param", "arrival_radius=0.9"],
            "(0, 0.5]",
        ),
        (["--variant", "particle-gather", "--out", "FILE"], "not a folder"),
        (["--variant", "particle-gather", "--out", "X", "--bogus"], "unrecognized"),
    ],
)
def test_bad_input_is_one_error_line_and_status_2(
    argv: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "FILE").write_text("")
    argv = [str(tmp_path / w) if w in ("X", "FILE") else w for w in argv]
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ")
    assert expected in lines[0]
    assert "Traceback" not in captured.err
    assert not (tmp_path / "X").exists()


def test_bad_input_exit_status_of_the_process(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "svnr_rl.particle_gather_card", "--variant", "nope"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_sac_hook_smoke(tmp_path: Path) -> None:
    pytest.importorskip("stable_baselines3")
    out = tmp_path / "sac"
    argv = ["--variant", "particle-gather", "--out", str(out), "--sac-steps", "200"]
    assert main([*argv, "--envs", "4", "--episodes-per-env", "1"]) == 0
    sac = json.loads((out / "card.json").read_text())["policies"]["sac"]
    assert sac["episodes"] == 4
    assert math.isfinite(sac["return_mean"])
