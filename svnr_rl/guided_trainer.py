"""A guided start for Particle Gather: is the failure only a failure of exploration?

For the first ``guided_env_steps`` environment steps the behaviour policy is the
uncoordinated heuristic :func:`svnr_rl.gather_diagnostics.steer_actions` (every agent steers
its particle straight to the landmark, ``a = clip(-2 p - v, -1, 1)``), then the method's own
policy acts.  Defined for both variants (:data:`GUIDED_TASKS`), since the heuristic puts both
kinds of reward in the data in each: in ``particle-gather-terminal`` (the game of the
committed guided-start results) about 11% of these episodes end with a joint arrival, +5, the
rest with a lone one, -2; in the iterated ``particle-gather`` both particles end inside the
disc, after some steps with only the nearer one inside (-2 each).  The learnability card
(``python -m svnr_rl.particle_gather_card``) measures the heuristic on either variant.
Everything else is the method's preset: the same critic, replay, updates (which start as
soon as the buffer allows, on the guided data too), alpha schedule, budget and decentralized
evaluation.  Both kinds of arrival are in the data, so what remains is the
paper's question: does the method learn to arrive together (+5) rather than keep away (0)?

A diagnostic, not the paper's protocol (the paper's agents explore on their own).  A study
task asks for it with ``guided_env_steps`` (``studies/guided_start.toml``); the guidance is
recorded in the run folder's ``trial.json`` and a resumed run is guided again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from svnr_rl.config import Config, ConfigError
from svnr_rl.gather_diagnostics import steer_actions
from svnr_rl.train import Trainer

__all__ = ["GUIDED_TASKS", "GuidedStartTrainer", "guided_factory"]

#: the tasks a guided start is defined for: both Particle Gather variants
GUIDED_TASKS: tuple[str, ...] = ("particle-gather", "particle-gather-terminal")


class GuidedStartTrainer(Trainer):
    """A :class:`Trainer` whose behaviour policy steers to the landmark for the first
    ``guided_env_steps`` environment steps (then the agent acts, as in :class:`Trainer`)."""

    def __init__(self, cfg: Config, run_dir: Path, guided_env_steps: int) -> None:
        if cfg.env.task not in GUIDED_TASKS:
            raise ConfigError(
                f"env.task: a guided start is defined for {' and '.join(GUIDED_TASKS)} only; "
                f"got {cfg.env.task!r}"
            )
        if guided_env_steps < 0:
            raise ConfigError(f"guided_env_steps must be >= 0; got {guided_env_steps}")
        super().__init__(cfg, run_dir)
        self.guided_env_steps = guided_env_steps

    def _act(self, obs: torch.Tensor, t: int) -> torch.Tensor:
        if self.env_steps >= self.guided_env_steps:
            return super()._act(obs, t)
        # every agent observes the global state; agent 0's copy is the state
        state = obs[:, 0, :].double().cpu().numpy()
        return torch.as_tensor(steer_actions(state), dtype=self.dtype, device=self.device)


def guided_factory(guided_env_steps: int) -> Callable[[Config, Path], Trainer]:
    """The ``trainer_factory`` of :func:`svnr_rl.train.train` / ``resume`` for a guided run."""

    def make(cfg: Config, run_dir: Path) -> Trainer:
        return GuidedStartTrainer(cfg, run_dir, guided_env_steps)

    return make
