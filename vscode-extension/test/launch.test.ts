// bundled/tool/launch.py, run by a real Python against a stand-in bundle: the
// bundled `attune` namespace package must win even when another regular package
// named `attune` (what PyPI's attune-ai ships) is installed.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";

const python = process.env.ATTUNE_TEST_PYTHON ?? (process.platform === "win32" ? "python" : "python3");
const launcher = resolve(__dirname, "..", "..", "bundled", "tool", "launch.py");
const root = mkdtempSync(join(tmpdir(), "attune-launch-test-"));
after(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, text: string): void {
  mkdirSync(resolve(path, ".."), { recursive: true });
  writeFileSync(path, text);
}

// A stand-in extension: bundled/tool/launch.py, and bundled/libs/attune/lsp whose
// __main__ reports where it was imported from (no attune/__init__.py: a namespace package).
const tool = join(root, "ext", "bundled", "tool", "launch.py");
const libs = join(root, "ext", "bundled", "libs");
mkdirSync(resolve(tool, ".."), { recursive: true });
copyFileSync(launcher, tool);
write(join(libs, "attune", "lsp", "__init__.py"), "");
write(join(libs, "attune", "lsp", "__main__.py"), 'import sys, attune.lsp\nprint("lsp from " + attune.lsp.__file__, file=sys.stderr)\n');
// A stand-in attune-ai in a site-packages folder: importing it fails loudly.
const site = join(root, "site-packages");
write(join(site, "attune", "__init__.py"), 'raise ImportError("the stand-in attune-ai package was imported")\n');
write(join(site, "attune_ai-1.2.3.dist-info", "METADATA"), "Metadata-Version: 2.1\nName: attune-ai\nVersion: 1.2.3\n");
write(join(site, "attune_ai-1.2.3.dist-info", "RECORD"), "attune/__init__.py,,\nattune_ai-1.2.3.dist-info/METADATA,,\n");

function launch(extraPath?: string) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.ATTUNE_LSP_USE_INSTALLED;
  delete env.PYTHONPATH;
  if (extraPath) env.PYTHONPATH = extraPath;
  // -s: no user site-packages, so only the stand-ins are in play.
  return spawnSync(python, ["-s", tool], { env, encoding: "utf8", timeout: 60_000 });
}

test("launch.py runs the bundled attune.lsp and says nothing when no other 'attune' is installed", () => {
  const r = launch();
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, ""); // stdout is the LSP stream
  assert.equal(r.stderr.trim(), `lsp from ${join(libs, "attune", "lsp", "__init__.py")}`);
});

test("launch.py still runs the bundled attune.lsp with attune-ai's regular 'attune' package on the path, and names it once", () => {
  const r = launch(site);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "");
  assert.deepEqual(r.stderr.trim().split("\n"), [
    `attune: ignoring another package named 'attune' at ${join(site, "attune")} (attune-ai 1.2.3); using the bundled server`,
    `lsp from ${join(libs, "attune", "lsp", "__init__.py")}`,
  ]);
});
