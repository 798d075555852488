"""Lines of code, by cloc's definition, fast enough to size a whole tree.

A *code line* is a line with at least one character that is neither whitespace
nor part of a comment. Blank lines and comment-only lines are out; a line with
code and a trailing comment is code; a comment marker inside a string is code.
Python docstrings (any statement that is only a string literal) are comments.

How it is fast: each language has one compiled regular expression that consumes
"boring" text (code, strings, trailing comments) in C and stops only at the few
places that need a decision in Python: a line that starts with a comment, a
block comment spanning lines, a Python string statement. Counts come from those
events plus one C-level count of blank lines; there is no per-character loop.
Python is counted by the C extension ``_pycount`` when it was built: the same
numbers (these expressions are its reference and its tests' referee), ~12x faster.

Where we deliberately differ from cloc (measured in README, "Lines of code and `attune scan`"):
- a multi-line Python string that is *not* a statement (``x = '''...'''``,
  an argument) is code; cloc turns every triple-quoted string into a comment;
- a Python docstring in ordinary quotes (``def f(): "doc"``) is a comment;
  cloc only knows triple quotes;
- comment markers inside strings, raw strings, heredocs and text blocks are
  code (cloc mostly ignores strings); ``$#`` in shell is code;
- a lone carriage return ends a line (universal newlines); a blank line after a
  backslash continuation is blank (cloc calls it code); ``#`` starts an INI comment.
Like cloc, a first-line ``#!`` is code, also where ``#`` starts a comment.
"""

from __future__ import annotations

import codecs
import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from attune.models._internal.safe_read import open_regular_file
from attune.models.errors import AttuneError

# The Python counter in C (setup.py builds it when a compiler is there): exactly
# the numbers of the regular expressions below, several times faster.
# ATTUNE_LOC_PURE_PYTHON=1 leaves it out (benchmarks, tests of the fallback).
_count_python_c: Callable[[bytes], tuple[int, int, int, int]] | None = None
if not os.environ.get("ATTUNE_LOC_PURE_PYTHON"):
    try:
        from attune.models.loc import _pycount

        _count_python_c = _pycount.count
    except ImportError:
        pass

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
    "is_source_name",
    "looks_binary",
    "prepare_language",
    "read_source",
]

#: Files larger than this are refused by ``analyze_file`` (FileTooLargeError)
#: unless the caller passes another ``max_bytes`` (or None for no limit). Real
#: hand-written modules are far smaller; 10 MiB keeps a scan from reading dumps.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024

_SNIFF_BYTES = 8192  # how much of the head decides "binary"
_CONTROL_RATIO = 0.10  # more control bytes than this in the head -> binary
_HEADER_LINES = 40  # generated-file markers are looked for only this far ...
_HEADER_CHARS = 8192  # ... and no further than this


class LocError(AttuneError, ValueError):
    """A file that cannot be counted as source text."""


class BinaryFileError(LocError):
    """The file holds binary data (NUL bytes or many control bytes), not text."""


class FileTooLargeError(LocError):
    """The file is larger than the byte limit; it was not read."""

    def __init__(self, message: str, *, size: int | None = None, limit: int | None = None):
        super().__init__(message)
        self.size = size  # bytes, when known
        self.limit = limit


@dataclass(frozen=True)
class LocResult:
    """Line counts of one file or buffer.

    ``total_lines == code_lines + comment_lines + blank_lines``. ``generated``
    is True when a generator's marker (``generated_marker``, the text found) is
    in the file's header comments: its size says little about hand-written work.
    """

    language: str
    code_lines: int
    comment_lines: int
    blank_lines: int
    total_lines: int
    generated: bool = False
    generated_marker: str | None = None
    size_bytes: int = 0
    encoding: str = "utf-8"


# --------------------------------------------------------------------------
# Languages: names follow cloc's so per-language figures compare directly.
# --------------------------------------------------------------------------

