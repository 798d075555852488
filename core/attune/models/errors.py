"""The base of every error Attune reports to a user as a plain message.

It has no dependencies so the CLI can catch it without importing the heavy modules
that raise it. Anything else that escapes is a bug and is reported as one.
"""


class AttuneError(Exception):
    """An error whose message is meant for the user, not a traceback."""


class MissingExtraError(AttuneError, ImportError):
    """A feature needs an optional dependency that is not installed. The message names
    the extra that brings it (``pip install 'attune-companion[redis]'``); it is also an
    ImportError, as a missing module is."""
