"""Building what a run needs from its config: device, dtype, environments, and the checks of the
config against the task that can only be made once the task is built.

Every check here runs before any network or buffer exists, so a run that cannot work is refused
with a :class:`ConfigError` naming the field, and no run folder is created.
"""

from __future__ import annotations

import torch

from svnr_rl.config import TOPOLOGIES, Config, ConfigError, parse_topology
from svnr_rl.envs.base import BatchedEnv, TaskSpec
from svnr_rl.resources import check_memory

__all__ = ["check_fits_task", "make_env", "resolve_device", "torch_dtype"]


def resolve_device(name: str) -> torch.device:
    """``cpu`` | ``cuda`` | ``auto`` -> a device; ``cuda`` without a GPU is a ConfigError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device: 'cuda' requested but no CUDA device is available")
    return torch.device(name)


def torch_dtype(name: str) -> torch.dtype:
    """``train.dtype`` as a torch dtype."""
    return torch.float64 if name == "float64" else torch.float32


def make_env(cfg: Config, num_envs: int) -> BatchedEnv:
    """The batched environment of ``cfg.env`` (bad parameters become a ConfigError)."""
    from svnr_rl.cli_style import deferred_interrupt
    from svnr_rl.envs.registry import make_batched

    try:
        with deferred_interrupt():  # may import mujoco (a pybind11 module) the first time
            return make_batched(cfg.env.task, num_envs, **cfg.env.make_params())
    except ValueError as exc:
        raise ConfigError(f"env: {exc}") from None


def check_fits_task(cfg: Config, spec: TaskSpec) -> None:
    """The topology and peers against the task's agents, then the memory the run will need."""
    a = cfg.algo
    if a.topology not in TOPOLOGIES:  # a named topology fits any number of agents
        parse_topology(a.topology, spec.n_agents, cfg.env.task)
    if a.topology == "random-peers" and not 1 <= a.peers <= spec.n_agents - 1:
        raise ConfigError(
            f"algo.peers: must be in [1, {spec.n_agents - 1}] for {spec.n_agents} agents; "
            f"got {a.peers}"
        )
    check_memory(
        cfg,
        n_agents=spec.n_agents,
        obs_dim=spec.obs_dim,
        state_dim=spec.state_dim,
        action_dim=spec.action_dim,
    )
