#!/usr/bin/env bash
# Faultline container test rig: a PRIVATE containerd (CRI plugin on, own
# socket/root/state, own CNI bridge network) and optionally a private dockerd,
# with locally built busybox images. Nothing is pulled from any registry.
#
#   tests/support/containers/rig.sh up      # idempotent
#   tests/support/containers/rig.sh status
#   tests/support/containers/rig.sh down    # idempotent; leaves nothing behind
#   tests/support/containers/rig.sh env     # print the env file written by `up`
#   tests/support/containers/rig.sh leftovers  # after `down`: exit 0 iff nothing is left
#
# This script INSTALLS NOTHING. Debian 12 (bookworm) packages it needs:
#   containerd                   (1.6.20~ds1-1+deb12u3: containerd, ctr, containerd-shim-runc-v2)
#   runc                         (1.1.5+ds1-1+deb12u1)
#   containernetworking-plugins  (1.1.1+ds1-3+b5: /usr/lib/cni/{bridge,host-local,loopback})
#   busybox-static               (1:1.35.0-4+deb12u1+b1: /bin/busybox, the image rootfs)
#   iproute2 iptables            (ip, iptables-save for the cleanup checks)
#   docker.io                    (20.10.24+dfsg1-1+deb12u1+b6; optional, pulls in tini)
#   python3-grpcio python3-protobuf protobuf-compiler
#                                (for cri.py, the CRI client used by `down` and cri-pod.sh)
# cri-tools (crictl) is NOT packaged in Debian 12; cri.py replaces it.
# Install without starting services: the Debian postinst of docker.io tries to
# start docker.service; in a container/VM without systemd that is skipped.
#
# Environment (all optional):
#   FAULTLINE_RIG_ROOT    persistent dirs (containerd root, images, CNI conf)  [/tmp/faultline-rig]
#   FAULTLINE_RIG_RUN     sockets, pidfiles, containerd state, env file         [/run/faultline-test]
#   FAULTLINE_RIG_SUBNET  CNI pod subnet (must be a /24)                        [10.88.77.0/24]
#   FAULTLINE_RIG_BRIDGE  CNI bridge name                                       [flt-cni0]
#   FAULTLINE_RIG_DOCKER  auto|1|0: also start a private dockerd                [auto = if dockerd exists]
#   FAULTLINE_RIG_KEEP_LOGS  directory to copy daemon logs to on `down`         [unset = discard]
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RIG_ROOT=${FAULTLINE_RIG_ROOT:-/tmp/faultline-rig}
RIG_RUN=${FAULTLINE_RIG_RUN:-/run/faultline-test}
SUBNET=${FAULTLINE_RIG_SUBNET:-10.88.77.0/24}
BRIDGE=${FAULTLINE_RIG_BRIDGE:-flt-cni0}
WITH_DOCKER=${FAULTLINE_RIG_DOCKER:-auto}
NETNAME=faultline-test
CGROUP_PARENT=faultline-test          # CRI pods: /faultline-test/<pod>/<ctr> (cri-pod.sh)
DOCKER_CGROUP_PARENT=faultline-docker # docker containers: /faultline-docker/<id>

SOCK=$RIG_RUN/containerd.sock
DOCKER_SOCK=$RIG_RUN/docker.sock
CONF=$RIG_ROOT/containerd.toml
CNI_CONF_DIR=$RIG_ROOT/cni/net.d
IMAGE_TAR=$RIG_ROOT/images/images.tar
PRESTATE=$RIG_RUN/prestate
ENV_FILE=$RIG_RUN/env
LOGS=$RIG_ROOT/logs
BUSYBOX_IMAGE=faultline.local/busybox:1
PAUSE_IMAGE=faultline.local/pause:1
CTR="ctr -a $SOCK"
DOCKER_CLI=${DOCKER_CLI:-/usr/bin/docker}   # Debian's client matches Debian's daemon
PY=/usr/bin/python3                         # Debian python: has python3-grpcio

SUBNET_PREFIX=${SUBNET%.*}                  # 10.88.77
GATEWAY=$SUBNET_PREFIX.1

