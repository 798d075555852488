"""The C line counter (attune.models.loc._pycount) against its reference.

Contract: for every str ``text`` (no lone surrogates)
``_pycount.count(text.encode("utf-8")) == loc._count(text, "Python")``; the
regular expressions in loc.py are the spec, quirks included. Checked on the
standard library, on hand-picked edge cases and on generated ones; arbitrary
bytes must merely not crash. Skipped only when the extension is not built.
"""

from __future__ import annotations

import array
import os
import random
import sysconfig
import threading
from pathlib import Path

import pytest

from attune.models.loc import counter as loc

try:
    from attune.models.loc import _pycount
except ImportError:  # no C compiler when the package was installed
    if os.environ.get("ATTUNE_REQUIRE_C_COUNTER"):  # CI: it must have been built
        raise
    pytest.skip("attune.models.loc._pycount is not built", allow_module_level=True)


def reference(text: str) -> tuple[int, int, int, int]:
    return loc._count(text, "Python")


def c_count(text: str) -> tuple[int, int, int, int]:
    return _pycount.count(text.encode("utf-8"))


# --------------------------------------------------------------------------
# Real code: every module of the standard library this Python runs on.
# --------------------------------------------------------------------------


def _stdlib_sources() -> list[Path]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    found = []
    for dirpath, dirnames, filenames in os.walk(stdlib):
        dirnames[:] = sorted(d for d in dirnames if d != "site-packages")
        found += [Path(dirpath, f) for f in sorted(filenames) if f.endswith(".py")]
    return found


def test_stdlib_modules_match_the_regex_counter():
    sources = _stdlib_sources()
    assert len(sources) > 500, "the standard library was not found"
    compared, differences = 0, []
    for path in sources:
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:  # a few test files in other encodings
            continue
        if data.startswith(b"\xef\xbb\xbf"):
            data, text = data[3:], text[1:]
        compared += 1
        got, want = _pycount.count(data), reference(text)
        if got != want:
            differences.append(f"{path}: C {got} != regex {want}")
    assert compared > 500
    assert differences == []


# --------------------------------------------------------------------------
# Hand-picked cases: each rule of loc.py, and its quirks.
# --------------------------------------------------------------------------

