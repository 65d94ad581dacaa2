"""The trainer of the guided-start diagnostic (:mod:`svnr_rl.guided_start`).

Apart from the command so that the command's ``--help`` does not import torch.
"""

from __future__ import annotations

from pathlib import Path

import torch

from svnr_rl.config import Config, ConfigError
from svnr_rl.experiment import steer_actions
from svnr_rl.guided_start import TASK
from svnr_rl.train import Trainer

__all__ = ["GuidedStartTrainer"]


class GuidedStartTrainer(Trainer):
    """A :class:`Trainer` whose behaviour policy steers to the landmark for the first
    ``guided_env_steps`` environment steps (then the agent acts, as in :class:`Trainer`)."""

    def __init__(self, cfg: Config, run_dir: Path, guided_env_steps: int) -> None:
        if cfg.env.task != TASK:
            raise ConfigError(f"env.task: a guided start is defined for {TASK!r} only")
        if guided_env_steps < 0:
            raise ConfigError(f"--guided-steps must be >= 0; got {guided_env_steps}")
        super().__init__(cfg, run_dir)
        self.guided_env_steps = guided_env_steps

    def _act(self, obs: torch.Tensor, t: int) -> torch.Tensor:
        if self.env_steps >= self.guided_env_steps:
            return super()._act(obs, t)
        # every agent observes the global state; agent 0's copy is the state
        state = obs[:, 0, :].double().cpu().numpy()
        return torch.as_tensor(steer_actions(state), dtype=self.dtype, device=self.device)
