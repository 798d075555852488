#!/usr/bin/env bash
# The test command: installs everything the tests need, then runs them all.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k breaker`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-dev.sh
python3 -m pytest -q "$@"
