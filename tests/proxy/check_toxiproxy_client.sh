#!/usr/bin/env bash
# `faultline proxy` run as an unprivileged user (nobody), driven by Toxiproxy's own Node client
# (tests/support/toxiproxy_client/check.js). Then: after SIGTERM and after kill -9, nothing of
# the proxy is left (no process, nothing listening on its ports).
# Usage: check_toxiproxy_client.sh FAULTLINE_BINARY
set -euo pipefail
bin=$(readlink -f "$1")
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bash "$root/scripts/setup-node.sh"
work=$(mktemp -d)
chmod 755 "$work"
pid=""
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_proxy() {
  # setpriv: no root, no capabilities, no supplementary groups.
  setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
    "$bin" proxy --port 0 >"$work/out" 2>"$work/err" &
  pid=$!
  for _ in $(seq 50); do grep -q "API on" "$work/out" && break; sleep 0.1; done
  grep -q "API on" "$work/out" || { cat "$work/err" >&2; echo "proxy did not start" >&2; exit 1; }
  api=$(sed -n 's/.*API on \(.*\)$/\1/p' "$work/out")
  uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
  caps=$(awk '/^CapEff:/ {print $2}' "/proc/$pid/status")
  [ "$uid" = 65534 ] && [ "$caps" = 0000000000000000 ] ||
    { echo "the proxy runs as uid $uid with capabilities $caps, not unprivileged" >&2; exit 1; }
}

listening_ports() { ss -Htlnp 2>/dev/null | grep "pid=$1," | awk '{print $4}' || true; }

# A bad --config is refused at once, saying where.
printf '[{"name": "a",\n  "upstream": }]' >"$work/bad.json"
rc=0
"$bin" proxy --port 0 --config "$work/bad.json" 2>"$work/bad.err" || rc=$?
[ "$rc" = 3 ] && grep -q "bad.json: not JSON: .*line 2, column" "$work/bad.err" ||
  { echo "bad --config: exit $rc, $(cat "$work/bad.err")" >&2; exit 1; }
printf '[{"name": "a", "listen": "127.0.0.1:0"}]' >"$work/bad.json"
rc=0
"$bin" proxy --port 0 --config "$work/bad.json" 2>"$work/bad.err" || rc=$?
[ "$rc" = 3 ] && grep -q "missing required field: upstream at proxy 1" "$work/bad.err" ||
  { echo "--config without upstream: exit $rc, $(cat "$work/bad.err")" >&2; exit 1; }

start_proxy
echo "proxy pid=$pid uid=65534 api=$api"
node "$root/tests/support/toxiproxy_client/check.js" "http://$api"

# Gone after SIGTERM: process and every port.
curl -sf -X POST "http://$api/proxies" -d '{"name":"left","listen":"127.0.0.1:0","upstream":"127.0.0.1:9"}' >/dev/null
ports=$(listening_ports "$pid")
[ "$(echo "$ports" | wc -w)" -ge 2 ] || { echo "expected the API and a proxy listening: $ports" >&2; exit 1; }
kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && { echo "the proxy did not stop on SIGTERM" >&2; exit 1; }
for p in $ports; do
  ss -Htln "sport = :${p##*:}" | grep -q . && { echo "still listening on $p after SIGTERM" >&2; exit 1; }
done

# And after kill -9.
start_proxy
curl -sf -X POST "http://$api/proxies" -d '{"name":"left","listen":"127.0.0.1:0","upstream":"127.0.0.1:9"}' >/dev/null
ports=$(listening_ports "$pid")
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=""
for p in $ports; do
  ss -Htln "sport = :${p##*:}" | grep -q . && { echo "still listening on $p after kill -9" >&2; exit 1; }
done
echo "nothing left after SIGTERM or kill -9"
