#!/usr/bin/env bash
# Installs every build and test dependency from Debian's apt. Idempotent: when
# everything is already present it only runs dpkg-query and exits in well under a second.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang-format
  libnl-3-dev libnl-route-3-dev libnl-nf-3-dev libip4tc-dev libip6tc-dev
  libboost-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libgtest-dev libgmock-dev libsqlite3-dev nlohmann-json3-dev libcli11-dev
  libcpp-httplib-dev libssl-dev openssl libre2-dev
  clang libclang-rt-14-dev python3-jsonschema python3-yaml libfaketime libfuse3-dev fuse3
  iproute2 procps curl iptables nftables iputils-ping iperf3 tzdata dnsmasq-base bind9-dnsutils
  systemd
  qemu-system-x86 busybox-static cpio
  containerd runc containernetworking-plugins docker.io python3-grpcio python3-protobuf
  prometheus
  chromium fonts-dejavu-core
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: missing packages (${missing[*]}); run as root or install them with apt-get" >&2
  exit 3
fi

echo "setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Package lists may be absent on a fresh machine; refresh them once before installing.
if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/faultline-apt.log 2>&1; then
  apt-get update >/tmp/faultline-apt-update.log 2>&1
  apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/faultline-apt.log 2>&1 || {
    echo "setup.sh: apt-get install failed; see /tmp/faultline-apt.log" >&2
    tail -20 /tmp/faultline-apt.log >&2
    exit 3
  }
fi
