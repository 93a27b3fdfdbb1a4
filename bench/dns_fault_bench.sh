#!/usr/bin/env bash
# What a dns_fault whose 100 rules match nothing adds to a DNS query's latency, beside the
# direct path and a DNS forwarder (dnsmasq) put in the same place, in one run. One network
# namespace (flbench-dns, lo up) holds everything: dnsmasq on 127.0.0.153:53 answering
# bench.example.test with 10.1.2.3 itself (no upstream, no hosts file, no cache involved: the
# --address answer is made per query), and the client (bench/dns_query_client.cpp), which sends
# QUERIES sequential A queries shaped as dig's (EDNS, cookie), each timed from its send to its
# answer, the first 200 left out. Over UDP it opens a socket per query, as glibc's resolver and
# dig do; over TCP it keeps one connection (dnsmasq closes a TCP connection after 100 queries:
# the query that finds it closed is sent again on a new one, timed from its first send, and
# counted as a retry, on every path). Each measurement sends from a source address of its own
# (127.0.1.N), so that no conntrack entry an earlier path left (for 30 s) is reused: a query on
# such an entry would bypass a REDIRECT applied since, or be sent to a helper already gone.
# Paths, each over UDP and then over TCP:
#   direct        client -> 127.0.0.153:53;
#   dns_fault     the same, while `faultline run` (embedded) holds a dns_fault on the
#                 namespace for servers [127.0.0.153] with 100 rules that match other names
#                 (`dns_decision_bench rules-yaml`): nat REDIRECT to its faultline-intercept
#                 helper, which parses the query, finds no rule and forwards it to dnsmasq;
#   dnsmasq proxy client -> a second dnsmasq on 127.0.0.154 (--server=127.0.0.153,
#                 --cache-size=0, so it forwards every query): what putting a DNS forwarder in
#                 the path costs. A comparison point only, not the same mechanism: the client
#                 has to be pointed at it (resolv.conf), where dns_fault changes nothing in the
#                 client.
# On this 2-vCPU VM a wake-up on the other vCPU costs about 30 µs and one on the same vCPU a
# few (a direct UDP query takes 8 µs when the client and dnsmasq share a CPU, 65-70 µs when
# they do not), so where the scheduler puts each process moves every path by tens of µs. Each
# path is therefore measured in three placements, one after the other:
#   one    everything (client, both dnsmasq, faultline run and its helper) on CPU 0: the work
#          each path adds, without cross-CPU wake-ups;
#   split  the client on CPU 1, the servers (both dnsmasq, faultline run and its helper) on
#          CPU 0: every path crosses CPUs once each way, as a client on another core does;
#   free   nothing pinned: what the scheduler gives (bimodal, see above).
# The paths take turns, ROUNDS times (each round starts one path later); the table gives the
# median over the rounds of each percentile, and "added" is that minus the direct path's in
# the same placement.
# Conntrack is on in the namespace for every path (a filter rule that needs it), as on any node
# with Docker or Kubernetes, so "added" is the interception, not conntrack's first use.
# Before the rounds, bench/dns_decision_bench gives the helper's in-process cost per query
# (parse + the 100 rules), 1,000,000 queries x 10.
# Usage: bench/dns_fault_bench.sh BUILD_DIR [QUERIES [ROUNDS]]   (root; defaults 20000, 3)
# Needs dnsmasq and iptables-legacy (Debian: apt-get install -y dnsmasq-base iptables).
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [QUERIES [ROUNDS]]}
queries=${2:-20000}
rounds=${3:-3}
name=bench.example.test
if [ "$(id -u)" -ne 0 ]; then
  echo "dns_fault_bench.sh: needs root (network namespace, iptables, faultline run); run it with sudo" >&2
  exit 1
fi
if [ "$queries" -le 200 ]; then
  echo "dns_fault_bench.sh: QUERIES must be more than the 200 warm-up queries" >&2
  exit 1
fi
build=$(readlink -f "$build")
bin="$build/src/faultline"
client="$build/bench/dns_query_client"
decision="$build/bench/dns_decision_bench"
for f in "$bin" "$build/src/faultline-intercept" "$client" "$decision"; do
  [ -x "$f" ] || {
    echo "dns_fault_bench.sh: $f is missing; build it first:" >&2
    echo "  cmake --build $build --target faultline faultline-intercept dns_query_client dns_decision_bench -j2" >&2
    exit 1
  }
