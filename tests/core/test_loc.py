"""Lines of code (attune.models.loc): cloc's definition, per language, on real files.

Expected counts were made by hand, line by line (the fixtures say why each
tricky line is what it is). cloc agrees on sample.c, sample.cpp and sample.tsx;
on the others it reads comment markers inside strings as comments, which we do
not (see README, "Where Attune deliberately differs from cloc"). Python is also checked against the tokenizer
on real standard-library modules.
"""

from __future__ import annotations

import io
import os
import re
import sys
import sysconfig
import tokenize
from pathlib import Path

import pytest

from attune.models.loc import counter as loc
from attune.models.loc.counter import (
    BinaryFileError,
    FileTooLargeError,
    LocError,
    LocResult,
    analyze_file,
    analyze_text,
    count_lines_of_code,
)

FIXTURES = Path(__file__).parent / "fixtures" / "loc"


def counts(result: LocResult) -> tuple[int, int, int, int]:
    return result.code_lines, result.comment_lines, result.blank_lines, result.total_lines


@pytest.fixture(params=["c", "regex"], ids=["c-counter", "regex-counter"])
def python_counter(request, monkeypatch):
    """Python checks run through both counters: the C one (setup.py builds it
    when a compiler is there) and the regular expressions it stands in for."""
    if request.param == "regex":
        monkeypatch.setattr(loc, "_count_python_c", None)
    elif loc._count_python_c is None:
        if os.environ.get("ATTUNE_REQUIRE_C_COUNTER"):  # CI: it must have been built
            pytest.fail("attune.models.loc._pycount is not built (pip install -e . needs a C compiler)")
        pytest.skip("the C counter is not built here (no C compiler at install time)")
    return request.param


# (file, language, code, comment, blank, total) -- counted by hand
HAND_COUNTED = [
    # docstrings (also in single quotes, raw, attribute docstrings) are comments; a
    # multi-line string assigned to a name is code, '#' lines inside it too; a comment
    # line inside brackets is a comment; the #! line is code (cloc's rule)
    ("sample.py", "Python", 20, 9, 9, 38),
    # '**/*.js' in a string, /[/*]+/ regex literal, // and /* in a template literal
    ("sample.js", "JavaScript", 12, 7, 3, 22),
    ("sample.tsx", "TypeScript", 5, 3, 2, 10),
    # // and /* inside a raw `string` spanning lines
    ("sample.go", "Go", 10, 4, 5, 19),
    # nested /* /* */ */ comments, r#"..."# raw strings, '"' chars vs 'static lifetimes
    ("sample.rs", "Rust", 9, 5, 1, 15),
    # a """ text block holding // and /*
    ("Sample.java", "Java", 9, 4, 1, 14),
    ("sample.c", "C", 8, 5, 3, 16),
    # R"sql( ... */ /* ... )sql" raw string
    ("sample.cpp", "C++", 5, 1, 2, 8),
    # @"..." verbatim strings with "" and a line starting with // inside
    ("Sample.cs", "C#", 10, 2, 1, 13),
    # =begin/=end, "#{...}" interpolation, a heredoc line starting with #
    ("sample.rb", "Ruby", 10, 4, 2, 16),
    # #! is code; $# and ${#x} are code; heredoc text is code
    ("sample.sh", "Bourne Shell", 11, 1, 1, 13),
]


@pytest.mark.parametrize(("name", "language", "code", "comment", "blank", "total"), HAND_COUNTED)
@pytest.mark.usefixtures("python_counter")
def test_hand_counted_fixtures(name, language, code, comment, blank, total):
    result = analyze_file(FIXTURES / name)
    assert result.language == language
    assert counts(result) == (code, comment, blank, total)
    assert result.encoding == "utf-8"
    assert result.size_bytes == (FIXTURES / name).stat().st_size
    assert not result.generated