_EXTENSIONS: dict[str, str] = {
    # languages counted with their full syntax
    ".py": "Python",
    ".pyw": "Python",
    ".pyi": "Python",
    ".js": "JavaScript",
    ".mjs": "JavaScript",
    ".cjs": "JavaScript",
    ".jsx": "JSX",
    ".ts": "TypeScript",
    ".tsx": "TypeScript",
    ".mts": "TypeScript",
    ".cts": "TypeScript",
    ".go": "Go",
    ".rs": "Rust",
    ".java": "Java",
    ".c": "C",
    ".h": "C/C++ Header",
    ".hh": "C/C++ Header",
    ".hpp": "C/C++ Header",
    ".hxx": "C/C++ Header",
    ".h++": "C/C++ Header",
    ".cc": "C++",
    ".cpp": "C++",
    ".cxx": "C++",
    ".c++": "C++",
    ".ipp": "C++",
    ".cs": "C#",
    ".rb": "Ruby",
    ".rake": "Ruby",
    ".gemspec": "Ruby",
    ".ru": "Ruby",
    ".sh": "Bourne Shell",
    ".bash": "Bourne Again Shell",
    ".zsh": "zsh",
    ".ksh": "Korn Shell",
    ".fish": "Fish Shell",
    ".csh": "C Shell",
    ".tcsh": "C Shell",
    # other languages: their comment and string syntax, less exhaustively
    ".kt": "Kotlin",
    ".kts": "Kotlin",
    ".swift": "Swift",
    ".scala": "Scala",
    ".dart": "Dart",
    ".groovy": "Groovy",
    ".gradle": "Gradle",
    ".proto": "Protocol Buffers",
    ".php": "PHP",
    ".m": "Objective-C",
    ".mm": "Objective-C++",
    ".zig": "Zig",
    ".cu": "CUDA",
    ".cuh": "CUDA",
    ".sol": "Solidity",
    ".css": "CSS",
    ".scss": "SCSS",
    ".less": "LESS",
    ".sass": "Sass",
    ".sql": "SQL",
    ".lua": "Lua",
    ".hs": "Haskell",
    ".elm": "Elm",
    ".ml": "OCaml",
    ".mli": "OCaml",
    ".fs": "F#",
    ".fsx": "F#",
    ".clj": "Clojure",
    ".cljs": "ClojureScript",
    ".cljc": "ClojureC",
    ".edn": "Clojure",
    ".el": "Lisp",
    ".lisp": "Lisp",
    ".scm": "Scheme",
    ".erl": "Erlang",
    ".hrl": "Erlang",
    ".ex": "Elixir",
    ".exs": "Elixir Script",
    ".pl": "Perl",
    ".pm": "Perl",
    ".r": "R",
    ".tcl": "Tcl",
    ".nim": "Nim",
    ".cr": "Crystal",
    ".awk": "awk",
    ".ps1": "PowerShell",
    ".psm1": "PowerShell",
    ".psd1": "PowerShell",
    ".bat": "DOS Batch",
    ".cmd": "DOS Batch",
    ".vbs": "Visual Basic Script",
    ".tex": "TeX",
    ".sty": "TeX",
    ".bzl": "Starlark",
    ".star": "Starlark",
    ".cmake": "CMake",
    ".mk": "make",
    ".mak": "make",
    ".dockerfile": "Dockerfile",
    ".yaml": "YAML",
    ".yml": "YAML",
    ".toml": "TOML",
    ".ini": "INI",
    ".graphql": "GraphQL",
    ".gql": "GraphQL",
    ".tf": "HCL",
    ".hcl": "HCL",
    ".html": "HTML",
    ".htm": "HTML",
    ".xhtml": "HTML",
    ".xml": "XML",
    ".xsd": "XSD",
    ".xsl": "XSLT",
    ".xslt": "XSLT",
    ".dtd": "DTD",
    ".vue": "Vuejs Component",
    ".svelte": "Svelte",
    ".json": "JSON",
    ".jsonc": "JSON5",
    ".json5": "JSON5",
    ".md": "Markdown",
    ".markdown": "Markdown",
    ".rst": "reStructuredText",
}

_FILENAMES: dict[str, str] = {
    "makefile": "make",
    "gnumakefile": "make",
    "cmakelists.txt": "CMake",
    "dockerfile": "Dockerfile",
    "containerfile": "Dockerfile",
    "rakefile": "Ruby",
    "gemfile": "Ruby",
    "vagrantfile": "Ruby",
    "podfile": "Ruby",
    "build": "Starlark",
    "build.bazel": "Starlark",
    "workspace": "Starlark",
    "jenkinsfile": "Groovy",
    "sconstruct": "Python",
    "sconscript": "Python",
}

# interpreter named on a #! line -> language
_INTERPRETERS: dict[str, str] = {
    "python": "Python",
    "pypy": "Python",
    "node": "JavaScript",
    "nodejs": "JavaScript",
    "deno": "TypeScript",
    "ts-node": "TypeScript",
    "bun": "JavaScript",
    "ruby": "Ruby",
    "sh": "Bourne Shell",
    "dash": "Bourne Shell",
    "ash": "Bourne Shell",
    "bash": "Bourne Again Shell",
    "zsh": "zsh",
    "ksh": "Korn Shell",
    "mksh": "Korn Shell",
    "fish": "Fish Shell",
    "csh": "C Shell",
    "tcsh": "C Shell",
    "perl": "Perl",
    "php": "PHP",
    "lua": "Lua",
    "tclsh": "Tcl",
    "wish": "Tcl",
    "awk": "awk",
    "gawk": "awk",
    "rscript": "R",
    "pwsh": "PowerShell",
    "elixir": "Elixir",
    "make": "make",
}

# LSP languageId (and our own names, lower-cased) -> language
_LSP_IDS: dict[str, str] = {
    "python": "Python",
    "javascript": "JavaScript",
    "javascriptreact": "JSX",
    "typescript": "TypeScript",
    "typescriptreact": "TypeScript",
    "go": "Go",
    "rust": "Rust",
    "java": "Java",
    "c": "C",
    "cpp": "C++",
    "csharp": "C#",
    "ruby": "Ruby",
    "shellscript": "Bourne Shell",
    "bash": "Bourne Again Shell",
    "sh": "Bourne Shell",
    "zsh": "zsh",
    "fish": "Fish Shell",
    "powershell": "PowerShell",
    "bat": "DOS Batch",
    "kotlin": "Kotlin",
    "swift": "Swift",
    "scala": "Scala",
    "dart": "Dart",
    "groovy": "Groovy",
    "php": "PHP",
    "objective-c": "Objective-C",
    "objective-cpp": "Objective-C++",
    "css": "CSS",
    "scss": "SCSS",
    "less": "LESS",
    "sql": "SQL",
    "lua": "Lua",
    "haskell": "Haskell",
    "elm": "Elm",
    "ocaml": "OCaml",
    "fsharp": "F#",
    "clojure": "Clojure",
    "lisp": "Lisp",
    "scheme": "Scheme",
    "erlang": "Erlang",
    "elixir": "Elixir",
    "perl": "Perl",
    "r": "R",
    "tcl": "Tcl",
    "nim": "Nim",
    "crystal": "Crystal",
    "latex": "TeX",
    "tex": "TeX",
    "cmake": "CMake",
    "makefile": "make",
    "dockerfile": "Dockerfile",
    "yaml": "YAML",
    "toml": "TOML",
    "ini": "INI",
    "graphql": "GraphQL",
    "terraform": "HCL",
    "html": "HTML",
    "xml": "XML",
    "xsl": "XSLT",
    "vue": "Vuejs Component",
    "svelte": "Svelte",
    "json": "JSON",
    "jsonc": "JSON5",
    "markdown": "Markdown",
    "restructuredtext": "reStructuredText",
    "vb": "Visual Basic Script",
    "proto": "Protocol Buffers",
    "proto3": "Protocol Buffers",
    "zig": "Zig",
    "solidity": "Solidity",
    "starlark": "Starlark",
    "plaintext": "Text",
}