done
for tool in dnsmasq iptables-legacy ip ss taskset python3; do
  command -v "$tool" >/dev/null || { echo "dns_fault_bench.sh: $tool is not installed" >&2; exit 1; }
done
NS=flbench-dns
if [ "$(nproc)" -lt 2 ]; then
  echo "dns_fault_bench.sh: needs 2 CPUs (the placements pin to CPUs 0 and 1)" >&2
  exit 1
fi
if ip netns list | grep -qw "$NS"; then
  echo "dns_fault_bench.sh: namespace $NS exists (another run of this bench?); remove it with: ip netns del $NS" >&2
  exit 1
fi

work=$(mktemp -d)
pids=()         # the two dnsmasq: plain kill at the end
run_pid=""      # faultline run: SIGINT, so that it reverts
helper_pid=""   # its faultline-intercept (placed with the servers)
made_ns=()
cleanup() {
  local rc=$?
  set +e
  if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
    kill -INT "$run_pid"
    for _ in $(seq 300); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$run_pid" 2>/dev/null
    wait "$run_pid" 2>/dev/null
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  # Every rule and socket lives in the namespace: deleting it takes all of it. Nothing outside
  # it is changed.
  for ns in "${made_ns[@]}"; do ip netns del "$ns"; done
  rm -rf "$work"
  [ $rc -ne 0 ] && echo "dns_fault_bench.sh: failed (exit $rc); cleaned up" >&2
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
in_ns() { ip netns exec $NS "$@"; }

# The in-process decision first, while nothing else of the bench runs.
echo "# in-process decision: $decision" >&2
decision_line=$("$decision" 1000000 10)
echo "  # $decision_line" >&2

ip netns add $NS && made_ns+=($NS)
ip -n $NS link set lo up
in_ns iptables-legacy -w -A OUTPUT -m conntrack --ctstate INVALID -j ACCEPT  # conntrack on

dnsmasq_common=(--keep-in-foreground --no-resolv --no-hosts --bind-interfaces --user=root
  --pid-file= --log-facility=-)
# `ip netns exec` execs dnsmasq, so $! is dnsmasq itself (through the in_ns function it would
# be a subshell, and killing that would leave dnsmasq running).
ip netns exec $NS dnsmasq "${dnsmasq_common[@]}" --listen-address=127.0.0.153 \
  "--address=/$name/10.1.2.3" >"$work/dnsmasq153.log" 2>&1 &
pids+=($!)
ip netns exec $NS dnsmasq "${dnsmasq_common[@]}" --listen-address=127.0.0.154 --server=127.0.0.153 \
  --cache-size=0 >"$work/dnsmasq154.log" 2>&1 &
pids+=($!)
for ip in 127.0.0.153 127.0.0.154; do
  for _ in $(seq 100); do
    in_ns ss -Hlun src "$ip:53" | grep -q . && in_ns ss -Hltn src "$ip:53" | grep -q . && break
    sleep 0.1
  done
  got=$(in_ns "$client" $ip 53 $name 210 2>&1 || true)
  if ! grep -q "queries=10 errors=0 " <<<"$got"; then
    echo "dns_fault_bench.sh: dnsmasq on $ip does not answer $name:" >&2
    echo "$got" >&2
    cat "$work"/dnsmasq*.log >&2
    exit 1
  fi
done
dnsmasq_version=$(dnsmasq --version | head -1 | awk '{print $3}')

placements=(one split free)
# Pins the server side (every thread of both dnsmasq, and of faultline run and its helper while
# one runs; children such as dnsmasq's per-connection TCP processes inherit it) for a placement.
place() {  # PLACEMENT
  local cpus=0 p
  [ "$1" = free ] && cpus=0-1
  for p in "${pids[@]}" $run_pid $helper_pid; do taskset -a -p -c $cpus "$p" >/dev/null; done
  if [ -n "$helper_pid" ]; then
    for t in /proc/$helper_pid/task/*; do
      grep -q "^Cpus_allowed_list:[[:space:]]*$cpus\$" "$t/status" || {
        echo "dns_fault_bench.sh: the helper's thread $t is not on CPUs $cpus" >&2
        exit 1
      }
    done
  fi
}
client_cpu() {  # PLACEMENT: the taskset prefix of the client
  case $1 in one) echo "taskset -c 0" ;; split) echo "taskset -c 1" ;; free) echo "" ;; esac
}

# One measurement: the client's line, as "queries errors p50 p99 p999 mean retries".
measure() {  # IP FROM PLACEMENT [tcp]
  local out
  out=$(in_ns $(client_cpu "$3") "$client" "$1" 53 $name "$queries" from="$2" ${4:-})
  sed -E 's/queries=([0-9]+) errors=([0-9]+) p50_us=([0-9.]+) p99_us=([0-9.]+) p999_us=([0-9.]+) mean_us=([0-9.]+) retries=([0-9]+)/\1 \2 \3 \4 \5 \6 \7/' <<<"$out"
}

# Each run_PATH writes "PLACEMENT udp ..." and "PLACEMENT tcp ..." for every placement to
# $work/lines; none runs in a subshell, so the pids it starts are the cleanup's to stop. Every
# measurement sends from a source address of its own.
measured=0
measure_all() {  # IP
  local from pl
  : >"$work/lines"
  for pl in "${placements[@]}"; do
    place "$pl"
    for proto in udp tcp; do
      from=127.0.$((1 + measured / 250)).$((1 + measured % 250))
      measured=$((measured + 1))
      echo "$pl $proto $(measure "$1" $from "$pl" $([ $proto = tcp ] && echo tcp))" >>"$work/lines"
    done
  done
}
run_direct() { measure_all 127.0.0.153; }
run_dnsmasq() { measure_all 127.0.0.154; }

{
  cat <<YAML
apiVersion: faultline/v1
kind: Experiment
metadata: {name: dns-fault-bench}
targets:
  scope:
    network: {namespace: $NS}
faults:
  - name: dns-bench
    kind: dns_fault
    target: scope
    duration: 600s
    params:
      servers: [127.0.0.153]
      drain: 1s
      rules:
YAML
  "$decision" rules-yaml
} >"$work/dns.yaml"
[ "$(grep -c '^        - {names:' "$work/dns.yaml")" -eq 100 ] || {
  echo "dns_fault_bench.sh: the experiment does not hold 100 rules" >&2
  exit 1
}
run_dns_fault() {
  local n=$1 report forwarded
  mkdir -p "$work/state"
  FAULTLINE_STATE_DIR="$work/state" "$bin" run "$work/dns.yaml" >"$work/run$n.out" 2>"$work/run$n.err" &
  run_pid=$!
  for _ in $(seq 300); do
    grep -q "fault dns-bench applied on" "$work/run$n.out" && break
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q "fault dns-bench applied on" "$work/run$n.out"; then
    echo "dns_fault_bench.sh: the dns_fault was not applied within 30 s:" >&2
    cat "$work/run$n.out" "$work/run$n.err" >&2
    exit 1
  fi
  helper_pid=$(grep -o "helper pid [0-9]*" "$work/run$n.out" | awk '{print $3}')
  [ -n "$helper_pid" ] || { echo "dns_fault_bench.sh: no helper pid in the applied line" >&2; exit 1; }
  measure_all 127.0.0.153
  kill -INT "$run_pid"
  wait "$run_pid" || true
  run_pid="" helper_pid=""
  # The helper saw every query and answered none itself: its own count, from the revert line.
  report=$(grep -o "fault dns-bench reverted on.*" "$work/run$n.out" || true)
  echo "  # $report" >&2
  forwarded=$(grep -oE '[0-9]+ forwarded unchanged' <<<"$report" | awk '{print $1}')
  if [ -z "$forwarded" ] || [ "$forwarded" -lt $((6 * queries)) ] ||
    grep -qE "answered by the rules|left unanswered|delayed" <<<"$report"; then
    echo "dns_fault_bench.sh: the helper did not forward all $((6 * queries)) queries unchanged:" >&2
    cat "$work/run$n.out" "$work/run$n.err" >&2
    exit 1
  fi
  if in_ns iptables-legacy-save 2>/dev/null | grep -q 'fl-' ||
    in_ns iptables-nft-save 2>/dev/null | grep -q 'fl-'; then
    echo "dns_fault_bench.sh: faultline's chains are still in $NS after the run" >&2
    exit 1
  fi
}

paths=(direct dns_fault dnsmasq)
echo "# $(nproc) CPUs, kernel $(uname -r), dnsmasq $dnsmasq_version; $queries sequential queries" \
  "per path, placement and protocol (200 of them warm-up), $rounds round(s)"
: >"$work/results"
for ((r = 0; r < rounds; r++)); do
  for ((k = 0; k < 3; k++)); do
    p=${paths[$(((r + k) % 3))]}
    echo "# round $((r + 1)): $p" >&2
    "run_$p" "$r"
    while read -r pl proto line; do
      echo "$((r + 1)) $p $pl $proto $line" | tee -a "$work/results" | sed 's/^/  # /' >&2
    done <"$work/lines"
    sleep 1
  done
done

python3 - "$work/results" "$dnsmasq_version" "$decision_line" <<'PY'
import sys, statistics
# round path placement proto queries errors p50 p99 p999 mean retries
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
dec = dict(kv.split("=") for kv in sys.argv[3].split())
paths = ("direct", "dns_fault", "dnsmasq")
placements = ("one", "split", "free")
name = {"direct": "direct", "dns_fault": "dns_fault (100 rules, 0 matched)",
        "dnsmasq": f"dnsmasq {sys.argv[2]} as forwarder (comparison)"}
where = {"one": "one CPU", "split": "client / servers split", "free": "unpinned"}
print("\n| round | path | placement | protocol | queries | errors | retries | p50 µs | p99 µs | p99.9 µs | mean µs |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} | {r[10]} | {r[6]} | {r[7]} | {r[8]} | {r[9]} |")
med = {}
for key in {(r[1], r[2], r[3]) for r in rows}:
    got = [r for r in rows if (r[1], r[2], r[3]) == key]
    med[key] = [statistics.median(float(r[i]) for r in got) for i in (6, 7, 8, 9)]
    med[key].append(sum(int(r[5]) for r in got))
nrounds = len({r[0] for r in rows})
print(f"\nMedian over {nrounds} round(s):\n")
print("| placement | protocol | path | p50 µs | p99 µs | p99.9 µs | mean µs | added p50 | added p99 | added p99.9 | added mean | errors |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for pl in placements:
    for proto in ("udp", "tcp"):
        d = med["direct", pl, proto]
        for p in paths:
            m = med[p, pl, proto]
            added = ["", "", "", ""] if p == "direct" else [f"{m[i] - d[i]:+.1f}" for i in range(4)]
            print(f"| {where[pl]} | {proto.upper()} | {name[p]} | {m[0]:.1f} | {m[1]:.1f} | {m[2]:.1f} | "
                  f"{m[3]:.1f} | {added[0]} | {added[1]} | {added[2]} | {added[3]} | {m[4]} |")
print(f"\nin-process decision (dns_decision_bench: parse + DnsRules::decide over {dec['rules']} rules, "
      f"0 matched; median of {dec['repetitions']} x {dec['iterations']}): {float(dec['decision_ns']):.0f} ns "
      f"per query (parse {float(dec['parse_ns']):.0f} ns, decide {float(dec['decide_ns']):.0f} ns)")
ok = True
print("\ntarget: < 100 µs added per query at 0 faults matched (dns_fault minus direct, p50 / p99;"
      " the dnsmasq forwarder in brackets):")
for pl in placements:
    parts = []
    for proto in ("udp", "tcp"):
        f, d, x = med["dns_fault", pl, proto], med["direct", pl, proto], med["dnsmasq", pl, proto]
        ok = ok and f[0] - d[0] < 100 and f[4] == 0
        parts.append(f"{proto.upper()} {f[0] - d[0]:+.1f} / {f[1] - d[1]:+.1f} µs "
                     f"({x[0] - d[0]:+.1f} / {x[1] - d[1]:+.1f})")
    print(f"  {where[pl]}: " + "; ".join(parts))
print(f"  {'met' if ok else 'NOT met'} (judged on p50 in every placement, and no errors)")
PY
