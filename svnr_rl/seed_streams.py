"""The random streams of a run: one derived seed per consumer of randomness.

Every consumer draws from its own stream ``derive_seed(train.seed, KEY, ...)``
(:func:`svnr_rl.noise.derive_seed`), so that adding a consumer never shifts the draws of
another, and a segment's environments and evaluation depend on ``(seed, segment)`` alone (what
makes a resumed run equal an uninterrupted one).  The keys are part of every recorded result:
changing one changes what every seed trains.
"""

from __future__ import annotations

__all__ = ["AGENT", "CONVERGED_SAMPLES", "ENV", "EVAL_ENV", "EVAL_NOISE", "NOISE", "REPLAY"]

#: the common noise ``xi_t`` of the behaviour policy (App. J)
NOISE = 1
#: the replay buffer's sampling generator
REPLAY = 2
#: the training environments' reset at the start of each segment (key, segment)
ENV = 3
#: the evaluation environments of each segment's test episodes (key, segment)
EVAL_ENV = 4
#: the common noise of each segment's decentralized test episodes (key, segment)
EVAL_NOISE = 5
#: the agent's own generator (network initialisation, its sampling)
AGENT = 6
#: the converged joint samples drawn for the figures (:func:`svnr_rl.plots.converged_samples`)
CONVERGED_SAMPLES = 7
