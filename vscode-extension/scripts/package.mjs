// npm run package: bundle the Python libraries, then build a platform-specific
// .vsix (the bundled pydantic-core/jiter are compiled for this platform and this
// Python version) at attune-companion.vsix, and print its size.
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { join, resolve } from "node:path";

const here = resolve(import.meta.dirname, "..");
const run = (cmd, args) => execFileSync(cmd, args, { cwd: here, stdio: "inherit" });

run(process.execPath, [join(here, "scripts", "bundle-python.mjs")]);
const target = `${process.platform}-${process.arch}`; // vsce's names: linux-x64, darwin-arm64, win32-x64…
const out = join(here, "attune-companion.vsix");
run(join(here, "node_modules", ".bin", "vsce"), [
  "package", "--no-dependencies", "--target", target, "-o", out,
  // vsce's secret scan reads all ~3,800 bundled library files (2+ minutes on 2
  // cores); keys never live in this tree (SecretStorage only), so skip it.
  "--allow-package-all-secrets",
]);
run(process.env.ATTUNE_BUNDLE_PYTHON || "python3", [join(here, "scripts", "repack_vsix.py"), out]);
console.log(`attune-companion.vsix (${target}): ${(statSync(out).size / 1e6).toFixed(2)} MB`);
