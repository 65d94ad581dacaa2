"""MaMuJoCo adapter (paper Sec. 6, "(3) Multi-Agent MuJoCo"): the batched form over
``gymnasium_robotics.mamujoco_v1``.

Tasks (``parallel_env(scenario, agent_conf, agent_obsk=1)``; 2 agents each):

===========================  ===================  =========  ==========  =====
task                         scenario, conf       obs/agent  act/agent   state
===========================  ===================  =========  ==========  =====
``mamujoco-halfcheetah-2x3`` HalfCheetah 2x3      12         3           17
``mamujoco-halfcheetah-1p1`` CoupledHalfCheetah   28         6           40
``mamujoco-ant-2x4``         Ant 2x4              63         4           105
``mamujoco-walker2d-2x3``    Walker2d 2x3         12         3           17
===========================  ===================  =========  ==========  =====

In each of these tasks both agents have the same observation and action sizes, so the batched
arrays need no padding; a partition whose agents differ is rejected with ``ValueError``.

What the adapter exposes per step: per-agent observations (MaMuJoCo's ``agent_obsk = 1``
observations), the global state (the single-agent observation, as MaMuJoCo's ``state()``), the
shared reward (the single-agent reward, identical for every agent), and the single-agent
``terminated`` / ``truncated`` flags (``TimeLimit`` of 1000 steps).  Actions are already in
``[-1, 1]`` (every actuator's ``ctrlrange``), so ``action_scale = 1``.

``B`` environments are stepped one after the other in a loop (MuJoCo's step dominates).  For
speed the adapter calls the underlying single-agent environment itself: the agents' actions are
scattered into the global action with an index map built once from MaMuJoCo's action partition
(instead of MaMuJoCo's per-step dictionary walk), and the global state is the observation the
single-agent ``step`` already returns (MaMuJoCo discards it and recomputes it in ``state()``).
A test checks that this gives exactly MaMuJoCo's own trajectories.

Seeding: environment ``b`` of a reset with ``seed`` is reset with the gymnasium seed
``SeedSequence(seed).spawn(B)[b].generate_state(1)[0]``; automatic resets after an episode call
``reset()`` without a seed, continuing that environment's generator.

Pin: ``mujoco < 3.6`` (3.6 changed the tendon Jacobian and breaks CoupledHalfCheetah in
gymnasium-robotics 1.4.2).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from svnr_rl.envs.base import BatchStep, TaskSpec, check_actions

EPISODE_LIMIT = 1000


def _make_raw(scenario: str, agent_conf: str) -> Any:
    """``mamujoco_v1.parallel_env(scenario, agent_conf, agent_obsk=1)`` (import is slow: lazy)."""
    # gymnasium_robotics warns at import (a warning, and a notice printed to stderr) about
    # Adroit reward changes that do not concern these tasks; errors still propagate
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        from gymnasium_robotics import mamujoco_v1

        return mamujoco_v1.parallel_env(scenario, agent_conf, agent_obsk=1)


def _gather_index(raw: Any, action_dim: int) -> NDArray[np.intp]:
    """``idx`` with ``global_action = local_actions.reshape(-1)[idx]`` (MaMuJoCo's partition)."""
    n_global = int(raw.single_agent_env.action_space.shape[0])
    idx = np.full(n_global, -1, dtype=np.intp)
    for agent_id, partition in enumerate(raw.agent_action_partitions):
        for act_index, body_part in enumerate(partition):
            ids = np.atleast_1d(np.asarray(body_part.act_ids, dtype=np.intp))
            if (idx[ids] >= 0).any():
                raise ValueError(f"action partition defines global action(s) {ids} twice")
            idx[ids] = agent_id * action_dim + act_index
    if (idx < 0).any():
        raise ValueError(f"action partition leaves global action(s) {np.flatnonzero(idx < 0)}")
    return idx


class BatchedMaMuJoCo:
    """``num_envs`` MaMuJoCo environments stepped together (the :class:`BatchedEnv` form)."""

    def __init__(self, scenario: str, agent_conf: str, num_envs: int, name: str = "") -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1; got {num_envs!r}")
        self.num_envs = num_envs
        self.envs = [_make_raw(scenario, agent_conf) for _ in range(num_envs)]
        raw = self.envs[0]
        self.agent_names: tuple[str, ...] = tuple(raw.possible_agents)
        obs_dims = {int(raw.observation_space(a).shape[0]) for a in self.agent_names}
        act_dims = {int(raw.action_space(a).shape[0]) for a in self.agent_names}
        if len(obs_dims) != 1 or len(act_dims) != 1:
            raise ValueError(
                f"{scenario} {agent_conf}: agents differ in observation sizes {sorted(obs_dims)} "
                f"or action sizes {sorted(act_dims)}; the batched form needs equal sizes"
            )
        obs_dim, action_dim = obs_dims.pop(), act_dims.pop()
        state_dim = int(raw.single_agent_env.observation_space.shape[0])
        self.spec = TaskSpec(
            name=name or f"mamujoco-{scenario}-{agent_conf}",
            n_agents=len(self.agent_names),
            obs_dim=obs_dim,
            state_dim=state_dim,
            action_dim=action_dim,
            episode_limit=EPISODE_LIMIT,
            action_scale=1.0,
        )
        self._index = _gather_index(raw, action_dim)
        self._obs = np.zeros((num_envs, self.spec.n_agents, obs_dim))
        self._state = np.zeros((num_envs, state_dim))
        self._ret = np.zeros(num_envs)
        self._started = False

    def _observe(self, b: int) -> None:
        for i, o in enumerate(self.envs[b]._get_obs().values()):
            self._obs[b, i] = o

    def reset(self, seed: int) -> BatchStep:
        """Reset every environment with seeds spawned from ``seed`` (see the module docstring)."""
        children = np.random.SeedSequence(int(seed)).spawn(self.num_envs)
        for b, env in enumerate(self.envs):
            state, _ = env.single_agent_env.reset(seed=int(children[b].generate_state(1)[0]))
            env.agents = env.possible_agents
            self._state[b] = state
            self._observe(b)
        self._ret[:] = 0.0
        self._started = True
        zeros = np.zeros(self.num_envs)
        no = np.zeros(self.num_envs, dtype=np.bool_)
        obs, st = self._obs.copy(), self._state.copy()
        return BatchStep(obs, st, zeros, no, no.copy(), obs.copy(), st.copy(), zeros.copy())

    def step(self, actions: ArrayLike) -> BatchStep:
        """Step every environment once; finished ones are reset (their last observation is kept
        in ``final_obs`` / ``final_state``)."""
        if not self._started:
            raise ValueError("step() called before reset()")
        a = check_actions(actions, self.num_envs, self.spec).reshape(self.num_envs, -1)
        global_actions = a[:, self._index]
        b_all = self.num_envs
        reward = np.empty(b_all)
        terminated = np.zeros(b_all, dtype=np.bool_)
        truncated = np.zeros(b_all, dtype=np.bool_)
        for b, env in enumerate(self.envs):
            state, r, term, trunc, _ = env.single_agent_env.step(global_actions[b])
            self._state[b] = state
            self._observe(b)
            reward[b] = r
            terminated[b] = term
            truncated[b] = trunc
        self._ret += reward
        final_obs, final_state = self._obs.copy(), self._state.copy()
        done = terminated | truncated
        episode_return = np.where(done, self._ret, 0.0)
        for k in np.flatnonzero(done):
            state, _ = self.envs[k].single_agent_env.reset()
            self._state[k] = state
            self._observe(int(k))
            self._ret[k] = 0.0
        return BatchStep(
            obs=self._obs.copy(),
            state=self._state.copy(),
            reward=reward,
            terminated=terminated,
            truncated=truncated,
            final_obs=final_obs,
            final_state=final_state,
            episode_return=episode_return,
        )

    def close(self) -> None:
        """Close every simulator."""
        for env in self.envs:
            env.close()
