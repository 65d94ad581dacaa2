"""Particle Gather (paper Sec. 6, "(2) Particle Gather"): reference and batched forms.

Two particles move in the multi-agent particle world (Lowe et al., 2017; here mpe2's physics).
Each particle is driven by two agents, an *x-agent* and a *y-agent*; each agent's action is one
number ``a`` in ``[-1, 1]``, the force along its axis (out-of-range actions are clipped, NaN or
infinite ones rejected).  Agent layout: agents 0, 1 are particle 0's x- and y-agent, agents 2, 3
particle 1's (names ``p0_x, p0_y, p1_x, p1_y`` in the PettingZoo form).

Physics (mpe2's ``World.step`` with its defaults: ``dt = 0.1``, damping ``0.25``, action
sensitivity ``5.0``, mass ``1``, contact force ``1e2`` with margin ``1e-3``, entity size ``0.05``).
Per step, with ``F_j = 5 a_j`` the action force on particle ``j``::

    delta = p_0 - p_1,  d = |delta|
    c     = 100 * delta / d * softplus(-(d - 0.1) / 1e-3) * 1e-3     (particle-particle contact)
    F_0  += c,  F_1 -= c
    p_j  <- p_j + v_j * dt
    v_j  <- v_j * (1 - 0.25) + F_j / m * dt

The two particles collide with each other (mpe2's default for agents); the landmark is not a
collider (as in mpe2's ``simple_spread``) and stays fixed at the origin.

Episode: initial positions uniform in ``[-1, 1]^2`` per particle, redrawn while a particle starts
within the arrival radius; velocities zero.  A particle has *arrived* when its distance to the
landmark is at most ``arrival_radius`` (default ``0.1`` = particle size + landmark size: the two
discs touch).  After every step the shared reward is ``+5`` when both particles have arrived,
``-2`` when exactly one has and ``0`` otherwise; the episode *terminates* at the first step with
an arrival and is *truncated* after ``episode_limit = 25`` steps.  The best return is therefore
``5`` (both arrive at the same step), and ``reward_range = (-2, 5)``.

Observation (every agent) = global state, 8 numbers::

    [p_0 - L (2), v_0 (2), p_1 - L (2), v_1 (2)]      (L = landmark position = 0)

Seeding: environment ``b`` of a batch reset with ``seed`` draws its episodes from
``np.random.default_rng(np.random.SeedSequence(seed).spawn(B)[b])``, i.e. the child
``SeedSequence(seed, spawn_key=(b,))`` (:func:`env_rng`); its episodes take their initial
positions from that stream in blocks of 32 candidates (:class:`InitialPositions`).  The
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

from svnr_rl.envs.base import (
    BatchStep,
    BoolArray,
    FloatArray,
    TaskSpec,
    check_action_keys,
    check_actions,
)

IntArray = NDArray[np.intp]

# mpe2's world constants (checked against ``mpe2._mpe_utils.core`` by a test).
DT = 0.1
DAMPING = 0.25
SENSITIVITY = 5.0
MASS = 1.0
CONTACT_FORCE = 1e2
CONTACT_MARGIN = 1e-3
PARTICLE_SIZE = 0.05
LANDMARK_SIZE = 0.05

N_PARTICLES = 2
N_AGENTS = 4
STATE_DIM = 8
DEFAULT_ARRIVAL_RADIUS = PARTICLE_SIZE + LANDMARK_SIZE
DEFAULT_EPISODE_LIMIT = 25
REWARD_BOTH = 5.0
REWARD_ONE = -2.0
AGENT_NAMES: tuple[str, ...] = ("p0_x", "p0_y", "p1_x", "p1_y")


def _check_params(arrival_radius: float, episode_limit: int) -> tuple[float, int]:
    r = float(arrival_radius)
    if not (np.isfinite(r) and 0.0 < r <= 0.5):
        raise ValueError(f"arrival_radius must be in (0, 0.5]; got {arrival_radius!r}")
    if isinstance(episode_limit, bool) or not isinstance(episode_limit, int) or episode_limit < 1:
        raise ValueError(f"episode_limit must be an integer >= 1; got {episode_limit!r}")
    return r, episode_limit


def env_rng(seed: int, env_index: int = 0) -> np.random.Generator:
    """The random stream of environment ``env_index`` for a reset with ``seed``.

    Equal to ``np.random.default_rng(np.random.SeedSequence(seed).spawn(B)[env_index])``.
    """
    if env_index < 0:
        raise ValueError(f"env_index must be >= 0; got {env_index}")
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(env_index,)))


class InitialPositions:
    """Initial particle positions of ``B`` environments, each from its own random stream.

    Environment ``b`` owns a stream of candidate positions (relative to the landmark): the
    concatenation of the blocks ``rngs[b].uniform(-1, 1, size=(BLOCK, 2))``.  At each reset of
    ``b``, particle 0 and then particle 1 take the next candidates of the stream, skipping every
    candidate that would start arrived (:func:`arrived`).  The reset of many environments at once
    is vectorised; both forms of the task use this class, so equal seeds give equal episodes.
    """

    BLOCK = 32

    def __init__(self, rngs: list[np.random.Generator], arrival_radius: float) -> None:
        self._rngs = rngs
        self._radius = arrival_radius
        self._cand = np.empty((len(rngs), self.BLOCK, 2))
        self._ptr = np.full(len(rngs), self.BLOCK, dtype=np.intp)  # empty: refill on first use

    def _take(self, rows: IntArray) -> FloatArray:
        for b in rows[self._ptr[rows] >= self.BLOCK]:
            self._cand[b] = self._rngs[b].uniform(-1.0, 1.0, size=(self.BLOCK, 2))
            self._ptr[b] = 0
        out = self._cand[rows, self._ptr[rows]]
        self._ptr[rows] += 1
        return out

    def sample(self, rows: IntArray) -> FloatArray:
        """Positions ``[len(rows), 2, 2]`` for the (distinct) environments ``rows``."""
        out = np.empty((len(rows), N_PARTICLES, 2))
        for j in range(N_PARTICLES):
            pending = np.arange(len(rows))
            while pending.size:
                cand = self._take(rows[pending])
                out[pending, j] = cand
                pending = pending[arrived(cand, self._radius)]
        return out


def arrived(rel_pos: FloatArray, arrival_radius: float) -> BoolArray:
    """``|p - L| <= arrival_radius`` for positions relative to the landmark, shape ``[..., 2]``."""
    return np.asarray(np.sqrt(np.sum(np.square(rel_pos), axis=-1)) <= arrival_radius)


def gather_reward(n_arrived: IntArray) -> FloatArray:
    """Shared reward from the number of arrived particles: ``+5`` (2), ``-2`` (1), ``0`` (0)."""
    return np.where(n_arrived == 2, REWARD_BOTH, np.where(n_arrived == 1, REWARD_ONE, 0.0))


def task_spec(arrival_radius: float, episode_limit: int) -> TaskSpec:
    """The :class:`TaskSpec` of Particle Gather."""
    return TaskSpec(
        name="particle-gather",
        n_agents=N_AGENTS,
        obs_dim=STATE_DIM,
        state_dim=STATE_DIM,
        action_dim=1,
        episode_limit=episode_limit,
        action_scale=1.0,
        reward_range=(REWARD_ONE, REWARD_BOTH),
        optimum_value=None,
    )


# ---------------------------------------------------------------------------------------------
# Reference form: mpe2's World, as a PettingZoo ParallelEnv
# ---------------------------------------------------------------------------------------------


class ParticleGatherParallelEnv(ParallelEnv):  # type: ignore[misc]
    """Reference Particle Gather on mpe2's ``World`` (its own ``World.step`` does the physics).

    ``reset(seed, options={"env_index": b})`` selects the stream :func:`env_rng` ``(seed, b)``
    (``env_index`` defaults to 0; other option keys are ignored).
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "particle_gather_v0",
        "render_modes": [],
        "is_parallelizable": True,
    }

    def __init__(
        self,
        arrival_radius: float = DEFAULT_ARRIVAL_RADIUS,
        episode_limit: int = DEFAULT_EPISODE_LIMIT,
    ) -> None:
        self.arrival_radius, self.episode_limit = _check_params(arrival_radius, episode_limit)
        self.spec = task_spec(self.arrival_radius, self.episode_limit)
        world = World()
        world.dim_c = 0
        world.agents = [Agent() for _ in range(N_PARTICLES)]
        for j, particle in enumerate(world.agents):
            particle.name = f"particle_{j}"
            particle.silent = True
            particle.collide = True
            particle.size = PARTICLE_SIZE
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
        if seed is not None:
            self._init = InitialPositions([env_rng(int(seed), env_index)], self.arrival_radius)
        elif self._init is None:
            rng = np.random.default_rng(np.random.SeedSequence().spawn(1)[0])
            self._init = InitialPositions([rng], self.arrival_radius)
        pos = self._init.sample(np.zeros(1, dtype=np.intp))[0]
        for j, particle in enumerate(self.world.agents):
            particle.state.p_pos = self.world.landmarks[0].state.p_pos + pos[j]
            particle.state.p_vel = np.zeros(2)
            particle.state.c = np.zeros(0)
        self._t = 0
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
        term = bool(n_arrived > 0)
        trunc = (not term) and self._t >= self.episode_limit
        names = self.agents
        obs = self._obs()
        if term or trunc:
            self.agents = []
        return (
            obs,
            dict.fromkeys(names, reward),
            dict.fromkeys(names, term),
            dict.fromkeys(names, trunc),
            {a: {} for a in names},
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
    Actions ``[B, 4, 1]`` reshape to ``[B, 2, 2]`` in the agent layout above.
    """

    def __init__(
        self,
        num_envs: int,
        arrival_radius: float = DEFAULT_ARRIVAL_RADIUS,
        episode_limit: int = DEFAULT_EPISODE_LIMIT,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1; got {num_envs!r}")
        self.num_envs = num_envs
        self.arrival_radius, self.episode_limit = _check_params(arrival_radius, episode_limit)
        self.spec = task_spec(self.arrival_radius, self.episode_limit)
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
        self._init = InitialPositions(rngs, self.arrival_radius)
        self._reset_rows(np.arange(self.num_envs))
        state = self._state()
        obs = self._obs(state)
        zeros = np.zeros(self.num_envs)
        no = np.zeros(self.num_envs, dtype=np.bool_)
        return BatchStep(obs, state, zeros, no, no.copy(), obs.copy(), state.copy(), zeros.copy())

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
        penetration = np.logaddexp(0, -(dist - (PARTICLE_SIZE + PARTICLE_SIZE)) / k) * k
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
        terminated = n_arrived > 0
        truncated = ~terminated & (self._t >= self.episode_limit)
        self._ret += reward
        final_state = self._state()
        done = terminated | truncated
        episode_return = np.where(done, self._ret, 0.0)
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
        )

    def close(self) -> None:
        """Nothing to release."""