log() { printf '[rig %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- helpers ---
# pid_alive PIDFILE NEEDLE: pid in PIDFILE is running and its argv contains NEEDLE
pid_alive() {
  local pf=$1 needle=$2 pid args
  [[ -s $pf ]] || return 1
  pid=$(<"$pf")
  mapfile -d '' -t args 2>/dev/null <"/proc/$pid/cmdline" || return 1
  [[ " ${args[*]} " == *"$needle"* ]]
}

# pids_with_arg NEEDLE [EXE...]: pids whose argv contains NEEDLE (exact
# substring) and, if EXEs are given, whose executable basename is one of them.
# Only ever used with our own unique socket/config paths, to signal by id.
pids_with_arg() {
  local needle=$1 p comm ok e args; shift
  for p in /proc/[0-9]*; do
    if (($#)); then # cheap filter first: /proc/PID/comm (max 15 chars), no fork
      read -r comm 2>/dev/null <"$p/comm" || continue
      ok=0
      for e in "$@"; do [[ ${e:0:15} == "$comm" ]] && ok=1; done
      ((ok)) || continue
    fi
    mapfile -d '' -t args 2>/dev/null <"$p/cmdline" || continue
    [[ " ${args[*]} " == *"$needle"* ]] && echo "${p#/proc/}"
  done
  return 0
}

# running PID: exists and is not a zombie (a daemon we started with setsid is
# reaped by whoever adopted it, possibly late; kill -0 succeeds on zombies)
running() {
  local st
  st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $st && $st != Z ]]
}

# stop_pid PID [timeout_s]: SIGTERM, wait, then SIGKILL
stop_pid() {
  local pid=$1 t=${2:-10} end
  kill -TERM "$pid" 2>/dev/null || return 0
  end=$((SECONDS + t))
  while ((SECONDS < end)); do running "$pid" || return 0; sleep 0.1; done
  log "pid $pid ignored SIGTERM for ${t}s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null
  end=$((SECONDS + 3))
  while ((SECONDS < end)); do running "$pid" || return 0; sleep 0.1; done
}

wait_for() { # wait_for SECONDS CMD...   (wall-clock bound, polls every 0.1 s)
  local end=$((SECONDS + $1)); shift
  while ((SECONDS < end)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

want_docker() {
  case $WITH_DOCKER in
    1 | yes | true) command -v dockerd >/dev/null || die "FAULTLINE_RIG_DOCKER=1 but dockerd not installed (Debian: docker.io)"; return 0 ;;
    0 | no | false) return 1 ;;
    *) command -v dockerd >/dev/null ;;
  esac
}

