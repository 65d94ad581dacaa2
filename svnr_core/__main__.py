"""``python -m svnr_core``: command-line tools of the core (see :mod:`svnr_core.cli`)."""

import sys

from svnr_core.cli import main

try:
    status = main()
except KeyboardInterrupt:  # Ctrl-C, e.g. while ``-f -`` waits on a terminal: no traceback
    print("error: interrupted", file=sys.stderr)
    status = 130
raise SystemExit(status)
