"""Training methods on one shared backbone/critic/replay/loop; see :mod:`svnr_rl.agents.base`."""

from __future__ import annotations

import torch

from svnr_rl.agents.base import Agent
from svnr_rl.agents.maddpg import MADDPGAgent
from svnr_rl.agents.masac import MASACAgent
from svnr_rl.agents.masql import MASQLAgent
from svnr_rl.agents.mmq import MMQAgent
from svnr_rl.agents.pr2 import PR2Agent
from svnr_rl.agents.pr2_svgd import PR2SVGDAgent
from svnr_rl.agents.rommeo import ROMMEOAgent
from svnr_rl.agents.svnr import SVNRAgent
from svnr_rl.config import AlgoConfig
from svnr_rl.envs.base import TaskSpec

__all__ = [
    "AGENTS",
    "Agent",
    "MADDPGAgent",
    "MASACAgent",
    "MASQLAgent",
    "MMQAgent",
    "PR2Agent",
    "PR2SVGDAgent",
    "ROMMEOAgent",
    "SVNRAgent",
    "make_agent",
]

#: method name -> agent class; a baseline registers itself here (and in config.METHODS)
AGENTS: dict[str, type[Agent]] = {
    "svnr": SVNRAgent,
    "maddpg": MADDPGAgent,
    "masql": MASQLAgent,
    "pr2": PR2Agent,
    "pr2-svgd": PR2SVGDAgent,
    "rommeo": ROMMEOAgent,
    "masac": MASACAgent,
    "mmq": MMQAgent,
}


def make_agent(
    spec: TaskSpec, cfg: AlgoConfig, *, device: torch.device, dtype: torch.dtype, seed: int
) -> Agent:
    """Build the agent of ``cfg.method`` with parameters initialised from ``seed``."""
    if cfg.method not in AGENTS:
        raise ValueError(f"algo.method: unknown method {cfg.method!r}; known: {', '.join(AGENTS)}")
    torch.manual_seed(seed)
    agent = AGENTS[cfg.method](spec, cfg, device=device, dtype=dtype)
    agent.seed(seed)
    return agent
