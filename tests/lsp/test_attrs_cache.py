"""The cache of attrs's generated methods (attune.lsp.attrs_cache), in fresh interpreters:
the first import of lsprotocol compiles and writes it, the next loads it and compiles
next to nothing, the classes behave the same, and a corrupt file, a folder that
cannot be written, PYTHONDONTWRITEBYTECODE and the off switch all leave the import
working. PYTHONPYCACHEPREFIX keeps the file out of the installed attrs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

# Imports lsprotocol under the cache and prints what the cache did, and what a few
# generated methods (__init__, __eq__, __ne__, __repr__) give.
PROBE = r"""
import json
from attune.lsp.attrs_cache import attrs_method_cache
with attrs_method_cache() as stats:
    from lsprotocol import types
a = types.Range(start=types.Position(line=1, character=2), end=types.Position(line=3, character=4))
b = types.Range(types.Position(1, 2), types.Position(3, 4))
print(json.dumps({
    "path": str(stats.path) if stats.path else None,
    "loaded": stats.loaded, "hits": stats.hits, "compiled": stats.compiled, "written": stats.written,
    "equal": a == b, "repr": repr(types.CodeLens(range=a, data={"k": [1]})),
    "differs": a != types.Range(types.Position(1, 2), types.Position(3, 5)),
}))
"""


def probe(prefix: Path, **env: str) -> dict[str, Any]:
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "ATTUNE_LSP_NO_ATTRS_CACHE")}
    environ.update(PYTHONPYCACHEPREFIX=str(prefix), **env)
    done = subprocess.run([sys.executable, "-c", PROBE], env=environ, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    assert result["equal"] and result["differs"], result
    return result


def test_the_first_import_writes_the_cache_and_the_next_one_loads_it(tmp_path: Path) -> None:
    first = probe(tmp_path)
    assert first["path"] and first["path"].startswith(str(tmp_path)), "the cache follows sys.pycache_prefix"
    assert first["loaded"] == 0 and first["compiled"] > 500 and first["written"]
    size = Path(first["path"]).stat().st_size

    second = probe(tmp_path)
    assert second["loaded"] == first["compiled"]
    # a frozen class's __hash__ source is salted per process: those few compile again,
    # and are too few to rewrite the file
    assert second["compiled"] <= 0.02 * (second["hits"] + second["compiled"])
    assert second["hits"] >= first["compiled"] - second["compiled"]
    assert not second["written"]
    assert Path(first["path"]).stat().st_size == size
    assert first["repr"] == second["repr"] == probe(tmp_path, ATTUNE_LSP_NO_ATTRS_CACHE="1")["repr"]


def test_a_corrupt_cache_is_rebuilt_and_the_import_works(tmp_path: Path) -> None:
    path = Path(probe(tmp_path)["path"])
    path.write_bytes(b"\x00not marshal data" * 10)
    rebuilt = probe(tmp_path)
    assert rebuilt["loaded"] == 0 and rebuilt["compiled"] > 500 and rebuilt["written"]
    assert probe(tmp_path)["loaded"] == rebuilt["compiled"]


def test_a_cache_of_another_shape_is_ignored(tmp_path: Path) -> None:
    import marshal

    path = Path(probe(tmp_path)["path"])
    path.write_bytes(marshal.dumps({("f", "s"): "not code", "key": 1}))
    assert probe(tmp_path)["loaded"] == 0


def test_nothing_is_written_where_byte_code_is_not(tmp_path: Path) -> None:
    quiet = probe(tmp_path, PYTHONDONTWRITEBYTECODE="1")
    assert quiet["compiled"] > 500 and not quiet["written"]
    assert not Path(quiet["path"]).exists()


def test_a_folder_that_cannot_be_made_leaves_the_import_working(tmp_path: Path) -> None:
    blocked = tmp_path / "prefix"
    blocked.write_text("a file where the cache's folder would go")
    result = probe(blocked)
    assert result["compiled"] > 500 and not result["written"]


def test_the_switch_turns_the_cache_off(tmp_path: Path) -> None:
    off = probe(tmp_path, ATTUNE_LSP_NO_ATTRS_CACHE="1")
    assert off["path"] is None and off["loaded"] == off["hits"] == off["compiled"] == 0 and not off["written"]
    assert not any(tmp_path.rglob("*.attune-attrs-methods"))
