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
# shellcheck source=demo-service.sh
. "$root/scripts/demo-service.sh"
start_demo "$port" "$state/demo.pid" "$state/demo.log"
echo "quickstart: demo service up on 127.0.0.1:$port (worker pid $(cat "$state/demo.pid"))"
echo
set +e
"$build/src/faultline" run "$root/experiments/quickstart.yaml"
code=$?
set -e
exit "$code"
