"""PettingZoo ``ParallelEnv`` facades over the batched tasks.

:class:`BatchedParallelEnv` turns any :class:`~svnr_rl.envs.base.BatchedEnv` built with
``num_envs = 1`` into a standard PettingZoo ``ParallelEnv`` so that any MARL code can use the
task.  (Particle Gather has its own reference ``ParallelEnv`` on mpe2's world,
:class:`svnr_rl.envs.particle_gather.ParticleGatherParallelEnv`.)

Conventions of the facade:

* **Actions are in the task's native units**: agent ``i`` takes a ``Box(-s, s, (action_dim,))``
  with ``s = TaskSpec.action_scale`` (``[-10, 10]`` for the differential games, ``[-1, 1]``
  otherwise); the facade divides by ``s`` and hands the normalised action to the batched task,
  which clips it to ``[-1, 1]`` (so native actions are clipped to ``[-s, s]``).  A missing or
  unknown agent, a wrong shape, NaN or infinity raises ``ValueError`` naming the agent.
* When an episode ends, every agent's ``infos`` holds the task's per-episode figures
  (``BatchStep.episode_info`` of the batched form, e.g. ``miscoordinated`` of a coordination
  game); otherwise, and for tasks without figures, ``infos`` are empty.
* Observations are ``float64`` vectors of length ``obs_dim``; :meth:`state` is the global state
  (``state_dim``).  When the episode ends every agent is terminated (or truncated) together and
  ``agents`` becomes empty; call :meth:`reset` again.
* Seeding: ``reset(seed=s)`` resets the batched task with seed ``s``.  ``reset()`` without a seed
  continues the random stream of the last seeded reset: after a finished episode it starts the
  episode that the batched task has already begun by automatic reset (exactly as in the batched
  form); mid-episode, or before any seeded reset, it reseeds the task from a seed drawn from an
  internal generator (itself seeded by the last explicit seed, or by OS entropy if there was none).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from svnr_rl.envs.base import BatchedEnv, BatchStep, FloatArray, check_action_keys


class BatchedParallelEnv(ParallelEnv):  # type: ignore[misc]
    """PettingZoo ``ParallelEnv`` over a single-environment :class:`BatchedEnv`."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": [], "is_parallelizable": True}

    def __init__(self, env: BatchedEnv, agent_names: list[str] | None = None) -> None:
        if env.num_envs != 1:
            raise ValueError(
                f"env must have num_envs = 1 for the ParallelEnv facade; got {env.num_envs}"
            )
        spec = env.spec
        names = agent_names or [f"agent_{i}" for i in range(spec.n_agents)]
        if len(names) != spec.n_agents or len(set(names)) != len(names):
            raise ValueError(
                f"agent_names must be {spec.n_agents} distinct names; got {agent_names!r}"
            )
        self.env = env
        self.spec = spec
        self.possible_agents: list[str] = list(names)
        self.agents: list[str] = []
        scale = float(spec.action_scale)
        self._action_spaces = {
            a: spaces.Box(-scale, scale, shape=(spec.action_dim,), dtype=np.float64) for a in names
        }
        self._observation_spaces = {
            a: spaces.Box(-np.inf, np.inf, shape=(spec.obs_dim,), dtype=np.float64) for a in names
        }
        self.state_space = spaces.Box(-np.inf, np.inf, shape=(spec.state_dim,), dtype=np.float64)
        self._seed_rng = np.random.default_rng()
        self._last: BatchStep | None = None
        self._pending: BatchStep | None = None  # the auto-reset episode after a finished one

    # -- spaces ---------------------------------------------------------------------------
    def observation_space(self, agent: str) -> spaces.Box:
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Box:
        return self._action_spaces[agent]

    # -- helpers --------------------------------------------------------------------------
    def _obs_dict(self, obs: FloatArray) -> dict[str, FloatArray]:
        return {a: obs[0, i].copy() for i, a in enumerate(self.possible_agents)}

    def state(self) -> FloatArray:
        """The global state of the current episode, shape ``(state_dim,)``."""
        if self._last is None:
            raise ValueError("state() called before reset()")
        return np.array(self._last.state[0], dtype=np.float64)

    # -- API ------------------------------------------------------------------------------
    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, FloatArray], dict[str, dict[str, Any]]]:
        if seed is not None:
            self._seed_rng = np.random.default_rng(seed)
            out = self.env.reset(int(seed))
        elif self._pending is not None:
            out = self._pending
        else:
            out = self.env.reset(int(self._seed_rng.integers(2**31 - 1)))
        self._pending = None
        self._last = out
        self.agents = list(self.possible_agents)
        return self._obs_dict(out.obs), {a: {} for a in self.agents}

    def step(
        self, actions: dict[str, Any]
    ) -> tuple[
        dict[str, FloatArray],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        check_action_keys(self.agents, actions)
        spec = self.spec
        batch = np.empty((1, spec.n_agents, spec.action_dim))
        for i, a in enumerate(self.possible_agents):
            if a not in actions:
                raise ValueError(f"missing action for agent {a!r}")
            act = np.asarray(actions[a], dtype=np.float64).reshape(-1)
            if act.shape != (spec.action_dim,):
                raise ValueError(
                    f"action of agent {a!r} must have {spec.action_dim} entries; got "
                    f"shape {np.shape(actions[a])}"
                )
            if not np.isfinite(act).all():
                raise ValueError(f"action of agent {a!r} is not finite: {act!r}")
            batch[0, i] = act / spec.action_scale
        out = self.env.step(batch)
        done = bool(out.terminated[0] or out.truncated[0])
        obs = out.final_obs if done else out.obs
        reward = float(out.reward[0])
        term, trunc = bool(out.terminated[0]), bool(out.truncated[0])
        names = self.agents
        result: tuple[
            dict[str, FloatArray],
            dict[str, float],
            dict[str, bool],
            dict[str, bool],
            dict[str, dict[str, Any]],
        ] = (
            self._obs_dict(obs),
            dict.fromkeys(names, reward),
            dict.fromkeys(names, term),
            dict.fromkeys(names, trunc),
            # the batched form's per-episode figures, in every agent's infos of the last step
            {
                a: {k: float(v[0]) for k, v in out.episode_info.items()} if done else {}
                for a in names
            },
        )
        if done:
            self._last = BatchStep(
                obs=out.final_obs,
                state=out.final_state,
                reward=out.reward,
                terminated=out.terminated,
                truncated=out.truncated,
                final_obs=out.final_obs,
                final_state=out.final_state,
                episode_return=out.episode_return,
            )
            self._pending = out
            self.agents = []
        else:
            self._last = out
        return result

    def close(self) -> None:
        self.env.close()
