"""Replay memory of joint transitions, sampled with one index set for all agents.

Each row is one transition of the team: local observations of every agent, the global state,
the joint action, the shared reward, the next observations/state and the ``terminated`` flag
(truncation is *not* terminal: the target bootstraps).  A batch is ``rows[idx]`` for a single
index vector ``idx``, so every agent sees the same transitions (NOTES.md: all agents must sample
replay batches with one shared index set).  Indices come from a dedicated ``torch.Generator``
whose state is checkpointed, so sampling resumes exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["Batch", "ReplayBuffer"]

_FIELDS = ("obs", "state", "action", "reward", "next_obs", "next_state", "terminated")


@dataclass(frozen=True)
class Batch:
    """A sampled batch; leading axis ``B``; ``action`` is ``[B, N, action_dim]``."""

    obs: Tensor
    state: Tensor
    action: Tensor
    reward: Tensor
    next_obs: Tensor
    next_state: Tensor
    terminated: Tensor


class ReplayBuffer:
    """A ring buffer of ``capacity`` joint transitions stored on ``device`` in ``dtype``."""

    def __init__(
        self,
        capacity: int,
        n_agents: int,
        obs_dim: int,
        state_dim: int,
        action_dim: int,
        *,
        device: torch.device,
        dtype: torch.dtype,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1; got {capacity}")
        self.capacity = capacity
        self.device = device
        self.dtype = dtype
        self.shapes: dict[str, tuple[int, ...]] = {
            "obs": (n_agents, obs_dim),
            "state": (state_dim,),
            "action": (n_agents, action_dim),
            "reward": (),
            "next_obs": (n_agents, obs_dim),
            "next_state": (state_dim,),
            "terminated": (),
        }
        self._data: dict[str, Tensor] = {}
        self._allocated = 0
        self.ptr = 0
        self.size = 0

    def _ensure(self, need: int) -> None:
        """Grow storage geometrically up to ``capacity`` (no huge allocation up front)."""
        if need <= self._allocated:
            return
        new = min(self.capacity, max(need, 2 * self._allocated, 1024))
        for k, shp in self.shapes.items():
            t = torch.zeros((new, *shp), dtype=self.dtype, device=self.device)
            if k in self._data:
                t[: self._allocated] = self._data[k]
            self._data[k] = t
        self._allocated = new

    def add(self, **rows: Tensor) -> None:
        """Append a batch of ``b`` transitions (keyword per field, leading axis ``b``)."""
        if set(rows) != set(_FIELDS):
            raise ValueError(f"add() needs exactly the fields {_FIELDS}; got {sorted(rows)}")
        b = int(rows["reward"].shape[0])
        self._ensure(min(self.capacity, self.size + b))
        idx = (torch.arange(b) + self.ptr) % self.capacity
        idx_dev = idx.to(self.device)
        for k in _FIELDS:
            v = rows[k].to(device=self.device, dtype=self.dtype)
            if tuple(v.shape) != (b, *self.shapes[k]):
                raise ValueError(
                    f"replay field {k!r}: expected shape {(b, *self.shapes[k])}, "
                    f"got {tuple(v.shape)}"
                )
            self._data[k][idx_dev] = v
        self.ptr = int((self.ptr + b) % self.capacity)
        self.size = min(self.size + b, self.capacity)

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        """``batch_size`` transitions drawn uniformly with replacement, one index set for all."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        idx = torch.randint(0, self.size, (batch_size,), generator=generator).to(self.device)
        return Batch(**{k: self._data[k][idx] for k in _FIELDS})

    def state_dict(self) -> dict[str, object]:
        """The filled rows and the counters (for checkpoints)."""
        return {
            "ptr": self.ptr,
            "size": self.size,
            "data": {k: self._data[k][: self.size].detach().cpu().clone() for k in self._data},
        }

    def load_state_dict(self, sd: dict[str, object]) -> None:
        """Restore from :meth:`state_dict`; raises ``ValueError`` on inconsistent contents."""
        size, ptr, data = sd["size"], sd["ptr"], sd["data"]
        if not (isinstance(size, int) and isinstance(ptr, int) and isinstance(data, dict)):
            raise ValueError("replay state: malformed (size/ptr/data)")
        if not 0 <= size <= self.capacity or not 0 <= ptr < max(self.capacity, 1):
            raise ValueError(f"replay state: size {size} / ptr {ptr} out of range")
        self._data = {}
        self._allocated = 0
        self.ptr = 0
        self.size = 0
        if size == 0:
            return
        self._ensure(size)
        for k in _FIELDS:
            v = data.get(k)
            if not isinstance(v, Tensor) or tuple(v.shape) != (size, *self.shapes[k]):
                raise ValueError(f"replay state: field {k!r} missing or of the wrong shape")
            self._data[k][:size] = v.to(device=self.device, dtype=self.dtype)
        self.ptr = ptr
        self.size = size
