#!/usr/bin/env bash
# A fleet on one machine: N hosts as network namespaces, each with its own injector and demo
# service, and a controller in a namespace of its own, all joined by a bridge.
#
#   scripts/lab.sh up [N]     build the lab (default 5 nodes) and wait until every injector
#                             has registered; prints how to use it
#   scripts/lab.sh down       stop everything and remove every namespace (also after a
#                             failed `up` or a killed test: it works from the names alone)
#   scripts/lab.sh status     namespaces, processes and connected injectors
#   scripts/lab.sh env        the environment for the faultline CLI (eval "$(lab.sh env)")
#
# Layout (LAB = $FAULTLINE_LAB_NAME, default fl-lab; NET = $FAULTLINE_LAB_NET, default 10.213.0):
#   LAB-br    the bridge br0 that joins every host's eth0 (no address of its own)
#   LAB-ctl   faultline-controller at NET.254:7070 (injectors dial it, with mutual TLS)
#   LAB-nI    node-I at NET.I: a faultline-injector (labels role, zone) and a supervised
#             faultline-demo on :8080, in their own PID namespace, so a process fault on
#             one node never sees another node's processes
# The CLI reaches the controller over unix:$STATE/controller.sock (a path, so it works from
# the host namespace) with the lab's certificates and an admin token. Nothing is given an
# address outside the lab's namespaces.
#
# Roles alternate web, db (node-1 web, node-2 db, ...); zones cycle zone-a, zone-b, zone-c.
# Environment: FAULTLINE_BUILD_DIR (default build/), FAULTLINE_LAB_DIR (default
# /run/LAB), FAULTLINE_LAB_CONTACT_GRACE (the injectors' --contact-grace, default 5s).
set -Eeuo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
lab=${FAULTLINE_LAB_NAME:-fl-lab}
net=${FAULTLINE_LAB_NET:-10.213.0}
state=${FAULTLINE_LAB_DIR:-/run/$lab}
build=${FAULTLINE_BUILD_DIR:-$repo/build}
grace=${FAULTLINE_LAB_CONTACT_GRACE:-5s}
bin=$build/src

say() { echo "lab.sh: $*" >&2; }
die() {
  say "$*"
  exit 1
}

lab_namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${lab}-(br|ctl|n[0-9]+)$" || true; }

role_of() { if (($1 % 2 == 1)); then echo web; else echo db; fi; }
zone_of() {
  local zones=(zone-a zone-b zone-c)
  echo "${zones[$((($1 - 1) % 3))]}"
}

cli() {
  "$bin/faultline" --tls-dir "$state/certs" --token-file "$state/admin.token" "$@"
}

down() {
  local ns pid comm found=0 deadline left
  # SIGTERM to the daemons first, so each injector reverts its faults itself; then the rest.
  for ns in $(lab_namespaces); do
    found=1
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
      case "$comm" in faultline-injec* | faultline-contr*) kill -TERM "$pid" 2>/dev/null || true ;; esac
    done
  done
  deadline=$((SECONDS + 10))
  while [ $SECONDS -lt $deadline ]; do
    left=0
    for ns in $(lab_namespaces); do
      for pid in $(ip netns pids "$ns" 2>/dev/null); do
        comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
        case "$comm" in faultline-injec* | faultline-contr*) left=1 ;; esac
      done
    done
    [ $left = 0 ] && break
    sleep 0.1
  done
  for ns in $(lab_namespaces); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  done
  for ns in $(lab_namespaces); do ip netns del "$ns" 2>/dev/null || say "could not delete $ns"; done
  if [ -d "$state" ]; then
    rm -rf "$state"
    found=1
  fi
  if [ $found = 1 ]; then say "lab $lab removed"; else say "no lab $lab to remove"; fi
  if [ -n "$(lab_namespaces)" ]; then die "namespaces left: $(lab_namespaces | tr '\n' ' ')"; fi
}

# veth pair from the bridge namespace to HOST's eth0, with ADDR/24.
plug() {
  local host_ns=$1 port=$2 addr=$3
  ip link add "$port" netns "$lab-br" type veth peer name eth0 netns "$host_ns"
  ip -n "$lab-br" link set "$port" master br0 up
  ip -n "$host_ns" addr add "$addr/24" dev eth0
  ip -n "$host_ns" link set eth0 up
  ip -n "$host_ns" link set lo up
}

start_daemon() { # NAME NETNS LOG CMD...: runs CMD in NETNS in its own session. `down` finds
  # it by namespace, never by a saved pid that may since belong to someone else.
  local ns=$2 log=$3
  shift 3
  setsid ip netns exec "$ns" "$@" >"$log" 2>&1 </dev/null &
}