def test_count_lines_of_code_is_the_public_name():
    import attune.models

    assert attune.models.count_lines_of_code is count_lines_of_code
    assert count_lines_of_code(FIXTURES / "sample.py") == 20
    assert count_lines_of_code(str(FIXTURES / "sample.go")) == 10


# ---- Python: the details, and the tokenizer as the referee --------------------------


@pytest.mark.parametrize(
    ("source", "code", "comment"),
    [
        ('x = "# not a comment"\n', 1, 0),
        ("x = 1  # trailing comment\n", 1, 0),
        ("# only a comment\n", 0, 1),
        ('def f():\n    """Doc\n    string."""\n    return 1\n', 2, 2),
        ('x = """\nnot a docstring\n"""\n', 3, 0),  # cloc: 1 code, 2 comment
        ('call(\n    """an argument,\n    not a docstring""")\n', 3, 0),
        ('def f():\n    "single-quoted docstring"\n', 1, 1),  # cloc: 2 code
        ('s = ("implicit"\n     "concatenation")\n', 2, 0),
        ("x = [\n    1,\n    # inside brackets\n    2,\n]\n", 4, 1),
        ("x = 1 + \\\n    2\n", 2, 0),
        ("x = f'{y!r:>{w}} # in the f-string'\n", 1, 0),
        ('print(f"{a}" f"{b}")  # two\n', 1, 0),
        ("b'bytes statement'\n", 0, 1),
        ("f'f-string statement {x}'\n", 1, 0),
        ('"""unterminated docstring\n\nruns to the end\n', 0, 2),
    ],
)
@pytest.mark.usefixtures("python_counter")
def test_python_rules(source, code, comment):
    result = analyze_text(source, language="python")
    assert (result.code_lines, result.comment_lines) == (code, comment)


def tokenizer_counts(text: str) -> tuple[int, int, int, int]:
    """The referee: lines that hold a token other than a comment or a docstring
    (a statement made only of string literals) are code."""
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    blank = {n for n, line in enumerate(lines, 1) if not line.strip()}
    statements: list[list[tokenize.TokenInfo]] = [[]]
    commentish: set[int] = set()
    layout = {tokenize.ENCODING, tokenize.NL, tokenize.INDENT, tokenize.DEDENT}
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            statements.append([])
        elif tok.type == tokenize.COMMENT:
            commentish.add(tok.start[0])
        elif tok.type not in layout:
            statements[-1].append(tok)
    code: set[int] = set()
    for stmt in statements:
        docstring = stmt and all(t.type == tokenize.STRING and not re.match(r"(?i)[rbu]*f", t.string) for t in stmt)
        for tok in stmt:
            lines_of_token = set(range(tok.start[0], tok.end[0] + 1)) - blank
            (commentish if docstring else code).update(lines_of_token)
    nonblank = set(range(1, len(lines) + 1)) - blank
    if text.startswith("#!"):
        commentish.discard(1)
    code |= nonblank - commentish  # e.g. a line holding only a "\" continuation
    return len(code), len(nonblank - code), len(blank), len(lines)


STDLIB = Path(sysconfig.get_paths()["stdlib"])
STDLIB_MODULES = [
    "argparse.py",
    "ast.py",
    "dataclasses.py",
    "inspect.py",
    "json/decoder.py",
    "textwrap.py",
    "tokenize.py",
    "difflib.py",
    "pydoc.py",
    "string.py",
    "functools.py",
    "email/message.py",
    "http/client.py",
    "unittest/case.py",
    "webbrowser.py",
]


@pytest.mark.parametrize("module", STDLIB_MODULES)
@pytest.mark.usefixtures("python_counter")
def test_python_matches_the_tokenizer_on_the_standard_library(module):
    path = STDLIB / module
    if not path.exists():
        pytest.skip(f"{module} is not in this Python's standard library")
    text = path.read_text(encoding="utf-8")
    assert counts(analyze_text(text, filename=path.name)) == tokenizer_counts(text)


