#!/usr/bin/env bash
# What an http_fault whose rules match nothing adds to an HTTP request's latency, beside the
# direct path and HAProxy (HTTP mode) put in the same place, in one run. Two namespaces on a
# veth pair: A (flbench-a, 10.77.1.1) runs the load client, B (flbench-b, 10.77.1.2 and
# 10.77.1.3 on one interface) the Node server of the tests (tests/support/http_server). The
# client (bench/http_path_client.cpp) is open-loop: 1,000 GET /bench per second over 8
# keep-alive connections, each timed from when it was due, 2 s of warm-up left out. Paths:
#   direct      A -> 10.77.1.2:8080;
#   http_fault  the same, while `faultline run` (embedded) holds an http_fault on A's egress
#               to 10.77.1.2:8080 with one rule that matches nothing: REDIRECT to its
#               faultline-intercept helper, which forwards every request;
#   haproxy     the same address, REDIRECTed by the same kind of nat OUTPUT rule to HAProxy
#               (mode http, one thread, keep-alive both sides) in A on 127.0.0.1:18080,
#               whose backend is 10.77.1.3:8080 (B's second address, so its own connections
#               are not redirected).
# The paths take turns, ROUNDS times (each round starts one path later); the table gives the
# median over the rounds of each percentile, and "added" is that minus the direct path's.
# Conntrack is on in A for every path (a filter rule that needs it), as on any node with
# Docker or Kubernetes, so "added" is the interception, not conntrack's first use.
# Usage: bench/http_fault_bench.sh BUILD_DIR [SECONDS [ROUNDS]]   (root; defaults 20 s, 3)
# Needs node, haproxy and iptables-legacy (Debian: apt-get install -y nodejs haproxy iptables).
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [SECONDS [ROUNDS]]}
secs=${2:-20}
rounds=${3:-3}
rate=1000 conns=8 warmup=2
if [ "$(id -u)" -ne 0 ]; then
  echo "http_fault_bench.sh: needs root (network namespaces, iptables, faultline run); run it with sudo" >&2
  exit 1
fi
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(readlink -f "$build")
bin="$build/src/faultline"
client="$build/bench/http_path_client"
for f in "$bin" "$build/src/faultline-intercept" "$client"; do
  [ -x "$f" ] || {
    echo "http_fault_bench.sh: $f is missing; build it first:" >&2
    echo "  cmake --build $build --target faultline faultline-intercept http_path_client -j2" >&2
    exit 1
  }
done
for tool in node haproxy iptables-legacy curl ip python3; do
  command -v "$tool" >/dev/null || { echo "http_fault_bench.sh: $tool is not installed" >&2; exit 1; }
done
A=flbench-a B=flbench-b
for ns in $A $B; do
  if [ -e "/run/netns/$ns" ]; then
    echo "http_fault_bench.sh: namespace $ns exists (another run of this bench?); remove it with: ip netns del $ns" >&2
    exit 1
  fi
done

