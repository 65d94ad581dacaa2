"""Shared tiny configurations for the svnr_rl tests (seconds per run)."""

from __future__ import annotations

from pathlib import Path

from svnr_rl.config import Config, apply_overrides, preset

TINY = [
    "env.num_envs=8",
    "env.eval_num_envs=8",
    "algo.batch_size=32",
    "algo.learning_starts=32",
    "algo.num_particles=4",
    "algo.policy_batch_size=4",
    "algo.value_samples=4",
    "algo.hidden=[16]",
    "algo.critic_hidden=[16]",
    "train.total_env_steps=192",
    "train.eval_interval=64",
    "train.eval_episodes=8",
    "train.progress=false",
    "train.tensorboard=false",
    "train.record_every=1",
]

#: the same settings as ``--set`` arguments of the command line
TINY_SET = [a for item in TINY for a in ("--set", item)]


def tiny_config(out: Path, *extra: str, task: str = "max-of-three") -> Config:
    """A seconds-long config of ``task`` writing run folders under ``out``."""
    return apply_overrides(preset(task), [*TINY, f'train.out_dir="{out}"', *extra])
