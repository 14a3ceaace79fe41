"""The one base class of huskycat's own errors.

Every error that means "bad input, or an environment huskycat cannot work in" (a bad
configuration, file selection, git ref, hook, staged-mode state or command line) derives
from :class:`HuskycatError` and renders its own one-line message, naming the bad value
and where it came from. The command line prints that line and exits 2; anything else is
a bug and keeps its traceback. A leaf module: importing it costs nothing at start-up.
"""

from __future__ import annotations


class HuskycatError(Exception):
    """Bad input or an unusable environment; ``str()`` is the message for the user."""
