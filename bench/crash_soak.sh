#!/usr/bin/env bash
# Crash-cycle soak (issue 19): CYCLES randomized `kill -9` cycles across every fault kind this
# machine can run without a container rig, with leftovers counted after every cycle.
#
# Each cycle picks a fault kind and a kill point at random, starts a 20 s fault, and kills a
# Faultline process with SIGKILL while the fault is being applied or is in force:
#   run-applied        an embedded `faultline run`, 0-1000 ms after it printed "applied"
#   run-apply          an embedded `faultline run`, 0-300 ms after it started
#   injector-applied   a `faultline-injector` serving a controller, 0-1000 ms after "applied"
#   injector-apply     a `faultline-injector`, 0-300 ms after `faultline run --controller` started
#   controller-applied the `faultline-controller`, 0-1000 ms after "applied"
# then takes the documented way back (docs/safety.md, "Crash safety"):
#   embedded run   the next `faultline plan` on the machine reverts what the ledger holds
#   injector       restarted; its ledger recovery reverts before it serves
#   controller     the injector's dead-man's switch (--contact-grace 1s) reverts by itself;
#                  leftovers are counted before the controller is started again
# and then counts what is left: qdiscs other than the default, iptables/ip6tables rules and
# chains of Faultline (legacy and nft) and bound NFQUEUEs in the script's namespaces,
# interfaces left down, A -> B connectivity, targets left stopped (T), a frozen freezer cgroup,
# a crash loop still killing, stress still burning or memory still held by a live injector,
# disk_fill files and space, FUSE mounts, clock control files not back at +0, ledger entries,
# and stray Faultline processes. Every leftover is printed, counted and cleaned.
# Host-wide state (lo's qdisc, the host's iptables, cgroups and FUSE mounts named faultline)
# is compared with its state at the start and reported as "host changes", not counted: other
# processes on the machine (a test suite) may create those.
#
# Faults touch only what the script creates: two network namespaces (A with veth pairs to B and
# to itself), a 64 MiB tmpfs, a directory, and throwaway `sleep` processes (one in a freezer
# cgroup, one under `faultline exec`, one restarted by a shell loop); cpu_stress (one worker)
# and memory_pressure (at most 512 MiB) are node-wide by nature. Daemons talk over a unix
# socket. Nothing touches the host's interfaces. Before the cycles, a self-test plants one
# leftover of each sort (a killed run, not recovered) and stops unless every check sees it.
#
# Usage: bench/crash_soak.sh BIN_DIR [CYCLES] [SEED]     (root)
#   BIN_DIR holds faultline, faultline-controller and faultline-injector (build/src, or a copy
#   so a rebuild cannot change them under the soak). CYCLES defaults to 1000. SEED (0-32767)
#   repeats the same sequence of kinds, kill points, delays and parameters.
# Exit: 0 no leftover, 1 leftovers found, 3 cannot run here.
set -euo pipefail
export LC_ALL=C
bin=$(cd "${1:?usage: $0 BIN_DIR [CYCLES] [SEED]}" && pwd)
cycles=${2:-1000}
seed=${3:-$(( $(date +%s) % 32768 ))}
RANDOM=$seed

need() { echo "crash_soak: $*" >&2; exit 3; }
[ "$(id -u)" = 0 ] || need "run as root"
for b in faultline faultline-controller faultline-injector; do
  [ -x "$bin/$b" ] || need "$bin/$b is missing"
done
for c in ip tc iptables-legacy-save iptables-nft-save ip6tables-legacy-save ip6tables-nft-save \
         iptables-legacy-restore iptables-nft-restore ping pgrep setsid timeout; do
  command -v "$c" >/dev/null || need "$c is missing"
