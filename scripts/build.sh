#!/usr/bin/env bash
# Configures and builds faultline into build/ (Ninja, -j2 for this project's 2-core machines).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${FAULTLINE_BUILD_DIR:-$root/build}"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C "$build" -j "${FAULTLINE_JOBS:-2}" "$@"
