#!/usr/bin/env bash
# The gates: lint and format (ruff), types (mypy strict), import layers and cycles
# (import-linter), unused code (vulture), no process words or machine paths in code,
# and the extension's tsc + eslint. Exits non-zero at the first gate that fails.
# Needs the dev extras (scripts/setup-dev.sh) and, for the extension, `npm ci` in
# vscode-extension/ (scripts/test-e2e.sh does it; this script does it if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*" >&2; }

step "ruff check"; ruff check .
step "ruff format --check"; ruff format --check .
step "mypy (strict)"; mypy
# The editable install's path hook hides the package folders from import-linter's
# scanner; the source folders on PYTHONPATH put them back.
step "import-linter"; PYTHONPATH=core:server lint-imports --no-cache
step "vulture (unused code)"; vulture core server --min-confidence 80

step "no process words or machine paths in code"
# Issue and seed numbers, sessions and helpers, and absolute paths of a machine
# belong in notes, never in code. (/home/u/ and /home/me/ are sample paths.)
pattern='\b[Ii]ssues? ?#?[0-9]+|\b[Ss]eeds? ?0[0-9]{2}|/work/|/root/|/home/[a-z]+/|\b[Hh]elper[ -]?([0-9]|[A-Z]\b)'
if git grep -n -I -E "$pattern" -- core server tests benchmarks scripts vscode-extension .ci setup.py pyproject.toml \
    ':!vscode-extension/package-lock.json' ':!scripts/lint.sh' | grep -v -E '/home/(u|me)/'; then
  echo "lint: the lines above name issues, seeds, helpers or a machine's paths" >&2
  exit 1
fi

step "extension: tsc --noEmit, eslint"
cd vscode-extension
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent typecheck
npm run --silent lint
echo "lint: every gate passed" >&2
