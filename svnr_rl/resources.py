"""Memory a run will need, estimated from its config and task before anything is allocated.

The static bounds of :data:`svnr_rl.config.LIMITS` stop absurd single values; this module
catches the products they cannot see (replay rows x transition size, network widths x agents,
rows of one update x widths) and compares the estimate with the memory the machine has free,
so that a run that would fail with an out-of-memory traceback minutes later is refused with a
``ConfigError`` naming the field, before its run folder exists.  Torch-free.

The estimate is deliberately rough but on the high side: replay storage grows geometrically, so
its peak is the old plus the new block (factor 1.5 of the final size); every network holds
parameters, gradients and two Adam moments, plus a target copy (factor 5); one update keeps
about three activation tensors per layer for the backward pass.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass

from svnr_rl.config import Config, ConfigError

__all__ = ["MemoryEstimate", "available_memory", "check_memory", "estimate_memory"]

#: fraction of the free memory a run may plan to use (the rest: the OS, envs, Python)
USABLE_FRACTION = 0.8


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes by consumer; ``total`` is their sum."""

    replay: int
    networks: int
    update: int

    @property
    def total(self) -> int:
        return self.replay + self.networks + self.update


def _mlp_params(inp: int, hidden: tuple[int, ...], out: int) -> int:
    sizes = [inp, *hidden, out]
    return sum((a + 1) * b for a, b in itertools.pairwise(sizes))


def estimate_memory(
    cfg: Config, *, n_agents: int, obs_dim: int, state_dim: int, action_dim: int
) -> MemoryEstimate:
    """Rough upper estimate of the bytes a run of ``cfg`` on a task of these sizes needs."""
    a = cfg.algo
    word = 8 if cfg.train.dtype == "float64" else 4
    rows = min(a.buffer_size, cfg.train.total_env_steps)
    per_row = 2 * n_agents * obs_dim + 2 * state_dim + n_agents * action_dim + 2
    replay = (rows * per_row * word * 3) // 2
    noise = a.noise_dim or action_dim
    actor = _mlp_params(obs_dim + n_agents * noise, a.hidden, action_dim)
    critic = _mlp_params(state_dim + n_agents * action_dim, a.critic_hidden, 1)
    params = n_agents * actor + (2 if a.twin_critic else 1) * critic
    networks = 5 * params * word
    critic_rows = a.batch_size * max(a.value_samples, 1)
    policy_rows = a.policy_states * a.num_particles
    widest = max(*a.hidden, *a.critic_hidden)
    layers = max(len(a.hidden), len(a.critic_hidden)) + 1
    activations = 3 * max(critic_rows, policy_rows * n_agents) * widest * layers
    kernel = 4 * a.policy_states * a.num_particles**2 * n_agents
    update = (activations + kernel) * word
    return MemoryEstimate(replay=replay, networks=networks, update=update)


def available_memory() -> int | None:
    """Bytes of memory free for a new process (``MemAvailable``), or ``None`` if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _gb(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"


def check_memory(
    cfg: Config,
    *,
    n_agents: int,
    obs_dim: int,
    state_dim: int,
    action_dim: int,
    available: int | None = None,
) -> MemoryEstimate:
    """Raise :class:`ConfigError`, naming the field to lower, if the run cannot fit in memory.

    ``available`` defaults to :func:`available_memory`; when that is unknown nothing is refused.
    """
    est = estimate_memory(
        cfg, n_agents=n_agents, obs_dim=obs_dim, state_dim=state_dim, action_dim=action_dim
    )
    free = available_memory() if available is None else available
    if free is None or est.total <= USABLE_FRACTION * free:
        return est
    parts = {
        "algo.buffer_size": est.replay,
        "algo.hidden / algo.critic_hidden": est.networks,
        "algo.batch_size / algo.value_samples / algo.num_particles": est.update,
    }
    field = max(parts, key=lambda k: parts[k])
    raise ConfigError(
        f"{field}: this run needs about {_gb(est.total)} of memory (replay {_gb(est.replay)}, "
        f"networks {_gb(est.networks)}, one update {_gb(est.update)}) but the machine has "
        f"{_gb(free)} free; lower {field}"
    )
