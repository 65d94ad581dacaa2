"""The state a run folder's ``status.json`` records, written and read in one place.

The training loop (:class:`svnr_rl.loop.Trainer`) writes ``status.json`` atomically when a run
starts, after every segment (a heartbeat with the environment steps so far) and when it ends:
``running``, ``interrupted``, ``failed`` or ``completed``, with the process id and host name of
the writer.  A process killed with ``kill -9`` cannot write its own end, so readers check the
writer: a ``running`` run whose process is gone (same host) reads as ``stopped``, which
``python -m svnr_rl resume`` continues like ``interrupted``.

Torch-free, so that reports can read run folders without importing the training stack.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from svnr_rl.atomic_file import write_atomic

__all__ = ["is_completed", "read_status", "run_state", "running_pid", "write_status"]


def write_status(run_dir: Path, state: str, **info: Any) -> None:
    """Atomically write ``status.json``: ``state``, ``info``, this process' id, host and time."""
    data = {
        "state": state,
        **info,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "updated_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_atomic(run_dir / "status.json", json.dumps(data, indent=2) + "\n")


def read_status(run_dir: Path) -> dict[str, Any]:
    """The recorded status (``{}`` if missing or unreadable), with ``state`` checked as above."""
    p = run_dir / "status.json"
    try:
        data = json.loads(p.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    if data.get("state") == "running" and not _writer_alive(data):
        data = {**data, "state": "stopped"}
    return data


def _writer_alive(data: dict[str, Any]) -> bool:
    """Whether the process that wrote ``data`` still runs (``True`` when it cannot be told)."""
    pid, host = data.get("pid"), data.get("host")
    if not isinstance(pid, int) or host != socket.gethostname():
        return True  # written by an older version (no pid) or on another machine
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process not yet reaped by its parent is a zombie: gone for our purpose
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True
    return fields[:1] != ["Z"]


def running_pid(run_dir: Path) -> int | None:
    """The id of a live process on this host that is training ``run_dir``, if any."""
    data = read_status(run_dir)
    if data.get("state") != "running" or data.get("host") != socket.gethostname():
        return None
    pid = data.get("pid")
    return pid if isinstance(pid, int) and pid != os.getpid() else None


def run_state(run_dir: Path) -> str:
    """``running``, ``stopped`` (killed), ``interrupted``, ``failed``, ``completed``; ``""`` if
    unknown or unreadable."""
    return str(read_status(run_dir).get("state", ""))


def is_completed(run_dir: Path) -> bool:
    """Whether the run in ``run_dir`` trained to its end (its summary is written)."""
    return run_state(run_dir) == "completed"