done
[ -c /dev/fuse ] || need "/dev/fuse is missing (io_fault)"
[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || need "libfaketime is missing (clock_skew)"
freezer_root=/sys/fs/cgroup/freezer
[ -d "$freezer_root" ] || need "no cgroup v1 freezer at $freezer_root (process_pause method freezer)"

kinds=(network_delay network_loss network_corrupt network_duplicate network_reorder
       network_bandwidth network_partition interface_down link_flap process_kill process_pause
       cpu_stress memory_pressure disk_fill io_fault clock_skew)
points=(run-applied run-apply injector-applied injector-apply controller-applied)

work=$(mktemp -d /tmp/crash-soak.XXXXXX)
state=$work/state
export FAULTLINE_STATE_DIR=$state
mkdir -p "$state" "$work/io" "$work/fill" "$work/stale"
tag=fls$$
nsa=$tag-a nsb=$tag-b
frz=$freezer_root/$tag
sock=$work/ctl.sock
ctl="" inj="" client="" runpid=""
pause_pid="" frz_pid="" wrap_pid="" clock_pid="" loop_pid="" ping_pid="" reader_pid=""
cleanup() {
  set +e
  exec 2>/dev/null  # best effort, and no job notices for what it kills
  for p in $client $runpid $inj $ctl $ping_pid $reader_pid; do kill -9 "$p" 2>/dev/null; done
  [ -n "$loop_pid" ] && kill -9 -- "-$loop_pid" 2>/dev/null
  [ -n "$wrap_pid" ] && kill -9 -- "-$wrap_pid" 2>/dev/null
  [ -d "$frz" ] && echo THAWED >"$frz/freezer.state" 2>/dev/null
  for p in $pause_pid $frz_pid $clock_pid; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
  [ -f "$work/kill.pid" ] && kill -9 "$(cat "$work/kill.pid")" 2>/dev/null
  wait 2>/dev/null
  umount -l "$work/io" 2>/dev/null
  umount -l "$work/fill" 2>/dev/null
  ip netns del "$nsa" 2>/dev/null
  ip netns del "$nsb" 2>/dev/null
  for _ in 1 2 3 4 5; do [ -d "$frz" ] || break; rmdir "$frz" 2>/dev/null || sleep 0.2; done
  if [ -n "${KEEP_WORK:-}" ]; then echo "crash_soak: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

now_ms() { NOW=$(( ${EPOCHREALTIME/./} / 1000 )); }
sleep_ms() { local s; printf -v s '%d.%03d' $(( $1 / 1000 )) $(( $1 % 1000 )); sleep "$s"; }
# PSTATE: the state letter of a process ("" when gone).
pstate() { local l=""; PSTATE=""; { read -r l <"/proc/$1/stat"; } 2>/dev/null || return 0; l=${l##*) }; PSTATE=${l%% *}; }
alive() { pstate "$1"; [ -n "$PSTATE" ] && [ "$PSTATE" != Z ]; }
# R: one of the arguments, from the seeded $RANDOM (in this shell, so SEED repeats the run).
pick() { local a=("$@"); R=${a[RANDOM % $#]}; }
count() { local n; n=$(grep -c "$@" 2>/dev/null) || true; echo "${n:-0}"; }

# ---- the rig -------------------------------------------------------------------------------
ip netns add "$nsa"
ip netns add "$nsb"
ip link add sa0 netns "$nsa" type veth peer name sb0 netns "$nsb"
ip link add sc0 netns "$nsa" type veth peer name sd0 netns "$nsa"
ip -n "$nsa" addr add 10.231.0.1/30 dev sa0
ip -n "$nsb" addr add 10.231.0.2/30 dev sb0
ip -n "$nsa" addr add 10.231.0.5/30 dev sc0
for l in lo sa0 sc0 sd0; do ip -n "$nsa" link set "$l" up; done
for l in lo sb0; do ip -n "$nsb" link set "$l" up; done
ip netns exec "$nsa" ping -c1 -W2 -q 10.231.0.2 >/dev/null || need "no connectivity A -> B in the rig"
# Traffic through A's interface for the network faults to hold, drop and mangle.
ip netns exec "$nsa" ping -q -i 0.05 10.231.0.2 >/dev/null 2>&1 &
ping_pid=$!
mount -t tmpfs -o size=64m "soak-$tag" "$work/fill"
echo hello >"$work/io/file"
# A reader of the io_fault directory, so kills land mid-operation too.
( while :; do timeout 5 cat "$work/io/file" >/dev/null 2>&1; sleep 0.05; done ) &
reader_pid=$!

# Targets live in sessions of their own: job control acting on the soak's process group (a
# shell or a harness sending SIGCONT to it) must not resume a paused target behind its back.
target() { setsid sleep 1000000 & TARGET=$!; }
target
pause_pid=$TARGET
echo "$pause_pid" >"$work/pause.pid"
mkdir "$frz"
target
frz_pid=$TARGET
echo "$frz_pid" >"$frz/cgroup.procs"
# process_kill's target: restarted by a shell loop, so a crash loop has something to hit.
setsid bash -c 'while :; do sleep 1000000 & echo $! >"$1.tmp"; mv "$1.tmp" "$1"; wait $!; done' \
  _ "$work/kill.pid" 2>/dev/null &
loop_pid=$!
setsid "$bin/faultline" exec -- sleep 1000000 >"$work/exec.log" 2>&1 &
wrap_pid=$!
for _ in $(seq 100); do
  clock_pid=$(pgrep -P "$wrap_pid" || true)
  [ -n "$clock_pid" ] && [ -f "$work/kill.pid" ] && break
  sleep 0.05
done
[ -n "$clock_pid" ] || need "faultline exec did not start its target: $(cat "$work/exec.log")"
echo "$clock_pid" >"$work/clock.pid"

# What "clean" looks like, taken before any fault.
qdiscs() { tc -n "$1" qdisc show | sed 's/ refcnt [0-9]*//'; }
base_qa=$(qdiscs "$nsa")
base_qb=$(qdiscs "$nsb")
fill_used() { df -B1 --output=used "$work/fill" | tail -1 | tr -d ' '; }
base_fill=$(fill_used)
host_state() {
  {
    tc qdisc show dev lo | sed 's/ refcnt [0-9]*//'
    for t in iptables-legacy-save iptables-nft-save ip6tables-legacy-save ip6tables-nft-save; do
      echo "$t: $($t 2>/dev/null | grep -cE '^[:-].*(fl-[0-9a-f]{8}|faultline)' || true) faultline lines"
    done
    echo "cgroups named faultline: $(find /sys/fs/cgroup/ -maxdepth 3 -iname '*faultline*' 2>/dev/null | wc -l)"
    echo "faultline FUSE mounts elsewhere: $(awk -v w="$work" 'index($2, w) != 1 && $3 ~ /faultline/' /proc/mounts | wc -l)"
  }
}
base_host=$(host_state)

cat >"$work/recover.yaml" <<'YAML'
apiVersion: faultline/v1
kind: Experiment
metadata: {name: soak-recover}
targets:
  node: {nodes: {mode: one}}
faults:
  - {name: nothing, kind: cpu_stress, target: node, duration: 1s}
YAML

# ---- daemons -------------------------------------------------------------------------------
ctl_starts=0 inj_starts=0
start_controller() {
  local before
  before=$(count "controller listening" "$work/controller.log")
  rm -f "$sock"
  "$bin/faultline-controller" --listen "unix:$sock" --otlp-listen off --insecure \
    --store "$work/ctl.db" --audit-log "$work/audit.log" >>"$work/controller.log" 2>&1 &
  ctl=$!
  ctl_starts=$((ctl_starts + 1))
  for _ in $(seq 500); do
    [ "$(count "controller listening" "$work/controller.log")" -gt "$before" ] && return 0
    alive "$ctl" || break
    sleep 0.01
  done
  tail -20 "$work/controller.log" >&2
  need "the controller did not start"
}
# Waits until the controller has the injector's stream (a run submitted then can be placed).
wait_connected() {  # connected-count-before
  for _ in $(seq 1000); do
    [ "$(count "injector connected node=soak" "$work/controller.log")" -gt "$1" ] && return 0
    sleep 0.01
  done
  tail -20 "$work/injector.log" >&2
  need "the injector did not connect"
}
inj_rss_kb=0
start_injector() {
  local before
  before=$(count "injector connected node=soak" "$work/controller.log")
  [ -f "$work/injector.log" ] && cat "$work/injector.log" >>"$work/injectors.log"
  "$bin/faultline-injector" --insecure --controller "unix:$sock" --node soak \
    --ledger "$state/ledger-daemon" --contact-grace 1s --cri-socket "" --docker-socket "" \
    >"$work/injector.log" 2>&1 &
  inj=$!
  inj_starts=$((inj_starts + 1))
  wait_connected "$before"
  inj_rss_kb=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$inj/status")
}
restart_injector() {  # SIGTERM reverts what it holds
  kill "$inj" 2>/dev/null || true
  wait "$inj" 2>/dev/null || true
  start_injector
}
start_controller
start_injector

# ---- experiments ---------------------------------------------------------------------------
# Writes $work/exp.yaml: one 20 s fault of KIND with parameters picked at random.
gen() {
  local k=$1 tgt params
  case $k in
    network_delay | network_loss | network_corrupt | network_reorder | network_duplicate)
      local dir=egress dst=""
      if [ "$k" != network_duplicate ]; then pick egress ingress both; dir=$R; fi
      pick "" "" ", destinations: [10.231.0.2/32]"; [ "$dir" = egress ] && dst=$R
      tgt="{network: {namespace: $nsa, interface: sa0, direction: $dir$dst}}"
      case $k in
        network_delay) pick 10ms 50ms 200ms; params="{delay: $R"; pick 0ms 5ms; params+=", jitter: $R}" ;;
        network_loss) pick 10% 50% 100%; params="{percent: $R}" ;;
        network_corrupt) pick 10% 50%; params="{percent: $R}" ;;
        network_duplicate) pick 10% 50%; params="{percent: $R}" ;;
        network_reorder) pick 25% 50%; params="{percent: $R, delay: 20ms, gap: 3}" ;;
      esac ;;
    network_partition)
      pick egress ingress both; params="{direction: $R}"
      pick ", interface: sa0" ""; tgt="{network: {namespace: $nsa$R}}" ;;
    network_bandwidth)
      pick sa0 sa0 sc0; local ifc=$R dst=""
      pick "" ", destinations: [10.231.0.2/32]"; [ "$ifc" = sa0 ] && dst=$R
      tgt="{network: {namespace: $nsa, interface: $ifc$dst}}"
      pick 1mbit 10mbit; params="{rate: $R"; pick tbf htb; params+=", backend: $R}" ;;
    interface_down)
      pick sc0 sa0; tgt="{network: {namespace: $nsa, interface: $R}}"; params="{}" ;;
    link_flap)
      pick sc0 sa0; tgt="{network: {namespace: $nsa, interface: $R}}"
      pick 50ms 200ms; params="{down: $R"; pick 50ms 200ms; params+=", up: $R}" ;;
    process_kill)
      tgt="{process: {pidfile: $work/kill.pid}}"
      pick 100ms 300ms; params="{interval: $R}" ;;
    process_pause)
      pick signal freezer
      if [ "$R" = signal ]; then tgt="{process: {pidfile: $work/pause.pid}}"; params="{}"
      else tgt="{process: {cgroup: /$tag}}"; params="{method: freezer}"; fi ;;
    cpu_stress)
      tgt="{nodes: {mode: one}}"; pick 50% 100%; params="{workers: 1, load: $R}" ;;
    memory_pressure)
      tgt="{nodes: {mode: one}}"; pick 128MiB 256MiB 512MiB; params="{size: $R"
      pick 0s 0s 1s; params+=", ramp: $R}" ;;
    disk_fill)
      tgt="{paths: [$work/fill]}"
      pick "size: 8MiB" "size: 32MiB" "percent: 50%"; params="{$R, reserve: 1MiB}" ;;
    io_fault)
      tgt="{paths: [$work/io]}"
      pick "latency: 5ms" "error: EIO" "latency: 2ms, error: ENOSPC"; params="{$R"
      pick all read write; params+=", operations: $R"; pick 50% 100%; params+=", fraction: $R}" ;;
    clock_skew)
      tgt="{process: {pidfile: $work/clock.pid}}"; pick +5m -90s +1h; params="{offset: \"$R\"}" ;;
  esac
  cat >"$work/exp.yaml" <<YAML
