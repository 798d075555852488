#!/usr/bin/env bash
# Installs what the project and its tests need on a fresh Debian machine: the
# Debian packages (redis-server for the Redis breaker tests; postgresql, whose
# initdb and pg_ctl start a throw-away cluster for the telemetry tests; zsh and fish,
# which check the completion scripts; a C compiler and Python's headers for the C line
# counter), then the Python package with its dev and lint extras. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
# Debian keeps initdb and pg_ctl in /usr/lib/postgresql/<version>/bin, out of PATH
compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || command -v pg_ctl >/dev/null 2>&1 || need_apt+=(postgresql)
command -v zsh >/dev/null 2>&1 || need_apt+=(zsh)    # the completion scripts are checked
command -v fish >/dev/null 2>&1 || need_apt+=(fish)  # by the shells that load them
command -v cc >/dev/null 2>&1 || need_apt+=(gcc)
python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  || need_apt+=(python3-dev)  # Debian's own python3 ships without its headers
if ((${#need_apt[@]})); then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup-dev: please install: ${need_apt[*]} (needs root)" >&2; exit 1
  fi
  echo "setup-dev: installing ${need_apt[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check -e '.[dev,lint]'
