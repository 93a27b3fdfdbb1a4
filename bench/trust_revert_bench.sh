#!/usr/bin/env bash
# How fast faults come back when their controller or injector is lost, on the real daemons:
#   1. controller killed -9 mid-fault      -> the injector reverts after its contact grace
#   2. controller frozen (SIGSTOP)          -> the same, though its TCP connections stay up
#   3. injector killed -9 mid-fault         -> its next start reverts what the ledger holds
# Usage: bench/trust_revert_bench.sh BUILD_DIR [ROUNDS]   (root; loopback only)
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [ROUNDS]}
rounds=${2:-10}
bin=$build/src
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# 1 and 2 come from the trust tests, which print one line per round.
"$build/tests/trust_tests" --gtest_filter='*KilledControllerMidRun*:*FrozenController*' \
  --gtest_repeat="$rounds" >"$work/tests.log" 2>&1 || { tail -30 "$work/tests.log"; exit 1; }

# 3: an injector killed while it holds a pause; the time from its restart to the target
# running again (ledger recovery happens before it serves).
export FAULTLINE_STATE_DIR=$work/state FAULTLINE_INSECURE=1
port=$(( 20000 + RANDOM % 20000 )); cport=$(( port + 1 ))
"$bin/faultline-demo" serve --port "$port" --pidfile "$work/demo.pid" & pids+=($!)
"$bin/faultline-controller" --listen 127.0.0.1:$cport --otlp-listen off --insecure 2>/dev/null & pids+=($!)
cat >"$work/pause.yaml" <<YAML
apiVersion: faultline/v1
kind: Experiment
metadata: {name: bench-pause}
targets:
  demo: {process: {pidfile: $work/demo.pid}}
faults:
  - {name: freeze, kind: process_pause, target: demo, duration: 60s}
YAML
sleep 0.5
target=$(cat "$work/demo.pid")
state() { awk '{print $3}' "/proc/$target/stat" 2>/dev/null || echo "?"; }
ms() { date +%s%3N; }
for i in $(seq "$rounds"); do
  "$bin/faultline-injector" --insecure --controller 127.0.0.1:$cport --node bench 2>/dev/null &
  inj=$!
  for _ in $(seq 100); do "$bin/faultline" injectors --controller 127.0.0.1:$cport 2>/dev/null | grep -q bench && break; sleep 0.05; done
  "$bin/faultline" run "$work/pause.yaml" --controller 127.0.0.1:$cport >/dev/null 2>&1 &
  run=$!
  for _ in $(seq 200); do [ "$(state)" = T ] && break; sleep 0.01; done
  kill -9 "$inj"; wait "$inj" 2>/dev/null || true
  start=$(ms)
  "$bin/faultline-injector" --insecure --controller 127.0.0.1:$cport --node bench 2>/dev/null &
  inj=$!
  while [ "$(state)" = T ]; do sleep 0.002; done
  echo "injector killed -> reverted by its next start in $(( $(ms) - start )) ms" >>"$work/tests.log"
  kill "$inj"; wait "$inj" 2>/dev/null || true
  wait "$run" 2>/dev/null || true
done

summarise() {  # label, grep pattern
  grep "$2" "$work/tests.log" | grep -o '[0-9]\+ ms' | awk '{print $1}' | sort -n |
    awk -v label="$1" '{v[NR]=$1} END {if (NR==0) {print label ": no samples"; exit}
      printf "%-58s n=%d  p50=%d ms  max=%d ms\n", label, NR, v[int((NR+1)/2)], v[NR]}'
}
summarise "controller killed -9 (grace 1s, lease 2s)" "controller killed"
summarise "controller frozen, TCP up (grace 1.5s, lease 20s)" "controller frozen"
summarise "injector killed -9, restart -> fault reverted" "injector killed"
