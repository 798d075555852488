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


class FileReadError(AttuneError, OSError):
    """A file Attune reads (the strategy, a backup, ``pricing.json``, a source file, a
    store's database) was refused before it was read. ``problem`` says why, e.g.
    ``not a regular file (a FIFO)``; the message is ``<path>: <problem>``. It is also
    an OSError, as any other file that cannot be read is."""

    def __init__(self, path: object, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self) -> tuple[object, ...]:
        return type(self), (self.path, self.problem), self.__dict__


class NotRegularFileError(FileReadError):
    """The path is a FIFO, a device, a socket or a directory: reading it could block
    forever or never end, so it is refused without reading."""


class FileSizeLimitError(FileReadError):
    """The file is larger than the limit for its kind; it was not read."""

    def __init__(self, path: object, problem: str, *, size: int | None = None, limit: int | None = None):
        super().__init__(path, problem)
        self.size = size  # bytes, when known
        self.limit = limit
