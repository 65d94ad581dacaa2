"""Checkpoints: atomic writes, safe loads (``torch.load(weights_only=True)``), clear errors.

A checkpoint is one ``torch.save`` file holding only tensors and plain containers of numbers and
strings: networks and their targets, optimizer states, the replay buffer's filled rows, every
random generator's state (the agent's and the replay's ``torch.Generator``, plus the global
torch / numpy / Python states), the counters, the metrics so far and the resolved config.  It is
written to a temporary file in the same folder, flushed, fsynced and moved into place with
``os.replace``, so a reader sees either the previous file or the complete new one.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from svnr_rl.errors import CheckpointError

__all__ = [
    "CHECKPOINT_FORMAT",
    "CheckpointError",
    "capture_global_rng",
    "load_checkpoint",
    "restore_global_rng",
    "save_checkpoint",
]

#: bumped whenever the layout changes; older files are refused with a clear message
CHECKPOINT_FORMAT = 1


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` (plus the format tag) to ``path`` atomically."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save({"format": CHECKPOINT_FORMAT, **payload}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(
    path: str | Path, *, map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; raise :class:`CheckpointError` if it is
    missing, truncated/corrupted, not a checkpoint or of another format version."""
    p = Path(path)
    if p.is_dir():
        raise CheckpointError(f"checkpoint {str(p)!r} is a folder, not a checkpoint file")
    if not p.is_file():
        raise CheckpointError(f"checkpoint {str(p)!r} does not exist")
    # torch.save writes a zip archive; anything else (a text file named .pt, a legacy pickle)
    # is refused before the unpickler sees it.
    if not zipfile.is_zipfile(p):
        raise CheckpointError(
            f"checkpoint {str(p)!r} is corrupted or not a checkpoint (not a torch zip archive)"
        )
    try:
        data = torch.load(p, map_location=map_location, weights_only=True)
    except Exception as exc:
        # (KeyError, IndexError, UnpicklingError, RuntimeError, ...) means "not readable"
        raise CheckpointError(
            f"checkpoint {str(p)!r} is corrupted or not a checkpoint (it cannot be read as a "
            f"weights-only torch file: {type(exc).__name__})"
        ) from None
    if not isinstance(data, dict) or "format" not in data:
        raise CheckpointError(f"checkpoint {str(p)!r} is not an svnr_rl checkpoint")
    if data["format"] != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"checkpoint {str(p)!r} has format {data['format']!r}; "
            f"this version reads {CHECKPOINT_FORMAT}"
        )
    return data


def capture_global_rng() -> dict[str, Any]:
    """The global torch, numpy and Python RNG states (numpy/Python as JSON strings)."""
    py = random.getstate()
    np_state = np.random.get_state(legacy=False)  # noqa: NPY002 (the global state itself)
    np_state["state"] = {
        "key": np_state["state"]["key"].tolist(),
        "pos": int(np_state["state"]["pos"]),
    }
    return {
        "torch": torch.get_rng_state(),
        "numpy": json.dumps(np_state),
        "python": json.dumps([py[0], list(py[1]), py[2]]),
    }


def restore_global_rng(state: dict[str, Any]) -> None:
    """Inverse of :func:`capture_global_rng`."""
    torch.set_rng_state(state["torch"])
    np_state = json.loads(state["numpy"])
    np_state["state"]["key"] = np.asarray(np_state["state"]["key"], dtype=np.uint32)
    np.random.set_state(np_state)  # noqa: NPY002
    v, internal, gauss = json.loads(state["python"])
    random.setstate((v, tuple(internal), gauss))
