#!/usr/bin/env bash
# Configures and builds faultline into build/ (Ninja, -j2 for this project's 2-core machines).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${FAULTLINE_BUILD_DIR:-$root/build}"
if [ ! -f "$build/build.ninja" ]; then
  # -g1 (line tables, not full debug info): backtraces keep function names and lines, and the
  # build takes a fifth less time, which scripts/test.sh's 45-minute budget needs.
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
fi
ninja -C "$build" -j "${FAULTLINE_JOBS:-2}" "$@"
