"""The one exception family a user of digitkit is meant to see, and the exit codes.

Anything raised as a ``DigitkitError`` is a problem with the user's input or
environment (a missing file, a corrupt model, a wrong shape). The CLI prints
its message on one line and exits non-zero instead of showing a traceback.
The exit codes are part of the interface (scripts branch on them), so they
live here, in one place, and docs/errors.md lists them.
"""

EXIT_OK = 0
EXIT_FAILURE = 1  # bad input or environment: a file, a model, a full disk; the message names it
EXIT_USAGE = 2  # the command line itself is wrong (argparse, or a combination of options)
EXIT_MISSING_EXTRA = 3  # the subcommand needs an optional dependency group that is not installed
EXIT_INTERNAL = 70  # a bug in digitkit (EX_SOFTWARE); --debug shows the traceback
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
EXIT_BROKEN_PIPE = 141  # the reader of our output went away, e.g. `| head -1` (128 + SIGPIPE); silent


class DigitkitError(Exception):
    """A problem the user can fix; the message names it."""


class UsageError(DigitkitError):
    """Options that argparse accepts one by one but that do not go together; exit code 2."""


class MissingExtraError(DigitkitError):
    """A subcommand needs an optional dependency group that is not installed."""
