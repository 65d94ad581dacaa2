"""The optional centralized reference of the Particle Gather card: stable-baselines3's SAC on the
joint action (``python -m svnr_rl.particle_gather_card ... --sac-steps N``).

stable-baselines3 is the optional ``anchors`` extra (``pip install -c constraints.txt -e
".[anchors]"``) and is imported only when :func:`sac_policy` runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from svnr_rl.envs.gather_rules import Variant
from svnr_rl.envs.particle_gather import BatchedParticleGather

__all__ = ["sac_policy"]

FloatArray = NDArray[np.float64]
Policy = Callable[[FloatArray], FloatArray]


def sac_policy(variant: Variant, steps: int, seed: int) -> Policy:
    """Train stable-baselines3's SAC (its defaults; CPU, one thread) for ``steps`` steps on the
    joint action ``[4]`` from the global state of one ``variant`` environment, and return its
    deterministic policy.  A centralized reference (one learner sees and moves everything), so
    an upper bound of what the decentralized methods should reach, if it learns at all."""
    try:
        import gymnasium as gym
        from stable_baselines3 import SAC
    except ImportError:
        raise ValueError(
            '--sac-steps needs stable-baselines3: pip install -c constraints.txt -e ".[anchors]"'
        ) from None
    import torch

    torch.set_num_threads(1)

    class JointGather(gym.Env):
        """One environment of ``variant``, the joint action as one agent's (gymnasium API)."""

        def __init__(self) -> None:
            self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(8,), dtype=np.float32)
            self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)
            self._env = BatchedParticleGather(1, variant.name, **variant.params())
            self._next: FloatArray | None = None

        def reset(
            self, *, seed: int | None = None, options: dict[str, Any] | None = None
        ) -> tuple[NDArray[np.float32], dict[str, Any]]:
            if seed is not None or self._next is None:
                self._next = self._env.reset(seed if seed is not None else 0).state[0]
            return self._next.astype(np.float32), {}

        def step(
            self, action: NDArray[np.float32]
        ) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
            out = self._env.step(np.asarray(action, dtype=np.float64).reshape(1, 4, 1))
            self._next = out.state[0]  # the automatic reset's start when the episode ended
            return (
                out.final_state[0].astype(np.float32),
                float(out.reward[0]),
                bool(out.terminated[0]),
                bool(out.truncated[0]),
                {},
            )

    model = SAC("MlpPolicy", JointGather(), seed=seed, device="cpu", verbose=0)
    model.learn(total_timesteps=steps)

    def act(state: FloatArray) -> FloatArray:
        joint, _ = model.predict(state.astype(np.float32), deterministic=True)
        out: FloatArray = np.asarray(joint, dtype=np.float64).reshape(state.shape[0], 4, 1)
        return out

    return act
