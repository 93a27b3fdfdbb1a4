#!/usr/bin/env bash
# `faultline proxy` with no toxic, beside the direct path and HAProxy (TCP mode) in the same
# run, on loopback: iperf3 throughput (one flow, both directions) and a ping-pong round trip
# (bench/tcp_pingpong: 32 bytes, TCP_NODELAY, client pinned to CPU 0 and echo server to CPU 1,
# the paths interleaved in rounds of 500 by one client, so the difference between paths is
# what the proxy adds).
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
"$build/bench/tcp_pingpong" serve "$echo_port" 1 & pids+=($!)

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
echo_ports=()
for row in "${rows[@]}"; do IFS='|' read -r _ _ ep <<<"$row"; echo_ports+=("$ep"); done
"$build/bench/tcp_pingpong" ping 0 20000 "${echo_ports[@]}" >"$work/rtt"
echo "| path | TCP → Gbit/s | TCP ← Gbit/s | round trip p50 / p99 µs |"
echo "|---|---|---|---|"
for row in "${rows[@]}"; do
  IFS='|' read -r name ip ep <<<"$row"
  echo "| $name | $(gbps "$ip" "") | $(gbps "$ip" -R) | $(awk -v p="$ep" '$1 == p {print $2 " / " $3}' "$work/rtt") |"
done
