"""Atomic file writes, in one place: a reader sees the previous file or the complete new one.

The data go to a hidden temporary beside the target (same folder, so same file system), named
with the writer's process id so that two writers never share one, and ``os.replace`` puts it
in place.  Checkpoints (:mod:`svnr_rl.checkpoint`) do the same through ``torch.save``.

Torch-free, so that reports and study tools can use it without the training stack.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(dst: Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) to ``dst`` atomically, creating its folder if needed."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, dst)
