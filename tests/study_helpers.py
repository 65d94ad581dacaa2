"""Tiny study files for the tests of :mod:`svnr_rl.study` (seconds per run)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.rl_helpers import TINY

#: the tiny settings of tests/rl_helpers.py; the run length comes from study.train_episodes
TINY_SET = [x for x in TINY if not x.startswith(("train.total_env_steps", "train.progress"))]


def _head(name: str, seeds: str) -> str:
    """``[study]`` with 128 episodes per run and the tiny settings, and the Max of Three
    s2 = 1.5 task."""
    settings = "[" + ", ".join(json.dumps(x) for x in TINY_SET) + "]"
    return f"""
[study]
name = "{name}"
seeds = {seeds}
train_episodes = 128
set = {settings}

[[task]]
key = "max-of-three-1.5"
preset = "max-of-three"
s2 = 1.5
title = "Max of Three (s2 = 1.5)"
"""


def grid_study(
    path: Path, *, seeds: str = "[0, 1]", methods: tuple[str, ...] = ("svnr", "masql")
) -> Path:
    """A grid of Max of Three s2 = 1.5 x ``methods`` x ``seeds``."""
    rows = "\n".join(
        f'[[method]]\nkey = "{m}"\nmethod = "{m}"\ntitle = "{m.upper()}"\n'
        + ('paper = { "max-of-three-1.5" = [9.71, 0.20] }\n' if m == "svnr" else "")
        for m in methods
    )
    report = '[report]\nsections = ["table", "runs", "per_seed", "curves", "scatter"]\n'
    path.write_text(_head("tiny", seeds) + rows + report + 'scatter_task = "max-of-three-1.5"\n')
    return path


def tune_study(path: Path, *, trials: int = 4) -> Path:
    """TPE over MASQL's learning rate and hidden layer on Max of Three, one tuning seed."""
    path.write_text(
        _head("tiny-tune", "[0]")
        + f"""
[[method]]
key = "masql"
method = "masql"

[tune]
trials = {trials}
batch = 2
startup_trials = 2
tuning_seeds = [100]

[[tune.param]]
name = "lr"
targets = ["algo.policy_lr", "algo.critic_lr"]
low = 1e-4
high = 1e-1
log = true

[[tune.param]]
name = "hidden"
targets = ["algo.hidden"]
type = "categorical"
choices = [[16], [32]]

[report]
sections = ["table", "tuning"]
"""
    )
    return path
