#!/usr/bin/env bash
# End-to-end test of the VS Code extension in a real VS Code (code-server) with
# Debian's Chromium and playwright-core: installs them (scripts/setup-e2e.sh,
# cached), builds the .vsix, runs vscode-extension/e2e/run-e2e.mjs and prints the
# figures (open -> first lens, .vsix size) as a Markdown table on stdout (logs go
# to stderr); it writes no file.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
EXT="$ROOT/vscode-extension"

bash "$ROOT/scripts/setup-e2e.sh"

cd "$EXT"
[ -d node_modules ] || npm ci --no-audit --no-fund
npm test
npm run package

# attune.interpreter: a plain python3 without the project (the bundled libs must
# be what runs). The breaker is tripped with the repo's Python, which has it.
export ATTUNE_E2E_PYTHON="${ATTUNE_E2E_PYTHON:-/usr/bin/python3}"
export ATTUNE_REPO_PYTHON="${ATTUNE_REPO_PYTHON:-$(command -v python3)}"
node e2e/run-e2e.mjs --vsix "$EXT/attune-companion.vsix"