work=$(mktemp -d)
pids=()         # node, haproxy: plain kill at the end
run_pid=""      # faultline run: SIGINT, so that it reverts
made_ns=()
cleanup() {
  local rc=$? p
  set +e
  if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
    kill -INT "$run_pid"
    for _ in $(seq 300); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$run_pid" 2>/dev/null
    wait "$run_pid" 2>/dev/null
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  # Every rule, the veth pair and the addresses live in the two namespaces: deleting them
  # takes all of it. Nothing outside them is changed.
  for ns in "${made_ns[@]}"; do ip netns del "$ns"; done
  rm -rf "$work"
  [ $rc -ne 0 ] && echo "http_fault_bench.sh: failed (exit $rc); cleaned up" >&2
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
in_a() { ip netns exec $A "$@"; }
in_b() { ip netns exec $B "$@"; }

ip netns add $A && made_ns+=($A)
ip netns add $B && made_ns+=($B)
ip link add flb-a0 netns $A type veth peer name flb-b0 netns $B
in_a ip addr add 10.77.1.1/24 dev flb-a0
in_b ip addr add 10.77.1.2/24 dev flb-b0
in_b ip addr add 10.77.1.3/24 dev flb-b0
for ns in $A $B; do ip -n $ns link set lo up; done
in_a ip link set flb-a0 up
in_b ip link set flb-b0 up
in_a iptables-legacy -w -A OUTPUT -m conntrack --ctstate INVALID -j ACCEPT  # conntrack on in A

# Started as `ip netns exec` itself (which execs the program), not through in_b: $! is then the
# server, not a subshell that a kill would leave the server behind.
ip netns exec $B node "$root/tests/support/http_server/server.js" 0.0.0.0 8080 >"$work/node.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/node.out" && break; sleep 0.1; done
got=$(in_a curl -s -m 3 -D - http://10.77.1.2:8080/bench || true)
if ! grep -qi '^content-length: 2' <<<"$got" || [ "${got##*$'\r\n\r\n'}" != ok ]; then
  echo "http_fault_bench.sh: the Node server does not answer /bench with 'ok' (Content-Length 2):" >&2
  printf '%s\n' "$got" >&2
  cat "$work/node.out" >&2
  exit 1
fi

# One measurement of the current path: the client's line, as "requests errors p50 p99 p999 max".
measure() {
  local out
  out=$(in_a "$client" 10.77.1.2 8080 /bench $rate "$secs" $conns $warmup)
  sed -E 's/requests=([0-9]+) errors=([0-9]+) p50_us=([0-9.]+) p99_us=([0-9.]+) p999_us=([0-9.]+) max_us=([0-9.]+)/\1 \2 \3 \4 \5 \6/' <<<"$out"
}

# Each run_PATH writes the client's line to $work/line; none runs in a subshell, so the pids
# it starts are the cleanup's to stop.
run_direct() { measure >"$work/line"; }

fault_duration=$((warmup + secs + 60))
cat >"$work/http.yaml" <<YAML
apiVersion: faultline/v1
kind: Experiment
metadata: {name: http-fault-bench}
targets:
  server:
    network: {namespace: $A, ports: [8080], destinations: [10.77.1.2/32], direction: egress}
faults:
  - name: http-bench
    kind: http_fault
    target: server
    duration: ${fault_duration}s
    params:
      drain: 1s
      rules:
        - match: {path: {exact: /never}}
          abort: {status: 503}
YAML
run_http_fault() {
  local n=$1 result
  mkdir -p "$work/state"
  FAULTLINE_STATE_DIR="$work/state" "$bin" run "$work/http.yaml" >"$work/run$n.out" 2>"$work/run$n.err" &
  run_pid=$!
  for _ in $(seq 300); do
    grep -q "fault http-bench applied on" "$work/run$n.out" && break
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q "fault http-bench applied on" "$work/run$n.out"; then
    echo "http_fault_bench.sh: the http_fault was not applied within 30 s:" >&2
    cat "$work/run$n.out" "$work/run$n.err" >&2
    exit 1
  fi
  result=$(measure)
  kill -INT "$run_pid"
  wait "$run_pid" || true
  run_pid=""
  # The helper saw every request and took none: its own count, from the revert line.
  grep -o "fault http-bench reverted on.*" "$work/run$n.out" | sed 's/^/  # /' >&2 || true
  # (grep reads everything: with -q, the writer's SIGPIPE would fail the pipe under pipefail)
  if in_a iptables-legacy-save 2>/dev/null | grep 'fl-' >/dev/null ||
    in_a iptables-nft-save 2>/dev/null | grep 'fl-' >/dev/null; then
    echo "http_fault_bench.sh: faultline's chains are still in $A after the run" >&2
    exit 1
  fi
  echo "$result" >"$work/line"
}

hp_version=$(haproxy -v | awk 'NR == 1 {print $3}' | cut -d- -f1)  # awk reads it all: no SIGPIPE
cat >"$work/haproxy.cfg" <<CFG
global
  nbthread 1
  maxconn 1000
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
frontend bench
  bind 127.0.0.1:18080
  default_backend node
backend node
  http-reuse always
  server b 10.77.1.3:8080
CFG
haproxy -c -f "$work/haproxy.cfg" >/dev/null
redirect=(-t nat OUTPUT -d 10.77.1.2/32 -p tcp --dport 8080 -j REDIRECT --to-ports 18080)
run_haproxy() {
  local n=$1 hp result
  ip netns exec $A haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy$n.log" 2>&1 &
  hp=$!
  pids+=($hp)
  for _ in $(seq 50); do in_a curl -s -o /dev/null -m 1 http://127.0.0.1:18080/bench && break; sleep 0.1; done
  in_a iptables-legacy -w "${redirect[@]:0:2}" -A "${redirect[@]:2}"
  result=$(measure)
  echo "  # haproxy: $(in_a iptables-legacy -w -t nat -L OUTPUT -n -v -x | awk '/REDIRECT/ {print $1}') connections redirected" >&2
  in_a iptables-legacy -w "${redirect[@]:0:2}" -D "${redirect[@]:2}"
  kill "$hp"
  wait "$hp" 2>/dev/null || true
  local left=() q
  for q in "${pids[@]}"; do [ "$q" = "$hp" ] || left+=("$q"); done
  pids=("${left[@]}")
  echo "$result" >"$work/line"
}

paths=(direct http_fault haproxy)
echo "# $(nproc) CPUs, kernel $(uname -r), node $(node --version), HAProxy $hp_version; $rate req/s," \
  "$conns connections, ${warmup} s warm-up + ${secs} s per path, $rounds round(s)"
: >"$work/results"
for ((r = 0; r < rounds; r++)); do
  for ((k = 0; k < 3; k++)); do
    p=${paths[$(((r + k) % 3))]}
    echo "# round $((r + 1)): $p" >&2
    "run_$p" "$r"
    line=$(cat "$work/line")
    echo "$((r + 1)) $p $line" | tee -a "$work/results" | sed 's/^/  # /' >&2
    sleep 1
  done
done

python3 - "$work/results" "$hp_version" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
name = {"direct": "direct", "http_fault": "http_fault (0 rules matched)",
        "haproxy": f"HAProxy {sys.argv[2]} (mode http, nbthread 1)"}
print("\n| round | path | requests | errors | p50 µs | p99 µs | p99.9 µs | max µs |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} | {r[6]} | {r[7]} |")
med = {}
for p in ("direct", "http_fault", "haproxy"):
    got = [r for r in rows if r[1] == p]
    med[p] = [statistics.median(float(r[i]) for r in got) for i in (4, 5, 6)]
    med[p].append(sum(int(r[3]) for r in got))
print(f"\nMedian over {len(rows) // 3} round(s):\n")
print("| path | p50 µs | p99 µs | p99.9 µs | added p50 | added p99 | added p99.9 | errors |")
print("|---|---|---|---|---|---|---|---|")
for p in ("direct", "http_fault", "haproxy"):
    m = med[p]
    added = ["", "", ""] if p == "direct" else [f"{m[i] - med['direct'][i]:+.1f}" for i in range(3)]
    print(f"| {name[p]} | {m[0]:.1f} | {m[1]:.1f} | {m[2]:.1f} | {added[0]} | {added[1]} | {added[2]} | {m[3]} |")
added = med["http_fault"][1] - med["direct"][1]
verdict = "met" if added < 200 and med["http_fault"][3] == 0 else "NOT met"
print(f"\ntarget: p99 added < 200 µs at 1,000 requests/s: http_fault {added:+.1f} µs "
      f"(HAProxy {med['haproxy'][1] - med['direct'][1]:+.1f} µs): {verdict}")
PY
