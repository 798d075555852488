"""Types of the C line counter built from ``_pycount.c``."""

def count(data: bytes | bytearray | memoryview, /) -> tuple[int, int, int, int]:
    """(code, comment, blank, total) lines of Python source given as UTF-8 bytes."""
