"""One convention for every command line of svnr_rl (torch-free, imported by each parser).

Defaults are shown in ``--help`` (``None``, ``False`` and empty defaults are described in the
help text instead); descriptions keep their layout; integers are range-checked by the parser, so
a bad value is a usage error naming the flag; result commands write under
:data:`DEFAULT_RESULTS`, never into the committed ``docs/``.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = [
    "DEFAULT_RESULTS",
    "DEVICES",
    "MAX_SEED",
    "MAX_TEST_EPISODES",
    "HelpFormatter",
    "bounded_int",
    "deferred_interrupt",
]

#: output folders of the result commands: outside docs/, so that a default run never
#: overwrites committed results (committing is an explicit `--out docs/results/...`)
DEFAULT_RESULTS = "results"
DEVICES = ("cpu", "cuda", "auto")
MAX_TEST_EPISODES = 100_000
MAX_SEED = 2**63 - 1


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows every default (one convention for all commands) and keeps descriptions as written;
    a default of ``None``, ``False`` or empty is not shown (the help says what it means)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, False, "") or action.default == []:
            return action.help or ""
        return super()._get_help_string(action) or ""


def bounded_int(lo: int, hi: int) -> Any:
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer; got {text!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"must be in {lo}..{hi:,}; got {v}")
        return v

    return parse


@contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Hold Ctrl-C back while native extensions are imported, then raise it.

    A ``KeyboardInterrupt`` raised inside the initialisation of a pybind11 module (torch,
    mujoco) aborts the whole process with ``terminate called ...`` (SIGABRT) instead of
    unwinding; a SIGINT that arrives in the block is remembered and raised as
    ``KeyboardInterrupt`` once the block is done.  A no-op outside the main thread, where
    signal handlers cannot be set.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt
