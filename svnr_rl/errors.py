"""The errors the command line turns into one ``error: ...`` line and exit status 2.

Torch-free, so that ``python -m svnr_rl --help`` and argument errors answer without importing
the training stack.  Both are re-exported where users meet them: :class:`ConfigError` by
:mod:`svnr_rl.config`, :class:`CheckpointError` by :mod:`svnr_rl.checkpoint`.
"""

from __future__ import annotations

__all__ = ["CheckpointError", "ConfigError"]


class ConfigError(ValueError):
    """An invalid configuration entry; the message names it (``section.field``)."""


class CheckpointError(ValueError):
    """A missing, unreadable, corrupted or incompatible checkpoint (message names the file)."""
