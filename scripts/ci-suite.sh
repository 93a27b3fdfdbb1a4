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

if curl -fsS --max-time 1 "http://127.0.0.1:$DEMO_PORT/health" >/dev/null 2>&1; then
  echo "ci-suite: something already answers on 127.0.0.1:$DEMO_PORT; set DEMO_PORT" >&2
  exit 3
fi
"$build/src/faultline-demo" supervise --port "$DEMO_PORT" --pidfile "$DEMO_PIDFILE" \
  2>"$state/demo.log" &
supervisor=$!
cleanup() {
  kill "$supervisor" 2>/dev/null || true
  wait "$supervisor" 2>/dev/null || true
  rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 50); do
  curl -fsS --max-time 1 "http://127.0.0.1:$DEMO_PORT/health" >/dev/null 2>&1 && break
  sleep 0.1
done

set +e
"$build/src/faultline" run "$root"/experiments/ci/*.yaml \
  --junit "$out/junit.xml" --html "$out/report.html"
code=$?
set -e
echo "ci-suite: exit $code; reports in $out/"
exit "$code"
