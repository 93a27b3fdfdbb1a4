#!/usr/bin/env bash
# The controller's memory around large runs: RSS idle, at the peak of each run and after it,
# for back-to-back runs of the largest experiment the default limits accept in probes (200 in
# all: 100 steady-state probes, 100 guardrails polled every 100 ms; a 10 s fault). A finished, stored
# run leaves memory (release_finished + malloc_trim), so "after" should come back near idle
# instead of growing with every run.
# Usage: bench/controller_memory.sh BUILD_DIR [RUNS]   (root; loopback only)
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [RUNS]}
runs=${2:-5}
bin=$build/src
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export FAULTLINE_STATE_DIR=$work/state FAULTLINE_INSECURE=1
port=$(( 20000 + RANDOM % 20000 ))
sleep 1000 & pids+=($!)
echo $! >"$work/target.pid"
"$bin/faultline-controller" --listen 127.0.0.1:$port --otlp-listen off --insecure 2>"$work/ctl.log" &
ctl=$!; pids+=($ctl)
"$bin/faultline-injector" --insecure --controller 127.0.0.1:$port --node bench 2>"$work/inj.log" &
pids+=($!)
for _ in $(seq 100); do "$bin/faultline" injectors --controller 127.0.0.1:$port 2>/dev/null | grep -q bench && break; sleep 0.1; done

{
  echo "apiVersion: faultline/v1"
  echo "kind: Experiment"
  echo "metadata: {name: big}"
  echo "targets:"
  echo "  t: {process: {pidfile: $work/target.pid}}"
  echo "faults:"
  echo "  - {name: freeze, kind: process_pause, target: t, duration: 10s}"
  echo "steady_state:"
  for i in $(seq 100); do echo "  - {name: alive-$i, process: {target: t}}"; done
  echo "abort_when:"
  for i in $(seq 100); do echo "  - {name: guard-$i, probe: {process: {target: t}}, interval: 100ms}"; done
} >"$work/big.yaml"

rss() { awk '/^VmRSS/ {print int($2/1024)}' "/proc/$ctl/status"; }
hwm() { awk '/^VmHWM/ {print int($2/1024)}' "/proc/$ctl/status"; }
echo "experiment: $(wc -c <"$work/big.yaml") bytes, 100 steady-state probes, 100 guardrails at 100 ms, 10 s fault"
echo "idle: RSS $(rss) MiB"
for i in $(seq "$runs"); do
  "$bin/faultline" run "$work/big.yaml" --controller 127.0.0.1:$port >"$work/run.out" 2>&1 || {
    echo "run $i failed:"; tail -5 "$work/run.out"; exit 1; }
  sleep 2  # the controller's tick drops the stored run from memory
  echo "run $i: peak RSS so far $(hwm) MiB, after the run $(rss) MiB"
done
"$bin/faultline" runs --controller 127.0.0.1:$port --limit 3 >/dev/null 2>&1
echo "runs listing after $runs runs: ok"
