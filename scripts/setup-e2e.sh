#!/usr/bin/env bash
# Installs what the VS Code extension's end-to-end test needs: code-server (a real
# VS Code served to a browser), Debian's Chromium and playwright-core.
# code-server's own postinstall cannot run here (root, and @vscode/ripgrep downloads
# from GitHub), so its steps are done by hand. Idempotent: a finished install leaves a marker and is skipped next time.
#
# Cache: $ATTUNE_E2E_CACHE (default ~/.cache/attune-e2e), outside the repo.
set -euo pipefail

CODE_SERVER_VERSION=4.99.4      # 4.99.x runs on Node 20 (4.103+ wants Node 22)
PLAYWRIGHT_CORE_VERSION=1.49.1
CACHE="${ATTUNE_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/attune-e2e}"
MARKER="$CACHE/.installed-code-server-$CODE_SERVER_VERSION-pw-$PLAYWRIGHT_CORE_VERSION"

log() { printf '[setup-e2e] %s\n' "$*" >&2; }

apt_packages=(libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config ripgrep chromium)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ -f "$MARKER" ]; then
  log "code-server $CODE_SERVER_VERSION and playwright-core already installed in $CACHE"
  exit 0
fi

mkdir -p "$CACHE"
cd "$CACHE"
[ -f package.json ] || echo '{"name":"attune-e2e-cache","private":true}' > package.json
export npm_config_unsafe_perm=true npm_config_yes=true npm_config_fund=false npm_config_audit=false

log "npm install code-server@$CODE_SERVER_VERSION playwright-core@$PLAYWRIGHT_CORE_VERSION (scripts off)"
npm install --ignore-scripts --no-save "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_CORE_VERSION"

VS="$CACHE/node_modules/code-server/lib/vscode"
log "installing VS Code's own modules"
(
  cd "$VS"
  npm install --omit=dev --ignore-scripts
  mkdir -p node_modules/@vscode/ripgrep/bin
  cp -f /usr/bin/rg node_modules/@vscode/ripgrep/bin/rg
  npm rebuild kerberos @parcel/watcher @vscode/deviceid @vscode/spdlog native-watchdog node-pty
  ln -sfn node_modules node_modules.asar
  (cd bin/remote-cli && ln -sfn code-linux.sh code-server)
  (cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
  (cd extensions && npm install --omit=dev)
)
log "rebuilding argon2"
npm rebuild argon2

touch "$MARKER"
log "done: $CACHE/node_modules/code-server/out/node/entry.js"
