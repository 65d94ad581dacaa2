"""Task names -> environments: :func:`make_batched` and :func:`make_parallel`.

* ``two-modalities`` -- differential game, paper Sec. 6 (1.1); parameter ``n_agents`` (3);
* ``max-of-three`` -- differential game, paper Sec. 6 (1.2); ``s2`` (1.5), ``n_agents`` (3);
* ``differential`` -- any :class:`DifferentialGame`; every field of it is a parameter;
* ``two-optima-symmetric`` -- :class:`SymmetricTwoOptima` (two mirror-image optima, 3 agents);
  every field of it is a parameter (``n_agents``, ``centre``, ``scale``, ``height``, ``value``,
  ``action_bound``);
* ``continuous-climbing``, ``continuous-penalty`` -- Claus & Boutilier's climbing and penalty
  games on ``[-1, 1]^2`` (:class:`ContinuousMatrixGame`); ``interpolation`` ("smoothstep"),
  and for the penalty game ``k`` (-100);
* ``particle-gather`` -- 2 particles x 2 axis-agents on mpe2 physics, the paper's iterated game
  (reward every step, no termination); ``arrival_radius`` (0.4), ``episode_limit`` (25),
  ``particle_size`` (0.15), ``start_half_width`` (1);
* ``particle-gather-terminal`` -- the variant that ends at the first arrival; the same
  parameters, defaults ``arrival_radius`` 0.1, ``particle_size`` 0.05 (the rest as above);
* ``mamujoco-halfcheetah-2x3``, ``mamujoco-halfcheetah-1p1`` (CoupledHalfCheetah 1p1),
  ``mamujoco-ant-2x4``, ``mamujoco-walker2d-2x3`` -- MaMuJoCo adapters; no parameters;
* ``gym-pendulum``, ``gym-halfcheetah`` -- single-agent gymnasium tasks as one-agent tasks
  (the backbone's SAC anchor, :mod:`svnr_rl.envs.gym_single`); no parameters.

An unknown task or parameter, or an invalid parameter value, raises ``ValueError`` naming the
problem and listing the valid choices.  See ``docs/environments.md`` for the sizes of each task.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pettingzoo import ParallelEnv

from svnr_core.coordination_games import (
    SingleStepGame,
    SymmetricTwoOptima,
    continuous_climbing,
    continuous_penalty,
)
from svnr_core.differential_games import DifferentialGame, max_of_three, two_modalities
from svnr_rl.envs.base import BatchedEnv
from svnr_rl.envs.differential import DifferentialGameEnv
from svnr_rl.envs.gather_rules import PARAMS as GATHER_PARAMS
from svnr_rl.envs.parallel import BatchedParallelEnv

_DIFF_FIELDS = tuple(f.name for f in dataclasses.fields(DifferentialGame))
_SYM_FIELDS = tuple(f.name for f in dataclasses.fields(SymmetricTwoOptima) if f.init)

#: task name -> allowed parameter names
TASK_PARAMS: dict[str, tuple[str, ...]] = {
    "two-modalities": ("n_agents",),
    "max-of-three": ("s2", "n_agents"),
    "differential": _DIFF_FIELDS,
    "two-optima-symmetric": _SYM_FIELDS,
    "continuous-climbing": ("interpolation",),
    "continuous-penalty": ("k", "interpolation"),
    "particle-gather": GATHER_PARAMS,
    "particle-gather-terminal": GATHER_PARAMS,
    "mamujoco-halfcheetah-2x3": (),
    "mamujoco-halfcheetah-1p1": (),
    "mamujoco-ant-2x4": (),
    "mamujoco-walker2d-2x3": (),
    "gym-pendulum": (),
    "gym-halfcheetah": (),
}

#: the tasks of the paper (``differential`` is the general family behind the two presets)
TASKS: tuple[str, ...] = tuple(TASK_PARAMS)
#: the single-step games (:class:`~svnr_rl.envs.differential.DifferentialGameEnv`, via make_game)
SINGLE_STEP_TASKS: tuple[str, ...] = (
    "two-modalities",
    "max-of-three",
    "differential",
    "two-optima-symmetric",
    "continuous-climbing",
    "continuous-penalty",
)
#: the two variants of Particle Gather (:data:`svnr_rl.envs.particle_gather.VARIANTS`)
PARTICLE_GATHER_TASKS: tuple[str, ...] = ("particle-gather", "particle-gather-terminal")

#: MaMuJoCo task name -> (scenario, agent_conf) of ``gymnasium_robotics.mamujoco_v1``
MAMUJOCO_TASKS: dict[str, tuple[str, str]] = {
    "mamujoco-halfcheetah-2x3": ("HalfCheetah", "2x3"),
    "mamujoco-halfcheetah-1p1": ("CoupledHalfCheetah", "1p1"),
    "mamujoco-ant-2x4": ("Ant", "2x4"),
    "mamujoco-walker2d-2x3": ("Walker2d", "2x3"),
}


def _check_task(task: str, params: dict[str, Any]) -> None:
    if task not in TASK_PARAMS:
        raise ValueError(f"unknown task {task!r}; valid tasks: {', '.join(TASKS)}")
    allowed = TASK_PARAMS[task]
    bad = sorted(set(params) - set(allowed))
    if bad:
        raise ValueError(
            f"task {task!r} does not take parameter(s) {bad}; valid parameters: "
            f"{', '.join(allowed) if allowed else '(none)'}"
        )


def make_game(task: str, **params: Any) -> SingleStepGame:
    """The game of a single-step task: a :class:`DifferentialGame` for the paper's differential
    games, a coordination game (:mod:`svnr_core.coordination_games`) for the others."""
    _check_task(task, params)
    if task == "two-modalities":
        return two_modalities(**params)
    if task == "max-of-three":
        return max_of_three(**params)
    if task == "differential":
        return DifferentialGame(**params)
    if task == "two-optima-symmetric":
        return SymmetricTwoOptima(**params)
    if task == "continuous-climbing":
        return continuous_climbing(**params)
    if task == "continuous-penalty":
        return continuous_penalty(**params)
    raise ValueError(
        f"task {task!r} is not a differential game; valid: {', '.join(SINGLE_STEP_TASKS)}"
    )


def make_batched(task: str, num_envs: int, **params: Any) -> BatchedEnv:
    """``num_envs`` environments of ``task`` stepped together (the training interface)."""
    _check_task(task, params)
    if task in SINGLE_STEP_TASKS:
        return DifferentialGameEnv(make_game(task, **params), num_envs, name=task)
    if task in PARTICLE_GATHER_TASKS:
        from svnr_rl.envs.particle_gather import BatchedParticleGather

        return BatchedParticleGather(num_envs, task, **params)
    if task.startswith("gym-"):
        from svnr_rl.envs.gym_single import BatchedGymnasium

        return BatchedGymnasium(task, num_envs)
    from svnr_rl.envs.mamujoco import BatchedMaMuJoCo

    scenario, conf = MAMUJOCO_TASKS[task]
    return BatchedMaMuJoCo(scenario, conf, num_envs, name=task)


def make_parallel(task: str, **params: Any) -> ParallelEnv:
    """The PettingZoo ``ParallelEnv`` form of ``task``.

    Particle Gather: the reference form on mpe2's world; every other task: the
    :class:`BatchedParallelEnv` facade over its batched form (native action units).
    """
    _check_task(task, params)
    if task in PARTICLE_GATHER_TASKS:
        from svnr_rl.envs.particle_gather import ParticleGatherParallelEnv

        return ParticleGatherParallelEnv(task, **params)
    env = make_batched(task, 1, **params)
    names: list[str] | None = None
    if task in MAMUJOCO_TASKS:
        from svnr_rl.envs.mamujoco import BatchedMaMuJoCo

        assert isinstance(env, BatchedMaMuJoCo)
        names = list(env.agent_names)
    return BatchedParallelEnv(env, names)
