// The head start (src/common/headStart.ts) with a real Python and a stand-in
// extension: a launcher that reports its key flag and its first stdin line. When it
// spawns, what `activate` writes it, and that a process not adopted is stopped.
import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, beforeEach, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { ENV_KEY_ON_STDIN, ENV_NO_HEAD_START, PYTHON_EXTENSION_ID } from "../src/common/constants";
import { spawnHeadStart } from "../src/common/headStart";
import { fake } from "./stubs/vscode";

const python = process.env.ATTUNE_TEST_PYTHON ?? (process.platform === "win32" ? "python" : "python3");
const root = mkdtempSync(join(tmpdir(), "attune-head-start-test-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** A stand-in extension folder; `bundled`: with the bundle's manifest. */
function extension(name: string, bundled: boolean): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "bundled", "tool"), { recursive: true });
  mkdirSync(join(dir, "bundled", "libs"), { recursive: true });
  writeFileSync(
    join(dir, "bundled", "tool", "launch.py"),
    "import os, sys\n" +
      "open(os.path.join(os.path.dirname(__file__), 'pid'), 'w').write(str(os.getpid()))\n" +
      `flag = os.environ.get(${JSON.stringify(ENV_KEY_ON_STDIN)})\n` +
      "line = sys.stdin.readline()\n" +
      "print(f'flag={flag} line={line.rstrip()}|', flush=True)\n",
  );
  if (bundled) writeFileSync(join(dir, "bundled", "libs", "attune_bundle.json"), '{"pythons": [], "platform": "test"}');
  return dir;
}

beforeEach(() => fake.reset());

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stdoutOf(child: import("node:child_process").ChildProcess): Promise<string> {
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  await once(child, "exit");
  return out;
}

test("with the interpreter set and a bundle, the server is spawned at once; adopting it writes the key as its first line", async () => {
  fake.config.set("attune.interpreter", python);
  fake.extensions.add(PYTHON_EXTENSION_ID); // the setting wins over the Python extension
  const head = spawnHeadStart(extension("set", true));
  assert.ok(head);
  assert.deepEqual(head.interpreter, { command: python, source: "setting" });
  assert.equal((await head.check).ok, true);
  const child = head.adopt("test-key-not-a-secret");
  assert.ok(child);
  assert.equal(await stdoutOf(child), "flag=1 line=test-key-not-a-secret|\n");
  assert.equal(head.adopt("again"), undefined, "adopted once only");
});

test("with no key stored, the first line is empty", async () => {
  fake.config.set("attune.interpreter", python);
  const head = spawnHeadStart(extension("nokey", true));
  assert.ok(head);
  const child = head.adopt(undefined);
  assert.ok(child);
  assert.equal(await stdoutOf(child), "flag=1 line=|\n");
});

test("without the setting, the Python extension chooses the interpreter: no head start", () => {
  fake.extensions.add(PYTHON_EXTENSION_ID);
  assert.equal(spawnHeadStart(extension("pyext", true)), undefined);
});

test("ATTUNE_LSP_NO_HEAD_START=1 turns it off", () => {
  fake.config.set("attune.interpreter", python);
  process.env[ENV_NO_HEAD_START] = "1";
  try {
    assert.equal(spawnHeadStart(extension("off", true)), undefined);
  } finally {
    delete process.env[ENV_NO_HEAD_START];
  }
});

test("without a bundle (a development checkout), no head start", () => {
  fake.config.set("attune.interpreter", python);
  assert.equal(spawnHeadStart(extension("dev", false)), undefined);
});

test("without the setting or the Python extension, python3 on PATH is spawned", async () => {
  const head = spawnHeadStart(extension("path", true));
  assert.ok(head);
  assert.equal(head.interpreter.source, "PATH");
  head.discard();
  await head.check;
});

test("a head start that is not adopted is stopped, and cannot be adopted after", async () => {
  fake.config.set("attune.interpreter", python);
  const dir = extension("discard", true);
  const head = spawnHeadStart(dir);
  assert.ok(head);
  const pidFile = join(dir, "bundled", "tool", "pid");
  while (!existsSync(pidFile) || !readFileSync(pidFile, "utf8")) await delay(20); // polling a file, not timing
  const pid = Number(readFileSync(pidFile, "utf8"));
  head.discard();
  while (alive(pid)) await delay(20);
  assert.equal(head.adopt("late"), undefined);
});

test("a missing interpreter: the check says so, and there is nothing to adopt", async () => {
  fake.config.set("attune.interpreter", join(root, "no-such-python"));
  const head = spawnHeadStart(extension("missing", true));
  assert.ok(head);
  const check = await head.check;
  assert.equal(check.ok, false);
  assert.match(check.ok ? "" : check.problem, /was not found/);
  await delay(50); // the spawn's own error event
  assert.equal(head.adopt("key"), undefined);
});
