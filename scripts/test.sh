#!/usr/bin/env bash
# The test command: installs everything the tests need, then runs the gates
# (scripts/lint.sh: ruff, mypy strict, import-linter, vulture, tsc + eslint), the
# Python suite (core, CLI, language server through a real LSP client), then the VS
# Code extension's unit tests and its end-to-end test in a real VS Code
# (code-server + Chromium; installed and cached by scripts/setup-e2e.sh).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k breaker`;
# ATTUNE_SKIP_E2E=1 skips the extension's end-to-end test for a quick local run
# (CI never sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-dev.sh
bash scripts/lint.sh
python3 -m pytest -q "$@"
if [ -z "${ATTUNE_SKIP_E2E:-}" ]; then
  bash scripts/test-e2e.sh
fi