check_tools() {
  local missing=() t
  for t in containerd ctr containerd-shim-runc-v2 runc ip iptables-save busybox tar sha256sum; do
    command -v "$t" >/dev/null || missing+=("$t")
  done
  for t in bridge host-local loopback; do [[ -x /usr/lib/cni/$t ]] || missing+=("/usr/lib/cni/$t"); done
  # the image rootfs has no libc: /bin/busybox must be the static one (busybox-static)
  if ldd /bin/busybox >/dev/null 2>&1; then missing+=("static /bin/busybox (Debian: busybox-static)"); fi
  ((${#missing[@]} == 0)) || die "missing: ${missing[*]} (see the package list at the top of $0)"
  [[ $SUBNET == *.0/24 ]] || die "FAULTLINE_RIG_SUBNET must be a /24 ending in .0/24"
}

# ------------------------------------------------------------------ config ---
write_prestate() {
  # Only the FIRST `up` records the host's state; a repeated `up` keeps it.
  [[ -s $PRESTATE ]] && return 0
  {
    echo "ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
    echo "had_run_containerd=$([[ -e /run/containerd ]] && echo 1 || echo 0)"
    echo "had_var_lib_cni=$([[ -e /var/lib/cni ]] && echo 1 || echo 0)"
    echo "had_run_netns=$([[ -e /run/netns ]] && echo 1 || echo 0)"
    echo "had_run_mount=$([[ -e /run/mount ]] && echo 1 || echo 0)"
    echo "had_docker_key=$([[ -e /etc/docker/key.json ]] && echo 1 || echo 0)"
  } >"$PRESTATE"
}

prestate() { # prestate KEY -> value ("" if unknown)
  [[ -r $PRESTATE ]] && sed -n "s/^$1=//p" "$PRESTATE" | head -1
}

# put_file DEST < content: replace DEST atomically and only if the content
# changed (containerd watches the CNI conf dir with inotify and would otherwise
# try to load a half-written file on a repeated `up`).
put_file() {
  local dest=$1 tmp=$RIG_ROOT/.put.$$
  cat >"$tmp"
  if cmp -s "$tmp" "$dest"; then rm -f "$tmp"; else mv -f "$tmp" "$dest"; fi
}

write_containerd_config() {
  mkdir -p "$RIG_ROOT/containerd" "$RIG_RUN/containerd" "$RIG_ROOT/opt" "$CNI_CONF_DIR" "$LOGS"
  put_file "$CONF" <<EOF
# Generated by tests/support/containers/rig.sh -- private containerd for Faultline tests.
version = 2
root = "$RIG_ROOT/containerd"
state = "$RIG_RUN/containerd"
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$SOCK"

[ttrpc]
  address = "$SOCK.ttrpc"

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""

[plugins]
  # default is /opt/containerd
  [plugins."io.containerd.internal.v1.opt"]
    path = "$RIG_ROOT/opt"

  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "$PAUSE_IMAGE"
    # root here lacks CAP_SYS_RESOURCE: without this, the sandbox's
    # oom_score_adj=-998 makes runc fail ("write /proc/self/oom_score_adj: permission denied").
    restrict_oom_score_adj = true
    disable_apparmor = true
    enable_selinux = false
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    enable_unprivileged_ports = false
    enable_unprivileged_icmp = false

    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
          # default is /run/containerd/runc
          Root = "$RIG_RUN/runc"

    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "$CNI_CONF_DIR"
      max_conf_num = 1
EOF

  # bridge + host-local (+ loopback, which containerd's CRI adds by itself).
  # ipMasq=false: the bridge plugin then adds NO iptables rules; the pod subnet
  # only needs to be reachable from the host (ping/curl the pod IP).
  put_file "$CNI_CONF_DIR/10-faultline-test.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "$NETNAME",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$RIG_ROOT/cni/ipam",
        "ranges": [[{ "subnet": "$SUBNET", "gateway": "$GATEWAY" }]],
        "routes": [{ "dst": "$SUBNET" }]
      }
    }
  ]
}
EOF
}

# ------------------------------------------------------------------ images ---
# One docker-archive (docker save format) holding two images that share one
# layer: the busybox-static rootfs. Deterministic (sorted, mtime 0, uid 0), so
# the digests are identical on every run and re-imports are no-ops.
build_images() {
  local work=$RIG_ROOT/images/build rootfs layer_sha cfg_busybox cfg_pause a
  [[ -s $IMAGE_TAR ]] && return 0
  rm -rf "$work"
  rootfs=$work/rootfs
  mkdir -p "$rootfs"/{bin,etc,tmp,proc,sys,dev,root,www,var/run}
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  for a in $(/bin/busybox --list); do
    [[ $a == busybox ]] || ln -s busybox "$rootfs/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  echo 'faultline busybox test image' >"$rootfs/www/index.html"
  mkdir -p "$work/layer"
  (cd "$rootfs" && tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    -cf "$work/layer/layer.tar" bin dev etc proc root sys tmp var www) || die "tar rootfs failed"
  layer_sha=$(sha256sum "$work/layer/layer.tar" | cut -d' ' -f1)
  mv "$work/layer" "$work/$layer_sha"

  mkconfig() { # mkconfig ENTRYPOINT_JSON CMD_JSON -> writes <sha>.json, prints sha
    local f=$work/config.tmp sha
    printf '%s' "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"1970-01-01T00:00:00Z\",\"config\":{\"Env\":[\"PATH=/bin\"],\"Entrypoint\":$1,\"Cmd\":$2,\"WorkingDir\":\"/\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$layer_sha\"]},\"history\":[{\"created\":\"1970-01-01T00:00:00Z\",\"created_by\":\"faultline rig.sh: busybox-static rootfs\"}]}" >"$f"
    sha=$(sha256sum "$f" | cut -d' ' -f1)
    mv "$f" "$work/$sha.json"
    echo "$sha"
  }
  cfg_busybox=$(mkconfig 'null' '["/bin/sh"]')
  # The pause process: PID 1 ignores signals it has no handler for, so trap
  # TERM/INT explicitly; `sleep & wait` lets the trap run immediately.
  cfg_pause=$(mkconfig '["/bin/sh","-c","trap \"exit 0\" TERM INT; while :; do sleep 3600 & wait $!; done"]' 'null')
  cat >"$work/manifest.json" <<EOF
[{"Config":"$cfg_busybox.json","RepoTags":["$BUSYBOX_IMAGE"],"Layers":["$layer_sha/layer.tar"]},
 {"Config":"$cfg_pause.json","RepoTags":["$PAUSE_IMAGE"],"Layers":["$layer_sha/layer.tar"]}]
EOF
  (cd "$work" && tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    -cf "$IMAGE_TAR.tmp" manifest.json "$cfg_busybox.json" "$cfg_pause.json" "$layer_sha") || die "tar image failed"
  mv "$IMAGE_TAR.tmp" "$IMAGE_TAR"
  rm -rf "$work"
}

