"""Incremental edits of open documents: the server's text after each edit is the
editor's, with LSP's line ends (\\n, \\r\\n, \\r), UTF-16 positions and clamped
positions; checked through a real client (the lens counts the edited text) and on
the document class itself against a plain string model of the specification."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.workspace import PositionCodec

from attune.lsp.text_documents import LineDocument, split_lines
from attune.models.loc.counter import analyze_text

# ---- a plain model of the specification: the whole text, offsets, re-split each time

_BREAK = re.compile(r"\r\n|\r|\n")


def line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in _BREAK.finditer(text)]


def line_content(text: str, line: int) -> tuple[int, str]:
    starts = line_starts(text)
    end = starts[line + 1] if line + 1 < len(starts) else len(text)
    return starts[line], text[starts[line] : end].rstrip("\r\n")


def offset_of(text: str, line: int, character: int) -> int:
    """Past the last line: the end; past a line's end: that end (UTF-16 units)."""
    if line >= len(line_starts(text)):
        return len(text)
    start, content = line_content(text, line)
    units = content.encode("utf-16-le")[: 2 * character]
    return start + len(units.decode("utf-16-le"))


def position_of(text: str, offset: int) -> types.Position:
    starts = line_starts(text)
    line = max(i for i, s in enumerate(starts) if s <= offset)
    return types.Position(line=line, character=len(text[starts[line] : offset].encode("utf-16-le")) // 2)


def edited(text: str, start: types.Position, end: types.Position, new: str) -> str:
    a, b = sorted((offset_of(text, start.line, start.character), offset_of(text, end.line, end.character)))
    return text[:a] + new + text[b:]


def partial(start: types.Position, end: types.Position, text: str) -> types.TextDocumentContentChangePartial:
    return types.TextDocumentContentChangePartial(range=types.Range(start=start, end=end), text=text)


def pos(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


# ---- through a real client


def code_lines(text: str) -> int:
    return analyze_text(text, filename="mod.py", language="python").code_lines


def lens_for(lines: int) -> str:
    return f"Small · {lines:,} line{'s' if lines != 1 else ''}"


async def edit_and_check(session, uri: str, text: str, edits: list[tuple[types.Position, types.Position, str]]):
    version = 1
    for start, end, new in edits:
        version += 1
        session.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[partial(start, end, new)],
            )
        )
        text = edited(text, start, end, new)
        assert (await session.lens_titles(uri))[0] == lens_for(code_lines(text)), (start, end, new, text)
    return text


async def test_edits_below_a_form_feed_or_a_line_separator_land_on_the_editors_line(start_session, tmp_path: Path):
    """A form feed (old Python files have them) and U+2028 do not end a line in LSP."""
    uri = (tmp_path / "mod.py").as_uri()
    text = 'a = 1\n\x0c\nb = 2\nc = 3\ns = "x\u2028y"\nd = 4\ne = 5\n'
    session = await start_session(init_options={"lens": {"debounceMs": 0}})
    session.open(uri, text)
    assert (await session.lens_titles(uri))[0] == lens_for(6)
    text = await edit_and_check(
        session,
        uri,
        text,
        [
            (pos(2, 0), pos(3, 0), ""),  # delete "b = 2"
            (pos(4, 0), pos(5, 0), ""),  # delete "d = 4" (below the U+2028)
            (pos(4, 0), pos(4, 0), "f = 6\ng = 7\n"),
        ],
    )
    assert text == 'a = 1\n\x0c\nc = 3\ns = "x\u2028y"\nf = 6\ng = 7\ne = 5\n'


async def test_edits_across_lines_crlf_astral_characters_and_the_end(start_session, tmp_path: Path):
    uri = (tmp_path / "mod.py").as_uri()
    text = "x = '😀😀'; y = 1\r\nz = 2\r\n\r\nw = 3"
    session = await start_session(init_options={"lens": {"debounceMs": 0}})
    session.open(uri, text)
    await edit_and_check(
        session,
        uri,
        text,
        [
            (pos(0, 10), pos(0, 10), "\r\nq = 9; "),  # after the two emoji: 4 UTF-16 units
            (pos(1, 3), pos(2, 4), "k = "),  # across lines
            (pos(3, 5), pos(99, 0), "4\r\nv = 5\r\n"),  # past the last line means the end
            (pos(0, 0), pos(0, 500), "a = 0"),  # past the end of a line means its end
            (pos(5, 0), pos(5, 0), "u = 6\n"),  # on the empty last line
            (pos(0, 0), pos(99, 0), ""),  # everything
            (pos(0, 0), pos(0, 0), "only = 1\n"),
        ],
    )


async def test_many_edits_of_a_large_open_file_then_a_lens(start_session, tmp_path: Path):
    uri = (tmp_path / "big.py").as_uri()
    text = "".join(f"v{i} = {i}\n" for i in range(20_000))
    session = await start_session(init_options={"lens": {"debounceMs": 0}})
    session.open(uri, text)
    for i in range(200):
        session.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=i + 2),
                content_changes=[partial(pos(10_000, 0), pos(10_000, 0), f"t{i} = 0\n")],
            )
        )
    assert (await session.lens_titles(uri))[0] == "Large · 20,200 lines"


# ---- the document class against the model


def test_split_lines_keeps_every_character_and_splits_only_at_lsp_line_ends():
    for text in ("", "a", "a\n", "a\r\nb\rc\nd", "\r\n", "\x0c\x0b\u2028\x85\n", "a\r"):
        lines = split_lines(text)
        assert "".join(lines) == text
        assert len(lines) == len(line_starts(text))
        assert all(_BREAK.search(line) is None or _BREAK.search(line).end() == len(line) for line in lines)


@pytest.mark.parametrize("seed", range(8))
def test_random_edits_match_the_model(seed: int):
    rng = random.Random(seed)
    pieces = ["a", "bc", " ", "\n", "\r\n", "\r", "😀", "é", "\x0c", "\u2028", "xyz\n"]
    text = "".join(rng.choice(pieces) for _ in range(60))
    doc = LineDocument("untitled:t", text, 1, "python", position_codec=PositionCodec())
    for _ in range(300):
        if rng.random() < 0.1:  # positions past a line's end or past the last line
            start = pos(rng.randrange(0, 40), rng.randrange(0, 40))
            end = pos(rng.randrange(0, 40), rng.randrange(0, 40))
        else:  # positions between characters, never inside "\r\n" or a surrogate pair
            offsets = [
                o for o in range(len(text) + 1) if not (0 < o < len(text) and text[o - 1] == "\r" and text[o] == "\n")
            ]
            start, end = (position_of(text, rng.choice(offsets)) for _ in range(2))
        new = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 4)))
        doc.apply_change(partial(start, end, new))
        text = edited(text, start, end, new)
        assert doc.source == text, (start, end, new)
    doc.apply_change(types.TextDocumentContentChangeWholeDocument(text="whole\r\nnew"))
    doc.apply_change(partial(pos(1, 3), pos(1, 3), "!"))
    assert doc.source == "whole\r\nnew!"
