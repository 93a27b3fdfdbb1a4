#!/usr/bin/env bash
# Sets up, checks the layout, builds (warnings are errors) and runs the whole test suite with
# ctest, then the unit tests under ASan+UBSan and TSan.
# README, "What the tests run".
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
# The OpenTelemetry JS SDK the trace tests send spans with (npm).
"$root/scripts/setup-node.sh"
"$root/scripts/check-format.sh"
"$root/scripts/build.sh"
# Serial by default: CPU-stress and timing tests measure this machine, and two cores shared
# with the fuzzer would skew them. FAULTLINE_TEST_JOBS=2 trades that for speed.
build="${FAULTLINE_BUILD_DIR:-$root/build}"
(cd "$build" && ctest --output-on-failure -j "${FAULTLINE_TEST_JOBS:-1}" "$@") | tee "$build/ctest.log"
# The unit tests again under ASan+UBSan and under TSan (FAULTLINE_SANITIZERS=off skips them
# for a quicker local run; CI always runs them).
sanitizers=0
if [ "${FAULTLINE_SANITIZERS:-on}" != off ]; then
  "$root/scripts/sanitizers.sh" all || sanitizers=$?
fi
# ctest's summary last, so whoever reads the end of the output reads the suite's count.
grep -E "tests passed|tests failed" "$build/ctest.log" | tail -1
if [ "$sanitizers" -ne 0 ]; then
  echo "test.sh: the sanitizer runs failed (exit $sanitizers); see their report above" >&2
  exit "$sanitizers"
fi