# ----------------------------------------------------------------- daemons ---
containerd_up() { pid_alive "$RIG_RUN/containerd.pid" "$CONF" && $CTR version >/dev/null 2>&1; }

start_containerd() {
  if containerd_up; then log "containerd already running (pid $(<"$RIG_RUN/containerd.pid"))"; return 0; fi
  log "starting containerd on $SOCK"
  # setsid+nohup: the daemon must outlive the shell that ran `up`.
  setsid nohup containerd --config "$CONF" >>"$LOGS/containerd.log" 2>&1 </dev/null &
  echo $! >"$RIG_RUN/containerd.pid"
  wait_for 30 $CTR version || { tail -20 "$LOGS/containerd.log" >&2; die "containerd did not come up"; }
  # The CRI plugin loads asynchronously-ish; make sure it is there.
  local plugins; plugins=$($CTR plugins ls 2>/dev/null)
  grep -qE 'io.containerd.grpc.v1 +cri +.* ok' <<<"$plugins" \
    || { tail -20 "$LOGS/containerd.log" >&2; die "CRI plugin not loaded"; }
}

import_images() {
  log "importing $BUSYBOX_IMAGE and $PAUSE_IMAGE into namespace k8s.io"
  $CTR -n k8s.io images import "$IMAGE_TAR" >>"$LOGS/import.log" 2>&1 \
    || { tail -5 "$LOGS/import.log" >&2; die "ctr images import failed"; }
  local imgs; imgs=$($CTR -n k8s.io images ls -q) # (no `| grep -q`: SIGPIPE + pipefail)
  grep -qx "$PAUSE_IMAGE" <<<"$imgs" || die "pause image missing after import"
  grep -qx "$BUSYBOX_IMAGE" <<<"$imgs" || die "busybox image missing after import"
}

docker_up() { pid_alive "$RIG_RUN/docker.pid" "$DOCKER_SOCK" && $DOCKER_CLI -H "unix://$DOCKER_SOCK" version >/dev/null 2>&1; }

start_dockerd() {
  if docker_up; then log "dockerd already running (pid $(<"$RIG_RUN/docker.pid"))"; return 0; fi
  log "starting dockerd on $DOCKER_SOCK (shares the private containerd, namespace moby)"
  mkdir -p "$RIG_ROOT/docker/data" "$RIG_RUN/docker"
  echo '{}' >"$RIG_ROOT/docker/daemon.json"
  # --iptables/--ip-forward/--ip-masq=false, --bridge=none: dockerd touches no
  # iptables, no sysctl, creates no docker0. --oom-score-adjust=0: never ask
  # for a negative score (needs CAP_SYS_RESOURCE; Debian's 20.10 also ran fine
  # without the flag here). --containerd: reuse our containerd instead of
  # a second, managed one. (20.10 also writes /etc/docker/key.json; `down`
  # removes it again if it did not exist before `up`.)
  setsid nohup dockerd \
    --config-file "$RIG_ROOT/docker/daemon.json" \
    --data-root "$RIG_ROOT/docker/data" \
    --exec-root "$RIG_RUN/docker" \
    --pidfile "$RIG_RUN/docker.pid" \
    --host "unix://$DOCKER_SOCK" \
    --containerd "$SOCK" \
    --iptables=false --ip-forward=false --ip-masq=false --bridge=none \
    --oom-score-adjust=0 \
    --cgroup-parent "/$DOCKER_CGROUP_PARENT" \
    --storage-driver overlay2 \
    --userland-proxy=false \
    >>"$LOGS/dockerd.log" 2>&1 </dev/null &
  # dockerd writes its own pidfile; remember the launcher pid until then
  local launcher=$! end=$((SECONDS + 40))
  until $DOCKER_CLI -H "unix://$DOCKER_SOCK" version >/dev/null 2>&1; do
    if ! kill -0 "$launcher" 2>/dev/null || ((SECONDS >= end)); then
      tail -30 "$LOGS/dockerd.log" >&2; kill "$launcher" 2>/dev/null; die "dockerd did not come up"
    fi
    sleep 0.2
  done
  [[ -s $RIG_RUN/docker.pid ]] || echo "$launcher" >"$RIG_RUN/docker.pid"
  log "docker load $IMAGE_TAR"
  $DOCKER_CLI -H "unix://$DOCKER_SOCK" load -i "$IMAGE_TAR" >>"$LOGS/docker-load.log" 2>&1 \
    || { tail -5 "$LOGS/docker-load.log" >&2; die "docker load failed"; }
}

