#!/usr/bin/env bash
# Runs the parser fuzz target for a bounded time, seeded with every shipped and corpus
# experiment. Fails on any crash, leak, sanitizer report or timeout; keeps the crashing
# input next to the build for reproduction.
set -euo pipefail
bin=$1 src=$2 seconds=$3
work=$(mktemp -d /tmp/faultline-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
cp "$src"/experiments/*.yaml "$src"/tests/corpus/*/*.yaml "$work/corpus/"
artifacts=$(dirname "$bin")/fuzz-artifacts/
mkdir -p "$artifacts"
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
  -dict="$src/tests/fuzz/experiment.dict" -artifact_prefix="$artifacts" -print_final_stats=1 \
  "$work/corpus" 2>&1 | tail -25