apiVersion: faultline/v1
kind: Experiment
metadata: {name: soak-${k//_/-}}
targets:
  t: $tgt
faults:
  - {name: f, kind: $k, target: t, duration: 20s, params: $params}
YAML
  PARAMS="$tgt $params"
}

# ---- leftovers -----------------------------------------------------------------------------
left=0
LEFT_LINES=""
leftover() { left=$((left + 1)); LEFT_LINES+="    LEFTOVER: $*"$'\n'; }
ledger_entries() { find "$state/ledger" "$state/ledger-daemon" -name '*.entry' 2>/dev/null || true; }
host_changes=0
restart_inj_needed=0
keep_ledger=0
check_leftovers() {  # kind point
  local k=$1 p=$2 ns out line f content name dev
  left=0 LEFT_LINES="" restart_inj_needed=0
  # First, before anything is cleaned: does traffic still flow A -> B?
  local ok=0
  for _ in 1 2 3; do
    if ip netns exec "$nsa" ping -c1 -W1 -q 10.231.0.2 >/dev/null 2>&1; then ok=1; break; fi
  done
  [ "$ok" = 1 ] || leftover "no connectivity A -> B (10.231.0.2)"
  for ns in "$nsa" "$nsb"; do
    out=$(ip netns exec "$ns" sh -c '
      for t in iptables-legacy-save iptables-nft-save ip6tables-legacy-save ip6tables-nft-save; do
        $t 2>/dev/null | grep -E "^[:-].*(fl-[0-9a-f]{8}|faultline)" | sed "s/^/$t: /"
      done
      sed "s/^/bound NFQUEUE: /" /proc/net/netfilter/nfnetlink_queue 2>/dev/null' || true)
    if [ -n "$out" ]; then
      # One leftover per chain and per bound queue; the chains' rules are printed with them.
      while IFS= read -r line; do
        case $line in
          *": :"* | "bound NFQUEUE"*) leftover "netns $ns: $line" ;;
          *) LEFT_LINES+="      rule: $line"$'\n' ;;
        esac
      done <<<"$out"
      for t in iptables-legacy iptables-nft ip6tables-legacy ip6tables-nft; do
        ip netns exec "$ns" sh -c "$t-save 2>/dev/null | grep -vE 'fl-[0-9a-f]{8}|faultline' | $t-restore" 2>/dev/null || true
      done
      grep -q "bound NFQUEUE" <<<"$out" && restart_inj_needed=1
    fi
    local base=$base_qa; [ "$ns" = "$nsb" ] && base=$base_qb
    out=$(qdiscs "$ns")
    if [ "$out" != "$base" ]; then
      while IFS= read -r line; do
        grep -qxF -- "$line" <<<"$base" || leftover "netns $ns: qdisc $line"
      done <<<"$out"
      for dev in $(ip -n "$ns" -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}'); do
        tc -n "$ns" qdisc del dev "$dev" root 2>/dev/null || true
      done
    fi
    while IFS= read -r line; do
      [ -z "$line" ] && continue
      dev=$(awk -F': ' '{sub(/@.*/, "", $2); print $2}' <<<"$line")
      leftover "netns $ns: interface $dev is down"
      ip -n "$ns" link set "$dev" up || true
    done < <(ip -n "$ns" -o link show | grep -vE '<([^>]*,)?UP[,>]' || true)
  done
  # Targets left stopped, and the freezer cgroup.
  local t
  for t in pause:$pause_pid freezer-member:$frz_pid clock:$clock_pid clock-wrapper:$wrap_pid \
           crash-loop:$(cat "$work/kill.pid" 2>/dev/null) ping:$ping_pid; do
    pstate "${t#*:}"
    if [ "$PSTATE" = T ] || [ "$PSTATE" = t ]; then
      leftover "target ${t%%:*} (pid ${t#*:}) left stopped"
      kill -CONT "${t#*:}" 2>/dev/null || true
    fi
  done
  content=$(cat "$frz/freezer.state")
  if [ "$content" != THAWED ]; then
    leftover "freezer cgroup $frz is $content"
    echo THAWED >"$frz/freezer.state"
  fi
  # A crash loop that outlived its fault: the target must stay the same process.
  if [ "$k" = process_kill ]; then
    local before_pid after_pid
    before_pid=$(cat "$work/kill.pid" 2>/dev/null || true)
    sleep 0.5
    after_pid=$(cat "$work/kill.pid" 2>/dev/null || true)
    if [ "$before_pid" != "$after_pid" ]; then
      leftover "crash loop still killing the target ($before_pid -> $after_pid)"
      restart_inj_needed=1
    fi
  fi
  # Stress still running in a live injector.
  if [[ $p == injector-* || $p == controller-* ]] && [[ $k == cpu_stress || $k == memory_pressure ]] &&
     alive "$inj"; then
    local t0 t1 rss
    read -r line <"/proc/$inj/stat"; line=${line##*) }; set -- $line; t0=$(( ${12} + ${13} ))
    sleep 0.3
    read -r line <"/proc/$inj/stat"; line=${line##*) }; set -- $line; t1=$(( ${12} + ${13} ))
    if [ $(( t1 - t0 )) -gt 6 ]; then
      leftover "injector pid $inj still burns CPU: $(( t1 - t0 )) ticks in 300 ms"
      restart_inj_needed=1
    fi
    rss=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$inj/status")
    if [ $(( rss - inj_rss_kb )) -gt 102400 ]; then
      leftover "injector pid $inj still holds memory: VmRSS $((rss / 1024)) MiB (started at $((inj_rss_kb / 1024)) MiB)"
      restart_inj_needed=1
    fi
  fi
  # disk_fill: its files, else space used by something under another name.
  out=$(find "$work/fill" "$work" -maxdepth 1 -name '.faultline-fill-*' 2>/dev/null || true)
  while IFS= read -r f; do
    [ -z "$f" ] && continue
    leftover "fill file $f ($(stat -c %s "$f") bytes)"
    rm -f "$f"
  done <<<"$out"
  if [ -z "$out" ]; then
    out=$(fill_used)
    [ "$out" -le $(( base_fill + 1048576 )) ] ||
      leftover "tmpfs $work/fill has $(( (out - base_fill) / 1048576 )) MiB more used than at the start"
  fi
  # FUSE mounts under the work directory.
  while IFS= read -r line; do
    [ -z "$line" ] && continue
    leftover "mount $line"
    umount -l "$(awk '{print $2}' <<<"$line")" || true
  done < <(awk -v w="$work" 'index($2, w) == 1 && $3 ~ /^fuse/' /proc/mounts)
  # Clock control files: each must belong to a running wrapper and be back at +0.
  for f in "$state"/exec/*.clock; do
    [ -e "$f" ] || continue
    name=${f##*/}
    if ! alive "${name%%-*}"; then
      leftover "clock file $f of a wrapper that is gone"
      rm -f "$f"
      continue
    fi
    content=$(tr -d ' \n' <"$f")
    if [ "$content" != "+0" ]; then
      leftover "clock file $f holds $content"
      printf '+0\n' >"$f"
    fi
  done
  # Ledger entries: nothing may still be recorded as applied.
  while IFS= read -r f; do
    [ -z "$f" ] && continue
    leftover "ledger entry $f"
    [ "$keep_ledger" = 1 ] || mv "$f" "$work/stale/" 2>/dev/null || rm -f "$f"
  done < <(ledger_entries)
  # Faultline processes other than the daemons and the clock wrapper.
  for f in $(pgrep -f "^$bin/faultline" || true); do
    [ "$f" = "$ctl" ] || [ "$f" = "$inj" ] || [ "$f" = "$wrap_pid" ] || [ "$f" = "$client" ] || {
      alive "$f" || continue
      leftover "stray process $f: $(tr '\0' ' ' <"/proc/$f/cmdline" 2>/dev/null)"
      kill -9 "$f" 2>/dev/null || true
    }
  done
  if [ "$restart_inj_needed" = 1 ] && alive "$inj"; then restart_injector; fi
  out=$(host_state)
  if [ "$out" != "$base_host" ]; then
    host_changes=$((host_changes + 1))
    echo "    host change (not counted; may be another process's): $(diff <(echo "$base_host") <(echo "$out") | grep '^>' | tr '\n' ' ')"
    base_host=$out
  fi
}

# Keeps the targets there for the next cycle (a leftover may have killed one).
ensure_targets() {
  if ! alive "$pause_pid"; then
    echo "    note: pause target $pause_pid is gone; restarted"
    target; pause_pid=$TARGET; echo "$pause_pid" >"$work/pause.pid"
  fi
  if ! alive "$frz_pid"; then
    echo "    note: freezer target $frz_pid is gone; restarted"
    target; frz_pid=$TARGET; echo "$frz_pid" >"$frz/cgroup.procs"
  fi
  if ! alive "$clock_pid"; then
    echo "    note: clock target $clock_pid is gone; restarted"
    kill -9 -- "-$wrap_pid" 2>/dev/null || true
    wait "$wrap_pid" 2>/dev/null || true
    setsid "$bin/faultline" exec -- sleep 1000000 >"$work/exec.log" 2>&1 &
    wrap_pid=$!
    for _ in $(seq 100); do clock_pid=$(pgrep -P "$wrap_pid" || true); [ -n "$clock_pid" ] && break; sleep 0.05; done
    echo "$clock_pid" >"$work/clock.pid"
  fi
  if ! alive "$ping_pid"; then
    echo "    note: ping in $nsa is gone; restarted"
    ip netns exec "$nsa" ping -q -i 0.05 10.231.0.2 >/dev/null 2>&1 & ping_pid=$!
  fi
}

# Kills PID with SIGKILL and reaps it (the next start must not see it alive).
kill9() { kill -9 "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
# Waits for "applied" in FILE while PID runs, up to 15 s. APPLIED=1 when seen.
wait_applied() {
  APPLIED=0
  for _ in $(seq 1500); do
    if grep -q " applied on " "$1" 2>/dev/null; then APPLIED=1; return 0; fi
    alive "$2" || return 0
    sleep 0.01
  done
}
# Waits for the run client to end by itself (up to $2 ms); else aborts the run through it
# (SIGINT: the CLI asks the controller to abort) and waits.
finish_client() {
  local deadline
  now_ms; deadline=$(( NOW + $2 ))
  while alive "$1"; do
    now_ms; [ "$NOW" -lt "$deadline" ] || break
    sleep 0.02
  done
  if alive "$1"; then
    kill -INT "$1" 2>/dev/null || true
    for _ in $(seq 1500); do alive "$1" || break; sleep 0.02; done
    alive "$1" && { echo "    note: run client $1 did not end after SIGINT; killed"; kill -9 "$1"; }
    stragglers=$((stragglers + 1))
  fi
  wait "$1" 2>/dev/null || true
}

# ---- the checker's own test ----------------------------------------------------------------
# Proves the leftover checks see what they look for: one embedded run applies a fault of each
# kind that leaves state behind, is killed with SIGKILL, and is NOT recovered. Every check must
# fire. Then the ledger recovery (faultline plan) runs and the checks must find nothing.
selftest() {
  local head="apiVersion: faultline/v1
kind: Experiment
metadata: {name: soak-selftest}
targets:
  out: {network: {namespace: $nsa, interface: sa0}}
  side: {network: {namespace: $nsa, interface: sc0}}
  peer: {network: {namespace: $nsa, interface: sd0}}
  p: {process: {pidfile: $work/pause.pid}}
  g: {process: {cgroup: /$tag}}
  c: {process: {pidfile: $work/clock.pid}}
  fill: {paths: [$work/fill]}
  io: {paths: [$work/io]}
faults:"
  cat >"$work/selftest.yaml" <<YAML
$head
  - parallel:
    - {name: delay, kind: network_delay, target: out, duration: 60s, params: {delay: 10ms}}
    - {name: cut, kind: network_partition, target: out, duration: 60s, params: {direction: egress}}
    - {name: slow, kind: network_bandwidth, target: peer, duration: 60s, params: {rate: 1mbit}}
    - {name: down, kind: interface_down, target: side, duration: 60s}
    - {name: pause, kind: process_pause, target: p, duration: 60s}
    - {name: freeze, kind: process_pause, target: g, duration: 60s, params: {method: freezer}}
    - {name: clock, kind: clock_skew, target: c, duration: 60s, params: {offset: +5m}}
    - {name: fill, kind: disk_fill, target: fill, duration: 60s, params: {size: 8MiB, reserve: 1MiB}}
    - {name: io, kind: io_fault, target: io, duration: 60s, params: {error: EIO}}
YAML
  local n=0 want
  : >"$work/run.out"
  "$bin/faultline" run "$work/selftest.yaml" >"$work/run.out" 2>"$work/run.err" &
  runpid=$!
  for _ in $(seq 1500); do
    n=$(count " applied on " "$work/run.out")
    [ "$n" -ge 9 ] && break
    alive "$runpid" || break
    sleep 0.01
  done
  [ "$n" -ge 9 ] || { cat "$work/run.out" "$work/run.err" >&2; need "self-test: the run did not apply its 9 faults"; }
  kill9 "$runpid"; runpid=""
  keep_ledger=1
  check_leftovers selftest run-applied
  keep_ledger=0
  printf '%s' "${LEFT_LINES//LEFTOVER:/planted:}"
  local missing=""
  for want in "iptables-legacy-save: :fl-" "qdisc qdisc tbf" "interface sc0 is down" \
              "no connectivity" "target pause" "freezer cgroup" "fill file" \
              "mount faultline-io" "clock file" "ledger entry"; do
    grep -qF -- "$want" <<<"$LEFT_LINES" || missing+=" [$want]"
  done
  [ -z "$missing" ] || need "self-test: the checks missed:$missing"
  echo "crash_soak: self-test: $left leftovers planted by kill -9 without recovery, every check fired"
  timeout 120 "$bin/faultline" plan "$work/recover.yaml" >/dev/null 2>"$work/recover.err" || true
  echo "crash_soak: self-test: recovery reverted $(count "crash recovery: reverted a fault" "$work/recover.err") faults"
  check_leftovers selftest run-applied
  [ "$left" = 0 ] || { printf '%s' "$LEFT_LINES"; need "self-test: leftovers after recovery"; }
  ensure_targets
}

declare -A n_kind n_point n_kp left_kind left_point inflight_kind inflight_point rec_point applyfail_kind early_point mid_point
for k in "${kinds[@]}"; do n_kind[$k]=0; left_kind[$k]=0; inflight_kind[$k]=0; applyfail_kind[$k]=0; done
for p in "${points[@]}"; do n_point[$p]=0; left_point[$p]=0; inflight_point[$p]=0; rec_point[$p]=0; early_point[$p]=0; mid_point[$p]=0; done
total_left=0 stragglers=0 applied_at_kill=0

echo "crash_soak: $cycles cycles, seed $seed, binaries $bin ($("$bin/faultline" --version 2>/dev/null | head -1))"
echo "crash_soak: machine $(uname -sr), $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); work dir $work"
selftest
now_ms; soak_start=$NOW

for i in $(seq "$cycles"); do
  now_ms; c_start=$NOW
  pick "${kinds[@]}"; kind=$R
  pick "${points[@]}"; point=$R
  gen "$kind"
  hold=$(( RANDOM % 1001 )); [[ $point == *-apply ]] && hold=$(( RANDOM % 301 ))
  APPLIED=0 recovered=0 entries=0 fail=""
  case $point in
    run-applied | run-apply)
      # Emptied here, not only by the child's redirection: the first look for "applied" must not
      # find the previous cycle's line.
      : >"$work/run.out"
      "$bin/faultline" run "$work/exp.yaml" >"$work/run.out" 2>"$work/run.err" &
      runpid=$!
      if [ "$point" = run-applied ]; then wait_applied "$work/run.out" "$runpid"; fi
      sleep_ms "$hold"
      grep -q " applied on " "$work/run.out" && APPLIED=1
      alive "$runpid" || fail=$(grep -m1 -E "FAILED|ERROR|error" "$work/run.out" "$work/run.err" || true)
      kill9 "$runpid"; runpid=""
      entries=$(ledger_entries | wc -l)
      timeout 120 "$bin/faultline" plan "$work/recover.yaml" >/dev/null 2>"$work/recover.err" || {
        echo "    note: recovery (faultline plan) failed: $(tail -3 "$work/recover.err")"; }
      recovered=$(count "crash recovery: reverted" "$work/recover.err")
      ;;
    injector-applied | injector-apply | controller-applied)
      : >"$work/client.out"
      "$bin/faultline" run "$work/exp.yaml" --controller "unix:$sock" --insecure >"$work/client.out" 2>&1 &
      client=$!
      if [ "$point" != injector-apply ]; then wait_applied "$work/client.out" "$client"; fi
      sleep_ms "$hold"
      grep -q " applied on " "$work/client.out" && APPLIED=1
      alive "$client" || fail=$(grep -m1 -E "FAILED|ERROR|error" "$work/client.out" || true)
      if [ "$point" = controller-applied ]; then
        log_lines=$(wc -l <"$work/injector.log")
        kill9 "$ctl"; ctl=""
        entries=$(ledger_entries | wc -l)
        # The dead-man's switch: grace 1 s, checked every 50 ms; reverts take milliseconds.
        for _ in $(seq 300); do [ -z "$(ledger_entries)" ] && break; sleep 0.01; done
        # Its log line comes after the reverts (and the ledger) are done.
        for _ in $(seq 100); do
          tail -n +"$(( log_lines + 1 ))" "$work/injector.log" | grep -q "lost contact with controller" && break
          sleep 0.01
        done
        recovered=$(tail -n +"$(( log_lines + 1 ))" "$work/injector.log" |
          sed -n 's/.*lost contact with controller.* reverted=\([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}')
        check_leftovers "$kind" "$point"
        before=$(count "injector connected node=soak" "$work/controller.log")
        start_controller
        wait_connected "$before"
        finish_client "$client" 5000; client=""
      else
        kill9 "$inj"; inj=""
        entries=$(ledger_entries | wc -l)
        start_injector
        recovered=$(count "crash recovery: reverted a fault" "$work/injector.log")
        finish_client "$client" 3000; client=""
      fi
      ;;
  esac
  [ "$point" = controller-applied ] || check_leftovers "$kind" "$point"
  ensure_targets
  n_kind[$kind]=$(( n_kind[$kind] + 1 )); n_point[$point]=$(( n_point[$point] + 1 ))
  n_kp[$kind/$point]=$(( ${n_kp[$kind/$point]:-0} + 1 ))
  left_kind[$kind]=$(( left_kind[$kind] + left )); left_point[$point]=$(( left_point[$point] + left ))
  total_left=$(( total_left + left ))
  [ "$entries" -gt 0 ] && { inflight_kind[$kind]=$(( inflight_kind[$kind] + 1 )); inflight_point[$point]=$(( inflight_point[$point] + 1 )); }
  rec_point[$point]=$(( rec_point[$point] + recovered ))
  if [ "$APPLIED" = 1 ]; then applied_at_kill=$((applied_at_kill + 1)); else early_point[$point]=$(( early_point[$point] + 1 )); fi
  if [ "$APPLIED" = 0 ] && [ "$entries" -gt 0 ]; then mid_point[$point]=$(( mid_point[$point] + 1 )); fi
  if [ -n "$fail" ] && [ "$APPLIED" = 0 ]; then applyfail_kind[$kind]=$(( applyfail_kind[$kind] + 1 )); fi
  now_ms
  printf 'cycle %d/%d %-18s %-18s kill +%4d ms  applied=%d ledger=%d reverted=%d leftovers=%d  %5d ms\n' \
    "$i" "$cycles" "$kind" "$point" "$hold" "$APPLIED" "$entries" "$recovered" "$left" $(( NOW - c_start ))
  [ -n "$fail" ] && echo "    apply did not succeed: $fail ($PARAMS)"
  [ "$left" -gt 0 ] && printf '%s' "$LEFT_LINES" && echo "    fault was: $kind $PARAMS"
