// Installs the Python server and its libraries into bundled/libs (what the .vsix
// ships), as Microsoft's Python tool extensions do, then trims what never runs.
// The repo root (..) is the attune-companion project. Python: $ATTUNE_BUNDLE_PYTHON
// or python3. Compiled wheels (pydantic-core, jiter) match that interpreter's
// version and platform (plus $ATTUNE_BUNDLE_EXTRA_PYTHONS, default "3.12 3.13"),
// which makes the .vsix platform-specific.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

const here = resolve(import.meta.dirname, "..");
const libs = join(here, "bundled", "libs");
const repoRoot = resolve(here, "..");
const python = process.env.ATTUNE_BUNDLE_PYTHON || "python3";

rmSync(libs, { recursive: true, force: true });
execFileSync(
  python,
  [
    "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
    "--no-warn-script-location", "--target", libs,
    repoRoot,
  ],
  { stdio: "inherit", env: { ...process.env, PIP_NO_INPUT: "1" } },
);

// More Python versions' binaries next to this one's (see add_python_abis.py).
const extra = (process.env.ATTUNE_BUNDLE_EXTRA_PYTHONS ?? "3.12 3.13").split(/\s+/).filter(Boolean);
execFileSync(python, [join(here, "scripts", "add_python_abis.py"), libs, ...extra], { stdio: "inherit" });

// Trim: byte-code caches, console scripts (they point at the build machine's
// Python), type stubs and the packages' own test suites never run in the server.
let removed = 0;
function walk(dir, depth) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) {
      if (name === "__pycache__" || (depth === 0 && name === "bin") || (depth >= 1 && (name === "tests" || name === "test"))) {
        rmSync(p, { recursive: true, force: true });
        removed++;
      } else walk(p, depth + 1);
    } else if (name.endsWith(".pyc") || name.endsWith(".pyi") || (name === "RECORD" && dir.endsWith(".dist-info"))) {
      rmSync(p, { force: true });
      removed++;
    }
  }
}
walk(libs, 0);

function size(dir) {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    total += st.isDirectory() ? size(p) : st.size;
  }
  return total;
}
if (!existsSync(join(libs, "attune", "lsp"))) throw new Error("bundled/libs has no attune/lsp: the install went wrong");
console.log(`bundled/libs: ${(size(libs) / 1e6).toFixed(1)} MB after trimming ${removed} caches/tests/stubs (python: ${python})`);
