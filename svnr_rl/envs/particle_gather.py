"""Particle Gather (paper Sec. 6, "(2) Particle Gather"): reference and batched forms of both
variants (their rules, parameters and initial positions: :mod:`svnr_rl.envs.gather_rules`).

Two particles move in the multi-agent particle world (Lowe et al., 2017; here mpe2's physics).
Each particle is driven by two agents, an *x-agent* and a *y-agent*; each agent's action is one
number ``a`` in ``[-1, 1]``, the force along its axis (out-of-range actions are clipped, NaN or
infinite ones rejected).  Agent layout: agents 0, 1 are particle 0's x- and y-agent, agents 2, 3
particle 1's (names ``p0_x, p0_y, p1_x, p1_y`` in the PettingZoo form).

Physics (mpe2's ``World.step`` with its defaults: ``dt = 0.1``, damping ``0.25``, action
sensitivity ``5.0``, mass ``1``, contact force ``1e2`` with margin ``1e-3``).  Per step, with
``F_j = 5 a_j`` the action force on particle ``j`` and ``s`` the particle size::

    delta = p_0 - p_1,  d = |delta|
    c     = 100 * delta / d * softplus(-(d - 2 s) / 1e-3) * 1e-3     (particle-particle contact)
    F_0  += c,  F_1 -= c
    p_j  <- p_j + v_j * dt
    v_j  <- v_j * (1 - 0.25) + F_j / m * dt

The two particles collide with each other (mpe2's default for agents); the landmark (size
``0.05``) is not a collider (as in mpe2's ``simple_spread``) and stays fixed at the origin.  A
particle has *arrived* when its distance to the landmark is at most ``arrival_radius``; after
every step the shared reward is ``+5`` when both particles have arrived, ``-2`` when exactly one
has and ``0`` otherwise; ``reward_range = (-2, 5)`` per step.  ``particle-gather`` never
terminates (25 steps), ``particle-gather-terminal`` terminates at the first arrival.  A finished
episode's figures: :data:`EPISODE_INFO_KEYS`.

Observation (every agent) = global state, 8 numbers::

    [p_0 - L (2), v_0 (2), p_1 - L (2), v_1 (2)]      (L = landmark position = 0)

Seeding (:func:`~svnr_rl.envs.gather_rules.env_rng`): environment ``b`` of a batch reset with
``seed`` draws its initial positions from the stream ``SeedSequence(seed, spawn_key=(b,))``; the
reference ``ParallelEnv`` reset with ``seed`` and ``options={"env_index": b}`` uses the same
stream, and a later ``reset()`` without a seed continues it, so the two forms give identical
trajectories for the same seeds and actions.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from mpe2._mpe_utils.core import Agent, Landmark, World
from numpy.typing import ArrayLike, NDArray
from pettingzoo import ParallelEnv

from svnr_rl.envs.base import BatchStep, FloatArray, TaskSpec, check_action_keys, check_actions
from svnr_rl.envs.gather_rules import (
    ITERATED,
    LANDMARK_SIZE,
    N_PARTICLES,
    REWARD_BOTH,
    REWARD_ONE,
    InitialPositions,
    Variant,
    arrived,
    env_rng,
    gather_reward,
    initial_positions,
    make_variant,
)

IntArray = NDArray[np.intp]

# mpe2's world constants (checked against ``mpe2._mpe_utils.core`` by a test).
DT = 0.1
DAMPING = 0.25
SENSITIVITY = 5.0
MASS = 1.0
CONTACT_FORCE = 1e2
CONTACT_MARGIN = 1e-3
N_AGENTS = 4
STATE_DIM = 8
AGENT_NAMES: tuple[str, ...] = ("p0_x", "p0_y", "p1_x", "p1_y")
#: a finished episode's length, per-step mean reward (return / length) and last-step reward:
#: the keys of ``BatchStep.episode_info`` in the batched form; in the PettingZoo form, with
#: ``episode_return``, of every agent's ``infos`` of the episode's last step
EPISODE_INFO_KEYS: tuple[str, ...] = (
    "episode_length",
    "episode_mean_reward",
    "episode_last_reward",
)


def task_spec(variant: Variant) -> TaskSpec:
    """The :class:`TaskSpec` of a Particle Gather variant (``reward_range`` is per step)."""
    return TaskSpec(
        name=variant.name,
        n_agents=N_AGENTS,
        obs_dim=STATE_DIM,
        state_dim=STATE_DIM,
        action_dim=1,
        episode_limit=variant.episode_limit,
        action_scale=1.0,
        reward_range=(REWARD_ONE, REWARD_BOTH),
        optimum_value=None,
    )


def _episode_info(ret: float, length: int, last_reward: float) -> dict[str, float]:
    """The PettingZoo ``infos`` entry of an episode's last step (equal to the batched form's
    ``episode_return`` and ``episode_info`` rows)."""
    return {
        "episode_return": ret,
        "episode_length": float(length),
        "episode_mean_reward": ret / length,
        "episode_last_reward": last_reward,
    }


# ---------------------------------------------------------------------------------------------
# Reference form: mpe2's World, as a PettingZoo ParallelEnv
# ---------------------------------------------------------------------------------------------


class ParticleGatherParallelEnv(ParallelEnv):  # type: ignore[misc]
    """Reference Particle Gather on mpe2's ``World`` (its own ``World.step`` does the physics).

    ``variant`` is a task name of :data:`VARIANTS`; the other parameters replace the variant's
    defaults (:func:`make_variant`).  ``reset(seed, options={"env_index": b})`` selects the
    stream :func:`env_rng` ``(seed, b)`` (``env_index`` defaults to 0; other option keys are
    ignored).
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "particle_gather_v0",
        "render_modes": [],
        "is_parallelizable": True,
    }

    def __init__(
        self,
        variant: str = ITERATED,
        *,
        arrival_radius: float | None = None,
        episode_limit: int | None = None,
        particle_size: float | None = None,
        start_half_width: float | None = None,
    ) -> None:
        self.variant = make_variant(
            variant, arrival_radius, episode_limit, particle_size, start_half_width
        )
        self.arrival_radius = self.variant.arrival_radius
        self.episode_limit = self.variant.episode_limit
        self.spec = task_spec(self.variant)
        world = World()
        world.dim_c = 0
        world.agents = [Agent() for _ in range(N_PARTICLES)]
        for j, particle in enumerate(world.agents):
            particle.name = f"particle_{j}"
            particle.silent = True
            particle.collide = True
            particle.size = self.variant.particle_size
        landmark = Landmark()
        landmark.name = "landmark"
        landmark.collide = False
        landmark.movable = False
        landmark.size = LANDMARK_SIZE
        landmark.state.p_pos = np.zeros(2)
        landmark.state.p_vel = np.zeros(2)
        world.landmarks = [landmark]
        self.world = world
        self.possible_agents: list[str] = list(AGENT_NAMES)
        self.agents: list[str] = []
        self._action_spaces = {
            a: spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float64) for a in AGENT_NAMES
        }
        self._observation_spaces = {
            a: spaces.Box(-np.inf, np.inf, shape=(STATE_DIM,), dtype=np.float64)
            for a in AGENT_NAMES
        }
        self.state_space = spaces.Box(-np.inf, np.inf, shape=(STATE_DIM,), dtype=np.float64)
        self._init: InitialPositions | None = None
        self._t = 0
        self._ret = 0.0

    def observation_space(self, agent: str) -> spaces.Box:
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Box:
        return self._action_spaces[agent]

    def state(self) -> FloatArray:
        """``[p_0 - L, v_0, p_1 - L, v_1]`` (8 numbers)."""
        landmark = self.world.landmarks[0].state.p_pos
        parts = []
        for particle in self.world.agents:
            parts += [particle.state.p_pos - landmark, particle.state.p_vel]
        return np.concatenate(parts)

    def _obs(self) -> dict[str, FloatArray]:
        s = self.state()
        return {a: s.copy() for a in self.agents}

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, FloatArray], dict[str, dict[str, Any]]]:
        env_index = int((options or {}).get("env_index", 0))
        if seed is not None or self._init is None:
            rng = env_rng(int(seed), env_index) if seed is not None else np.random.default_rng()
            self._init = initial_positions([rng], self.variant)
        pos = self._init.sample(np.zeros(1, dtype=np.intp))[0]
        for j, particle in enumerate(self.world.agents):
            particle.state.p_pos = self.world.landmarks[0].state.p_pos + pos[j]
            particle.state.p_vel = np.zeros(2)
            particle.state.c = np.zeros(0)
        self._t = 0
        self._ret = 0.0
        self.agents = list(self.possible_agents)
        return self._obs(), {a: {} for a in self.agents}

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
        forces = np.empty((N_PARTICLES, 2))
        for i, name in enumerate(AGENT_NAMES):
            if name not in actions:
                raise ValueError(f"missing action for agent {name!r}")
            a = np.asarray(actions[name], dtype=np.float64).reshape(-1)
            if a.shape != (1,):
                raise ValueError(
                    f"action of agent {name!r} must have 1 entry; got shape "
                    f"{np.shape(actions[name])}"
                )
            if not np.isfinite(a[0]):
                raise ValueError(f"action of agent {name!r} is not finite: {a[0]!r}")
            forces[i // 2, i % 2] = np.clip(a[0], -1.0, 1.0)
        for j, particle in enumerate(self.world.agents):
            # as mpe2's SimpleEnv._set_action: u = 0 + action, then u *= sensitivity
            u = np.zeros(self.world.dim_p)
            u += forces[j]
            u *= SENSITIVITY
            particle.action.u = u
        self.world.step()
        self._t += 1
        landmark = self.world.landmarks[0].state.p_pos
        rel = np.stack([p.state.p_pos - landmark for p in self.world.agents])
        n_arrived = np.asarray(arrived(rel, self.arrival_radius).sum())
        reward = float(gather_reward(n_arrived))
        self._ret += reward
        term = self.variant.terminal and bool(n_arrived > 0)
        trunc = (not term) and self._t >= self.episode_limit
        names = self.agents
        obs = self._obs()
        infos: dict[str, dict[str, Any]] = {a: {} for a in names}
        if term or trunc:
            self.agents = []
            info = _episode_info(self._ret, self._t, reward)
            infos = {a: dict(info) for a in names}
        return (
            obs,
            dict.fromkeys(names, reward),
            dict.fromkeys(names, term),
            dict.fromkeys(names, trunc),
            infos,
        )

    def close(self) -> None:
        """Nothing to release."""


# ---------------------------------------------------------------------------------------------
# Batched form: the same physics vectorised over B environments
# ---------------------------------------------------------------------------------------------


class BatchedParticleGather:
    """``num_envs`` Particle Gather environments in arrays (the :class:`BatchedEnv` form).

    Reproduces mpe2's integration order exactly (see the module docstring), vectorised over the
    batch: positions and velocities are ``[B, 2, 2]`` arrays (environment, particle, axis).
    Actions ``[B, 4, 1]`` reshape to ``[B, 2, 2]`` in the agent layout above.  ``variant`` and
    the parameters as for :class:`ParticleGatherParallelEnv`.
    """

    def __init__(
        self,
        num_envs: int,
        variant: str = ITERATED,
        *,
        arrival_radius: float | None = None,
        episode_limit: int | None = None,
        particle_size: float | None = None,
        start_half_width: float | None = None,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1; got {num_envs!r}")
        self.num_envs = num_envs
        self.variant = make_variant(
            variant, arrival_radius, episode_limit, particle_size, start_half_width
        )
        self.arrival_radius = self.variant.arrival_radius
        self.episode_limit = self.variant.episode_limit
        self.spec = task_spec(self.variant)
        b = num_envs
        self._pos = np.zeros((b, N_PARTICLES, 2))  # relative to the landmark (at the origin)
        self._vel = np.zeros((b, N_PARTICLES, 2))
        self._t = np.zeros(b, dtype=np.int64)
        self._ret = np.zeros(b)
        self._init: InitialPositions | None = None

    def _state(self) -> FloatArray:
        return np.concatenate([self._pos, self._vel], axis=-1).reshape(self.num_envs, STATE_DIM)

    def _obs(self, state: FloatArray) -> FloatArray:
        return np.tile(state, (1, N_AGENTS)).reshape(self.num_envs, N_AGENTS, STATE_DIM)

    def _reset_rows(self, rows: IntArray) -> None:
        assert self._init is not None
        self._pos[rows] = self._init.sample(rows)
        self._vel[rows] = 0.0
        self._t[rows] = 0
        self._ret[rows] = 0.0

    def reset(self, seed: int) -> BatchStep:
        """Reset every environment; environment ``b`` draws from :func:`env_rng` ``(seed, b)``."""
        rngs = [
            np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(self.num_envs)
        ]
        self._init = initial_positions(rngs, self.variant)
        self._reset_rows(np.arange(self.num_envs))
        state = self._state()
        obs = self._obs(state)
        zeros = np.zeros(self.num_envs)
        no = np.zeros(self.num_envs, dtype=np.bool_)
        info = {k: zeros.copy() for k in EPISODE_INFO_KEYS}
        return BatchStep(
            obs, state, zeros, no, no.copy(), obs.copy(), state.copy(), zeros.copy(), info
        )

    def step(self, actions: ArrayLike) -> BatchStep:
        """One physics step of every environment, reward, and automatic reset of finished ones."""
        if self._init is None:
            raise ValueError("step() called before reset()")
        a = check_actions(actions, self.num_envs, self.spec)
        force = a.reshape(self.num_envs, N_PARTICLES, 2) * SENSITIVITY
        # particle-particle contact, as mpe2's World.get_collision_force (same operation order)
        delta = self._pos[:, 0] - self._pos[:, 1]
        dist = np.sqrt(np.sum(np.square(delta), axis=-1))
        k = CONTACT_MARGIN
        size = self.variant.particle_size
        penetration = np.logaddexp(0, -(dist - (size + size)) / k) * k
        contact = CONTACT_FORCE * delta / dist[:, None] * penetration[:, None]
        force[:, 0] = contact + force[:, 0]
        force[:, 1] = -contact + force[:, 1]
        # World.integrate_state
        self._pos += self._vel * DT
        self._vel = self._vel * (1 - DAMPING)
        self._vel += (force / MASS) * DT
        self._t += 1

        n_arrived = arrived(self._pos, self.arrival_radius).sum(axis=-1)
        reward = gather_reward(n_arrived)
        if self.variant.terminal:
            terminated = n_arrived > 0
        else:
            terminated = np.zeros(self.num_envs, dtype=np.bool_)
        truncated = ~terminated & (self._t >= self.episode_limit)
        self._ret += reward
        final_state = self._state()
        done = terminated | truncated
        episode_return = np.where(done, self._ret, 0.0)
        length = self._t.astype(np.float64)
        info = {
            "episode_length": np.where(done, length, 0.0),
            "episode_mean_reward": np.where(done, self._ret / length, 0.0),
            "episode_last_reward": np.where(done, reward, 0.0),
        }
        final_obs = self._obs(final_state)
        if done.any():
            self._reset_rows(np.flatnonzero(done))
            state = self._state()
            obs = self._obs(state)
        else:  # nothing finished: final_* are the same arrays as obs/state
            state, obs = final_state, final_obs
        return BatchStep(
            obs=obs,
            state=state,
            reward=reward,
            terminated=terminated,
            truncated=truncated,
            final_obs=final_obs,
            final_state=final_state,
            episode_return=episode_return,
            episode_info=info,
        )

    def close(self) -> None:
        """Nothing to release."""
