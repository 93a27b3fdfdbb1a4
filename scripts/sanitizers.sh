#!/usr/bin/env bash
# Builds the unit tests with AddressSanitizer + UndefinedBehaviorSanitizer, runs them; then
# with ThreadSanitizer, runs them. Any report fails the run (halt_on_error). Build trees:
# build-asan/ and build-tsan/ (FAULTLINE_SANITIZER_ROOT moves them).
#
# Left out under the sanitizers, by name, because they measure this machine rather than the
# code (a sanitizer's 2-15x slowdown is not a regression): see SLOW_UNDER_SANITIZERS.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
base="${FAULTLINE_SANITIZER_ROOT:-$root}"
jobs="${FAULTLINE_JOBS:-2}"

# Tests whose assertions are about timing or CPU load on this machine.
SLOW_UNDER_SANITIZERS="CpuStress.ReachesTheTargetLoad*:NetworkFaults.DelayRaisesRtt*:\
NetworkFaults.JitterShowsTheRequestedSpread:NetworkFaults.ReorderSendsSomePacketsAhead*:\
NetworkFaults.BandwidthIsLimited*:MemoryPressure.RampsUpOverTime"

build_and_run() {
  local name="$1" flags="$2"
  local dir="$base/build-$name"
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
      -DFAULTLINE_WERROR=OFF -DFAULTLINE_PCH=ON \
      -DCMAKE_CXX_FLAGS="-O1 -g1 -fno-omit-frame-pointer $flags" \
      -DCMAKE_EXE_LINKER_FLAGS="$flags" >/dev/null
  fi
  echo "sanitizers: building unit tests with $name ($flags)"
  ninja -C "$dir" -j "$jobs" unit_tests
  echo "sanitizers: running unit tests under $name"
  "$dir/tests/unit_tests" --gtest_filter="-$SLOW_UNDER_SANITIZERS" --gtest_brief=1
}

export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
# Third-party causes only; each suppression says which library and why.
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/sanitizers/tsan.supp"
export LSAN_OPTIONS="suppressions=$root/tests/sanitizers/lsan.supp"

case "${1:-all}" in
  asan) build_and_run asan "-fsanitize=address,undefined -fno-sanitize-recover=undefined" ;;
  tsan) build_and_run tsan "-fsanitize=thread" ;;
  all)
    build_and_run asan "-fsanitize=address,undefined -fno-sanitize-recover=undefined"
    build_and_run tsan "-fsanitize=thread"
    ;;
  *) echo "usage: sanitizers.sh [asan|tsan|all]" >&2; exit 3 ;;
esac
echo "sanitizers: clean"
