"""The state a run folder's ``status.json`` records (written by :class:`svnr_rl.train.Trainer`).

Torch-free, so that reports can read run folders without importing the training stack.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["is_completed", "run_state"]


def run_state(run_dir: Path) -> str:
    """``running``, ``interrupted``, ``failed``, ``completed``; ``""`` if unknown or unreadable."""
    p = run_dir / "status.json"
    if not p.is_file():
        return ""
    try:
        return str(json.loads(p.read_text()).get("state", ""))
    except json.JSONDecodeError:
        return ""


def is_completed(run_dir: Path) -> bool:
    """Whether the run in ``run_dir`` trained to its end (its summary is written)."""
    return run_state(run_dir) == "completed"
