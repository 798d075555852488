"""Checks that bundled/libs alone runs the server's whole import graph on this Python.

Run as ``python -I -S -B smoke_bundle.py <libs>`` (no site-packages, no
PYTHONPATH, no byte-code written into the bundle), so only the bundle can supply
a module: the server, its commands, the executor behind countTokens and anthropic
(imported lazily there), redis (the breaker). Then one lens's worth of work: the
lines of a Python and a JavaScript file are counted and reported, which compiles
the line counter's patterns on this version. Last, the launcher (bundled/tool/
launch.py, next to <libs>) must still import the bundled server when a foreign
regular package named ``attune`` (what PyPI's attune-ai ships) is on sys.path.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tempfile

MODULES = [
    "attune.lsp.server",
    "attune.lsp.commands",
    "attune.models.llm.executor",
    "attune.models.breaker.circuit_breaker",
    "attune.models.breaker.stores.redis",
    "anthropic",
    "pydantic",
    "pygls",
    "lsprotocol.types",
    "redis",
    "redis.asyncio",
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
    from attune.models.advice import EstimateContext, report_for_loc
    from attune.models.loc.counter import analyze_file
    from attune.models.strategy.model import AuthStrategy

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
            report_for_loc(path, loc, EstimateContext(AuthStrategy()))


try:
    count_and_report()
except Exception as exc:
    failed.append(f"counting lines: {type(exc).__name__}: {exc}")


def launcher_ignores_foreign_attune(libs: str) -> str:
    """Puts a stand-in attune-ai (a regular ``attune`` package whose import fails) in a
    temporary site-packages folder at the end of sys.path, then, in a fresh
    interpreter, runs the launcher's path setup and imports the bundled
    ``attune.lsp.server``. Without the launcher the same import must fail, or the
    stand-in proved nothing. Returns the launcher's stderr line."""
    libs = os.path.abspath(libs)
    launcher = os.path.join(os.path.dirname(libs), "tool", "launch.py")
    with tempfile.TemporaryDirectory() as site:
        os.makedirs(os.path.join(site, "attune"))
        with open(os.path.join(site, "attune", "__init__.py"), "w", encoding="utf-8") as fh:
            fh.write('raise ImportError("the stand-in attune-ai package was imported")\n')
        info = os.path.join(site, "attune_ai-0.0.0.dist-info")
        os.makedirs(info)
        with open(os.path.join(info, "METADATA"), "w", encoding="utf-8") as fh:
            fh.write("Metadata-Version: 2.1\nName: attune-ai\nVersion: 0.0.0\n")
        with open(os.path.join(info, "RECORD"), "w", encoding="utf-8") as fh:
            fh.write("attune/__init__.py,,\nattune_ai-0.0.0.dist-info/METADATA,,\n")
        env = {k: v for k, v in os.environ.items() if k != "ATTUNE_LSP_USE_INSTALLED"}

        def run(setup: str) -> subprocess.CompletedProcess[str]:
            code = (
                f"import runpy, sys; sys.path.append({site!r}); {setup}; "
                "import attune.lsp.server as s; print(s.__file__)"
            )
            return subprocess.run(
                [sys.executable, "-I", "-S", "-B", "-c", code], capture_output=True, text=True, env=env, timeout=300
            )

        control = run(f"sys.path.insert(0, {libs!r})")
        if control.returncode == 0:
            raise AssertionError("the stand-in attune package did not shadow the bundle: the check proves nothing")
        done = run(f"runpy.run_path({launcher!r}, run_name='attune_launch')['prepare']()")
        if done.returncode != 0:
            raise AssertionError(f"the launcher did not get past the stand-in: {done.stderr.strip()[-600:]}")
        if not os.path.abspath(done.stdout.strip()).startswith(libs + os.sep):
            raise AssertionError(f"attune.lsp.server came from {done.stdout.strip()}, not the bundle")
        expected = (
            f"attune: ignoring another package named 'attune' at {os.path.join(site, 'attune')} "
            "(attune-ai 0.0.0); using the bundled server"
        )
        if expected not in done.stderr:
            raise AssertionError(f"the launcher's stderr lacks {expected!r}: {done.stderr.strip()!r}")
        return expected.replace(site, "<tmp>")


try:
    launcher_line = launcher_ignores_foreign_attune(sys.argv[1])
except Exception as exc:
    failed.append(f"launcher with a foreign 'attune' package: {type(exc).__name__}: {exc}")
version = ".".join(map(str, sys.version_info[:3]))
if failed:
    print(f"smoke_bundle: Python {version} cannot run the bundle:\n  " + "\n  ".join(failed), file=sys.stderr)
    sys.exit(1)
print(
    f"smoke_bundle: Python {version} imports the server, anthropic and redis from the bundle alone and counts lines;"
    f" with a stand-in attune-ai installed, the launcher still starts the bundled server ({launcher_line})"
)
