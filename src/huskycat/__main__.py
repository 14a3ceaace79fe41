"""``python -m huskycat`` runs the command line (a run where nothing changed is replayed
whole first: :mod:`huskycat.replay`)."""

from __future__ import annotations

import sys

from huskycat.replay import main

if __name__ == "__main__":
    sys.exit(main())
