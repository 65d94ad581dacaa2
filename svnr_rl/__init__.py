"""svnr_rl: neural, continuous-action multi-agent training built on :mod:`svnr_core`."""

__version__ = "0.1.0"
