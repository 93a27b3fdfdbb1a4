#!/usr/bin/env bash
# The project's own resilience suite, run the way a user's CI runs theirs: start the system
# under test (the demo service under its restarting supervisor), run every experiment in
# experiments/ci/ in one call, write one JUnit file and one HTML report, exit with faultline's
# code (0 passed, 1 failed, 2 aborted, 3 invalid/infra). Expects a build (scripts/build.sh).
#
#   scripts/ci-suite.sh [OUT_DIR]        (default: ./faultline-reports)
#   DEMO_PORT=18090  port of the demo service
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${FAULTLINE_BUILD_DIR:-$root/build}"
out="${1:-faultline-reports}"
export DEMO_PORT="${DEMO_PORT:-18090}"
state="$(mktemp -d /tmp/faultline-ci.XXXXXX)"
export DEMO_PIDFILE="$state/demo.pid"
mkdir -p "$out"

demo_cleanup_extra() { rm -rf "$state"; }
# shellcheck source=demo-service.sh
. "$root/scripts/demo-service.sh"
start_demo "$DEMO_PORT" "$DEMO_PIDFILE" "$state/demo.log"

set +e
"$build/src/faultline" run "$root"/experiments/ci/*.yaml \
  --junit "$out/junit.xml" --html "$out/report.html"
code=$?
set -e
echo "ci-suite: exit $code; reports in $out/"
exit "$code"
