#!/usr/bin/env bash
# Installs Node.js and the npm clients the tests use, none of them written here: the
# OpenTelemetry JS SDK the trace tests send spans with (tests/support/otel_js), a JUnit XML
# parser that reads faultline's reports (tests/support/junit_check) and the Kubernetes schemas
# deploy/kubernetes is validated against (tests/support/k8s_check). Idempotent: when node and
# npm are on PATH and node_modules is current it only compares mtimes. Quiet on success; exits 3
# on failure.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
log="${TMPDIR:-/tmp}/faultline-npm.log"

fail() {
  echo "setup-node.sh: $*" >&2
  exit 3
}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    fail "node/npm not found; run as root or install them with: apt-get install nodejs npm"
  fi
  echo "setup-node.sh: installing nodejs npm"
  export DEBIAN_FRONTEND=noninteractive
  apt_log="${TMPDIR:-/tmp}/faultline-apt-node.log"
  # Package lists may be absent on a fresh machine; refresh them once before installing.
  if ! apt-get install -y --no-install-recommends nodejs npm >"$apt_log" 2>&1; then
    apt-get update >>"$apt_log" 2>&1 || true
    if ! apt-get install -y --no-install-recommends nodejs npm >>"$apt_log" 2>&1; then
      tail -n 30 "$apt_log" >&2
      fail "apt-get install nodejs npm failed; see $apt_log"
    fi
  fi
  hash -r
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
    fail "node/npm still not on PATH after apt-get install"
fi

# The OpenTelemetry JS SDK 2.x needs Node ^18.19 or >= 20.6 (Debian 12 ships 18.20).
node -e 'const [a, b] = process.versions.node.split(".").map(Number);
         process.exit((a === 18 && b >= 19) || (a === 20 && b >= 6) || a > 20 ? 0 : 1)' 2>/dev/null ||
  fail "node $(node --version 2>/dev/null) is too old; the OpenTelemetry SDK needs ^18.19.0 || >=20.6.0"

needs_install() {
  local dir="$1" stamp="$1/node_modules/.package-lock.json"
  [ -d "$dir/node_modules" ] || return 0
  [ -f "$stamp" ] || return 0
  [ "$dir/package-lock.json" -nt "$stamp" ] || [ "$dir/package.json" -nt "$stamp" ]
}

install_dir() {
  local dir="$1"
  needs_install "$dir" || return 0
  # Serialise concurrent runs: npm ci deletes node_modules before it fills it again.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"${TMPDIR:-/tmp}/faultline-setup-node.lock"
    flock 9
    needs_install "$dir" || { exec 9>&-; return 0; }
  fi
  # --ignore-scripts: nothing here needs an install script (grpc-js is pure JavaScript).
  if ! (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=warn) >"$log" 2>&1; then
    echo "setup-node.sh: npm ci failed in $dir; last lines of $log:" >&2
    # Drop the usage text npm appends to EUSAGE errors so the actual reason stays in view.
    sed '/^npm error Clean install a project$/,/^npm error aliases:/d' "$log" | tail -n 40 >&2
    exit 3
  fi
  exec 9>&-
}

install_dir "$root/tests/support/otel_js"
install_dir "$root/tests/support/junit_check"
install_dir "$root/tests/support/k8s_check"
install_dir "$root/tests/support/toxiproxy_client"
