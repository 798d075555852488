#!/usr/bin/env bash
# The lowest-versions job: installs every direct dependency at the lowest version
# pyproject.toml allows (uv's --resolution lowest-direct) in a venv of its own, then
# runs the core and CLI tests there. It proves the lower bounds are real.
#
#   bash scripts/test-lowest.sh [pytest args]
#
# The venv lives in ATTUNE_LOWEST_VENV (default: a new temp dir, removed at the end);
# uv's downloads are cached in ~/.cache/attune-lowest/uv. The index is the one pip is
# configured with (PIP_INDEX_URL or `pip config get global.index-url`, else PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
cache="${XDG_CACHE_HOME:-$HOME/.cache}/attune-lowest"
mkdir -p "$cache"
if [ -n "${ATTUNE_LOWEST_VENV:-}" ]; then
  venv=$ATTUNE_LOWEST_VENV
else
  venv=$(mktemp -d "${TMPDIR:-/tmp}/attune-lowest.XXXXXX")/venv
  trap 'rm -rf "$(dirname "$venv")"' EXIT
fi

[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
if [ ! -x "$venv/bin/uv" ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check uv
fi

index=${PIP_INDEX_URL:-$("$python" -m pip config get global.index-url 2>/dev/null || true)}
export UV_DEFAULT_INDEX=${index:-https://pypi.org/simple}
export UV_CACHE_DIR="$cache/uv"
export UV_PYTHON="$venv/bin/python"  # uv installs into this venv, for this python3
if [ -n "${PIP_CERT:-}" ]; then export SSL_CERT_FILE=$PIP_CERT; fi

echo "test-lowest: $("$venv/bin/python" --version), index $UV_DEFAULT_INDEX, venv $venv" >&2
"$venv/bin/uv" pip install -q --resolution lowest-direct -e '.[dev]'
"$venv/bin/uv" pip list 2>/dev/null | grep -E -i \
  '^(pydantic|pydantic-core|platformdirs|filelock|pathspec|pygls|lsprotocol|anthropic|redis|psycopg|psycopg-binary|psycopg-pool|opentelemetry-api|opentelemetry-sdk|pytest|pytest-asyncio|pytest-lsp|pytest-timeout|pexpect|cattrs) ' >&2

"$venv/bin/python" -c 'import attune.models.loc._pycount' \
  || { echo "test-lowest: the C line counter did not build" >&2; exit 1; }
PATH="$venv/bin:$PATH" ATTUNE_REQUIRE_C_COUNTER=1 "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/core tests/cli "$@"
