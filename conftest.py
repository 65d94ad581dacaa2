"""Hypothesis profiles shared by ``tests/`` and ``verification/``.

Choose one with ``--hypothesis-profile NAME`` or the environment variable
``SVNR_HYPOTHESIS_PROFILE`` (``dev`` by default, ``ci`` when ``CI`` is set):

* ``dev``      -- quick local runs (25 examples);
* ``ci``       -- what CI and ``nox -s tests`` run: derandomized, 60 examples, no database;
* ``thorough`` -- ``nox -s props``: 1000 examples per property.

``deadline=None`` everywhere: numerical properties have legitimately variable run times.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_common = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("dev", max_examples=25, **_common)
settings.register_profile(
    "ci", max_examples=60, derandomize=True, database=None, print_blob=True, **_common
)
settings.register_profile("thorough", max_examples=1000, print_blob=True, **_common)

_default = "ci" if os.environ.get("CI") else "dev"
settings.load_profile(os.environ.get("SVNR_HYPOTHESIS_PROFILE", _default))
