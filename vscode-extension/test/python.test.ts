import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, beforeEach, test } from "node:test";
import { checkInterpreter, findInterpreter, isSupportedPython, launchPlan, parsePythonVersion, tooOldProblem } from "../src/common/python";
import { fake } from "./stubs/vscode";

test("python version check: 3.11 and newer only; older ones get the 'needs 3.11' message", () => {
  assert.deepEqual(parsePythonVersion("3.11.2\n"), [3, 11, 2]);
  assert.equal(isSupportedPython(parsePythonVersion("3.11.0")), true);
  assert.equal(isSupportedPython(parsePythonVersion("3.11.2")), true); // Debian 12's python3
  assert.equal(isSupportedPython(parsePythonVersion("3.13.0")), true);
  assert.equal(isSupportedPython(parsePythonVersion("3.10.13")), false);
  assert.equal(isSupportedPython(parsePythonVersion("3.9.18")), false);
  assert.equal(isSupportedPython(parsePythonVersion("2.7.18")), false);
  assert.equal(isSupportedPython(parsePythonVersion("4.0.0")), true);
  assert.equal(isSupportedPython(parsePythonVersion("garbage")), false);
});

test("too-old message names the interpreter, its version and the minimum, 3.11", () => {
  assert.equal(
    tooOldProblem([3, 10, 13], "/opt/py310/bin/python3.10"),
    'Python 3.10.13 at "/opt/py310/bin/python3.10" is too old: Attune needs Python 3.11 or newer.',
  );
  assert.match(tooOldProblem(undefined, "python3"), /^Python \(unknown version\) at "python3" is too old: Attune needs Python 3\.11 or newer\.$/);
});

test("launch plan: bundled libs for their Python versions, else the installed server, else a clear error", () => {
  const bundled = ["3.11", "3.12", "3.13"]; // what npm run package builds (attune_bundle.json)
  assert.deepEqual(launchPlan([3, 11, 2], bundled, false, "linux-x64"), { kind: "bundled" });
  assert.deepEqual(launchPlan([3, 12, 1], bundled, false, "linux-x64"), { kind: "bundled" });
  assert.deepEqual(launchPlan([3, 14, 0], bundled, true, "linux-x64"), { kind: "installed" });
  const err = launchPlan([3, 14, 0], bundled, false, "linux-x64");
  assert.equal(err.kind, "error");
  assert.match((err as { problem: string }).problem, /Python 3\.14 cannot run .* 3\.11, 3\.12, 3\.13 on linux-x64.*pip install attune-companion/);
  assert.deepEqual(launchPlan([3, 11, 2], undefined, true, "linux-x64"), { kind: "installed" });
});

// ---- the interpreter check runs the interpreter: stand-ins print a version ----

const dir = mkdtempSync(join(tmpdir(), "attune-python-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in "python" (a shell script) that prints `version` or exits with `status`. */
function standIn(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

beforeEach(() => fake.reset());

test("checkInterpreter: a 3.12 interpreter passes with its version", { skip: process.platform === "win32" }, async () => {
  const command = standIn("python3.12", "echo 3.12.1");
  const check = await checkInterpreter({ command, source: "setting" });
  assert.deepEqual(check, { ok: true, interpreter: { command, source: "setting" }, version: "3.12.1", parsed: [3, 12, 1] });
});

test("checkInterpreter: 3.10 is too old, a missing one is 'not found', a broken one 'failed to run'", { skip: process.platform === "win32" }, async () => {
  const old = standIn("python3.10", "echo 3.10.13");
  const tooOld = await checkInterpreter({ command: old, source: "setting" });
  assert.equal(tooOld.ok, false);
  assert.equal(!tooOld.ok && tooOld.problem, `Python 3.10.13 at "${old}" is too old: Attune needs Python 3.11 or newer.`);
  const missing = await checkInterpreter({ command: join(dir, "no-such-python"), source: "PATH" });
  assert.equal(!missing.ok && missing.problem, `Python interpreter "${join(dir, "no-such-python")}" (PATH) was not found.`);
  const broken = await checkInterpreter({ command: standIn("python-broken", "exit 3"), source: "python extension" });
  assert.match(!broken.ok ? broken.problem : "", /\(python extension\) failed to run \(Command failed: /);
});

test("findInterpreter: attune.interpreter (trimmed) first, else python3 on PATH without the Python extension", async () => {
  fake.config.set("attune.interpreter", "  /opt/py/bin/python3  ");
  assert.deepEqual(await findInterpreter(() => undefined), { command: "/opt/py/bin/python3", source: "setting" });
  fake.config.set("attune.interpreter", "");
  assert.deepEqual(await findInterpreter(() => undefined), {
    command: process.platform === "win32" ? "python" : "python3",
    source: "PATH",
  });
});