write_env() {
  {
    echo "FAULTLINE_RIG_ROOT=$RIG_ROOT"
    echo "FAULTLINE_RIG_RUN=$RIG_RUN"
    echo "CONTAINERD_ADDRESS=$SOCK"
    echo "CRI_ENDPOINT=unix://$SOCK"
    echo "CONTAINERD_NAMESPACE=k8s.io"
    echo "FAULTLINE_RIG_SUBNET=$SUBNET"
    echo "FAULTLINE_RIG_BRIDGE=$BRIDGE"
    echo "FAULTLINE_RIG_CGROUP_PARENT=/$CGROUP_PARENT"
    echo "FAULTLINE_RIG_BUSYBOX_IMAGE=$BUSYBOX_IMAGE"
    echo "FAULTLINE_RIG_PAUSE_IMAGE=$PAUSE_IMAGE"
    if docker_up; then
      echo "DOCKER_HOST=unix://$DOCKER_SOCK"
      echo "FAULTLINE_RIG_DOCKER_CGROUP_PARENT=/$DOCKER_CGROUP_PARENT"
    fi
  } >"$ENV_FILE"
}

cmd_up() {
  [[ $(id -u) == 0 ]] || die "must run as root"
  check_tools
  mkdir -p "$RIG_ROOT" "$RIG_RUN"
  write_prestate
  write_containerd_config
  build_images
  start_containerd
  import_images
  if want_docker; then start_dockerd; fi
  write_env
  log "up: containerd=$SOCK$(docker_up && echo " docker=$DOCKER_SOCK") subnet=$SUBNET bridge=$BRIDGE (created on first pod)"
  log "env: $ENV_FILE"
}

# ------------------------------------------------------------------- down ---
cri() { "$PY" "$HERE/cri.py" --sock "$SOCK" "$@"; }

remove_workloads() {
  if { containerd_up || [[ -S $SOCK ]]; } && $CTR version >/dev/null 2>&1; then
    # 1) CRI pods: StopPodSandbox tears down the CNI network (veth, IP, netns).
    if "$PY" -c 'import grpc, google.protobuf' 2>/dev/null && command -v protoc >/dev/null; then
      cri rmall >&2 || log "cri.py rmall failed (continuing with ctr)"
    else
      log "python3-grpcio/python3-protobuf/protoc missing: removing CRI pods with ctr only (no CNI teardown)"
    fi
    # 2) docker containers
    if docker_up; then
      local ids
      ids=$($DOCKER_CLI -H "unix://$DOCKER_SOCK" ps -aq)
      [[ -n $ids ]] && $DOCKER_CLI -H "unix://$DOCKER_SOCK" rm -f $ids >/dev/null
    fi
    # 3) anything left in any containerd namespace (ctr-made, crashed, ...)
    local ns c
    for ns in $($CTR namespaces ls -q 2>/dev/null); do
      for c in $($CTR -n "$ns" tasks ls -q 2>/dev/null); do
        $CTR -n "$ns" tasks kill -s SIGKILL "$c" >/dev/null 2>&1
        wait_for 5 bash -c "! $CTR -n $ns tasks ls -q | grep -qx $c" || true
        $CTR -n "$ns" tasks delete -f "$c" >/dev/null 2>&1
      done
      for c in $($CTR -n "$ns" containers ls -q 2>/dev/null); do
        [[ $ns == moby ]] && docker_up && continue # dockerd owns these
        $CTR -n "$ns" containers delete "$c" >/dev/null 2>&1
      done
    done
  fi
}