_SHEBANG_RE = re.compile(r"#![ \t]*(?:\S*/)?(?:env[ \t]+(?:-\S+[ \t]+)*(?:\w+=\S*[ \t]+)*)?(?:\S*/)?([A-Za-z][\w.+-]*)")


def _interpreter_language(first_line: str) -> str | None:
    m = _SHEBANG_RE.match(first_line)
    if m is None:
        return None
    name = m.group(1).lower()
    if name in _INTERPRETERS:
        return _INTERPRETERS[name]
    base = re.sub(r"[\d.]+$", "", name)  # python3.11, ruby2.7, perl5
    return _INTERPRETERS.get(base)


def _language_for_name(name: str) -> str | None:
    lower = name.lower()
    if lower in _FILENAMES:
        return _FILENAMES[lower]
    ext = os.path.splitext(lower)[1]
    if name.endswith(".R"):
        return "R"
    return _EXTENSIONS.get(ext)


def is_source_name(name: str) -> bool | None:
    """True if the file name alone says this is source we count, None if only
    the content can tell (no extension: maybe a ``#!`` script), else False."""
    if _language_for_name(name) is not None:
        return True
    base = name.rsplit("/", 1)[-1]
    if "." not in base.lstrip("."):
        return None
    return False


def detect_language(
    filename: str | os.PathLike[str] | None = None,
    text: str | None = None,
    language: str | None = None,
) -> str:
    """The language to count ``text`` as: an explicit ``language`` (an LSP
    languageId such as "typescriptreact", or one of our names), else the file
    name's extension or well-known name, else the ``#!`` line, else "Text"."""
    if language:
        key = language.strip().lower()
        found = _LSP_IDS.get(key) or _NAMES_LOWER.get(key)
        if found == "Bourne Shell" and text and text.startswith("#!"):
            found = _interpreter_language(text.split("\n", 1)[0]) or found
        if found:
            return found
    if filename is not None:
        found = _language_for_name(os.path.basename(os.fspath(filename)))
        if found:
            return found
    if text and text.startswith("#!"):
        found = _interpreter_language(text.split("\n", 1)[0])
        if found:
            return found
    return "Text"


# --------------------------------------------------------------------------
# Decoding and binary detection
# --------------------------------------------------------------------------

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: same first two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# C0 control bytes that never appear in text (tab, LF, VT, FF, CR and ESC do).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27))
_CODING_RE = re.compile(rb"^[ \t\f]*(?:#|//|/\*|--|;).*?coding[:=][ \t]*([-\w.]+)", re.M)