done
now_ms; wall=$(( NOW - soak_start ))

# ---- summary -------------------------------------------------------------------------------
echo
echo "crash_soak summary: $cycles cycles in $(( wall / 1000 )) s ($(( wall / cycles )) ms per cycle), seed $seed"
printf '%-18s %6s' kind cycles
for p in "${points[@]}"; do printf ' %18s' "$p"; done
printf ' %9s %9s %9s\n' in-ledger no-apply leftovers
for k in "${kinds[@]}"; do
  printf '%-18s %6d' "$k" "${n_kind[$k]}"
  for p in "${points[@]}"; do printf ' %18d' "${n_kp[$k/$p]:-0}"; done
  printf ' %9d %9d %9d\n' "${inflight_kind[$k]}" "${applyfail_kind[$k]}" "${left_kind[$k]}"
done
echo
printf '%-18s %6s %14s %9s %9s %11s %9s\n' "kill point" cycles before-applied mid-apply in-ledger reverted-by leftovers
for p in "${points[@]}"; do
  printf '%-18s %6d %14d %9d %9d %11d %9d\n' "$p" "${n_point[$p]}" "${early_point[$p]}" "${mid_point[$p]}" \
    "${inflight_point[$p]}" "${rec_point[$p]}" "${left_point[$p]}"
done
echo
echo "before-applied: cycles killed before the run printed the fault as applied."
echo "mid-apply: of those, the ones whose fault was already in the ledger (intent written)."
echo "in-ledger: cycles whose kill left a fault recorded in the ledger (mid-apply or applied)."
echo "reverted-by: faults the recovery reported reverting (ledger recovery at the next start;"
echo "  for controller-applied, the injector's dead-man's switch)."
echo "faults reported applied when the kill came: $applied_at_kill of $cycles"
echo "runs aborted because they outlived the cycle (a restarted injector took them up): $stragglers"
echo "daemon starts: controller $ctl_starts, injector $inj_starts"
echo "host changes seen (not counted): $host_changes"
echo "not covered: container_kill, pod_kill (need a container runtime rig)"
echo "LEFTOVERS TOTAL: $total_left"
[ "$total_left" = 0 ]
