#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite (unit + integration) with ctest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
cd "${FAULTLINE_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "${FAULTLINE_TEST_JOBS:-2}" "$@"