EDGE_CASES = {
    "empty": "",
    "only-newline": "\n",
    "last-line-without-newline": "x = 1\n# c\n'''doc'''",
    "crlf-newlines": "x = 1\r\n# c\r\n\r\n'''a\r\n\r\nb'''\r\n",
    "lone-cr-newlines": "x = 1\r# c\r\r'''a\r\rb'''\r",
    "cr-cr-lf-is-two-newlines": "x\r\r\n#\r\n",
    "unicode-whitespace-lines-are-blank": " \u00a0\n\u3000\t\n\u2000\u200a\n\u1680\u202f\u205f\n\u0085\n\x1c\x1f\v\f\n",
    "u2028-is-whitespace-not-newline": "x\u2028y\n\u2028\n\u2029 \n",
    "zero-width-space-is-not-whitespace": "\u200b\n\u180e\n\ufeff\n",
    "vt-before-hash-is-code": "\v# not a comment line\n\u00a0# nor this\n",
    "formfeed-indent-then-comment": "\f\t # comment\n",
    "comment-line-inside-brackets": "f(\n    # comment\n    1,\n)\n",
    "trailing-comment-is-code": "x = 1  # trailing\n",
    "hash-inside-strings-is-code": 'x = \'#\'\ny = """\n# in a string\n"""\n',
    "backslash-continuation-then-comment-line": "x = 1 + \\\n    # comment\n2\n",
    "backslash-continuation-then-string-is-code": "x = \\\n'''not a docstring'''\n",
    "backslash-escapes-quote-outside-string": "x = \\'abc\n'''doc'''\n",
    "blank-line-after-continuation": "x = \\\n\ny\n",
    "docstring-module-function-class": '"""Module."""\n\ndef f():\n    """Doc\n\n    more\n    """\n    return 1\n',
    "docstring-single-quotes": "def f(): pass\n'one-line doc'\n\"also\"\n",
    "docstring-prefixes": "r'''a'''\nRb'b'\nuR\"c\"\nbu'd'\nrr'e'\n",
    "three-prefix-letters-is-code": "rbu'x'\n",
    "f-string-is-never-a-docstring": "f'''doc'''\nF'x'\nrf'y'\n",
    "letter-before-quote-is-code": "x'abc'\nab'c'\n",
    "docstring-then-strings-and-comment": "'a' \"b\" 'c'  # c\n",
    "docstring-then-prefixed-string-is-code": "'a' r'b'\n",
    "docstring-then-code-is-code": "'''a\nb''' + x\n",
    "docstring-inside-brackets-is-code": "x = (\n'''a\nb'''\n)\n",
    "docstring-after-bracket-closes": "f(\n)\n'''doc'''\n",
    "unterminated-triple-docstring-runs-to-end": "'''open\n\nx = 1\n# c\n",
    "unterminated-triple-string-runs-to-end": "x = '''open\n# not a comment\n",
    "unterminated-single-string-ends-at-newline": "x = 'abc\n# comment\n",
    "single-string-continued-by-backslash": "x = 'abc\\\n# in the string'\n",
    "docstring-continued-by-backslash": "'abc\\\ndef'\n",
    "escaped-quotes-in-strings": "x = 'a\\'b' # c\n'''a\\'''b'''\n",
    "four-quotes": "''''\n'\n''''x\n",
    "empty-strings": "''\n\"\"\nx = ''\n",
    "depth-never-below-zero": ")))\n'''doc'''\n(\n# c\n)\n",
    "mismatched-brackets-close-any": "x = (1]\n'''doc'''\n",
    "deep-brackets": "x = " + "([{" * 6 + "\n# c\n" + "}])" * 6 + "\n'''doc'''\n",
    "shebang-line-is-code": "#!/usr/bin/env python\n# comment\nx = 1\n",
    "shebang-only": "#!",
    "hash-bang-not-first-line": "\n#!x\n",
    "nul-bytes-are-code": "x\0\n\0\n# \0\n",
    "non-ascii-code": "é = 'ü'  # ñ\n'''€\n😀'''\n",
    # quirks of the regular expressions, kept on purpose (see the C comments)
    "quirk-triple-reread-as-empty-string": "'''abc\ndef''' + x\nfoo\n'''\n",
    "quirk-continued-docstring-last-line-blank-and-comment": "'abc\\\n   \n",
    "quirk-only-first-string-of-docstring-counted": "'a' '''b\nc'''\n",
}


