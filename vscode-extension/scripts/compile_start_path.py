"""Ships the byte-code of what the bundled server imports up to its first lens.

Run as ``python compile_start_path.py <libs> <launcher> <budget KB> <interpreter>...``
after the bundle is built and smoke-tested. For each interpreter: the server is
started from the bundle (``<launcher>``, bundled/tool/launch.py) with
PYTHONPYCACHEPREFIX in a temporary folder and asked over LSP for the lenses of a
100-line Python file, then stopped; the modules it compiled from ``<libs>`` on the
way are the start path. Each is compiled by that interpreter into its
``__pycache__`` folder as a checked hash-based .pyc (PEP 552): valid whatever the
files' dates once the .vsix is unpacked, and checked against its source at import.

The server's run also writes attune.lsp.attrs_cache's file of the methods attrs
generates for lsprotocol's classes; it is shipped the same way, one per version,
in ``attr/__pycache__``.

The .vsix carries one set per Python version, so a set is capped at ``<budget KB>``
(its compressed size): modules are taken from the most time to compile per byte
of .pyc, down; what is left out compiles at the first start and is written next to
its source then (where the extension's folder is writable).

Prints one line per interpreter: modules compiled, their size, what was left out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import zlib
from pathlib import Path
from typing import Any

TIMEOUT_S = 180
ATTRS_CACHE_SUFFIX = ".attune-attrs-methods"  # attune.lsp.attrs_cache.CACHE_SUFFIX (not importable here)

# Runs in the target interpreter: compiles each source (relative to libs) in place,
# prints per module the compile time (ms) and the compressed size of the .pyc.
COMPILE = r"""
import importlib.util, json, os, py_compile, sys, time, zlib
libs = sys.argv[1]
out = {}
for rel in json.loads(sys.stdin.read()):
    src = os.path.join(libs, rel)
    with open(src, "rb") as fh:
        text = fh.read()
    t0 = time.perf_counter()
    compile(text, src, "exec", dont_inherit=True)
    ms = (time.perf_counter() - t0) * 1000
    out[rel] = [ms, importlib.util.cache_from_source(src)]
