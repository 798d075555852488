"""Checks that bundled/libs alone runs the server's whole import graph on this Python.

Run as ``python -I -S -B smoke_bundle.py <libs>`` (no site-packages, no
PYTHONPATH, no byte-code written into the bundle), so only the bundle can supply
a module: the server, its commands, the executor behind countTokens and anthropic
(imported lazily there), redis (the breaker). Then one lens's worth of work: the
lines of a Python and a JavaScript file are counted and reported, which compiles
the line counter's patterns on this version.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile

MODULES = [
    "attune.lsp.server", "attune.lsp.commands", "attune.models.executor", "attune.models.circuit_breaker",
    "attune.models.breaker_store_redis", "anthropic", "pydantic", "pygls", "lsprotocol.types", "redis", "redis.asyncio",
]

sys.path.insert(0, sys.argv[1])
failed = []
for name in MODULES:
    try:
        importlib.import_module(name)
    except Exception as exc:  # report every failure, not just the first
        failed.append(f"{name}: {type(exc).__name__}: {exc}")
try:  # constructing a client imports its HTTP stack (no request is sent)
    importlib.import_module("anthropic").AsyncAnthropic(api_key="placeholder-not-a-key")
except Exception as exc:
    failed.append(f"anthropic.AsyncAnthropic(): {type(exc).__name__}: {exc}")

def count_and_report() -> None:
    from attune.models.auth_strategy import AuthStrategy
    from attune.models.loc import analyze_file
    from attune.models.reports import report_for_loc

    sources = {  # name: (text, lines of code)
        "mod.py": ('"""Doc."""\n# comment\nx = 1\ns = "a # b"\n', 2),
        "mod.js": ("// comment\nlet x = 1;\n/* a\n b */\nlet s = '//';\n", 2),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, (text, expected) in sources.items():
            path = os.path.join(tmp, name)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
            loc = analyze_file(path)
            if loc.code_lines != expected:
                raise AssertionError(f"{name}: {loc.code_lines} lines of code, expected {expected}")
            report_for_loc(path, loc, AuthStrategy())


try:
    count_and_report()
except Exception as exc:
    failed.append(f"counting lines: {type(exc).__name__}: {exc}")
version = "%d.%d.%d" % sys.version_info[:3]
if failed:
    print(f"smoke_bundle: Python {version} cannot run the bundle:\n  " + "\n  ".join(failed), file=sys.stderr)
    sys.exit(1)
print(f"smoke_bundle: Python {version} imports the server, anthropic and redis from the bundle alone and counts lines")
