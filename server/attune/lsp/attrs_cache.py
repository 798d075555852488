"""A byte-code cache for the methods attrs generates, used while the server imports.

attrs writes each class's ``__init__``, ``__eq__``, ``__repr__``… as source text and
compiles it when the class is defined. ``lsprotocol.types`` defines about 550
classes, and compiling their methods is the largest single cost of the server's
start (about 0.1 s of its 0.35 s on this project's machines). The code objects are
the same at every start, so, as Python does for modules with .pyc files, they are
kept in a file beside attrs's own byte-code (``attr/__pycache__``, or under
``sys.pycache_prefix``) and loaded with ``marshal`` the next time.

Only the compile step is replaced: an entry is keyed by the generated source and
its file name, so a different attrs or lsprotocol simply misses and compiles. The
file is named for the interpreter's cache tag (marshal's format is per version),
written atomically with just the entries used (so it does not grow), and not
written where byte-code is not (``sys.dont_write_bytecode``, a read-only folder).
It is rewritten only when more than 2% of the methods were compiled: a frozen
class's ``__hash__`` source carries a hash salted per process, so a class or two
compile at every start and would otherwise rewrite the file each time. Anything
unexpected (an attrs without the hook, an unreadable file) means no cache: the
import runs as usual. ``ATTUNE_LSP_NO_ATTRS_CACHE=1`` turns it off, to measure the
difference.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import marshal
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import CodeType
from typing import Any

logger = logging.getLogger(__name__)

DISABLE_ENV = "ATTUNE_LSP_NO_ATTRS_CACHE"
CACHE_SUFFIX = ".attune-attrs-methods"

REWRITE_SHARE = 0.02  # of the methods compiled rather than loaded (see the docstring)

Key = tuple[str, str]  # (file name attrs gives the code, generated source)


def cache_path(make_module_file: str) -> Path | None:
    """Where the cache of the attrs whose ``attr/_make.py`` is given lives: beside
    that module's .pyc (honouring ``sys.pycache_prefix``), with the cache tag in its name."""
    try:
        pyc = importlib.util.cache_from_source(make_module_file)
    except (NotImplementedError, ValueError):  # no cache tag: byte-code caching is off
        return None
    return Path(pyc[: -len(".pyc")] + CACHE_SUFFIX)


def read_cache(path: Path) -> dict[Key, CodeType]:
    """The entries of a cache file; {} when it is missing or not a cache of this shape."""
    try:
        with path.open("rb") as fh:
            data = marshal.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, EOFError, ValueError, TypeError) as exc:
        logger.debug("attrs method cache %s unreadable (%s): rebuilt", path, exc)
        return {}
    if not isinstance(data, dict):
        return {}
    return {key: code for key, code in data.items() if _is_key(key) and isinstance(code, CodeType)}


def _is_key(key: object) -> bool:
    return isinstance(key, tuple) and len(key) == 2 and all(isinstance(part, str) for part in key)


def write_cache(path: Path, entries: Mapping[Key, CodeType]) -> bool:
    """Writes the cache atomically; False (and nothing written) where it cannot be."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as fh:
            marshal.dump(dict(entries), fh)
        os.replace(tmp, path)
        return True
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            tmp.unlink()
        return False


class CacheStats:
    """What one use of the cache did: entries loaded from the file and compiled anew."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.loaded = 0
        self.hits = 0
        self.compiled = 0
        self.written = False


@contextlib.contextmanager
def attrs_method_cache() -> Iterator[CacheStats]:
    """Within the block, the methods of attrs classes being defined come from the cache
    (or are compiled and added to it); on leaving it, a changed cache is written."""
    stats = CacheStats()
    make = _attrs_make_module() if os.environ.get(DISABLE_ENV) != "1" else None
    original: Callable[..., None] | None = getattr(make, "_compile_and_eval", None) if make else None
    path = cache_path(make.__file__) if make is not None and make.__file__ else None
    if make is None or original is None or path is None:
        yield stats
        return
    stats.path = path
    cached = read_cache(path)
    stats.loaded = len(cached)
    used: dict[Key, CodeType] = {}
    # attr/_make.py compiles under its own __future__ imports; so does a miss here.
    feature = getattr(make, "annotations", None)
    flags = getattr(feature, "compiler_flag", 0)

    def compile_and_eval(
        script: str, globs: dict[str, Any] | None, locs: Mapping[str, object] | None = None, filename: str = ""
    ) -> None:
        key = (filename, script)
        code = cached.get(key)
        if code is None:
            code = compile(script, filename, "exec", flags=flags, dont_inherit=True)
            stats.compiled += 1
        else:
            stats.hits += 1
        used[key] = code
        eval(code, globs, locs)  # what attrs itself does with the code

    make._compile_and_eval = compile_and_eval
    try:
        yield stats
    finally:
        make._compile_and_eval = original
        if stats.compiled > REWRITE_SHARE * len(used) and not sys.dont_write_bytecode:
            stats.written = write_cache(path, used)


def _attrs_make_module() -> Any:
    try:
        import attr._make as make
    except ImportError:
        return None
    return make