json.dump(out, sys.stdout)
"""

WRITE = r"""
import json, py_compile, sys
for src in json.loads(sys.stdin.read()):
    py_compile.compile(src, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
"""


class LspProcess:
    """Just enough LSP over a child's stdio to get one file's lenses."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str) -> None:
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd
        )
        self.next_id = 0
        self.timer = threading.Timer(TIMEOUT_S, self.proc.kill)
        self.timer.start()

    def send(self, method: str, params: Any, request: bool = True) -> int:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            message["id"] = self.next_id
        self._write(message)
        return self.next_id

    def _write(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        length = 0
        while True:
            line = self.proc.stdout.readline()
            if not line:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise RuntimeError(f"the server stopped before answering:\n{err[-2000:]}")
            if line == b"\r\n":
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        message: dict[str, Any] = json.loads(self.proc.stdout.read(length))
        return message

    def result(self, request_id: int) -> Any:
        while True:
            message = self._read()
            if "method" in message and "id" in message:  # a request from the server: no answer needed here
                self._write({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif message.get("id") == request_id:
                if "error" in message:
                    raise RuntimeError(f"request {request_id} failed: {message['error']}")
                return message.get("result")

    def close(self) -> None:
        self.timer.cancel()
        self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def start_path(interpreter: str, libs: Path, launcher: Path) -> tuple[list[str], dict[str, bytes]]:
    """The sources under libs (relative paths) the server compiles up to its first lens,
    and the other byte-code it writes on the way (attune.lsp.attrs_cache's file of
    attrs's generated methods): its path under libs, without a prefix → its bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        prefix, home, workspace = (Path(tmp, d) for d in ("pycache", "home", "workspace"))
        for d in (home, workspace):
            d.mkdir()
        module = workspace / "module.py"
        module.write_text("".join(f"value_{i} = {i}\n" for i in range(100)), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "ANTHROPIC_API_KEY"}
        env.update(PYTHONPYCACHEPREFIX=str(prefix), ATTUNE_HOME=str(home))
        server = LspProcess([interpreter, "-S", str(launcher)], env, str(workspace))
        try:
            params = {"processId": os.getpid(), "rootUri": workspace.as_uri(), "capabilities": {}}
            server.result(server.send("initialize", params))
            server.send("initialized", {}, request=False)
            uri = module.as_uri()
            text = module.read_text(encoding="utf-8")
            document = {"uri": uri, "languageId": "python", "version": 1, "text": text}
            server.send("textDocument/didOpen", {"textDocument": document}, request=False)
            lenses = server.result(server.send("textDocument/codeLens", {"textDocument": {"uri": uri}}))
            if not lenses:
                raise RuntimeError("the server answered no lenses")
        finally:
            server.close()
        # The prefix mirrors each source's absolute folder.
        mirrored = prefix / libs.resolve().relative_to(libs.resolve().anchor)
        sources = []
        for pyc in mirrored.rglob("*.pyc"):
            rel_dir = pyc.parent.relative_to(mirrored)
            sources.append(str(rel_dir / (pyc.name.split(".", 1)[0] + ".py")))
        caches = {
            str(f.parent.relative_to(mirrored) / "__pycache__" / f.name): f.read_bytes()
            for f in mirrored.rglob(f"*{ATTRS_CACHE_SUFFIX}")
        }
        return sorted(s for s in sources if (libs / s).is_file()), caches


def compile_set(interpreter: str, libs: Path, launcher: Path, budget_kb: int) -> str:
    sources, caches = start_path(interpreter, libs, launcher)
    for rel, data in caches.items():
        (libs / rel).parent.mkdir(parents=True, exist_ok=True)
        (libs / rel).write_bytes(data)
    cached_kb = sum(len(zlib.compress(data, 9)) for data in caches.values()) / 1024
    timed = json.loads(
        subprocess.run(
            [interpreter, "-I", "-S", "-c", COMPILE, str(libs)],
            input=json.dumps(sources),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    with tempfile.TemporaryDirectory() as tmp:
        # Compile every candidate once to learn its .pyc's compressed size.
        scratch = Path(tmp, "libs")
        for rel in sources:
            (scratch / rel).parent.mkdir(parents=True, exist_ok=True)
            (scratch / rel).write_bytes((libs / rel).read_bytes())
        subprocess.run(
            [interpreter, "-I", "-S", "-c", WRITE],
            input=json.dumps([str(scratch / rel) for rel in sources]),
            text=True,
            check=True,
        )
        sizes = {}
        for rel in sources:
            pyc = Path(timed[rel][1].replace(str(libs), str(scratch), 1))
            sizes[rel] = len(zlib.compress(pyc.read_bytes(), 9))
    chosen, total = [], 0
    for rel in sorted(sources, key=lambda r: -timed[r][0] / max(sizes[r], 1)):
        if total + sizes[rel] <= budget_kb * 1024:
            chosen.append(rel)
            total += sizes[rel]
    subprocess.run(
        [interpreter, "-I", "-S", "-c", WRITE],
        input=json.dumps([str(libs / rel) for rel in chosen]),
        text=True,
        check=True,
    )
    saved = sum(timed[r][0] for r in chosen)
    left = sum(timed[r][0] for r in sources) - saved
    return (
        f"{len(chosen)} of {len(sources)} start-path modules compiled ({total / 1024:.0f} KB compressed, "
        f"{saved:.0f} ms of compiling here); left to the first start: {len(sources) - len(chosen)} ({left:.0f} ms); "
        f"attrs's generated methods: {cached_kb:.0f} KB compressed" + ("" if caches else " (none written)")
    )


def main(argv: list[str]) -> int:
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    libs, launcher, budget_kb, interpreters = Path(argv[0]), Path(argv[1]), int(argv[2]), argv[3:]
    for interpreter in interpreters:
        try:
            print(f"byte-code, {interpreter}: {compile_set(interpreter, libs, launcher, budget_kb)}")
        except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:
            print(f"compile_start_path: {interpreter}: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