@pytest.mark.usefixtures("python_counter")
def test_pep701_fstrings_match_the_running_tokenizer():
    """Python 3.12 f-strings reuse quotes and hold comments inside fields. Scanned
    as plain strings, their lines still count right; where the running Python
    can tokenize them, it is the referee, else the hand count is."""
    text = (FIXTURES / "fstrings_pep701.py").read_text(encoding="utf-8")
    expected = (14, 2, 0, 16)
    if sys.version_info >= (3, 12):
        expected = tokenizer_counts(text)
    assert counts(analyze_text(text, filename="f.py")) == expected


# ---- text shapes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "source", "expected"),
    [
        ("c", "int x;\n/* open comment\n\nto the end\n", (1, 2, 1, 4)),
        ("c", "/* open comment\nto the end\n", (0, 2, 0, 2)),
        ("ruby", "x = 1\n=begin\nnever closed\n", (1, 2, 0, 3)),
    ],
)
def test_comments_left_open_run_to_the_end(language, source, expected):
    assert counts(analyze_text(source, language=language)) == expected


@pytest.mark.usefixtures("python_counter")
def test_line_endings_and_edges():
    assert counts(analyze_text("", language="python")) == (0, 0, 0, 0)
    assert counts(analyze_text("x = 1", language="python")) == (1, 0, 0, 1)  # no final newline
    assert counts(analyze_text("x = 1\r\n# c\r\n\r\n", language="python")) == (1, 1, 1, 3)
    assert counts(analyze_text("a\n \t\n\n", filename="notes")) == (1, 0, 2, 3)


# ---- decoding, binary, size ------------------------------------------------------------


def test_non_utf8_text_is_decoded_not_refused(tmp_path):
    path = tmp_path / "latin.py"
    path.write_bytes('# café\nname = "café"\n'.encode("cp1252"))
    result = analyze_file(path)
    assert result.encoding == "cp1252"
    assert counts(result) == (1, 1, 0, 2)


def test_coding_cookie_names_the_encoding(tmp_path):
    path = tmp_path / "koi.py"
    path.write_bytes("# -*- coding: koi8-r -*-\nтекст = 'привет'\n".encode("koi8-r"))
    result = analyze_file(path)
    assert result.encoding == "koi8-r"
    assert counts(result) == (1, 1, 0, 2)


def test_byte_order_marks(tmp_path):
    utf8 = tmp_path / "bom8.py"
    utf8.write_bytes(b"\xef\xbb\xbf# comment after a BOM\nx = 1\n")
    result = analyze_file(utf8)
    assert (result.encoding, result.comment_lines, result.code_lines) == ("utf-8-sig", 1, 1)
    utf16 = tmp_path / "bom16.py"
    utf16.write_bytes("# comment\nx = 1\n".encode("utf-16"))  # NUL bytes, but text
    result = analyze_file(utf16)
    assert (result.encoding, result.comment_lines, result.code_lines) == ("utf-16", 1, 1)


def test_binary_file_is_a_typed_error_naming_the_file(tmp_path):
    path = tmp_path / "image.py"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(BinaryFileError, match=r"image\.py") as caught:
        analyze_file(path)
    assert isinstance(caught.value, LocError) and isinstance(caught.value, ValueError)
    controls = tmp_path / "controls.c"
    controls.write_bytes(bytes(range(1, 32)) * 50)  # no NUL, but no text either
    with pytest.raises(BinaryFileError):
        count_lines_of_code(controls)


def test_too_large_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.py"
    path.write_text("x = 1\n" * 100)
    with pytest.raises(FileTooLargeError) as caught:
        analyze_file(path, max_bytes=100)
    assert "600" in str(caught.value) and "100" in str(caught.value)
    assert (caught.value.size, caught.value.limit) == (600, 100)
    assert analyze_file(path, max_bytes=None).code_lines == 100
    # a sparse 5 GiB file: reading it would exhaust memory; the limit stops it first
    huge = tmp_path / "huge.py"
    with open(huge, "wb") as fh:
        fh.truncate(5 * 2**30)
    with pytest.raises(FileTooLargeError, match=f"5,368,709,120 bytes .* {loc.DEFAULT_MAX_BYTES:,}-byte"):
        analyze_file(huge)


