"""The errors the command line turns into one ``error: ...`` line and exit status 2.

Torch-free, so that ``python -m svnr_rl --help`` and argument errors answer without importing
the training stack.  :class:`ConfigError` lives with the configuration it validates
(:mod:`svnr_rl.config`, also torch-free); :class:`CheckpointError` lives here and is re-exported
by :mod:`svnr_rl.checkpoint`.
"""

from __future__ import annotations

__all__ = ["CheckpointError"]


class CheckpointError(ValueError):
    """A missing, unreadable, corrupted or incompatible checkpoint (message names the file)."""
