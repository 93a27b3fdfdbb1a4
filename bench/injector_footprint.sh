#!/usr/bin/env bash
# An idle injector's footprint, on the real daemons: a controller and one faultline-injector
# connected to it (registered, heartbeating, no faults), left to settle, then sampled over
# SECONDS: resident memory (VmRSS, and the peak VmHWM), threads, and CPU as a share of one
# core: run time summed over the threads' /proc/PID/task/*/schedstat (nanoseconds; an idle
# injector uses too little for the 10 ms ticks of utime+stime, which are printed beside it). RSS counts every resident page of the shared
# libraries the injector maps (gRPC, OpenSSL, protobuf, libstdc++), which other processes on
# the node share, so the private part (USS: Private_Clean + Private_Dirty), PSS and anonymous
# memory from /proc/PID/smaps_rollup are printed beside it.
# Usage: bench/injector_footprint.sh BUILD_DIR [SECONDS]   (root, as the injector runs; loopback)
#   Extra injector environment can be passed through, e.g.
#   MALLOC_ARENA_MAX=2 bench/injector_footprint.sh build 60
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [SECONDS]}
seconds=${2:-60}
settle=${SETTLE:-10}
bin=$build/src
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

export FAULTLINE_STATE_DIR=$work/state
port=$(( 20000 + RANDOM % 20000 ))
"$bin/faultline-controller" --listen 127.0.0.1:$port --otlp-listen off --insecure \
  --store "$work/store.db" --audit-log "$work/audit.log" 2>"$work/controller.log" &
pids+=($!)
sleep 0.5
"$bin/faultline-injector" --insecure --controller 127.0.0.1:$port --node footprint \
  --ledger "$work/ledger" 2>"$work/injector.log" &
inj=$!
pids+=($inj)
registered() { grep -q "injector connected node=footprint" "$work/controller.log"; }
for _ in $(seq 100); do registered && break; sleep 0.1; done
registered || { echo "the injector did not register; its log:" >&2; cat "$work/injector.log" >&2; exit 1; }
sleep "$settle"

field() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$inj/status"; }
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$inj/stat"; }
runtime_ns() { cat /proc/$inj/task/*/schedstat 2>/dev/null | awk '{s += $1} END {print s}'; }
hz=$(getconf CLK_TCK)
t0=$(ticks); r0=$(runtime_ns); start=$(date +%s%N)
max_rss=0
for _ in $(seq "$seconds"); do
  sleep 1
  rss=$(field VmRSS); (( rss > max_rss )) && max_rss=$rss
done
t1=$(ticks); r1=$(runtime_ns); end=$(date +%s%N)
kill -0 "$inj" 2>/dev/null || { echo "the injector exited; its log:" >&2; cat "$work/injector.log" >&2; exit 1; }
wall_ms=$(( (end - start) / 1000000 ))
rollup() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$inj/smaps_rollup"; }
uss=$(( $(rollup Private_Clean) + $(rollup Private_Dirty) ))
awk -v rss="$(field VmRSS)" -v max="$max_rss" -v hwm="$(field VmHWM)" -v uss="$uss" \
    -v pss="$(rollup Pss)" -v anon="$(rollup Anonymous)" -v shared="$(rollup Shared_Clean)" \
    -v threads="$(field Threads)" -v dt=$(( t1 - t0 )) -v hz="$hz" -v ms="$wall_ms" \
    -v run=$(( r1 - r0 )) 'BEGIN {
  printf "| injector, idle %.0f s | VmRSS %.1f MiB (max %.1f, VmHWM %.1f) | shared clean %.1f MiB | USS %.1f MiB | PSS %.1f MiB | anonymous %.1f MiB | %d threads | CPU %.3f%% of a core (ticks: %d, %.3f%%) |\n",
    ms / 1000, rss / 1024, max / 1024, hwm / 1024, shared / 1024, uss / 1024, pss / 1024,
    anon / 1024, threads, 100 * run / 1e6 / ms, dt, 100 * dt / hz / (ms / 1000) }'