# ---- generated files -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "marker"),
    [
        (
            "gen.go",
            "// Code generated by stringer; DO NOT EDIT.\n\npackage x\n",
            "Code generated by stringer; DO NOT EDIT.",
        ),
        ("gen.py", "# @generated by tool\nx = 1\n", "@generated"),
        (
            "pb2.py",
            "# -*- coding: utf-8 -*-\n# Generated by the protocol buffer compiler.  DO NOT EDIT!\n",
            "Generated by",
        ),
        (
            "api.ts",
            "/* eslint-disable */\n/**\n * This file was automatically generated.\n */\n",
            "automatically generated",
        ),
        ("mod.py", '"""Module docstring.\n\nAuto-generated from schema.json.\n"""\nx = 1\n', "Auto-generated"),
    ],
)
def test_generated_markers_in_the_header(name, text, marker):
    result = analyze_text(text, filename=name)
    assert result.generated
    assert result.generated_marker == marker


def test_lockfiles_are_generated_by_name():
    result = analyze_text('{\n  "lockfileVersion": 3\n}\n', filename="web/package-lock.json")
    assert (result.language, result.code_lines, result.generated, result.generated_marker) == (
        "JSON",
        3,
        True,
        "lockfile",
    )
    assert not analyze_text("{}\n", filename="package.json").generated


def test_generated_phrase_outside_the_header_comments_is_not_flagged():
    deep = "x = 1\n" * 60 + "# DO NOT EDIT this constant by hand\n"
    assert not analyze_text(deep, filename="deep.py").generated
    in_code = 'MARKER = "DO NOT EDIT"\nOTHER = "@generated"\n'
    assert not analyze_text(in_code, filename="markers.py").generated
    result = analyze_text("x = 1\n", filename="plain.py")
    assert (result.generated, result.generated_marker) == (False, None)


# ---- analyze_text for editor buffers (LSP languageIds) ------------------------------------


@pytest.mark.parametrize(
    ("language_id", "fixture", "language"),
    [
        ("python", "sample.py", "Python"),
        ("typescriptreact", "sample.tsx", "TypeScript"),
        ("javascript", "sample.js", "JavaScript"),
        ("go", "sample.go", "Go"),
        ("rust", "sample.rs", "Rust"),
        ("java", "Sample.java", "Java"),
        ("c", "sample.c", "C"),
        ("cpp", "sample.cpp", "C++"),
        ("csharp", "Sample.cs", "C#"),
        ("ruby", "sample.rb", "Ruby"),
        ("shellscript", "sample.sh", "Bourne Shell"),
    ],
)
def test_unsaved_buffer_counts_like_the_file(language_id, fixture, language):
    text = (FIXTURES / fixture).read_text(encoding="utf-8")
    buffer = analyze_text(text, language=language_id)  # an untitled buffer: no file name
    assert buffer.language == language
    assert counts(buffer) == counts(analyze_file(FIXTURES / fixture))


def test_language_falls_back_from_id_to_name_to_shebang():
    bash = "#!/usr/bin/env bash\n# comment\necho hi\n"
    assert analyze_text(bash, language="shellscript").language == "Bourne Again Shell"
    assert analyze_text(bash).language == "Bourne Again Shell"  # from the #! line
    assert analyze_text("x = 1\n", language="no-such-id", filename="a.rb").language == "Ruby"
    assert analyze_text("#!/usr/bin/python3.11\nx = 1\n").language == "Python"
    notes = analyze_text("first\n\n# not a comment in plain text\n", filename="NOTES")
    assert (notes.language, notes.code_lines, notes.blank_lines) == ("Text", 2, 1)
