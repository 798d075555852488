// Bundles the extension (src/extension.ts -> out/extension.js) and, with --tests,
// the unit tests (test/*.test.ts -> out/test/*.test.js) for `node --test`, where
// "vscode" is test/stubs/vscode.ts (the real module exists only in VS Code).
// Every build but --tests also writes the overview's page script (src/overview/page.ts,
// one IIFE) to out/overview.js for the webview and to core/attune/cli/assets/overview.js
// for `attune scan --html`; --check-overview fails when that committed copy differs
// from a fresh build (npm run lint runs it).
import { build } from "esbuild";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

const production = process.argv.includes("--production");
const tests = process.argv.includes("--tests");
const checkOverview = process.argv.includes("--check-overview");
const here = import.meta.dirname;
const overviewAsset = join(here, "..", "core", "attune", "cli", "assets", "overview.js");

/** The page script's text: the same bytes whatever the build mode or the checkout's folder. */
async function buildOverview() {
  const result = await build({
    entryPoints: ["src/overview/page.ts"],
    absWorkingDir: here,
    bundle: true,
    platform: "browser",
    format: "iife",
    target: "es2022",
    write: false,
    legalComments: "none",
    logLevel: "warning",
    banner: {
      js:
        "// Attune Companion: the workspace overview's page script, built from vscode-extension/src/overview\n" +
        "// by vscode-extension/esbuild.mjs (npm run compile); do not edit. Includes d3-hierarchy\n" +
        "// (ISC License, Copyright 2010-2026 Mike Bostock).",
    },
  });
  return result.outputFiles[0].text;
}

if (checkOverview) {
  const fresh = await buildOverview();
  let committed = "";
  try {
    committed = readFileSync(overviewAsset, "utf8");
  } catch { /* missing: stale too */ }
  if (committed !== fresh) {
    console.error(`${relative(process.cwd(), overviewAsset)} differs from a fresh build of src/overview: run npm run compile and commit it`);
    process.exit(1);
  }
  process.exit(0);
}

const common = { bundle: true, platform: "node", target: "node18", format: "cjs", logLevel: "warning" };

if (tests) {
  rmSync("out/test", { recursive: true, force: true }); // no stale tests of renamed files
  const entryPoints = readdirSync("test").filter((f) => f.endsWith(".test.ts")).map((f) => `test/${f}`);
  await build({ ...common, entryPoints, outdir: "out/test", sourcemap: "inline", alias: { vscode: "./test/stubs/vscode.ts" } });
} else {
  const overview = await buildOverview();
  for (const file of [join(here, "out", "overview.js"), overviewAsset]) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, overview);
  }
  await build({
    ...common,
    entryPoints: ["src/extension.ts"],
    outfile: "out/extension.js",
    external: ["vscode"],
    minify: production,
    sourcemap: !production,
  });
}
