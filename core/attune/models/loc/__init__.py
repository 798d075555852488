"""Lines of code, counted as cloc counts them (``counter``; ``_pycount`` is its C
accelerator for Python), and ``scan``: every source file under a directory."""

from attune.models.loc.counter import (
    DEFAULT_MAX_BYTES,
    BinaryFileError,
    FileTooLargeError,
    LocError,
    LocResult,
    analyze_file,
    analyze_text,
    count_lines_of_code,
    detect_language,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "BinaryFileError",
    "FileTooLargeError",
    "LocError",
    "LocResult",
    "analyze_file",
    "analyze_text",
    "count_lines_of_code",
    "detect_language",
]
