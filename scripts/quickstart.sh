#!/usr/bin/env bash
# Sets up, builds, starts the demo service under its restarting supervisor, and runs
# experiments/quickstart.yaml against it: kill the service, check that it comes back.
# Exits with the run's exit code (0 passed, 1 failed, 2 aborted, 3 invalid/infra).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${FAULTLINE_BUILD_DIR:-$root/build}"
"$root/scripts/setup.sh"
echo "quickstart: building (first time takes a few minutes on 2 cores)..."
"$root/scripts/build.sh" faultline faultline-demo >/dev/null

port=18080
state=/tmp/faultline-quickstart
mkdir -p "$state"
if curl -fsS --max-time 1 "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
  echo "quickstart: something already answers on 127.0.0.1:$port; stop it first" >&2
  exit 3
fi

"$build/src/faultline-demo" supervise --port "$port" --pidfile "$state/demo.pid" \
  2>"$state/demo.log" &
supervisor=$!
# The supervisor takes its worker down with it, so this trap leaves nothing running.
cleanup() { kill "$supervisor" 2>/dev/null || true; wait "$supervisor" 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

for _ in $(seq 1 50); do
  curl -fsS --max-time 1 "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "quickstart: demo service up on 127.0.0.1:$port (worker pid $(cat "$state/demo.pid"))"
echo
set +e
"$build/src/faultline" run "$root/experiments/quickstart.yaml"
code=$?
set -e
exit "$code"
