"""Batched single-step games: the :class:`~svnr_rl.envs.base.BatchedEnv` form of the paper's
differential games (Sec. 6) and of the coordination games (:mod:`svnr_core.coordination_games`).

The reward is the game's ``reward`` -- for the differential games
:meth:`svnr_core.differential_games.DifferentialGame.reward` (the paper's ``r = max(g_1, g_2)``,
not the older reference code's variant); this module only batches it.  Any
:class:`~svnr_core.coordination_games.SingleStepGame` is served.

* **Single-step episodes**: every step is terminal (``terminated`` is all ``True``), so the critic
  regresses ``r`` directly and the discount is irrelevant.  ``episode_limit = 1``.
* **Actions**: normalised ``a`` in ``[-1, 1]`` shaped ``[B, N, 1]`` (clipped, NaN/inf rejected by
  :func:`~svnr_rl.envs.base.check_actions`), scaled to native units ``u = action_scale * a`` with
  ``TaskSpec.action_scale = action_bound = 10``.
* **Observation and state**: the game is stateless, so both are a single constant feature ``0.0``
  (``obs`` is ``[B, N, 1]`` of zeros, ``state`` is ``[B, 1]`` of zeros).
* ``TaskSpec.optimum_value`` is the game's optimum (10 for both presets), so evaluation can report
  the gap to it; ``reward_range`` is ``(game.reward_lower_bound, optimum)``.
* ``BatchStep.episode_info``: a :class:`~svnr_core.coordination_games.CoordinationGame` reports
  its figures of each step's joint action (``miscoordinated``, 0/1; every step ends an episode);
  the differential games report none (empty, as before).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from svnr_core.coordination_games import CoordinationGame, SingleStepGame
from svnr_rl.envs.base import BatchStep, FloatArray, TaskSpec, check_actions


class DifferentialGameEnv:
    """``num_envs`` copies of a single-step game (e.g. a ``DifferentialGame``), stepped together.

    ``reset(seed)`` has nothing random to seed (the game is deterministic and stateless); the seed
    is accepted for the common interface.  ``step`` returns ``reward[b] = r(b_u * a[b, :, 0])``
    (``b_u`` the game's action bound) with every environment terminated and immediately reset.
    """

    def __init__(self, game: SingleStepGame, num_envs: int, name: str = "differential") -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1; got {num_envs!r}")
        self.game = game
        self.num_envs = num_envs
        self.spec = TaskSpec(
            name=name,
            n_agents=game.n_agents,
            obs_dim=1,
            state_dim=1,
            action_dim=1,
            episode_limit=1,
            action_scale=game.action_bound,
            reward_range=(game.reward_lower_bound, game.optimum_value),
            optimum_value=game.optimum_value,
        )

    def native_actions(self, actions: ArrayLike) -> FloatArray:
        """Validated normalised actions ``[B, N, 1]`` -> native joint actions ``u`` ``[B, N]``."""
        return check_actions(actions, self.num_envs, self.spec)[..., 0] * self.spec.action_scale

    def _result(
        self, reward: FloatArray, done: bool, info: dict[str, FloatArray] | None = None
    ) -> BatchStep:
        b, n = self.num_envs, self.spec.n_agents
        obs = np.zeros((b, n, 1))
        state = np.zeros((b, 1))
        return BatchStep(
            obs=obs,
            state=state,
            reward=reward,
            terminated=np.full(b, done),
            truncated=np.zeros(b, dtype=np.bool_),
            final_obs=obs,
            final_state=state,
            episode_return=reward.copy() if done else np.zeros(b),
            episode_info=info or {},
        )

    def reset(self, seed: int) -> BatchStep:
        """Start all environments (``seed`` is unused: the game has no randomness)."""
        return self._result(np.zeros(self.num_envs), done=False)

    def step(self, actions: ArrayLike) -> BatchStep:
        """One single-step episode per environment: reward ``r(u)``, all terminated.

        ``final_obs``/``final_state`` are the same (constant) arrays as ``obs``/``state``.
        """
        u = self.native_actions(actions)
        reward = np.asarray(self.game.reward(u), dtype=np.float64)
        info: dict[str, FloatArray] = {}
        if isinstance(self.game, CoordinationGame):
            info = {
                k: np.asarray(v, dtype=np.float64) for k, v in self.game.episode_figures(u).items()
            }
        return self._result(reward, done=True, info=info)

    def close(self) -> None:
        """Nothing to release."""


__all__ = ["DifferentialGameEnv"]
