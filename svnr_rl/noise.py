"""Common randomness for decentralized execution (App. J; Algorithm 1, "synchronized noise").

Agents agree *ex ante* on a seed.  The joint noise of decision step ``t`` is a pure function of
``(seed, stream, t)``: every agent that holds the seed regenerates the very same
``xi_t in R^{B x N x noise_dim}`` (standard normal) and reads only its own rows ``xi_{S_i}``,
``S_i = {i} + C_i``.  So each agent computes its own action alone, no message is exchanged, and
together the agents still draw *one* joint sample ``u = (f_1(xi_{S_1}), ..., f_N(xi_{S_N}))``
of the joint policy ``p(u | s) = E_xi prod_i f_i(u_i | xi, s)`` (a correlation device in the
sense of Aumann, not a channel: ``xi`` is independent of the state).

Being counter-based (no hidden generator state), the stream needs nothing but the step counter
to resume exactly.  Dynamic topologies (random peers per step, App. H.3.2) draw the peer sets
from the same stream, so all agents also agree on who conditions on whom at step ``t``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["CommonNoise", "derive_seed", "static_mask"]


def derive_seed(seed: int, *keys: int) -> int:
    """A 63-bit seed derived from ``seed`` and integer ``keys`` (``numpy.random.SeedSequence``)."""
    state = np.random.SeedSequence([seed, *keys]).generate_state(1, dtype=np.uint64)
    return int(state[0]) >> 1


def static_mask(sets: list[list[int]]) -> NDArray[np.float64]:
    """Mask ``m[i, j] = 1`` iff ``j in S_i = {i} + C_i`` for fixed negotiation sets ``C_i``."""
    n = len(sets)
    m = np.eye(n)
    for i, peers in enumerate(sets):
        m[i, peers] = 1.0
    return m


class CommonNoise:
    """Shared-seed noise stream: ``joint(t, batch)`` and, for random peers, ``peer_mask(t)``.

    Parameters
    ----------
    seed:
        The ex-ante shared seed (``>= 0``).
    n_agents, noise_dim:
        ``N`` and the per-agent noise size.
    peers:
        ``None`` for a fixed topology, else the number ``k`` of peers each agent samples per step.
    """

    def __init__(self, seed: int, n_agents: int, noise_dim: int, peers: int | None = None) -> None:
        if seed < 0:
            raise ValueError(f"seed must be >= 0; got {seed}")
        if peers is not None and not 1 <= peers <= max(n_agents - 1, 1):
            raise ValueError(f"peers must be in [1, {n_agents - 1}]; got {peers}")
        self.seed = seed
        self.n_agents = n_agents
        self.noise_dim = noise_dim
        self.peers = peers

    def _rng(self, t: int, kind: int) -> np.random.Generator:
        if t < 0:
            raise ValueError(f"step t must be >= 0; got {t}")
        return np.random.default_rng([self.seed, kind, t])

    def joint(self, t: int, batch: int) -> NDArray[np.float64]:
        """``xi_t`` ``[batch, N, noise_dim]``, standard normal, a function of ``(seed, t)`` only."""
        return self._rng(t, 0).standard_normal((batch, self.n_agents, self.noise_dim))

    def peer_mask(self, t: int) -> NDArray[np.float64]:
        """``m_t[i, j] = 1`` iff ``j in S_i`` at step ``t``: ``i`` plus ``k`` uniform peers."""
        n = self.n_agents
        if self.peers is None or n == 1:
            raise ValueError("peer_mask needs a dynamic topology (peers=k)")
        rng = self._rng(t, 1)
        m = np.eye(n)
        for i in range(n):
            others = [j for j in range(n) if j != i]
            m[i, rng.choice(others, size=self.peers, replace=False)] = 1.0
        return m
