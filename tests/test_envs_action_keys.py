"""Every PettingZoo form rejects a malformed action dict with a message naming the problem."""

from __future__ import annotations

import numpy as np
import pytest

from svnr_rl.envs import make_parallel


@pytest.mark.parametrize("task", ["max-of-three", "particle-gather", "particle-gather-terminal"])
def test_action_dict_errors(task: str) -> None:
    env = make_parallel(task)
    with pytest.raises(ValueError, match="call reset"):
        env.step({})
    env.reset(seed=0)
    good = {a: np.zeros(env.action_space(a).shape) for a in env.agents}
    with pytest.raises(ValueError, match="unknown or finished agents"):
        env.step({**good, "agent_99": np.zeros(1)})
    with pytest.raises(ValueError, match="must be a dict"):
        env.step([0.0] * len(good))
    env.step(good)  # the well-formed dict still works after the rejected ones
