#!/usr/bin/env bash
# `faultline proxy` with no toxic, beside the direct path and HAProxy (TCP mode) in the same
# run, on loopback: iperf3 throughput (one flow, both directions) and a ping-pong round trip
# (32 bytes, TCP_NODELAY; the client and echo server are the same Python script for every
# path, so the difference between paths is what the proxy adds).
# Usage: bench/proxy_bench.sh BUILD_DIR [SECONDS]   (needs iperf3; haproxy from apt for its row)
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [SECONDS]}
secs=${2:-5}
bin=$(readlink -f "$build/src/faultline")
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

iperf_port=$(port); echo_port=$(port)
iperf3 -s -B 127.0.0.1 -p "$iperf_port" >/dev/null 2>&1 & pids+=($!)
cat >"$work/echo.py" <<'PY'
import socket, sys, time, statistics
def serve(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(16)
    while True:
        c, _ = s.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            d = c.recv(65536)
            if not d: break
            c.sendall(d)
        c.close()
def ping(port, n):
    c = socket.create_connection(("127.0.0.1", port)); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msg = b"x" * 32; rtt = []
    for i in range(n + 200):
        t = time.perf_counter_ns(); c.sendall(msg); got = 0
        while got < 32: got += len(c.recv(64))
        if i >= 200: rtt.append((time.perf_counter_ns() - t) / 1000)
    rtt.sort(); print("%.1f %.1f" % (rtt[len(rtt)//2], rtt[int(len(rtt)*0.99)]))
if sys.argv[1] == "serve": serve(int(sys.argv[2]))
else: ping(int(sys.argv[2]), int(sys.argv[3]))
PY
python3 "$work/echo.py" serve "$echo_port" & pids+=($!)

"$bin" proxy --port 0 >"$work/proxy.out" 2>"$work/proxy.err" & pids+=($!)
for _ in $(seq 50); do grep -q "API on" "$work/proxy.out" && break; sleep 0.1; done
api=$(sed -n 's/.*API on \(.*\)$/\1/p' "$work/proxy.out")
fl_iperf=$(port); fl_echo=$(port)
curl -sf -XPOST "http://$api/proxies" -d "{\"name\":\"iperf\",\"listen\":\"127.0.0.1:$fl_iperf\",\"upstream\":\"127.0.0.1:$iperf_port\"}" >/dev/null
curl -sf -XPOST "http://$api/proxies" -d "{\"name\":\"echo\",\"listen\":\"127.0.0.1:$fl_echo\",\"upstream\":\"127.0.0.1:$echo_port\"}" >/dev/null

rows=("direct|$iperf_port|$echo_port" "faultline proxy|$fl_iperf|$fl_echo")
if command -v haproxy >/dev/null; then
  hp_iperf=$(port); hp_echo=$(port)
  cat >"$work/haproxy.cfg" <<CFG
global
  maxconn 1000
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
listen iperf
  bind 127.0.0.1:$hp_iperf
  server s 127.0.0.1:$iperf_port
listen echo
  bind 127.0.0.1:$hp_echo
  server s 127.0.0.1:$echo_port
CFG
  haproxy -f "$work/haproxy.cfg" -db >/dev/null 2>&1 & pids+=($!)
  rows+=("HAProxy $(haproxy -v | head -1 | awk '{print $3}') (TCP mode)|$hp_iperf|$hp_echo")
fi
sleep 0.5
gbps() { iperf3 -c 127.0.0.1 -p "$1" -t "$secs" -J $2 | python3 -c 'import json,sys; print("%.1f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))'; }
echo "| path | TCP → Gbit/s | TCP ← Gbit/s | round trip p50 / p99 µs |"
echo "|---|---|---|---|"
for row in "${rows[@]}"; do
  IFS='|' read -r name ip ep <<<"$row"
  echo "| $name | $(gbps "$ip" "") | $(gbps "$ip" -R) | $(python3 "$work/echo.py" ping "$ep" 20000 | sed 's| | / |') |"
done
