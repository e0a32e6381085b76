#!/usr/bin/env bash
# Builds llama.cpp's llama-server and ggml-rpc-server (CPU, RPC backend on) from the llama.cpp
# source node-llama-cpp ships as a git bundle, so the server runs exactly the llama.cpp the local
# engine runs. No network: `git clone` reads the bundle. The build lives outside git in
#   ${POWER_SAMPLING_LLAMA_SERVER_DIR:-$HOME/.cache/power-sampling/llama-server}/<llama.cpp commit>
# and a finished build is reused. The last line printed is the folder holding both binaries.
# About 15 minutes on 2 cores the first time.
#
# Usage: bash scripts/build-llama-server.sh           build if needed, print the folder
#        bash scripts/build-llama-server.sh --check   print the folder, or fail at once if not built
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "$0")/.." && pwd)"
BUNDLE="$ROOT_DIR/node_modules/node-llama-cpp/llama/gitRelease.bundle"
CACHE="${POWER_SAMPLING_LLAMA_SERVER_DIR:-$HOME/.cache/power-sampling/llama-server}"
# At most 2 compile jobs: the machines this runs on are shared.
JOBS=$(( $(nproc) < 2 ? $(nproc) : 2 ))

if [ ! -f "$BUNDLE" ]; then
    echo "build-llama-server: $BUNDLE is missing; run npm install first" >&2
    exit 1
fi
COMMIT=$(git bundle list-heads "$BUNDLE" | awk '$2 == "HEAD" {print $1}')
DIR="$CACHE/$COMMIT"
BIN="$DIR/bin"

built() { [ -f "$DIR/.built" ] && [ -x "$BIN/llama-server" ] && [ -x "$BIN/ggml-rpc-server" ]; }

if [ "${1:-}" = "--check" ]; then
    if built; then echo "$BIN"; exit 0; fi
    echo "llama-server and ggml-rpc-server are not built (looked in $BIN); run: npm run build:llama-server (about 15 minutes)" >&2
    exit 1
fi
if built; then echo "$BIN"; exit 0; fi

mkdir -p "$DIR"
# One build at a time per folder: a second caller waits, then reuses the result.
exec 9>"$DIR.lock"
flock 9
if built; then echo "$BIN"; exit 0; fi

T0=$SECONDS
log() { printf '[build-llama-server %4ss] %s\n' "$((SECONDS - T0))" "$*" >&2; }

if [ ! -d "$DIR/src/.git" ]; then
    log "cloning llama.cpp $COMMIT from node-llama-cpp's bundle"
    rm -rf "$DIR/src.partial"
    git clone --quiet "$BUNDLE" "$DIR/src.partial"
    git -C "$DIR/src.partial" checkout --quiet "$COMMIT"
    mv "$DIR/src.partial" "$DIR/src"
fi

# Static libraries: the two binaries stand alone once copied. No UI, no HTTPS, no downloads
# (llama.cpp replaced curl by its own HTTP client; LLAMA_OPENSSL off leaves it without TLS).
log "configuring"
cmake -S "$DIR/src" -B "$DIR/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DGGML_RPC=ON -DGGML_CUDA=OFF -DGGML_VULKAN=OFF -DGGML_METAL=OFF \
    -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON >&2
log "building llama-server and ggml-rpc-server with $JOBS jobs"
cmake --build "$DIR/build" --config Release -j "$JOBS" --target llama-server ggml-rpc-server >&2

mkdir -p "$BIN"
for name in llama-server ggml-rpc-server; do
    cp "$(find "$DIR/build/bin" -maxdepth 1 -name "$name" -type f | head -n 1)" "$BIN/$name"
done
"$BIN/llama-server" --version >&2
touch "$DIR/.built"
log "done"
echo "$BIN"