@pytest.mark.parametrize("text", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_edge_case_matches_the_regex_counter(text):
    assert c_count(text) == reference(text)


def test_continued_docstring_quirk_is_reproduced():
    # loc.py counts the blank last line of a continued one-line docstring as
    # blank and as comment, so code goes negative: the C counter must agree.
    assert c_count("'abc\\\n   \n") == (-1, 2, 1, 2)


# --------------------------------------------------------------------------
# Generated cases: fragments glued at random (a fixed seed: reproducible).
# --------------------------------------------------------------------------

FRAGMENTS = [
    ("'''", 8),
    ('"""', 8),
    ("'", 8),
    ('"', 8),
    ("#", 6),
    ("\\", 6),
    ("\\\n", 4),
    ("\n", 12),
    ("\r\n", 3),
    ("\r", 3),
    ("(", 4),
    (")", 4),
    ("[", 3),
    ("]", 3),
    ("{", 3),
    ("}", 3),
    ("r", 3),
    ("b", 3),
    ("u", 2),
    ("f", 2),
    ("x", 4),
    ("R", 1),
    ("B", 1),
    ("U", 1),
    ("F", 1),
    ("rb", 1),
    ("br", 1),
    ("bu", 1),
    (" ", 8),
    ("  ", 4),
    ("    ", 3),
    ("\t", 3),
    ("\f", 2),
    ("\v", 2),
    ("\x1c", 1),
    ("\x1f", 1),
    ("\u00a0", 2),
    ("\u0085", 1),
    ("\u1680", 1),
    ("\u2000", 1),
    ("\u200a", 1),
    ("\u2028", 1),
    ("\u2029", 1),
    ("\u202f", 1),
    ("\u205f", 1),
    ("\u3000", 1),
    ("\u180e", 1),
    ("\u200b", 1),
    ("é", 1),
    ("€", 1),
    ("😀", 1),
    ("#!", 2),
    ("=", 3),
    (":", 2),
    (",", 2),
    ("\n    ", 4),
    ("\n\t", 2),
    ("\n#", 3),
    ("\n'''", 2),
    ('\n"""', 2),
    ("\n'", 2),
    ('\n"', 2),
    ("abc", 4),
    ("1", 2),
    ("\0", 1),
    ("\ufeff", 1),
]
_PIECES = [f for f, _ in FRAGMENTS]
_WEIGHTS = [w for _, w in FRAGMENTS]


def generated_texts(seed: int, n: int):
    rng = random.Random(seed)
    for _ in range(n):
        k = rng.choice((1, 2, 3, 5, 8, 13, 20, 40))
        yield "".join(rng.choices(_PIECES, _WEIGHTS, k=k))


@pytest.mark.parametrize("seed", range(4), ids=lambda s: f"seed{s}-5000-cases")
def test_generated_fragments_match_the_regex_counter(seed):
    differences = []
    for text in generated_texts(seed, 5000):
        got, want = c_count(text), reference(text)
        if got != want:
            differences.append((text, got, want))
    assert differences[:5] == [], f"{len(differences)} of 5000 differ"


def test_lone_surrogates_encoded_with_surrogatepass_match():
    # analyze_text encodes with "surrogatepass": such text must count the same too
    rng = random.Random(7)
    pieces = ["\ud800", "\udfff", "\udc80", "'''", '"', "'", "\n", " ", "#", "\\", "(", "x"]
    for _ in range(2000):
        text = "".join(rng.choices(pieces, k=rng.randrange(1, 20)))
        assert _pycount.count(text.encode("utf-8", "surrogatepass")) == reference(text), repr(text)


# --------------------------------------------------------------------------
# Arbitrary bytes and the calling convention
# --------------------------------------------------------------------------


def _lines(data: bytes) -> int:
    norm = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return norm.count(b"\n") + (not norm.endswith(b"\n")) if norm else 0


def test_random_bytes_do_not_crash_and_count_every_line():
    rng = random.Random(11)
    alphabet = b"'\"#\\()[]{}\n\r \t\x00\xc2\xa0\xe2\x80\xa8\xe3\xff\x80rbux"
    for i in range(5000):
        n = rng.randrange(0, 80)
        if i % 2:
            data = bytes(rng.getrandbits(8) for _ in range(n))
        else:
            data = bytes(rng.choice(alphabet) for _ in range(n))
        code, comment, blank, total = _pycount.count(data)
        assert total == _lines(data)
        assert code + comment + blank == total
        assert comment >= 0 and blank >= 0


def test_large_pathological_inputs_do_not_crash_and_count_every_line():
    for data in (
        b"'" * 1_000_000,
        b"(" * 1_000_000,
        b"\\" * 999_999,
        b"\r" * 1_000_000,
        b"'''x\n" * 200_000,
        b"'''a\n''' + x\n" * 80_000,
        b"\\\n#\n" * 250_000,
    ):
        assert _pycount.count(data)[3] == _lines(data)


def test_accepts_bytes_bytearray_memoryview_and_other_buffers():
    data = b"'''doc'''\n# c\n\nx = 1\n"
    want = (1, 2, 1, 4)
    assert _pycount.count(data) == want
    assert _pycount.count(bytearray(data)) == want
    assert _pycount.count(memoryview(data)) == want
    assert _pycount.count(memoryview(b"junk" + data)[4:]) == want
    assert _pycount.count(array.array("B", data)) == want


@pytest.mark.parametrize("bad", ["text", None, 3], ids=["str", "None", "int"])
def test_rejects_non_buffers_with_type_error(bad):
    with pytest.raises(TypeError):
        _pycount.count(bad)


def test_rejects_non_contiguous_buffer():
    with pytest.raises(BufferError):
        _pycount.count(memoryview(b"abcdef")[::2])


def test_counts_from_several_threads_at_once():
    texts = list(generated_texts(99, 300))
    want = [reference(t) for t in texts]
    results: list[list[tuple[int, int, int, int]]] = []

    def work():
        results.append([c_count(t) for t in texts])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [want] * 4


def test_loc_uses_the_c_counter_for_python():
    if loc._count_python_c is None:
        pytest.skip("ATTUNE_LOC_PURE_PYTHON is set")
    assert loc._count_python_c is _pycount.count
    text = "'''doc'''\n# c\n\nx = 1\n"
    result = loc.analyze_text(text, language="python")
    assert (result.code_lines, result.comment_lines, result.blank_lines, result.total_lines) == reference(text)
