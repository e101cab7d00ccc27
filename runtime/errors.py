"""The one exception family a user of digitkit is meant to see.

Anything raised as a ``DigitkitError`` is a problem with the user's input or
environment (a missing file, a corrupt model, a wrong shape). The CLI prints
its message on one line and exits non-zero instead of showing a traceback.
"""


class DigitkitError(Exception):
    """A problem the user can fix; the message names it."""


class MissingExtraError(DigitkitError):
    """A subcommand needs an optional dependency group that is not installed."""
