"""One SVNR update against one MASAC update at HalfCheetah 2x3 sizes and equal states per update.

The backbone issue's cost goal: an SVNR update at most 1.5x a MASAC update when both policy
steps see the same number of replay states (SAC's 256).  SVNR evaluates the critic on ``M``
particles per state (``policy_batch_size = 256`` states x ``M = 16``), MASAC on one sample per
state; both have twin critics.  The soft value of SVNR's critic target is measured with both
estimators (``value_proposal`` uniform and policy, 16 samples), and with the policy's value at
``M`` = value samples = 8, 4 and 2 (below the paper's range of 16..64) to show how the cost
scales with the particles.  The reference (MASAC) runs in
the same process, interleaved round by round with the others, so all see the same load.  Run
with ``nox -s bench -- -k backbone``; the printed ratios are the result, nothing asserts a time.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import torch

from benchmarks.batches import interleaved_update_ms, replay_batch
from svnr_rl.agents import Agent, MASACAgent, SVNRAgent
from svnr_rl.config import AlgoConfig, preset
from svnr_rl.envs.base import TaskSpec
from svnr_rl.replay import Batch

CPU = torch.device("cpu")
CHEETAH = TaskSpec(
    name="mamujoco-halfcheetah-2x3", n_agents=2, obs_dim=12, state_dim=17, action_dim=3,
    episode_limit=1000,
)  # fmt: skip
STATES = 256
ROUNDS = 20


def _algo() -> AlgoConfig:
    base = preset("mamujoco-halfcheetah-2x3").algo
    return dataclasses.replace(
        base, batch_size=STATES, policy_batch_size=STATES, num_particles=16, twin_critic=True
    )


SETTINGS: dict[str, tuple[type[Agent], dict[str, Any]]] = {
    "masac": (MASACAgent, {"method": "masac"}),
    "svnr-uniform-value": (SVNRAgent, {"value_proposal": "uniform"}),
    "svnr-policy-value": (SVNRAgent, {"value_proposal": "policy"}),
    # Fewer particles and value samples than the paper's range (M = 16..64): what the 1.5x
    # goal would cost the Stein direction's sample of the policy.
    **{
        f"svnr-policy-value-M{m}": (
            SVNRAgent,
            {"value_proposal": "policy", "num_particles": m, "value_samples": m},
        )
        for m in (8, 4, 2)
    },
}


@pytest.fixture(scope="module")
def setting() -> tuple[dict[str, Agent], Batch, dict[str, float]]:
    torch.set_num_threads(1)
    agents: dict[str, Agent] = {}
    for name, (cls, changes) in SETTINGS.items():
        torch.manual_seed(0)
        agents[name] = cls(
            CHEETAH, dataclasses.replace(_algo(), **changes), device=CPU, dtype=torch.float32
        )
    batch = replay_batch(CHEETAH, STATES)
    med = interleaved_update_ms(agents, batch, 0.05, rounds=ROUNDS, warmup=3)
    print(f"\n[one update, HalfCheetah 2x3 sizes, {STATES} states per update, 1 thread]")
    for m, ms in med.items():
        print(f"  {m:20s} {ms:8.2f} ms   {ms / med['masac']:5.2f}x MASAC")
    return agents, batch, med


@pytest.mark.parametrize("name", list(SETTINGS))
def test_backbone_update_time(
    name: str, setting: tuple[dict[str, Agent], Batch, dict[str, float]], benchmark: Any
) -> None:
    agents, batch, med = setting
    benchmark.extra_info["ratio_to_masac_interleaved"] = med[name] / med["masac"]
    benchmark.pedantic(agents[name].update, args=(batch, 0.05), rounds=5, iterations=1)
