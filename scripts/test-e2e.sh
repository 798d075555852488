#!/usr/bin/env bash
# End-to-end test of the VS Code extension in a real VS Code (code-server) with
# Debian's Chromium and playwright-core: installs them (scripts/setup-e2e.sh,
# cached), runs the extension's gates (typecheck, lint, unit tests), builds the
# .vsix, then runs every scenario vscode-extension/e2e/*.mjs but lib.mjs (their
# shared machinery), one after the other, each on its own fresh install; each prints
# its figures as a Markdown table on stdout (logs go to stderr). Fails if any fails.
# ATTUNE_E2E_SCENARIOS="run-e2e cold-start" runs just those (names without .mjs).
# The only files it leaves (besides the build) are screenshots in
# vscode-extension/.e2e-artifacts/ (gitignored), e.g. the lens screenshot lenses.png.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
EXT="$ROOT/vscode-extension"

bash "$ROOT/scripts/setup-e2e.sh"

cd "$EXT"
# A checkout whose node_modules predates package-lock.json (new devDependencies) is refreshed.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run typecheck
npm run lint
npm test
npm run package

# attune.interpreter: a plain python3 without the project (the bundled libs must
# be what runs). The breaker is tripped with the repo's Python, which has it.
export ATTUNE_E2E_PYTHON="${ATTUNE_E2E_PYTHON:-/usr/bin/python3}"
export ATTUNE_REPO_PYTHON="${ATTUNE_REPO_PYTHON:-$(command -v python3)}"
# Other Pythons for the version checks (3.10 and 3.9 too old, 3.12 bundled): pyenv's
# installed versions, else PATH; a missing one is reported and skipped
# (a pyenv shim on PATH may exist and still refuse to run, so each candidate is tried).
find_python() {
  local root candidate
  root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
  for candidate in $(ls -d "$root"/versions/"$1".*/bin/"python$1" 2>/dev/null | sort -rV) \
                   $(command -v "python$1" 2>/dev/null); do
    if "$candidate" -c 'pass' >/dev/null 2>&1; then echo "$candidate"; return; fi
  done
}
export ATTUNE_E2E_PYTHON_39="${ATTUNE_E2E_PYTHON_39:-$(find_python 3.9)}"
export ATTUNE_E2E_PYTHON_310="${ATTUNE_E2E_PYTHON_310:-$(find_python 3.10)}"
export ATTUNE_E2E_PYTHON_312="${ATTUNE_E2E_PYTHON_312:-$(find_python 3.12)}"

if [ -n "${ATTUNE_E2E_SCENARIOS:-}" ]; then
  scenarios=()
  for name in $ATTUNE_E2E_SCENARIOS; do scenarios+=("e2e/$name.mjs"); done
else
  scenarios=()
  for f in e2e/*.mjs; do [ "$(basename "$f")" = lib.mjs ] || scenarios+=("$f"); done
fi
failed=()
for scenario in "${scenarios[@]}"; do
  echo "[e2e] scenario $scenario" >&2
  node "$scenario" --vsix "$EXT/attune-companion.vsix" || failed+=("$scenario")
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "E2E FAILED: ${failed[*]} (of ${#scenarios[@]} scenarios)" >&2
  exit 1
fi
echo "E2E PASSED: ${#scenarios[@]} scenarios (${scenarios[*]})" >&2
