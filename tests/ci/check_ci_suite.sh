#!/usr/bin/env bash
# ctest: the CI suite exactly as docs/ci.md runs it, then its JUnit file read by a JUnit parser
# nobody here wrote and its HTML report checked for what a person needs to see.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
export FAULTLINE_BUILD_DIR="$1"
out="$(mktemp -d /tmp/faultline-ci-check.XXXXXX)"
trap 'rm -rf "$out"' EXIT
export FAULTLINE_STATE_DIR="$out/state"  # the runs' journals stay in the test's directory
export DEMO_PORT=18097

set +e
"$root/scripts/ci-suite.sh" "$out/reports"
code=$?
set -e
[ "$code" -eq 0 ] || { echo "check_ci_suite: the suite exited $code, expected 0" >&2; exit 1; }

summary="$(node "$root/tests/support/junit_check/summarize.mjs" "$out/reports/junit.xml")"
echo "$summary"
expect() {
  grep -qF -- "$1" <<<"$summary" || { echo "check_ci_suite: missing in JUnit: $1" >&2; exit 1; }
}
expect "SUITE ci-kill-and-recover tests=6 failures=0 skipped=0"
expect "SUITE ci-pause-within-slo tests=6 failures=0 skipped=0"
expect "CASE ci-kill-and-recover.recovery | demo-replaced | passed"
expect "CASE ci-pause-within-slo.guardrail | demo-not-down-for-long | passed"
grep -q '2 of 2 runs passed' "$out/reports/report.html" ||
  { echo "check_ci_suite: HTML report lacks the overview" >&2; exit 1; }
echo "check_ci_suite: ok"
