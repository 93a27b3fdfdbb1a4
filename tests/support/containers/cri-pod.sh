#!/usr/bin/env bash
# Create / inspect / ping / delete a real Kubernetes-style pod through the CRI
# of the rig's private containerd (tests/support/containers/rig.sh up first).
# Debian 12 has no crictl; this uses cri.py (python3-grpcio + python3-protobuf
# + protoc, on proto/k8s/cri/runtime/v1/api.proto).
#
#   cri-pod.sh create   # pod faultline-test/fl-demo, labels app=fl-demo faultline.io/target=true,
#                       # containers "web" (busybox httpd on :8080) and "idle" (busybox sleep)
#   cri-pod.sh inspect  # pod id, pod IP, netns path, per container: id, host PID, cgroup, netns
#   cri-pod.sh ping     # ping + HTTP GET the pod IP from the host (only that IP)
#   cri-pod.sh delete   # stop + remove the pod (selected by label)
#   cri-pod.sh demo     # all of the above, timed; exits non-zero on any failed check
#
# Env: FAULTLINE_RIG_RUN (default /run/faultline-test), POD_NAME (fl-demo).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RIG_RUN=${FAULTLINE_RIG_RUN:-/run/faultline-test}
[[ -r $RIG_RUN/env ]] || { echo "cri-pod.sh: $RIG_RUN/env missing: run rig.sh up first" >&2; exit 1; }
# shellcheck disable=SC1091
source "$RIG_RUN/env"
POD_NAME=${POD_NAME:-fl-demo}
POD_NS=faultline-test
SELECTOR=(--label "app=$POD_NAME")

