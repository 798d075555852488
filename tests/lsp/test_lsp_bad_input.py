"""Bad input gets a clear answer, and the server keeps running."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from support.lsp_session import python_source

INVALID_PARAMS = -32602


async def test_lens_for_a_never_opened_file_reads_it_from_disk(start_session, tmp_path: Path):
    source = tmp_path / "closed.py"
    source.write_text(python_source(12))
    session = await start_session()
    assert (await session.lens_titles(source.as_uri()))[0] == "Small · 12 lines"


async def test_lens_for_a_missing_file_and_a_non_file_uri(start_session, tmp_path: Path):
    session = await start_session()
    assert await session.lens_titles((tmp_path / "nope.py").as_uri()) == [
        "Attune: not analysed — file not found on disk"
    ]
    titles = await session.lens_titles("https://example.com/a.py")
    assert titles == ["Attune: not analysed — the document is not open in the editor and is not a file: URI"]
    # an open non-file document (e.g. a git diff view) is counted from its text
    session.open("git:/repo/a.py?ref=HEAD", python_source(3))
    assert (await session.lens_titles("git:/repo/a.py?ref=HEAD"))[0] == "Small · 3 lines"


async def test_binary_file(start_session, tmp_path: Path):
    blob = tmp_path / "image.py"
    blob.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    session = await start_session()
    assert await session.lens_titles(blob.as_uri()) == ["Attune: not analysed — binary file"]


async def test_fifty_megabyte_file_is_not_read(start_session, tmp_path: Path):
    big = tmp_path / "huge.py"
    with big.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # sparse: 50 MB on paper, no disk used
    session = await start_session()
    titles = await session.lens_titles(big.as_uri())
    assert len(titles) == 1 and titles[0].startswith("Attune: not analysed — file too large (50.0 MB > 5 MB")
    # the limit is a setting
    session2 = await start_session(init_options={"lens": {"maxFileSizeMB": 0.001}})
    small = tmp_path / "s.py"
    small.write_text(python_source(100))
    assert (await session2.lens_titles(small.as_uri()))[0].startswith("Attune: not analysed — file too large")


async def test_open_document_over_the_limit(start_session):
    session = await start_session(init_options={"lens": {"maxFileSizeMB": 0.01}})
    session.open("untitled:big", python_source(2_000))
    titles = await session.lens_titles("untitled:big")
    assert len(titles) == 1 and titles[0].startswith("Attune: not analysed — file too large")


MALFORMED = [
    ("attune.server.setupAuth", [{"tier": "platinum", "mode": "auto"}], "tier"),
    ("attune.server.setupAuth", [{"mode": "auto"}], "tier"),
    ("attune.server.setupAuth", [{"tier": "pro", "mode": "auto", "colour": "red"}], "colour"),
    (
        "attune.server.setupAuth",
        [{"tier": "pro", "mode": "auto", "loc_to_tokens_multiplier": "4"}],
        "loc_to_tokens_multiplier",
    ),
    ("attune.server.setupAuth", ["pro"], "expected an object"),
    ("attune.server.setupAuth", [{"tier": "pro", "mode": "auto"}, {}], "one argument object"),
    ("attune.server.resetAuth", [{"confirm": "yes"}], "confirm"),
    ("attune.server.recommend", [{}], "uri"),
    ("attune.server.recommend", [42], "expected an object"),
    ("attune.server.resetBreaker", [{"provider": 3}], "provider"),
    ("attune.server.resetBreaker", [{"provider": "a:b"}], "provider may not contain ':'"),
    ("attune.server.resetBreaker", [{"provider": "a:b", "tier": "cheap"}], "provider may not contain ':'"),
    ("attune.server.resetBreaker", [{"provider": ""}], "provider must be a non-empty string"),
    ("attune.server.resetBreaker", [{"provider": "  "}], "provider must be a non-empty string"),
    ("attune.server.recommend", [{"uri": "file:///tmp/a%00b.py"}], "uri: a file: URI whose path contains a NUL"),
    ("attune.server.recommend", ["file:///tmp/a%00b.py"], "uri: a file: URI whose path contains a NUL"),
    ("attune.server.showDetails", [{"uri": "file:///tmp/%00"}], "uri: a file: URI whose path contains a NUL"),
    ("attune.server.countTokens", [{"uri": "file:///tmp/a%00b.py"}], "uri: a file: URI whose path contains a NUL"),
    ("attune.server.recommend", [{"uri": "file://[/a.py"}], "uri: not a valid URI"),
    ("attune.server.authStatus", [{"unexpected": 1}], "unexpected"),
]


async def test_malformed_command_arguments(start_session):
    session = await start_session()  # one server for every case: it must survive them all
    for command, arguments, says in MALFORMED:
        with pytest.raises(JsonRpcException) as bad:
            await session.command(command, *arguments)
        assert bad.value.code == INVALID_PARAMS, (command, arguments)
        assert command in bad.value.message and says in bad.value.message, bad.value.message
    assert (await session.command("attune.server.breakerStatus"))["open"] == 0  # still running


async def test_lens_for_a_uri_with_no_usable_path_is_invalid_params(start_session, tmp_path: Path):
    session = await start_session()
    for uri in ("file:///tmp/a%00b.py", "file://%00/x.py", "file://[/a.py"):
        with pytest.raises(JsonRpcException) as bad:
            await session.lens_titles(uri)
        assert bad.value.code == INVALID_PARAMS, uri
        assert bad.value.message.startswith("textDocument/codeLens: textDocument.uri: "), bad.value.message
    # an open document with such a URI: the same answer, and the other documents are unaffected
    session.open("file:///tmp/open%00.py", python_source(3))
    with pytest.raises(JsonRpcException) as bad:
        await session.lens_titles("file:///tmp/open%00.py")
    assert bad.value.code == INVALID_PARAMS
    source = tmp_path / "fine.py"
    source.write_text(python_source(4))
    assert (await session.lens_titles(source.as_uri()))[0] == "Small · 4 lines"


async def test_unknown_command(start_session):
    session = await start_session()
    with pytest.raises(JsonRpcException) as bad:
        await session.command("attune.server.doesNotExist")
    assert bad.value.code == INVALID_PARAMS
    assert (await session.command("attune.server.authStatus"))["file_exists"] is False


async def test_corrupt_strategy_at_start(start_session, tmp_path: Path, attune_home: Path):
    (attune_home / "auth_strategy.json").write_text(
        json.dumps({"subscription_tier": "pro", "small_module_threshold": -1})
    )
    source = tmp_path / "mod.py"
    source.write_text(python_source(5))
    session = await start_session()
    titles = await session.lens_titles(source.as_uri())
    assert titles == [
        "Attune: strategy file invalid — invalid strategy (small_module_threshold: "
        "Input should be greater than 0); run `attune auth reset` or fix the file"
    ]
    with pytest.raises(JsonRpcException) as status:
        await session.command("attune.server.authStatus")
    assert "small_module_threshold" in status.value.message
    # setup over a corrupt file keeps the bad bytes aside and works
    saved = await session.command("attune.server.setupAuth", {"tier": "pro", "mode": "auto"})
    assert saved["subscription_tier"] == "pro"
    assert list(attune_home.glob("auth_strategy.json.corrupt-*"))
    assert (await session.lens_titles(source.as_uri()))[0] == "Small · 5 lines"


async def test_anthropic_is_not_imported_until_a_command_needs_it(start_session, server_env, tmp_path: Path):
    """Run the real server under a wrapper that dumps sys.modules at exit."""
    dump = tmp_path / "modules.txt"
    wrapper = (
        "import atexit, runpy, sys\n"
        f"atexit.register(lambda: open({str(dump)!r}, 'w').write('\\n'.join(sorted(sys.modules))))\n"
        "sys.argv = ['attune-lsp']\n"
        "runpy.run_module('attune.lsp', run_name='__main__', alter_sys=True)\n"
    )
    source = tmp_path / "mod.py"
    source.write_text(python_source(30))
    session = await start_session(command=[sys.executable, "-c", wrapper])
    session.open(source.as_uri(), source.read_text())
    await session.lens_titles(source.as_uri())
    for command, args in (
        ("attune.server.authStatus", []),
        ("attune.server.breakerStatus", []),
        ("attune.server.recommend", [source.as_uri()]),
        ("attune.server.showDetails", [{"uri": source.as_uri()}]),
        ("attune.server.setupAuth", [{"tier": "pro", "mode": "auto"}]),
    ):
        await session.command(command, *args)
    await session.client.shutdown_session()

    modules = set(dump.read_text().split())
    assert {"pygls", "attune.models.strategy.model", "attune.models.breaker.circuit_breaker"} <= modules
    assert "anthropic" not in modules