wait_for_injectors() {
  local want=$1 deadline=$((SECONDS + 60)) have=0
  while [ $SECONDS -lt $deadline ]; do
    have=$(cli injectors --controller "unix:$state/controller.sock" 2>/dev/null | grep -c '^node-' || true)
    [ "$have" -ge "$want" ] && return 0
    sleep 0.2
  done
  say "only $have of $want injectors registered within 60s; logs:"
  tail -n 5 "$state"/logs/*.log >&2 || true
  return 1
}

up() {
  local n=${1:-5}
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 200 ] || die "N must be 1..200, not '$n'"
  [ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
  for b in faultline faultline-controller faultline-injector faultline-demo; do
    [ -x "$bin/$b" ] || die "$bin/$b not found: build first (scripts/build.sh) or set FAULTLINE_BUILD_DIR"
  done
  command -v unshare >/dev/null || die "unshare (util-linux) not found"
  if [ -n "$(lab_namespaces)" ] || [ -d "$state" ]; then
    die "lab $lab is already up (or half-built); run: $0 down"
  fi
  trap 'say "up failed; removing what was built"; down >/dev/null 2>&1 || true' ERR
  mkdir -p "$state"/{logs,nodes,controller}
  chmod 700 "$state"

  local nodes=() i
  for ((i = 1; i <= n; i++)); do nodes+=("node-$i"); done
  "$here/gen-certs.sh" "$state/certs" --controller-name "$net.254" "${nodes[@]}" >/dev/null
  local token
  token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  echo "$token,lab-admin,admin" >"$state/tokens.csv"
  echo "$token" >"$state/admin.token"
  chmod 600 "$state/tokens.csv" "$state/admin.token"

  ip netns add "$lab-br"
  ip -n "$lab-br" link add br0 type bridge
  ip -n "$lab-br" link set br0 up
  ip -n "$lab-br" link set lo up
  ip netns add "$lab-ctl"
  plug "$lab-ctl" vctl "$net.254"
  start_daemon controller "$lab-ctl" "$state/logs/controller.log" \
    "$bin/faultline-controller" --listen "$net.254:7070" \
    --listen "unix:$state/controller.sock" --tls-dir "$state/certs" \
    --token-file "$state/tokens.csv" --store "$state/controller/faultline.db" \
    --audit-log "$state/controller/audit.log" --otlp-listen "$net.254:4317"

  for ((i = 1; i <= n; i++)); do
    local ns="$lab-n$i" dir="$state/nodes/node-$i"
    mkdir -p "$dir/ledger"
    ip netns add "$ns"
    plug "$ns" "vn$i" "$net.$i"
    # PID 1 of the node's PID namespace is a shell that only waits: the injector can be
    # killed and restarted without taking the node's other processes with it.
    start_daemon "node-$i" "$ns" "$state/logs/node-$i.log" \
      unshare --pid --fork --mount-proc --kill-child \
      sh -c 'demo=$1; inj=$2; dir=$3; shift 3
             "$demo" supervise --address 0.0.0.0 --port 8080 --pidfile "$dir/demo.pid" &
             "$inj" "$@" &
             while :; do wait; sleep 1; done' lab-node \
      "$bin/faultline-demo" "$bin/faultline-injector" "$dir" \
      --controller "$net.254:7070" --node "node-$i" --label "role=$(role_of "$i")" \
      --label "zone=$(zone_of "$i")" --tls-dir "$state/certs" --ledger "$dir/ledger" \
      --contact-grace "$grace"
  done
  wait_for_injectors "$n"
  trap - ERR
  cat >"$state/env" <<EOF
export FAULTLINE_CONTROLLER=unix:$state/controller.sock
export FAULTLINE_TLS_DIR=$state/certs
export FAULTLINE_TOKEN_FILE=$state/admin.token
EOF
  say "lab $lab is up: $n nodes, controller $net.254:7070"
  cli injectors --controller "unix:$state/controller.sock" >&2
  cat >&2 <<EOF

Use it:
  eval "\$($0 env)"                 # the CLI then talks to the lab's controller
  faultline run experiments/lab/multi-node.yaml
  ip netns exec $lab-ctl curl -s http://$net.1:8080/   # a node's demo service
  $0 down
EOF
}

status() {
  local ns
  for ns in $(lab_namespaces); do
    echo "$ns: $(ip netns pids "$ns" 2>/dev/null | wc -l) processes"
  done
  [ -S "$state/controller.sock" ] && cli injectors --controller "unix:$state/controller.sock" || say "no controller"
}

case "${1:-}" in
  up) up "${2:-5}" ;;
  down) down ;;
  status) status ;;
  env)
    [ -f "$state/env" ] || die "lab $lab is not up"
    cat "$state/env"
    ;;
  *)
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
