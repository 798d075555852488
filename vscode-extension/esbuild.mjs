// Bundles the extension (src/extension.ts -> out/extension.js) and, with --tests,
// the unit tests (test/*.test.ts -> out/test/*.test.js) for `node --test`, where
// "vscode" is test/stubs/vscode.ts (the real module exists only in VS Code).
import { build } from "esbuild";
import { readdirSync, rmSync } from "node:fs";

const production = process.argv.includes("--production");
const tests = process.argv.includes("--tests");

const common = { bundle: true, platform: "node", target: "node18", format: "cjs", logLevel: "warning" };

if (tests) {
  rmSync("out/test", { recursive: true, force: true }); // no stale tests of renamed files
  const entryPoints = readdirSync("test").filter((f) => f.endsWith(".test.ts")).map((f) => `test/${f}`);
  await build({ ...common, entryPoints, outdir: "out/test", sourcemap: "inline", alias: { vscode: "./test/stubs/vscode.ts" } });
} else {
  await build({
    ...common,
    entryPoints: ["src/extension.ts"],
    outfile: "out/extension.js",
    external: ["vscode"],
    minify: production,
    sourcemap: !production,
  });
}