cri() { /usr/bin/python3 "$HERE/cri.py" --sock "$CONTAINERD_ADDRESS" "$@"; }
now() { date +%s.%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%d ms", (b-a)*1000}'; }
jq_py() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

pod_id() { cri pods "${SELECTOR[@]}" --state ready -q | head -1; }

cmd_create() {
  local existing pod web idle
  existing=$(pod_id)
  if [[ -n $existing ]]; then echo "pod already exists: $existing" >&2; return 0; fi
  pod=$(cri runp --name "$POD_NAME" --namespace "$POD_NS" --uid "$(cat /proc/sys/kernel/random/uuid)" \
    --label "app=$POD_NAME" --label faultline.io/target=true --annotation faultline.io/owner=rig \
    --cgroup-parent "$FAULTLINE_RIG_CGROUP_PARENT" --log-dir "$FAULTLINE_RIG_ROOT/pod-logs/$POD_NAME")
  web=$(cri create --pod "$pod" --name web --image "$FAULTLINE_RIG_BUSYBOX_IMAGE" \
    --label "app=$POD_NAME" --label role=web -- httpd -f -p 8080 -h /www)
  cri start "$web"
  idle=$(cri create --pod "$pod" --name idle --image "$FAULTLINE_RIG_BUSYBOX_IMAGE" \
    --label "app=$POD_NAME" --label role=idle -- sleep 1000000)
  cri start "$idle"
  echo "pod: $pod"
  echo "container web: $web"
  echo "container idle: $idle"
}

# Prints key: value lines; returns non-zero if a consistency check fails.
cmd_inspect() {
  local pod fail=0 pj ip netns spid c cj pid cg ino_c ino_s ino_f
  pod=$(pod_id); [[ -n $pod ]] || { echo "no ready pod with app=$POD_NAME" >&2; return 1; }
  pj=$(cri inspectp "$pod")
  ip=$(jq_py 'print(d["status"]["network"]["ip"])' <<<"$pj")
  netns=$(jq_py 'print([n.get("path","") for n in d["info"]["info"]["runtimeSpec"]["linux"]["namespaces"] if n["type"]=="network"][0])' <<<"$pj")
  spid=$(jq_py 'print(d["info"]["info"]["pid"])' <<<"$pj")
  echo "pod.id: $pod"
  echo "pod.name: $(jq_py 'm=d["status"]["metadata"]; print(m["namespace"]+"/"+m["name"]+" uid="+m["uid"])' <<<"$pj")"
  echo "pod.labels: $(jq_py 'print(",".join(k+"="+v for k,v in sorted(d["status"]["labels"].items())))' <<<"$pj")"
  echo "pod.state: $(jq_py 'print(d["status"].get("state","SANDBOX_READY"))' <<<"$pj")"
  echo "pod.ip: $ip"
  echo "pod.netns: $netns"
  echo "pod.sandbox_pid: $spid"
  echo "pod.cgroup: $(jq_py 'print(d["info"]["info"]["runtimeSpec"]["linux"]["cgroupsPath"])' <<<"$pj")"
  ino_f=$(stat -L -c %i "$netns")
  ino_s=$(stat -L -c %i "/proc/$spid/ns/net")
  [[ $ino_f == "$ino_s" ]] || { echo "CHECK FAILED: sandbox pid not in $netns" >&2; fail=1; }
  for c in $(cri ps --pod "$pod" --state running -q); do
    cj=$(cri inspect "$c")
    pid=$(jq_py 'print(d["info"]["info"]["pid"])' <<<"$cj")
    cg=$(jq_py 'print(d["info"]["info"]["runtimeSpec"]["linux"]["cgroupsPath"])' <<<"$cj")
    local name; name=$(jq_py 'print(d["status"]["metadata"]["name"])' <<<"$cj")
    echo "container.$name.id: $c"
    echo "container.$name.state: $(jq_py 'print(d["status"]["state"])' <<<"$cj")"
    echo "container.$name.labels: $(jq_py 'print(",".join(k+"="+v for k,v in sorted(d["status"]["labels"].items())))' <<<"$cj")"
    echo "container.$name.pid: $pid"
    echo "container.$name.cmdline: $(tr '\0' ' ' </proc/"$pid"/cmdline)"
    echo "container.$name.cgroupsPath: $cg"
    echo "container.$name.proc_cgroup(memory): $(grep ':memory:' /proc/"$pid"/cgroup | cut -d: -f3)"
    echo "container.$name.netns: $(jq_py 'print([n.get("path","") for n in d["info"]["info"]["runtimeSpec"]["linux"]["namespaces"] if n["type"]=="network"][0])' <<<"$cj") ($(readlink /proc/"$pid"/ns/net))"
    ino_c=$(stat -L -c %i "/proc/$pid/ns/net")
    [[ $ino_c == "$ino_f" ]] || { echo "CHECK FAILED: $name not in pod netns" >&2; fail=1; }
    grep -q ":memory:$cg\$" /proc/"$pid"/cgroup || { echo "CHECK FAILED: $name cgroup != $cg" >&2; fail=1; }
  done
  return $fail
}

cmd_ping() {
  local pod ip
  pod=$(pod_id); [[ -n $pod ]] || { echo "no ready pod with app=$POD_NAME" >&2; return 1; }
  ip=$(cri inspectp "$pod" | jq_py 'print(d["status"]["network"]["ip"])')
  case $ip in "${FAULTLINE_RIG_SUBNET%.*}".*) ;; *) echo "pod IP $ip not in rig subnet; refusing" >&2; return 1 ;; esac
  ping -c 3 -i 0.2 -W 1 "$ip"
  if command -v curl >/dev/null; then
    echo "http: $(curl -sS -m 3 "http://$ip:8080/")"
  else
    echo "http: $(busybox wget -q -T 3 -O - "http://$ip:8080/")"
  fi
}

cmd_delete() {
  local p
  for p in $(cri pods "${SELECTOR[@]}" -q); do
    cri stopp "$p"
    cri rmp "$p"
    echo "deleted pod $p"
  done
}

cmd_demo() {
  local t0 t1 t2 t3 t4
  t0=$(now); cmd_create; t1=$(now)
  cmd_inspect; t2=$(now)
  cmd_ping; t3=$(now)
  cmd_delete; t4=$(now)
  [[ -z $(cri pods "${SELECTOR[@]}" -q) ]] || { echo "CHECK FAILED: pod still listed" >&2; return 1; }
  echo "timing.create(pod+2 containers started): $(ms "$t0" "$t1")"
  echo "timing.inspect: $(ms "$t1" "$t2")"
  echo "timing.ping+http: $(ms "$t2" "$t3")"
  echo "timing.delete(stop+remove pod): $(ms "$t3" "$t4")"
}

case ${1:-demo} in
  create) cmd_create ;;
  inspect) cmd_inspect ;;
  ping) cmd_ping ;;
  delete) cmd_delete ;;
  demo) cmd_demo ;;
  *) echo "usage: $0 create|inspect|ping|delete|demo" >&2; exit 2 ;;
esac