stop_daemons() {
  local pid
  if [[ -s $RIG_RUN/docker.pid ]] && pid_alive "$RIG_RUN/docker.pid" "$DOCKER_SOCK"; then
    log "stopping dockerd ($(<"$RIG_RUN/docker.pid"))"; stop_pid "$(<"$RIG_RUN/docker.pid")" 20
  fi
  for pid in $(pids_with_arg "unix://$DOCKER_SOCK" dockerd); do log "stopping stray dockerd $pid"; stop_pid "$pid" 20; done
  if [[ -s $RIG_RUN/containerd.pid ]] && pid_alive "$RIG_RUN/containerd.pid" "$CONF"; then
    log "stopping containerd ($(<"$RIG_RUN/containerd.pid"))"; stop_pid "$(<"$RIG_RUN/containerd.pid")" 15
  fi
  for pid in $(pids_with_arg "--config $CONF" containerd); do log "stopping stray containerd $pid"; stop_pid "$pid" 15; done
  # shims outlive containerd by design; ours carry "-address <our socket>"
  for pid in $(pids_with_arg "-address $SOCK" containerd-shim-runc-v2 containerd-shim); do log "killing leftover shim $pid"; stop_pid "$pid" 5; done
}

unmount_ours() {
  local m
  for _ in 1 2 3; do
    # deepest first
    for m in $(findmnt -rn -o TARGET | grep -E "^($RIG_ROOT|$RIG_RUN)(/|$)" | awk '{print length, $0}' | sort -rn | cut -d' ' -f2-); do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "cannot unmount $m"
    done
  done
}

cleanup_netns() {
  # CRI netns are /run/netns/cni-<uuid>; delete only those holding our subnet
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^cni-'); do
    if grep -q "inet $SUBNET_PREFIX\." <<<"$(ip -n "$ns" -4 addr 2>/dev/null)"; then
      log "deleting leftover netns $ns"; ip netns delete "$ns"
    fi
  done
}

cleanup_iptables() {
  # The rig is configured so that nothing adds rules (ipMasq=false, dockerd
  # --iptables=false). This only removes rules that mention our subnet, bridge
  # or CNI network name, in case a config was changed; it never flushes tables.
  local save tool table line chain
  for tool in iptables iptables-legacy; do
    command -v "$tool-save" >/dev/null || continue
    save=$("$tool-save" 2>/dev/null) || continue
    table=
    while IFS= read -r line; do
      case $line in
        \**) table=${line#\*} ;;
        "-A "*)
          if [[ $line == *"$SUBNET_PREFIX."* || $line == *" $BRIDGE "* || $line == *"\"name: \\\"$NETNAME\\\""* || $line == *"$NETNAME"* ]]; then
            log "$tool -t $table: removing ${line:0:120}"
            eval "$tool -w -t $table -D ${line#-A }" 2>/dev/null || true
          fi ;;
      esac
    done <<<"$save"
    # CNI chains that are now empty and unreferenced
    save=$("$tool-save" 2>/dev/null)
    table=
    while IFS= read -r line; do
      case $line in
        \**) table=${line#\*} ;;
        ":CNI-"*)
          chain=${line#:}; chain=${chain%% *}
          if ! grep -qE -- "-A $chain |-j $chain( |$)" <<<"$save"; then
            "$tool" -w -t "$table" -X "$chain" 2>/dev/null && log "$tool -t $table: deleted empty chain $chain"
          fi ;;
      esac
    done <<<"$save"
  done
}

