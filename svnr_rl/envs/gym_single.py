"""Single-agent gymnasium tasks as one-agent batched environments (the backbone's SAC check).

A one-agent task lets the shared backbone be compared with the single-agent tools users trust:
MASAC with one agent is SAC, and ``python -m svnr_rl anchor`` trains stable-baselines3's SAC on
the very same gymnasium environment.

===================  ====================  ===  ======  =====  =========
task                 gymnasium id          obs  action  scale  episode
===================  ====================  ===  ======  =====  =========
``gym-pendulum``     ``Pendulum-v1``       3    1       2      200 steps
``gym-halfcheetah``  ``HalfCheetah-v5``    17   6       1      1000 steps
===================  ====================  ===  ======  =====  =========

The agent's observation and the global state are both the environment's observation.  Actions
are normalised to ``[-1, 1]`` like every task here and scaled to the box bounds of the
environment (``action_scale``: the box is symmetric).  ``HalfCheetah-v5`` is the robot, the
reward and the observation of MaMuJoCo's ``HalfCheetah 2x3`` global state, so SAC on it is the
centralized upper bound of that task.

Seeding follows :mod:`svnr_rl.envs.mamujoco`: environment ``b`` of a reset with ``seed`` gets
the gymnasium seed ``SeedSequence(seed).spawn(B)[b].generate_state(1)[0]``; automatic resets
continue that environment's generator.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from svnr_rl.envs.base import BatchStep, TaskSpec, check_actions

__all__ = ["GYM_TASKS", "BatchedGymnasium", "make_gym"]

#: task name -> gymnasium id
GYM_TASKS: dict[str, str] = {
    "gym-pendulum": "Pendulum-v1",
    "gym-halfcheetah": "HalfCheetah-v5",
}


def make_gym(task: str) -> Any:
    """The gymnasium environment of ``task`` (with its ``TimeLimit``), as SB3 would get it."""
    import gymnasium

    return gymnasium.make(GYM_TASKS[task])


class BatchedGymnasium:
    """``num_envs`` copies of a single-agent gymnasium task (the :class:`BatchedEnv` form)."""

    def __init__(self, task: str, num_envs: int) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1; got {num_envs!r}")
        self.num_envs = num_envs
        self.envs = [make_gym(task) for _ in range(num_envs)]
        env = self.envs[0]
        low, high = np.asarray(env.action_space.low), np.asarray(env.action_space.high)
        if not np.allclose(low, -high) or not np.allclose(high, high.flat[0]):
            raise ValueError(f"{task}: the adapter needs a symmetric box of equal bounds")
        obs_dim = int(env.observation_space.shape[0])
        self.spec = TaskSpec(
            name=task,
            n_agents=1,
            obs_dim=obs_dim,
            state_dim=obs_dim,
            action_dim=int(env.action_space.shape[0]),
            episode_limit=int(env.spec.max_episode_steps),
            action_scale=float(high.flat[0]),
        )
        self._obs = np.zeros((num_envs, obs_dim))
        self._ret = np.zeros(num_envs)
        self._started = False

    def _step_result(self, **fields: Any) -> BatchStep:
        obs = self._obs[:, None, :].copy()
        return BatchStep(obs=obs, state=self._obs.copy(), **fields)

    def reset(self, seed: int) -> BatchStep:
        """Reset every environment with seeds spawned from ``seed``."""
        children = np.random.SeedSequence(int(seed)).spawn(self.num_envs)
        for b, env in enumerate(self.envs):
            self._obs[b], _ = env.reset(seed=int(children[b].generate_state(1)[0]))
        self._ret[:] = 0.0
        self._started = True
        zeros = np.zeros(self.num_envs)
        no = np.zeros(self.num_envs, dtype=np.bool_)
        return self._step_result(
            reward=zeros,
            terminated=no,
            truncated=no.copy(),
            final_obs=self._obs[:, None, :].copy(),
            final_state=self._obs.copy(),
            episode_return=zeros.copy(),
        )

    def step(self, actions: ArrayLike) -> BatchStep:
        """Step every environment once; finished ones are reset (``final_*`` keep the last
        observation)."""
        if not self._started:
            raise ValueError("step() called before reset()")
        a = check_actions(actions, self.num_envs, self.spec)[:, 0, :] * self.spec.action_scale
        b_all = self.num_envs
        reward = np.empty(b_all)
        terminated = np.zeros(b_all, dtype=np.bool_)
        truncated = np.zeros(b_all, dtype=np.bool_)
        for b, env in enumerate(self.envs):
            self._obs[b], reward[b], terminated[b], truncated[b], _ = env.step(a[b])
        self._ret += reward
        final = self._obs.copy()
        done = terminated | truncated
        episode_return = np.where(done, self._ret, 0.0)
        for k in np.flatnonzero(done):
            self._obs[k], _ = self.envs[k].reset()
            self._ret[k] = 0.0
        return self._step_result(
            reward=reward,
            terminated=terminated,
            truncated=truncated,
            final_obs=final[:, None, :],
            final_state=final,
            episode_return=episode_return,
        )

    def close(self) -> None:
        """Close every environment."""
        for env in self.envs:
            env.close()