def looks_binary(head: bytes) -> bool:
    """True for the head of a binary file: a NUL byte, or many control bytes."""
    if b"\0" in head:
        return True
    if not head:
        return False
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls > len(head) * _CONTROL_RATIO


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """Text and the encoding it was read as. Raises BinaryFileError."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), codec
            except UnicodeDecodeError:
                break  # a BOM-like start that is not text: judge the bytes
    if looks_binary(data[:_SNIFF_BYTES]):
        raise BinaryFileError(f"{name}: binary file (not text), not counted")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates = []
    m = _CODING_RE.search(data, 0, 400)  # PEP 263 / Emacs / Vim cookie, first lines
    if m is not None:
        candidates.append(m.group(1).decode("ascii", "replace"))
    candidates.append("cp1252")
    for codec in candidates:
        try:
            return data.decode(codec), codecs.lookup(codec).name
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1"), "latin-1"  # every byte sequence decodes


# --------------------------------------------------------------------------
# Scanners. Each works on "\n" + text (newlines normalised, ending in "\n") so
# that every line, the first included, starts right after a "\n".
# --------------------------------------------------------------------------

_BLANK_RE = re.compile(r"\n(?=[^\S\n]*\n)")  # one match per whitespace-only line


def _count_blank(t: str) -> int:
    return len(_BLANK_RE.findall(t))


Counter = Callable[[str], int]  # prepared text -> comment-only lines


# ---- Python ---------------------------------------------------------------

# Strings are atomic groups: an optional closing quote (unterminated string)
# must never let the engine backtrack and re-read a string from its middle.
_PY_TRIPLE = (
    r"(?>'''(?:[^'\\]++|\\.|'(?!''))*+(?:'''|\Z))"
    r'|(?>"""(?:[^"\\]++|\\.|"(?!""))*+(?:"""|\Z))'
)
_PY_SINGLE = r"(?>'(?:[^'\\\n]++|\\.)*+'?)" r'|(?>"(?:[^"\\\n]++|\\.)*+"?)'
_PY_PLAIN = f"(?:{_PY_TRIPLE}|{_PY_SINGLE})"
# f-strings are scanned as plain strings. That is exact up to Python 3.11; for
# 3.12's nested same-quote fields (PEP 701, f"{d["k"]}") a mis-read stays
# inside the line (a one-line string never crosses a newline), so the line
# counts still match the 3.12 tokenizer; tests check this against it.


# Brackets nested deeper than this inside one multi-line group are followed
# event by event (still exact, a little slower); the pattern grows with it.
_PY_GROUP_DEPTH = 3


@functools.cache  # compiled once per process, on first use or by prepare_language
def _py_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    code = r"[^'\"#\n\\()\[\]{}]++"  # everything but strings, comments, brackets
    comment = r"#[^\n]*+"  # a trailing comment (a comment line stops the loop before)
    # escapes outside strings and line continuations; a comment line after a
    # continuation is still a comment line, as tokenize says
    backslash = r"\\(?!\n[ \t\f]*+#).?"

    def loop(newline: str, *more: str) -> str:
        # alternatives by frequency; a newline takes the next line's indentation
        return "(?:" + "|".join([code, newline, *more, _PY_PLAIN, comment, backslash]) + ")*+"

    nl_plain = r"\n[ \t\f]*+(?!#)"
    # A bracketed group consumed whole, unless a comment line is inside it.
    group = r"[(\[{]" + loop(nl_plain) + r"[)\]}]"
    for _ in range(_PY_GROUP_DEPTH):
        group = r"[(\[{]" + loop(nl_plain, group) + r"[)\]}]"
    doc_tail = rf"(?:[ \t\f]*+(?:{_PY_SINGLE}))*+[ \t\f]*+(?:#[^\n]*+)?(?=\n|\Z)"
    docstring = rf"[rRbBuU]{{0,2}}{_PY_PLAIN}"
    # a line that starts with neither '#' nor a (prefixed) string is decided at once
    nl_top = rf"\n[ \t\f]*+(?:(?=[^#'\"rRbBuU\n])|(?!#|{docstring}{doc_tail}))"
    comment_run = r"\n[ \t\f]*+(?P<c>#[^\n]*+(?:\n[ \t\f]*+#[^\n]*+)*+)"
    brackets = r"(?P<o>[(\[{])|(?P<x>[)\]}])"
    top = loop(nl_top, group) + (rf"(?:{comment_run}|\n[ \t\f]*+(?P<d>{docstring})(?={doc_tail})|{brackets})?")
    nested = loop(nl_plain, group) + rf"(?:{comment_run}|{brackets})?"
    return re.compile(top, re.S), re.compile(nested, re.S)


def _python_comments(t: str) -> int:
    """Comment-only lines of Python: comment lines, and the non-blank lines of
    string statements (docstrings) outside brackets."""
    top, nested = _py_patterns()
    comments = depth = pos = 0
    end = len(t)
    while pos < end:
        m = (nested if depth else top).match(t, pos)
        assert m is not None  # the patterns match at every position
        kind = m.lastgroup
        if kind == "c":
            comments += m.group("c").count("\n") + 1
        elif kind == "d":
            doc = m.group("d")
            # a docstring left open runs to the end and takes the last "\n" along
            inner_newlines = doc.count("\n") - doc.endswith("\n")
            comments += inner_newlines + 1
            if inner_newlines:
                comments -= _count_blank(doc)
        elif kind == "o":
            depth += 1
        elif kind == "x":
            depth = max(depth - 1, 0)
        elif m.end() == pos:  # cannot happen for text the patterns cover; stay safe
            pos += 1
            continue
        pos = m.end()
    return comments


# ---- languages described by their comment and string syntax ---------------


@dataclass(frozen=True)
class _Syntax:
    line: str | None = None  # a line comment's opener, as a regex
    line_mid: str | None = None  # opener of a trailing line comment, if it differs
    # block comment as regexes (open, close) plus the characters that may start
    # the closer (or a nested opener): the body is consumed in runs between them
    block: tuple[str, str, str] | None = None
    nested: bool = False  # block comments nest (Rust, Haskell, OCaml)
    strings: tuple[str, ...] = ()  # string literals (kept as code), as regexes
    special: str = ""  # characters that may start a string or comment
    words: bool = False  # strings may have letter prefixes: consume words whole


_NEST_DEPTH = 4  # nested block comments are followed this deep


def _block_regex(syn: _Syntax, multiline: bool) -> str:
    """A block comment; in multi-line form an unterminated one runs to the end."""
    assert syn.block is not None
    open_, close, stops = syn.block
    stopset = re.escape(stops) + ("" if multiline else r"\n")
    avoid = f"{close}|{open_}" if syn.nested else close
    body = rf"[^{stopset}]++|(?!{avoid})[{re.escape(stops)}]"
    end = rf"(?:{close}|\Z)" if multiline else close
    if not syn.nested:
        return rf"{open_}(?:{body})*+{end}"
    inner = rf"{open_}(?:{body})*+{close}"
    for _ in range(_NEST_DEPTH):
        inner = rf"{open_}(?:{body}|{inner})*+{close}"
    return rf"{open_}(?:{body}|{inner})*+{end}"


def _generic_counter(syn: _Syntax) -> Counter:
    """Build the comment-line counter for a language from its syntax."""
    if syn.line is None and syn.block is None:
        return lambda t: 0
    ws = r"[^\S\n]*+"
    openers = [x for x in (syn.line, syn.block[0] if syn.block else None) if x]
    opener = "(?:" + "|".join(openers) + ")"
    items = []
    if syn.line:
        items.append(rf"{syn.line}[^\n]*+")
    block_any = block_one_line = None
    if syn.block:
        block_any = _block_regex(syn, multiline=True)
        if "\\n" not in syn.block[0]:
            block_one_line = _block_regex(syn, multiline=False)
        items.append(block_any)
    item = "(?:" + "|".join(items) + ")"
    # a line made only of comments (block comments may carry it over lines)
    comment_line = rf"{ws}{item}(?:{ws}{item})*+{ws}(?=\n|\Z)"
    events = [rf"\n(?P<c>{comment_line}(?:\n{comment_line})*+)"]
    if block_any:
        events.append(rf"\n{ws}(?P<b>{block_any})")  # opens a line, code follows it
        events.append(rf"(?P<m>{block_any})")  # after code, runs over lines
    special = re.escape("".join(sorted(set(syn.special)))) if syn.special else ""
    word = r"\w" if syn.words else ""
    boring = [rf"[^{special}{word}\n\\]++"]
    boring += [f"(?>{x})" for x in syn.strings]  # atomic: see _PY_TRIPLE
    if syn.words:
        boring.append(r"\w++")
    trailing = syn.line_mid or syn.line
    if trailing:
        boring.append(rf"{trailing}[^\n]*+")
    if block_one_line:
        boring.append(block_one_line)
    boring += [r"\\.?", rf"\n(?!{ws}{opener})"]
    if syn.block:
        boring.append(rf"(?!{syn.block[0]})[^\n]")
    else:
        boring.append(r"[^\n]")
    pattern = re.compile("(?:" + "|".join(boring) + ")*+(?:" + "|".join(events) + ")?", re.S)
    tail = re.compile(rf"{ws}(?:{syn.line}[^\n]*+)?(?:\n|\Z)" if syn.line else rf"{ws}(?:\n|\Z)")

    def count(t: str) -> int:
        comments = pos = 0
        end = len(t)
        match = pattern.match
        while pos < end:
            m = match(t, pos)
            assert m is not None  # the pattern matches at every position
            kind = m.lastgroup
            if kind == "c":
                text = m.group("c")
                lines = text.count("\n") + 1 - text.endswith("\n")  # open to the end
                comments += lines - (_count_blank(text) if lines > 1 else 0)
            elif kind == "b" or kind == "m":
                text = m.group(kind)
                lines = text.count("\n") + 1 - text.endswith("\n")
                if lines > 1:
                    # first line: code before it (m) or after it on its last line (b)
                    code_lines = 1 if kind == "b" else 1 + (tail.match(t, m.end()) is None)
                    comments += max(lines - code_lines - _count_blank(text), 0)
            elif m.end() == pos:
                pos += 1
                continue
            pos = m.end()
        return comments

    count.pattern = pattern  # type: ignore[attr-defined]  # for debugging tools
    return count


# String literal regexes shared by several languages.
_DQ = r'(?>"(?:[^"\\\n]++|\\.)*+"?)'  # one line (a backslash-newline continues it)
_SQ = r"(?>'(?:[^'\\\n]++|\\.)*+'?)"
_DQ_ML = r'(?>"(?:[^"\\]++|\\.)*+"?)'  # may span lines
_SQ_ML = r"(?>'(?:[^'\\]++|\\.)*+'?)"
_CHAR = r"'(?:[^'\\\n]|\\.){1,8}?'"  # a character literal; a lone ' stays code
_BACKTICK_RAW = r"(?>`[^`]*+`?)"
_C_BLOCK = (r"/\*", r"\*/", "*")


def _js_template(level: int) -> str:
    """A template literal with ${...} fields holding strings and templates."""
    field_alts = [r"[^{}'\"`/\\]++", _SQ, _DQ, r"\\.", r"/"]
    if level > 0:
        field_alts.insert(1, _js_template(level - 1))
        field_alts.append(r"\{(?:[^{}'\"`\\]++|" + _SQ + "|" + _DQ + r"|\\.)*+\}")
    field = "(?:" + "|".join(field_alts) + ")*+"
    return rf"`(?:[^`\\$]++|\\.|\$(?!\{{)|\$\{{{field}\}}?)*+`?"


# A regex literal: a '/' where an operand is expected (after an operator, an
# opening bracket or 'return'), not followed by another '/' or '*'.
_JS_REGEX = (
    r"(?:(?<=[(,=:\[!&|?{};+\-*%<>~^])|(?<=[(,=:\[!&|?{};+\-*%<>~^] )|(?<=\breturn ))"
    r"/(?![/*])(?:[^/\\\n\[]++|\\.|\[(?:[^\]\\\n]|\\.)*+\]?)++/"
)
_SHELL_HEREDOC = (
    r"(?<!<)<<-?[ \t]*(?P<hq>['\"]?)(?P<hd>[A-Za-z_]\w*)(?P=hq)[^\n]*+\n(?:[^\n]*+\n)*?[ \t]*(?P=hd)(?=\n|\Z)"
)
_RUBY_HEREDOC = r"<<[~-]?(?P<rq>['\"`]?)(?P<rd>[A-Z_][A-Z0-9_]*)(?P=rq)[^\n]*+\n(?:[^\n]*+\n)*?[ \t]*(?P=rd)(?=\n|\Z)"
_RUST_RAW = r"b?r(?P<rh>#*)\"(?:[^\"]++|\"(?!(?P=rh)))*+\"(?P=rh)"
_CPP_RAW = r"(?:u8|[uUL])?R\"(?P<cd>[^()\\ \n]{0,16})\((?:[^)]++|\)(?!(?P=cd)\"))*+\)(?P=cd)\""
_CS_STRINGS = (
    r'\$*(?P<csq>"{3,})(?:[^"]++|"(?!(?P=csq)))*+(?P=csq)',  # C# 11 raw literals
    r'(?:\$@|@\$?)"(?:[^"]++|"")*+"?',  # verbatim strings span lines
    r"\$?" + _DQ,
    _CHAR,
)
# "..." with $(...) inside, whose own quotes do not end the string (one level)
_SHELL_SUBST = r"""\$\((?:[^()'"\\]++|\\.|'[^']*+'|"(?:[^"\\]++|\\.)*+"|\([^()]*+\))*+\)"""
_SHELL_DQ = rf'"(?:[^"\\$]++|\\.|{_SHELL_SUBST}|\$)*+"?'

# Syntaxes shared by several languages.
_HASH = _Syntax(line="#", strings=(_DQ, _SQ), special="#\"'")
_HASH_NO_STRINGS = _Syntax(line="#", special="#")  # make, Dockerfile: quotes are not strings
_C_LIKE = _Syntax(line="//", block=_C_BLOCK, strings=(_DQ, _CHAR), special="/\"'")
_CPP = _Syntax(line="//", block=_C_BLOCK, strings=(_CPP_RAW, _DQ, _CHAR), special="/\"'", words=True)
_JS = _Syntax(line="//", block=_C_BLOCK, strings=(_DQ, _SQ, _js_template(2), _JS_REGEX), special="/\"'`")
_SCSS = _Syntax(line="//", block=_C_BLOCK, strings=(_DQ, _SQ), special="/\"'")
_HASKELL = _Syntax(
    line=r"--(?![!#$%&*+./<=>?@\\^|~:])", block=(r"\{-", r"-\}", "-{"), nested=True, strings=(_DQ,), special='-{"'
)
_LISP = _Syntax(line=";", strings=(_DQ_ML,), special=';"')
_PERCENT = _Syntax(line="%", strings=(_DQ,), special='%"')
_XML = _Syntax(block=(r"<!--", r"-->", "-"), special="<")
_SHELL = _Syntax(
    line="#",
    line_mid=r"(?<=[\s;|&()<>])#",  # '#' starts a comment only at a word start
    strings=(
        _SHELL_HEREDOC,
        r"\$'(?:[^'\\]++|\\.)*+'?",
        r"'[^']*+'?",
        _SHELL_DQ,
        r"`(?:[^`\\]++|\\.)*+`?",
        r"\$#|\$\{#",
    ),
    special="#\"'`<$",
)

# language -> syntax; a language missing here (and not Python) counts non-blank lines
_SYNTAX: dict[str, _Syntax] = {
    "JavaScript": _JS,
    "JSX": _JS,
    "TypeScript": _JS,
    "Go": _Syntax(line="//", block=_C_BLOCK, strings=(_DQ, _CHAR, _BACKTICK_RAW), special="/\"'`"),
    "Rust": _Syntax(
        line="//",
        block=(r"/\*", r"\*/", "*/"),
        nested=True,
        special="/\"'",
        words=True,
        strings=(
            _RUST_RAW,
            r"b?" + _DQ_ML,
            r"b?'(?:[^'\\\n]|\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]{1,6}\}|.))'",
        ),  # not 'a lifetimes
    ),
    "Java": _Syntax(
        line="//", block=_C_BLOCK, special="/\"'", strings=(r'"""(?:[^"\\]++|\\.|"(?!""))*+(?:"""|\Z)', _DQ, _CHAR)
    ),
    "C": _C_LIKE,
    "C++": _CPP,
    "C/C++ Header": _CPP,
    "C#": _Syntax(line="//", block=_C_BLOCK, strings=_CS_STRINGS, special="/\"'$@"),
    "Ruby": _Syntax(
        line="#",
        block=(r"(?<=\n)=begin\b", r"\n=end\b[^\n]*+", "\n"),
        special="#\"'<?",
        strings=(_RUBY_HEREDOC, r"\?[#'\"]", r'"(?:[^"\\#]++|\\.|#\{[^}\n]*+\}|#)*+"?', _SQ_ML),
    ),
    "Bourne Shell": _SHELL,
    "Bourne Again Shell": _SHELL,
    "zsh": _SHELL,
    "Korn Shell": _SHELL,
    "Fish Shell": _SHELL,
    "C Shell": _SHELL,
    "Starlark": _Syntax(line="#", strings=(_PY_TRIPLE, _PY_SINGLE), special="#\"'"),
    "PHP": _Syntax(line=r"(?://|#(?!\[))", block=_C_BLOCK, strings=(_DQ_ML, _SQ_ML), special="/#\"'"),
    "CSS": _Syntax(block=_C_BLOCK, strings=(_DQ, _SQ), special="/\"'"),
    "SCSS": _SCSS,
    "LESS": _SCSS,
    "Sass": _SCSS,
    "SQL": _Syntax(line="--", block=_C_BLOCK, strings=(_SQ_ML, _DQ), special="-/\"'"),
    "Lua": _Syntax(
        line=r"--(?!\[=*\[)",
        block=(r"--\[=*\[", r"\]=*\]", "]"),
        special="-\"'[",
        strings=(r"\[(?P<ls>=*)\[(?:[^\]]++|\](?!(?P=ls)\]))*+\](?P=ls)\]", _DQ, _SQ),
    ),
    "Haskell": _HASKELL,
    "Elm": _HASKELL,
    "OCaml": _Syntax(block=(r"\(\*", r"\*\)", "*("), nested=True, strings=(_DQ_ML,), special='("'),
    "F#": _Syntax(line="//", block=(r"\(\*(?!\))", r"\*\)", "*("), nested=True, strings=(_DQ_ML,), special='/("'),
    "Clojure": _LISP,
    "ClojureScript": _LISP,
    "ClojureC": _LISP,
    "Lisp": _LISP,
    "Scheme": _LISP,
    "Erlang": _PERCENT,
    "TeX": _PERCENT,
    "PowerShell": _Syntax(line="#", block=(r"<#", r"#>", "#"), strings=(_DQ_ML, _SQ_ML), special="#<\"'"),
    "INI": _Syntax(line="[;#]", special=";#"),
    "DOS Batch": _Syntax(line=r"(?i:@?rem\b|::)", special="@rR:"),
    "Visual Basic Script": _Syntax(line=r"(?:'|(?i:rem\b))", strings=(r'"(?:[^"\n]|"")*+"?',), special="'\"rR"),
    "Zig": _Syntax(line="//", strings=(_DQ, _CHAR), special="/\"'"),
    "Vuejs Component": _Syntax(
        line="//", block=(r"(?:<!--|/\*)", r"(?:-->|\*/)", "-*"), strings=(_DQ, _SQ), special="/<\"'"
    ),
    **dict.fromkeys(
        (
            "Objective-C",
            "Objective-C++",
            "CUDA",
            "Kotlin",
            "Swift",
            "Scala",
            "Dart",
            "Groovy",
            "Gradle",
            "Protocol Buffers",
            "Solidity",
            "JSON5",
            "HCL",
        ),
        _C_LIKE,
    ),
    **dict.fromkeys(
        ("Perl", "R", "Tcl", "Nim", "Crystal", "awk", "Elixir", "Elixir Script", "YAML", "TOML", "GraphQL", "CMake"),
        _HASH,
    ),
    **dict.fromkeys(("make", "Dockerfile"), _HASH_NO_STRINGS),
    **dict.fromkeys(("HTML", "XML", "XSD", "XSLT", "DTD", "Svelte"), _XML),
}

# Languages counted as non-blank lines: no comment syntax worth stripping.
_PLAIN_LANGUAGES = frozenset({"JSON", "Markdown", "reStructuredText", "Text"})

_NAMES_LOWER: dict[str, str] = {
    name.lower(): name for name in {*_EXTENSIONS.values(), *_FILENAMES.values(), *_SYNTAX, *_PLAIN_LANGUAGES, "Python"}
}
_COUNTERS: dict[str, Counter] = {}


def prepare_language(language: str) -> None:
    """Compile ``language``'s scanner now (it is otherwise compiled on first use),
    e.g. before forking worker processes so they share it."""
    if language == "Python" and _count_python_c is not None:
        return  # counted in C (_count_lines): nothing to compile
    _counter_for(language)


def _counter_for(language: str) -> Counter:
    counter = _COUNTERS.get(language)
    if counter is None:
        if language == "Python":
            _py_patterns()
            counter = _python_comments
        elif language in _SYNTAX:
            counter = _generic_counter(_SYNTAX[language])
        else:
            counter = lambda t: 0  # noqa: E731 - non-blank lines are code
        _COUNTERS[language] = counter
    return counter


# --------------------------------------------------------------------------
# Generated files
# --------------------------------------------------------------------------

_GENERATED_RE = re.compile(
    r"^// Code generated .* DO NOT EDIT\.$"  # Go's convention, verbatim
    r"|@generated\b"
    r"|\bdo not edit\b"
    r"|\bauto-?generated\b|\bautomatically generated\b"
    r"|^[^\w@\n]*(?:this (?:file|code|module) (?:was|is) )?generated by\b",
    re.M | re.I,
)
# A header line that is a comment, or the start of a docstring / block comment.
_COMMENTISH_RE = re.compile(
    r"[ \t]*(?:#|//|/\*|\*|--|;|%|<!--|\{-|\(\*|'|[rRuU]?\"\"\"|[rRuU]?'''|=begin|\"|rem\b)", re.I
)
_LEADING_BLOCK_RE = re.compile(
    r"\A(?:[ \t]*(?:(?:#|//)[^\n]*)?\n)*[ \t]*(?:[rRuU]?(\"\"\"|''')|(/\*)|(<!--)|(=begin)|(\{-)|(\(\*))"
)
_BLOCK_CLOSERS = {2: "*/", 3: "-->", 4: "=end", 5: "-}", 6: "*)"}  # group -> closer


# Written by package managers, never by hand, and they carry no marker.
_LOCKFILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lock",
        "Cargo.lock",
        "poetry.lock",
        "Pipfile.lock",
        "uv.lock",
        "pdm.lock",
        "composer.lock",
        "Gemfile.lock",
        "go.sum",
        "mix.lock",
        "pubspec.lock",
        "Podfile.lock",
        "flake.lock",
    }
)


def _generated_marker(text: str) -> str | None:
    """The generator marker in the file's header comments, if any."""
    header = text[:_HEADER_CHARS]
    lower = header.lower()
    if "generated" not in lower and "do not edit" not in lower:
        return None  # the common case, decided in C
    cut = -1
    for _ in range(_HEADER_LINES):
        cut = header.find("\n", cut + 1)
        if cut < 0:
            break
    if cut >= 0:
        header = header[:cut]
    block_end = -1
    lead = _LEADING_BLOCK_RE.match(header)
    if lead is not None:
        idx = lead.lastindex or 1
        closer = _BLOCK_CLOSERS.get(idx) or lead.group(1)
        block_end = header.find(closer, lead.end())
        if block_end < 0:
            block_end = len(header)
        block_start = lead.start(idx)
    for m in _GENERATED_RE.finditer(header):
        line_start = header.rfind("\n", 0, m.start()) + 1
        if (lead is not None and block_start <= m.start() <= block_end) or _COMMENTISH_RE.match(header, line_start):
            return m.group(0).lstrip("#/*-;%<!'\" \t")
    return None


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def _prepare(text: str) -> str:
    """Universal newlines, a leading "\n", a final "\n"."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    return "\n" + text


def _count(text: str, language: str) -> tuple[int, int, int, int]:
    """(code, comment, blank, total) lines of ``text``, with the regular
    expressions: the reference, and the counter when the C one is missing."""
    if not text:
        return 0, 0, 0, 0
    t = _prepare(text)
    total = t.count("\n") - 1
    blank = _count_blank(t)
    comments = 0
    if language not in _PLAIN_LANGUAGES:
        counter = _counter_for(language)
        comments = counter(t)
        if t.startswith("\n#!"):
            # cloc's rule: a first-line #! is code (it tells the OS what to
            # run), also in languages where '#' starts a comment
            comments -= counter(t[: t.find("\n", 1) + 1])
    code = total - blank - comments
    return code, comments, blank, total


def _count_lines(text: str, language: str) -> tuple[int, int, int, int]:
    """``_count``, through the C counter for Python when it is built."""
    if language == "Python" and _count_python_c is not None:
        return _count_python_c(text.encode("utf-8", "surrogatepass"))
    return _count(text, language)


def analyze_text(
    text: str,
    *,
    filename: str | os.PathLike[str] | None = None,
    language: str | None = None,
    size_bytes: int | None = None,
    encoding: str = "utf-8",
) -> LocResult:
    """Count lines of ``text`` (an unsaved editor buffer, say).

    ``language`` may be an LSP languageId ("python", "typescriptreact",
    "shellscript", "csharp", "cpp", ...) or one of our language names; without
    it the language comes from ``filename`` and then from a ``#!`` line.
    """
    lang = detect_language(filename, text, language)
    if size_bytes is None:
        size_bytes = len(text.encode("utf-8", "surrogatepass"))
    return _result(lang, _count_lines(text, lang), text, filename, size_bytes, encoding)


def _result(
    language: str,
    counted: tuple[int, int, int, int],
    text: str,  # the file's text, or at least its header
    filename: str | os.PathLike[str] | None,
    size_bytes: int,
    encoding: str,
) -> LocResult:
    code, comments, blank, total = counted
    name = os.path.basename(os.fspath(filename)) if filename is not None else ""
    marker = "lockfile" if name in _LOCKFILES else _generated_marker(text)
    return LocResult(
        language=language,
        code_lines=code,
        comment_lines=comments,
        blank_lines=blank,
        total_lines=total,
        generated=marker is not None,
        generated_marker=marker,
        size_bytes=size_bytes,
        encoding=encoding,
    )


def _read_bytes(name: str, max_bytes: int | None) -> bytes:
    """A file's bytes, read once. NotRegularFileError (an OSError, nothing read) for
    a FIFO, device or directory; FileTooLargeError (before reading) when it is over
    ``max_bytes``; OSError when unreadable."""
    fd, info = open_regular_file(name)  # a descriptor, no buffered file object
    try:
        size = info.st_size
        if max_bytes is not None and size > max_bytes:
            raise FileTooLargeError(
                f"{name}: {size:,} bytes is over the {max_bytes:,}-byte limit, not counted",
                size=size,
                limit=max_bytes,
            )
        want = size + 1 if max_bytes is None else min(size, max_bytes) + 1
        data = os.read(fd, want)  # one call: a short read is the end of the file
        if len(data) == want:  # it grew since fstat
            chunks = [data]
            while max_bytes is None or sum(map(len, chunks)) <= max_bytes:
                more = os.read(fd, 1 << 20)
                if not more:
                    break
                chunks.append(more)
            data = b"".join(chunks)
    finally:
        os.close(fd)
    if max_bytes is not None and len(data) > max_bytes:  # grew while we looked
        raise FileTooLargeError(f"{name}: over the {max_bytes:,}-byte limit, not counted", limit=max_bytes)
    return data


def read_source(path: str | os.PathLike[str], max_bytes: int | None = DEFAULT_MAX_BYTES) -> tuple[str, str, int]:
    """(text, encoding, size in bytes) of a file, read once.

    Raises FileTooLargeError (before reading) when the file exceeds
    ``max_bytes``, BinaryFileError for binary content, NotRegularFileError (an
    OSError) for a FIFO, device or directory, OSError if unreadable.
    """
    name = os.fspath(path)
    data = _read_bytes(name, max_bytes)
    text, encoding = _decode(data, name)
    return text, encoding, len(data)


def analyze_file(path: str | os.PathLike[str], *, max_bytes: int | None = DEFAULT_MAX_BYTES) -> LocResult:
    """Count the lines of a source file.

    Raises BinaryFileError for a binary file, FileTooLargeError for a file over
    ``max_bytes`` (default DEFAULT_MAX_BYTES, None for no limit),
    NotRegularFileError (an OSError; nothing is read) for a FIFO, device or
    directory, and OSError when the file cannot be read. Non-UTF-8 text is
    decoded with its coding cookie, else cp1252, else latin-1
    (``LocResult.encoding`` says which).
    """
    name = os.fspath(path)
    data = _read_bytes(name, max_bytes)
    if (
        _count_python_c is not None
        and data.isascii()  # most source: valid UTF-8 as it is, no decoding needed
        and _language_for_name(os.path.basename(name)) == "Python"
        and not looks_binary(data[:_SNIFF_BYTES])
    ):
        header = data[:_HEADER_CHARS].decode("ascii")
        return _result("Python", _count_python_c(data), header, name, len(data), "utf-8")
    text, encoding = _decode(data, name)
    return analyze_text(text, filename=path, size_bytes=len(data), encoding=encoding)


def count_lines_of_code(path: str | os.PathLike[str] | Path) -> int:
    """Code lines of a file: blank and comment-only lines (docstrings too) out."""
    return analyze_file(path).code_lines
