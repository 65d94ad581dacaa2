"""Replay buffer (one index set for all agents) and checkpoint files (atomic, weights-only)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from svnr_rl.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from svnr_rl.replay import ReplayBuffer

CPU = torch.device("cpu")


def _rows(b: int, start: float) -> dict[str, torch.Tensor]:
    k = torch.arange(b, dtype=torch.float64) + start  # row id written into every field
    return {
        "obs": k[:, None, None].expand(b, 2, 3),
        "state": k[:, None].expand(b, 4),
        "action": k[:, None, None].expand(b, 2, 1),
        "reward": k,
        "next_obs": k[:, None, None].expand(b, 2, 3),
        "next_state": k[:, None].expand(b, 4),
        "terminated": torch.zeros(b, dtype=torch.float64),
    }


def test_one_index_set_for_all_agents_and_fields() -> None:
    buf = ReplayBuffer(100, 2, 3, 4, 1, device=CPU, dtype=torch.float32)
    buf.add(**_rows(50, 0.0))
    batch = buf.sample(64, torch.Generator().manual_seed(0))
    ids = batch.reward
    for t in (batch.obs, batch.next_obs, batch.action):
        for agent in range(2):  # every agent's row is the same transition
            assert torch.equal(t[:, agent].flatten(1)[:, 0], ids)
    assert torch.equal(batch.state[:, 0], ids)


def test_ring_buffer_overwrites_oldest_and_state_round_trips() -> None:
    buf = ReplayBuffer(10, 2, 3, 4, 1, device=CPU, dtype=torch.float64)
    buf.add(**_rows(8, 0.0))
    buf.add(**_rows(5, 100.0))  # rows 0..2 overwritten by 103, 104 (wrap) ...
    assert buf.size == 10
    assert buf.ptr == 3
    other = ReplayBuffer(10, 2, 3, 4, 1, device=CPU, dtype=torch.float64)
    other.load_state_dict(buf.state_dict())
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(buf.sample(20, g1).reward, other.sample(20, g2).reward)
    assert sorted(buf.state_dict()["data"]["reward"].tolist()) == sorted(  # type: ignore[index]
        [3.0, 4.0, 5.0, 6.0, 7.0, 100.0, 101.0, 102.0, 103.0, 104.0]
    )


def test_wrong_shapes_are_rejected() -> None:
    buf = ReplayBuffer(10, 2, 3, 4, 1, device=CPU, dtype=torch.float32)
    rows = _rows(3, 0.0)
    rows["state"] = torch.zeros(3, 5)
    with pytest.raises(ValueError, match="state"):
        buf.add(**rows)


def test_checkpoint_round_trip_atomic_and_bad_files(tmp_path: Path) -> None:
    p = tmp_path / "c.pt"
    save_checkpoint(p, {"x": torch.arange(3), "n": 2**70, "s": "a"})
    data = load_checkpoint(p)
    assert torch.equal(data["x"], torch.arange(3))
    assert data["n"] == 2**70
    assert [f.name for f in tmp_path.iterdir()] == ["c.pt"]  # no temporary left
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")
    p.write_bytes(p.read_bytes()[:40])  # truncated file
    with pytest.raises(CheckpointError, match="corrupted"):
        load_checkpoint(p)
    torch.save({"no": "format"}, p)
    with pytest.raises(CheckpointError, match="not an svnr_rl checkpoint"):
        load_checkpoint(p)


def test_checkpoint_refuses_pickled_objects(tmp_path: Path) -> None:
    """weights_only=True: a file carrying an arbitrary Python object is refused, not executed."""
    p = tmp_path / "evil.pt"
    torch.save({"format": 1, "obj": Path("x")}, p)
    with pytest.raises(CheckpointError, match="corrupted"):
        load_checkpoint(p)
