"""Network backbones shared by every method (Sec. 5; App. H.5.2: 3-layer ReLU MLPs).

* :func:`mlp` -- ``Linear -> ReLU -> ... -> Linear``;
* :class:`Sampler` -- agent ``i``'s noise-conditioned sampler (Sec. 5, Algorithm 1)

  .. math:: u_i = f_{\\psi_i}(\\xi_i, \\xi_{C_i}, o_i) = \\tanh(\\mathrm{MLP}_{\\psi_i}([o_i,\\;
            \\xi \\odot m_i,\\; m_i]))

  where ``xi`` is the joint noise ``[..., N, noise_dim]`` of the common random stream
  (:mod:`svnr_rl.noise`), ``m_i in {0, 1}^N`` the row of agent ``i`` of the negotiation mask
  (``m_ij = 1`` iff ``j in S_i = {i} + C_i``), and ``o_i`` the agent's *local* observation.
  Masked entries are exact zeros, so the output depends on ``xi_j`` only for ``j in S_i``.
  The mask itself is an input only for dynamic topologies (random peers, App. H.3.2).  With
  ``noise_dim = 0`` the sampler is a deterministic tanh policy ``u_i = tanh(MLP(o_i))`` (the
  MADDPG-style reference uses it).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = ["Sampler", "mlp"]


def mlp(in_dim: int, hidden: Sequence[int], out_dim: int) -> nn.Sequential:
    """``in_dim -> hidden[0] -> ... -> out_dim`` with ReLU between layers (none at the end)."""
    layers: list[nn.Module] = []
    last = in_dim
    for h in hidden:
        layers += [nn.Linear(last, h), nn.ReLU()]
        last = h
    layers.append(nn.Linear(last, out_dim))
    return nn.Sequential(*layers)


class Sampler(nn.Module):
    """Noise-conditioned, tanh-bounded sampler of one agent (see the module docstring)."""

    def __init__(
        self,
        obs_dim: int,
        n_agents: int,
        noise_dim: int,
        action_dim: int,
        hidden: Sequence[int],
        *,
        mask_input: bool,
    ) -> None:
        super().__init__()
        self.obs_dim = obs_dim
        self.n_agents = n_agents
        self.noise_dim = noise_dim
        self.action_dim = action_dim
        self.mask_input = mask_input
        in_dim = obs_dim + n_agents * noise_dim + (n_agents if mask_input else 0)
        self.net = mlp(in_dim, hidden, action_dim)

    def forward(self, obs: Tensor, noise: Tensor, mask: Tensor) -> Tensor:
        """``obs [..., obs_dim]``, ``noise [..., N, noise_dim]``, ``mask [..., N]`` (0/1,
        broadcastable) -> actions ``[..., action_dim]`` in ``(-1, 1)``."""
        parts = [obs]
        lead = obs.shape[:-1]
        if self.noise_dim > 0:
            masked = noise * mask.unsqueeze(-1)
            parts.append(masked.reshape(*lead, self.n_agents * self.noise_dim))
        if self.mask_input:
            parts.append(mask.expand(*lead, self.n_agents))
        out: Tensor = torch.tanh(self.net(torch.cat(parts, dim=-1)))
        return out
