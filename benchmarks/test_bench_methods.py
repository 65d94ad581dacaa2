"""Time per update of every method of Table 2, relative to SVNR (cf. paper Table 10).

Run with ``nox -s bench -- -k methods`` (or
``pytest benchmarks/test_bench_methods.py --benchmark-only -s``).  All methods get the same
replay batch, the same network sizes (the Max of Three preset) and one thread; the reference
(SVNR) is measured in the same process, interleaved round by round with every other method so
that all see the same machine load.  The printed table gives the median milliseconds per update
(critic step + policy step + target update) and the ratio to SVNR; nothing asserts a time.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import torch

from benchmarks.batches import interleaved_update_ms, replay_batch
from svnr_rl.agents import Agent, MADDPGAgent, SVNRAgent
from svnr_rl.agents.masac import MASACAgent
from svnr_rl.agents.masql import MASQLAgent
from svnr_rl.agents.pr2 import PR2Agent
from svnr_rl.agents.pr2_svgd import PR2SVGDAgent
from svnr_rl.agents.rommeo import ROMMEOAgent
from svnr_rl.config import AlgoConfig, preset
from svnr_rl.envs.base import TaskSpec
from svnr_rl.replay import Batch

CPU = torch.device("cpu")
GAME = TaskSpec(
    name="max-of-three", n_agents=3, obs_dim=1, state_dim=1, action_dim=1, episode_limit=1
)
#: method -> (agent class, topology); the ablations differ from SVNR only in C_i
METHODS: dict[str, tuple[type[Agent], str]] = {
    "svnr": (SVNRAgent, "nested"),
    "maddpg": (MADDPGAgent, "nested"),
    "masql": (MASQLAgent, "nested"),
    "pr2": (PR2Agent, "nested"),
    "pr2-svgd": (PR2SVGDAgent, "nested"),
    "rommeo": (ROMMEOAgent, "nested"),
    "masac": (MASACAgent, "nested"),
    "svnr-m": (SVNRAgent, "empty"),
    "svnr-f": (SVNRAgent, "full"),
}
ROUNDS = 30


def _agent(name: str, algo: AlgoConfig) -> Agent:
    cls, topology = METHODS[name]
    torch.manual_seed(0)
    agent = cls(GAME, dataclasses.replace(algo, topology=topology), device=CPU, dtype=torch.float32)
    agent.seed(0)
    return agent


@pytest.fixture(scope="module")
def setting() -> tuple[dict[str, Agent], Batch, dict[str, float]]:
    """Agents of every method, one batch, and the interleaved median ms per update."""
    torch.set_num_threads(1)
    algo = preset("max-of-three").algo
    agents = {m: _agent(m, algo) for m in METHODS}
    batch = replay_batch(GAME, algo.batch_size)
    med = interleaved_update_ms(agents, batch, 0.5, rounds=ROUNDS, warmup=5)
    print("\n[time per update, Max of Three preset, 1 thread; ratio to SVNR (paper Table 10)]")
    for m, ms in med.items():
        print(f"  {m:7s} {ms:7.2f} ms   {ms / med['svnr']:5.2f}x")
    return agents, batch, med


@pytest.mark.parametrize("method", list(METHODS))
def test_update_time(
    method: str, setting: tuple[dict[str, Agent], Batch, dict[str, float]], benchmark: Any
) -> None:
    agents, batch, med = setting
    benchmark.extra_info["ratio_to_svnr_interleaved"] = med[method] / med["svnr"]
    benchmark(agents[method].update, batch, 0.5)
