// Installs the Python server and its libraries into bundled/libs (what the .vsix
// ships), as Microsoft's Python tool extensions do, then trims what never runs.
// The repo root (..) is the attune-companion project. The bundling Python is
// $ATTUNE_BUNDLE_PYTHON or python3 (any 3.11+ with pip); the bundle is built for
// the versions in $ATTUNE_BUNDLE_PYTHONS (default "3.11 3.12 3.13": 3.11 is the
// project's minimum) on this platform (scripts/bundle_libs.py says how), which
// makes the .vsix platform-specific. Each listed version whose interpreter is
// found here then must run the server's imports and a line count from the bundle
// alone (scripts/smoke_bundle.py), or the build fails.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

const here = resolve(import.meta.dirname, "..");
const libs = join(here, "bundled", "libs");
const repoRoot = resolve(here, "..");
const python = process.env.ATTUNE_BUNDLE_PYTHON || "python3";
const pythons = (process.env.ATTUNE_BUNDLE_PYTHONS ?? "3.11 3.12 3.13").split(/\s+/).filter(Boolean);

rmSync(libs, { recursive: true, force: true });
execFileSync(
  python,
  [join(here, "scripts", "bundle_libs.py"), libs, repoRoot, ...pythons],
  { stdio: "inherit", env: { ...process.env, PIP_NO_INPUT: "1" } },
);

// Trim: byte-code caches, console scripts (they point at the build machine's
// Python), type stubs and the packages' own test suites never run in the server;
// nor does pydantic's pydantic.v1 compatibility layer (anthropic imports it only
// when pydantic 1 is installed; the smoke test below imports the rest).
let removed = 0;
for (const unused of [join(libs, "pydantic", "v1")]) {
  if (existsSync(unused)) {
    rmSync(unused, { recursive: true, force: true });
    removed++;
  }
}
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

// Smoke test: each supported version found on this machine (python3.X on PATH, or
// pyenv's) imports the server's whole import graph with no site-packages (-I -S).
function interpreterFor(version) {
  const candidates = [`python${version}`];
  const pyenv = join(process.env.PYENV_ROOT ?? join(homedir(), ".pyenv"), "versions");
  if (existsSync(pyenv)) {
    for (const d of readdirSync(pyenv).filter((d) => d.startsWith(`${version}.`)).sort().reverse()) {
      candidates.push(join(pyenv, d, "bin", `python${version}`));
    }
  }
  return candidates.find((c) => spawnSync(c, ["-c", ""], { stdio: "ignore" }).status === 0);
}
// Every bundled version is a supported one, so a failure fails the build (all
// failures reported, not just the first). A version with no interpreter on this
// machine cannot be tested here: a warning, not a failure.
const manifest = JSON.parse(readFileSync(join(libs, "attune_bundle.json"), "utf8"));
const untested = [];
const failures = [];
const tested = [];
for (const version of manifest.pythons) {
  const interpreter = interpreterFor(version);
  if (!interpreter) {
    untested.push(version);
    continue;
  }
  tested.push(interpreter);
  const smoke = spawnSync(interpreter, ["-I", "-S", "-B", join(here, "scripts", "smoke_bundle.py"), libs], { encoding: "utf8" });
  process.stdout.write(smoke.stdout ?? "");
  if (smoke.status !== 0) {
    failures.push(`Python ${version} (${interpreter}): ${(smoke.stderr || smoke.error?.message || "failed").trim()}`);
  }
}
if (untested.length) console.warn(`WARNING: no interpreter here for Python ${untested.join(", ")}: bundled but not smoke-tested`);
if (failures.length) {
  console.error(`\nbundle-python: the bundle does not run on every Python it is built for:\n${failures.join("\n")}`);
  process.exit(1);
}
console.log(`bundled/libs runs on Python ${manifest.pythons.join(", ")}`);

// Byte-code of the server's start path (up to its first lens) for each tested
// version, so a fresh install does not compile it: within a per-version budget of
// compressed .pyc (ATTUNE_BUNDLE_PYC_KB, default 500) that keeps the .vsix under 15 MB.
// An untested version gets none (its first start compiles and writes it).
execFileSync(
  python,
  [join(here, "scripts", "compile_start_path.py"), libs, join(here, "bundled", "tool", "launch.py"),
    process.env.ATTUNE_BUNDLE_PYC_KB ?? "500", ...tested],
  { stdio: "inherit" },
);
