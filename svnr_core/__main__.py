"""``python -m svnr_core``: command-line tools of the core (see :mod:`svnr_core.cli`)."""

from svnr_core.cli import main

raise SystemExit(main())