cleanup_cgroups() {
  local base d
  for base in /sys/fs/cgroup/* /sys/fs/cgroup; do
    for d in "$base/$CGROUP_PARENT" "$base/$DOCKER_CGROUP_PARENT"; do
      [[ -d $d ]] || continue
      # container processes that survived their shim (e.g. after a crash): they
      # are ours by construction (our cgroup parent), kill them by pid
      local pids
      pids=$(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
      if [[ -n $pids ]]; then log "killing leftover processes in $d: $(echo $pids)"; kill -KILL $pids 2>/dev/null; sleep 0.5; fi
      # depth-first rmdir (cgroupfs dirs can only be rmdir'ed, and only when empty)
      find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
      [[ -d $d ]] && log "cgroup $d still present (processes left?)"
    done
  done
}

# sandbox ids this rig's containerd ever knew (from its on-disk state); used
# to find libcni cache entries that a crash left behind
rig_sandbox_ids() {
  local d
  for d in "$RIG_ROOT"/containerd/io.containerd.grpc.v1.cri/sandboxes/* \
    "$RIG_RUN"/containerd/io.containerd.grpc.v1.cri/sandboxes/*; do
    [[ -d $d ]] && basename "$d"
  done | sort -u
}

cmd_down() {
  [[ $(id -u) == 0 ]] || die "must run as root"
  local sandboxes; sandboxes=$(rig_sandbox_ids)
  remove_workloads
  stop_daemons
  unmount_ours
  cleanup_netns
  if ip link show "$BRIDGE" >/dev/null 2>&1; then log "deleting bridge $BRIDGE"; ip link delete "$BRIDGE"; fi
  cleanup_iptables
  cleanup_cgroups
  # ip_forward: the CNI bridge plugin (isGateway) switches it on
  local fwd; fwd=$(prestate ip_forward)
  if [[ -n $fwd && $(cat /proc/sys/net/ipv4/ip_forward) != "$fwd" ]]; then
    log "restoring net.ipv4.ip_forward=$fwd"; echo "$fwd" >/proc/sys/net/ipv4/ip_forward
  fi
  # containerd 1.6 always puts shim sockets in /run/containerd/s (hard-coded)
  if [[ $(prestate had_run_containerd) == 0 ]]; then
    rmdir /run/containerd/s /run/containerd 2>/dev/null
  fi
  # libcni's result cache (/var/lib/cni/results/<net>-<id>-<if>) is not
  # configurable in 1.6; CNI DEL removes entries, a crash leaves them
  rm -f /var/lib/cni/results/"$NETNAME"-* 2>/dev/null
  local id
  for id in $sandboxes $(rig_sandbox_ids); do rm -f /var/lib/cni/results/*-"$id"-* 2>/dev/null; done
  if [[ $(prestate had_var_lib_cni) == 0 ]]; then
    rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null
  fi
  if [[ $(prestate had_run_netns) == 0 ]]; then rmdir /run/netns 2>/dev/null; fi
  # util-linux umount (used above after a crash) creates libmount's /run/mount
  # (only if it holds nothing: utab may describe other people's mounts)
  if [[ $(prestate had_run_mount) == 0 && -d /run/mount ]]; then
    [[ -s /run/mount/utab ]] || rm -f /run/mount/utab /run/mount/utab.lock
    rmdir /run/mount 2>/dev/null
  fi
  # dockerd 20.10 creates /etc/docker/key.json (no flag to move it)
  if [[ $(prestate had_docker_key) == 0 ]]; then rm -f /etc/docker/key.json; fi
  if [[ -n ${FAULTLINE_RIG_KEEP_LOGS:-} && -d $LOGS ]]; then
    mkdir -p "$FAULTLINE_RIG_KEEP_LOGS" && cp -a "$LOGS"/. "$FAULTLINE_RIG_KEEP_LOGS"/
  fi
  local mounts; mounts=$(findmnt -rn -o TARGET) # (no `| grep -q`: SIGPIPE + pipefail)
  if grep -qE "^($RIG_ROOT|$RIG_RUN)(/|$)" <<<"$mounts"; then
    log "mounts remain under $RIG_ROOT or $RIG_RUN; NOT deleting them"; return 1
  fi
  rm -rf --one-file-system "$RIG_ROOT" "$RIG_RUN"
  log "down: done"
}

# ----------------------------------------------------------------- status ---
cmd_status() {
  local rc=0
  if containerd_up; then
    echo "containerd: running pid=$(<"$RIG_RUN/containerd.pid") sock=$SOCK"
    echo "images (k8s.io): $($CTR -n k8s.io images ls -q | tr '\n' ' ')"
    if "$PY" -c 'import grpc' 2>/dev/null; then
      echo "cri: $(cri version 2>/dev/null | tr -d '\n')"
      echo "pods: $(cri pods -q 2>/dev/null | grep -c .)  containers: $(cri ps -q 2>/dev/null | grep -c .)"
    fi
  else
    echo "containerd: not running"; rc=1
  fi
  if docker_up; then
    echo "dockerd: running pid=$(<"$RIG_RUN/docker.pid") sock=$DOCKER_SOCK containers=$($DOCKER_CLI -H "unix://$DOCKER_SOCK" ps -aq | wc -l)"
  else
    echo "dockerd: not running"
  fi
  ip -br addr show "$BRIDGE" 2>/dev/null | sed 's/^/bridge: /' || true
  echo "netns: $(ip netns list 2>/dev/null | awk '{print $1}' | tr '\n' ' ')"
  echo "ip_forward: $(cat /proc/sys/net/ipv4/ip_forward) (before up: $(prestate ip_forward))"
  echo "mounts under rig dirs: $(findmnt -rn -o TARGET | grep -cE "^($RIG_ROOT|$RIG_RUN)(/|$)")"
  return $rc
}

# ------------------------------------------------------------- leftovers ---
# After `down`: report anything the rig (or its pods) could have left behind.
# Exit 0 = clean. Works without any rig state (it is gone after `down`).
cmd_leftovers() {
  local bad=0 out t
  report() { if [[ -n $2 ]]; then echo "LEFTOVER $1:"; sed 's/^/  /' <<<"$2"; bad=1; fi; }
  out=$( { pids_with_arg "$RIG_RUN/" containerd dockerd containerd-shim-runc-v2 runc docker-proxy
           pids_with_arg "$RIG_ROOT/" containerd dockerd containerd-shim-runc-v2 runc docker-proxy; } | sort -u \
    | while read -r t; do echo "$t $(tr '\0' ' ' </proc/"$t"/cmdline 2>/dev/null)"; done)
  report processes "$out"
  report mounts "$(findmnt -rn -o TARGET,FSTYPE | grep -E "^($RIG_ROOT|$RIG_RUN|/run/netns/cni-|/run/containerd)" )"
  report links "$(ip -br link | grep -E "^$BRIDGE|^veth" )"
  report netns "$(ip netns list 2>/dev/null | grep '^cni-')"
  for t in iptables iptables-legacy ip6tables; do
    command -v "$t-save" >/dev/null || continue
    report "$t rules" "$("$t-save" 2>/dev/null | grep -E -- "$SUBNET_PREFIX\.|$BRIDGE|CNI-|DOCKER|$NETNAME")"
  done
  report "processes in rig cgroups" "$(cat /sys/fs/cgroup/memory/"$CGROUP_PARENT"/cgroup.procs /sys/fs/cgroup/memory/"$DOCKER_CGROUP_PARENT"/cgroup.procs 2>/dev/null; find /sys/fs/cgroup/memory/"$CGROUP_PARENT" /sys/fs/cgroup/memory/"$DOCKER_CGROUP_PARENT" -mindepth 2 -name cgroup.procs -exec cat {} + 2>/dev/null)"
  report cgroups "$(ls -d /sys/fs/cgroup/*/"$CGROUP_PARENT" /sys/fs/cgroup/*/"$DOCKER_CGROUP_PARENT" 2>/dev/null)"
  report files "$(ls -d "$RIG_ROOT" "$RIG_RUN" /run/containerd /opt/containerd /var/lib/cni/results/"$NETNAME"-* 2>/dev/null)"
  # any libcni cache entry is suspect on a test machine with no other CRI runtime
  report "libcni cache (ours unless another CRI runtime runs here)" "$(ls -d /var/lib/cni/results/* 2>/dev/null)"
  echo "info: net.ipv4.ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
  ((bad == 0)) && echo "clean"
  return $bad
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  leftovers) cmd_leftovers ;;
  env) cat "$ENV_FILE" ;;
  *) echo "usage: $0 up|down|status|leftovers|env" >&2; exit 2 ;;
esac
