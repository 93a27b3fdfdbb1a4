#!/usr/bin/env bash
# Builds the faultline container image from this build's binaries and the Debian packages'
# libraries: no base image, nothing downloaded. The result is a docker-archive (the
# `docker save` format), loadable with `ctr -n k8s.io images import` and `docker load`.
# One image holds faultline, faultline-injector (with faultline-intercept, its http_fault
# helper) and faultline-controller (the manifests pick the command), plus what the injector
# runs: iptables (legacy and nft).
#
# usage: scripts/build-image.sh [--build DIR] [--tag NAME:TAG] [--out FILE]
#   --build  the CMake build directory with src/faultline*  [build]
#   --tag    image name                                      [faultline:<project version>]
#   --out    where to write the archive                      [<build>/image/faultline-image.tar]
# Prints the archive's path. Deterministic for the same binaries: sorted, mtime 0, uid 0.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build"
tag=""
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "build-image.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
die() { echo "build-image.sh: $*" >&2; exit 1; }
for b in faultline faultline-injector faultline-controller faultline-intercept; do
  [ -x "$build/src/$b" ] || die "$build/src/$b is missing: build first (scripts/build.sh)"
done
version="$("$build/src/faultline" --version)"
tag="${tag:-faultline:$version}"
out="${out:-$build/image/faultline-image.tar}"
mkdir -p "$(dirname "$out")"

work="$(mktemp -d "${TMPDIR:-/tmp}/faultline-image.XXXXXX")"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
mkdir -p "$rootfs"/{usr/local/bin,usr/bin,usr/sbin,etc/faultline,tmp,proc,sys,dev,run,var/lib/faultline}
chmod 1777 "$rootfs/tmp"
# The runtime reports pods' network namespaces under /var/run/netns: the same place as /run.
ln -s ../run "$rootfs/var/run"

# Debian's merged /usr: /lib, /lib64, /bin and /sbin are links into /usr, so a library ldd
# finds in /lib and a module iptables looks for in /usr/lib are the same file.
for d in lib lib64 bin sbin; do
  mkdir -p "$rootfs/usr/$d"
  ln -s "usr/$d" "$rootfs/$d"
done

# Copies a file to the same path in the rootfs (following symlinks), once.
put() {
  local src="$1" rel="$1"
  case "$rel" in /lib/*|/lib64/*|/bin/*|/sbin/*) rel="/usr$rel" ;; esac
  local dst="$rootfs$rel"
  [ -e "$dst" ] && return 0
  mkdir -p "$(dirname "$dst")"
  cp -L "$src" "$dst"
}
# An ELF file and every library it loads (as ldd resolves them on this machine).
put_elf() {
  put "$1"
  local lib
  for lib in $(ldd "$1" 2>/dev/null | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}'); do
    put "$lib"
  done
}

# faultline's own binaries, without their debug sections (the symbol table stays, for
# backtraces): a tenth of the size.
for b in faultline faultline-injector faultline-controller faultline-intercept; do
  strip --strip-debug -o "$rootfs/usr/local/bin/$b" "$build/src/$b"
  for lib in $(ldd "$build/src/$b" | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}'); do
    put "$lib"
  done
done

# What the injector runs: iptables (its children enter a pod's namespace themselves).
for multi in /usr/sbin/xtables-legacy-multi /usr/sbin/xtables-nft-multi; do
  [ -x "$multi" ] && put_elf "$multi"
done
for name in iptables ip6tables; do
  for flavour in legacy nft; do
    for suffix in "" -restore -save; do
      cmd="$name-$flavour$suffix"
      target="/usr/sbin/xtables-$flavour-multi"
      [ -x "$rootfs$target" ] && ln -sf "xtables-$flavour-multi" "$rootfs/usr/sbin/$cmd"
    done
  done
  # The plain names as Debian's default (alternatives: nft).
  for suffix in "" -restore -save; do
    [ -x "$rootfs/usr/sbin/xtables-nft-multi" ] && ln -sf "xtables-nft-multi" "$rootfs/usr/sbin/$name$suffix"
  done
done
# iptables loads its matches and targets (NFQUEUE, mark, statistic, ...) as modules, from
# the directory it was built with.
xt_dir="/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/xtables"
if [ -d "$xt_dir" ]; then
  for m in "$xt_dir"/*.so; do put_elf "$m"; done
fi

printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
# iptables: protocol names (-p tcp) come from here.
[ -f /etc/protocols ] && cp /etc/protocols "$rootfs/etc/protocols"

mkdir -p "$work/image"
(cd "$rootfs" && tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$work/layer.tar" .)
layer_sha="$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"
mkdir -p "$work/image/$layer_sha"
mv "$work/layer.tar" "$work/image/$layer_sha/layer.tar"
config="{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"1970-01-01T00:00:00Z\",\
\"config\":{\"Env\":[\"PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\
\"Cmd\":[\"faultline-injector\",\"--help\"],\"WorkingDir\":\"/\",\
\"Labels\":{\"org.opencontainers.image.title\":\"faultline\",\"org.opencontainers.image.version\":\"$version\"}},\
\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$layer_sha\"]},\
\"history\":[{\"created\":\"1970-01-01T00:00:00Z\",\"created_by\":\"scripts/build-image.sh\"}]}"
config_sha="$(printf '%s' "$config" | sha256sum | cut -d' ' -f1)"
printf '%s' "$config" >"$work/image/$config_sha.json"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]\n' \
  "$config_sha" "$tag" "$layer_sha" >"$work/image/manifest.json"
(cd "$work/image" && tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
  -cf "$out.tmp" manifest.json "$config_sha.json" "$layer_sha")
mv "$out.tmp" "$out"
echo "$out"
