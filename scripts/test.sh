#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite (unit + integration) with ctest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
# The OpenTelemetry JS SDK the trace tests send spans with (npm).
"$root/scripts/setup-node.sh"
"$root/scripts/build.sh"
cd "${FAULTLINE_BUILD_DIR:-$root/build}"
# Serial by default: CPU-stress and timing tests measure this machine, and two cores shared
# with the fuzzer would skew them. FAULTLINE_TEST_JOBS=2 trades that for speed.
ctest --output-on-failure -j "${FAULTLINE_TEST_JOBS:-1}" "$@"
