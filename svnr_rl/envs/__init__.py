"""Environments of the paper (Sec. 6, App. F.1) in two forms.

* the batched form (:class:`~svnr_rl.envs.base.BatchedEnv`) that the training layer uses:
  :func:`make_batched`;
* the PettingZoo ``ParallelEnv`` form for any MARL code: :func:`make_parallel`.

Task names are listed in :data:`TASKS`; ``docs/environments.md`` has the table of sizes.
"""

from svnr_rl.envs.base import BatchedEnv, BatchStep, TaskSpec, check_actions
from svnr_rl.envs.registry import TASK_PARAMS, TASKS, make_batched, make_game, make_parallel

__all__ = [
    "TASKS",
    "TASK_PARAMS",
    "BatchStep",
    "BatchedEnv",
    "TaskSpec",
    "check_actions",
    "make_batched",
    "make_game",
    "make_parallel",
]
