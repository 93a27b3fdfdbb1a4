#!/usr/bin/env bash
# Runs BINARY [ARGS...] as root (PID 1's child) in a throwaway qemu VM that boots Debian's
# stock amd64 kernel, for tests that need kernel features the host kernel lacks (the CI
# host has no sch_netem). The guest is a tiny initramfs: busybox, the host's /bin/sh, tc, ip
# and ping, the binary, and the shared libraries all of them link, at their host paths.
#
# Exit status: the binary's own exit code; 3 if the guest never reported one (kernel
# panic, qemu crash, timeout); 2 for a harness misuse; 77 (ctest's SKIP_RETURN_CODE
# convention) only when qemu or the kernel cannot be obtained.
#
# Environment:
#   FAULTLINE_VM_CACHE    where the extracted kernel package is kept (/var/cache/faultline-vm)
#   FAULTLINE_VM_TIMEOUT  seconds before qemu is killed (300)
#   FAULTLINE_VM_MODULES  kernel modules to load, their dependencies are added
#                         (sch_netem sch_tbf sch_htb sch_ingress cls_u32 veth)
#   FAULTLINE_VM_FILES    more host files or directories to copy to the same path, e.g. the
#                         daemons an integration test starts;
#                         dynamically linked executables among them get their libraries too
#   FAULTLINE_VM_PASSENV  names of environment variables to hand on to BINARY
#   FAULTLINE_VM_ACCEL    auto (kvm when /dev/kvm works, else tcg), kvm or tcg
set -euo pipefail

readonly MARKER=FAULTLINE_VM_EXIT
cache=${FAULTLINE_VM_CACHE:-/var/cache/faultline-vm}
timeout_s=${FAULTLINE_VM_TIMEOUT:-300}
modules=${FAULTLINE_VM_MODULES:-sch_netem sch_tbf sch_htb sch_ingress cls_u32 veth}
accel=${FAULTLINE_VM_ACCEL:-auto}

log() { echo "run_in_vm: $*" >&2; }
usage_error() { log "$*"; exit 2; }
# Only for a missing qemu or kernel: the test could not run, which is not a failure.
skip() { log "SKIP: $*"; exit 77; }

[ $# -ge 1 ] || usage_error "usage: $0 BINARY [ARGS...]"
binary=$1
shift
# A bare name means what the shell would run; the guest needs the file at an absolute path.
case $binary in
  */*) ;;
  *) binary=$(command -v -- "$binary") || usage_error "no such command: $1" ;;
esac
binary=$(realpath -s -- "$binary")
if [ ! -f "$binary" ] || [ ! -x "$binary" ]; then usage_error "not an executable file: $binary"; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/faultline-vm.XXXXXX")
partial=""
qemu_pid=""
cleanup() {
  rm -rf -- "$work"
  if [ -n "$partial" ]; then rm -rf -- "$partial"; fi
}
trap cleanup EXIT
# timeout(1) puts qemu in a process group of its own, out of reach of a Ctrl-C or a signal
# sent to ours: hand the signal on, or the VM runs until its timeout.
on_signal() {
  if [ -n "$qemu_pid" ]; then kill "$qemu_pid" 2>/dev/null || true; fi
  exit "$1"
}
trap 'on_signal 143' TERM
trap 'on_signal 130' INT

mkdir -p "$cache" 2>/dev/null || skip "cannot create the cache directory $cache (set FAULTLINE_VM_CACHE)"
# Parallel ctest jobs share the cache and dpkg's lock; one of them at a time sets things up.
exec 9>"$cache/.lock"
flock 9

is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

ensure_packages() {
  local missing=() p
  for p in "$@"; do is_installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || skip "packages ${missing[*]} are missing and only root can install them"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The package lists may be missing or stale on a fresh machine; refresh only when needed.
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >"$work/apt.log" 2>&1; then
    if ! { apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"; } \
        >>"$work/apt.log" 2>&1; then
      tail -n 5 "$work/apt.log" >&2
      skip "apt-get could not install ${missing[*]}"
    fi
  fi
}

ensure_packages qemu-system-x86 busybox-static iproute2 cpio

# The exact kernel package linux-image-amd64 depends on today and its version, e.g.
# "linux-image-6.1.0-56-amd64 6.1.192-2". One apt-cache call: with Debian's docker-clean apt
# config every call rebuilds the package cache, which takes a second.
kernel_package() {
  apt-cache show --no-all-versions linux-image-amd64 2>/dev/null |
    sed -n 's/^Depends: \(linux-image-[^ ]*-amd64\) (= \([^)]*\)).*/\1 \2/p' || true
}

# Sets kdir to the directory holding the extracted kernel package, downloading it when the
# cache has no copy of the current version. Falls back to the newest cached copy when apt
# cannot tell or fetch the current one (offline machine), so a warm cache needs no network.
kdir=""
find_kernel() {
  local pkg="" ver="" dir
  read -r pkg ver < <(kernel_package) || true
  if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
    apt-get update >"$work/apt.log" 2>&1 || true
    read -r pkg ver < <(kernel_package) || true
  fi
  if [ -n "$pkg" ]; then
    # The version is part of the key: a security update can keep the package name.
    dir="$cache/${pkg}_${ver}"
    if [ -n "$ver" ] && [ -d "$dir" ]; then
      kdir=$dir
      return 0
    fi
    if [ -n "$ver" ]; then
      log "downloading $pkg $ver into $cache"
      partial=$(mktemp -d "$cache/.partial.XXXXXX")
      # apt drops to the _apt user for downloads; let it write here to avoid a warning.
      { chmod 755 "$partial" && chown _apt "$partial"; } 2>/dev/null || true
      if (cd "$partial" && apt-get download "$pkg=$ver") >"$work/apt.log" 2>&1 &&
          dpkg-deb -x "$partial"/*.deb "$partial/root"; then
        # Renaming makes the entry appear complete or not at all.
        mv "$partial/root" "$dir"
        kdir=$dir
      else
        tail -n 5 "$work/apt.log" >&2
      fi
      rm -rf -- "$partial"
      partial=""
      [ -z "$kdir" ] || return 0
    fi
  fi
  dir=$(find "$cache" -mindepth 1 -maxdepth 1 -type d -name 'linux-image-*' | sort -V | tail -n 1)
  [ -n "$dir" ] || return 1
  log "could not fetch the current kernel package${pkg:+ $pkg}; using the cached ${dir##*/}"
  kdir=$dir
}

find_kernel || skip "cannot obtain Debian's kernel package (what linux-image-amd64 depends on) from apt"

# Packages before trixie put modules under /lib, later ones under /usr/lib.
moddir=$(find "$kdir/lib/modules" "$kdir/usr/lib/modules" -mindepth 1 -maxdepth 1 -type d -print -quit 2>/dev/null || true)
[ -n "$moddir" ] || skip "no modules directory in $kdir"
kver=$(basename "$moddir")
kernel="$kdir/boot/vmlinuz-$kver"
[ -f "$kernel" ] || skip "no kernel image $kernel"

# Under TCG the bzImage's own xz decompressor costs about five seconds per boot. A kernel
# built with PVH support can be started by qemu as the plain ELF instead, so decompress it
# once into the cache. Any surprise (other compression, no PVH) keeps the bzImage.
extract_vmlinux() {
  local out="$kdir/boot/vmlinux-$kver" offsets
  if [ -f "$out" ]; then kernel=$out; return 0; fi
  grep -q '^CONFIG_PVH=y' "$kdir/boot/config-$kver" 2>/dev/null || return 0
  command -v xz >/dev/null || return 0
  offsets=$(LC_ALL=C grep -abo $'\xfd''7zXZ' "$kernel") || return 0
  partial=$(mktemp "$out.XXXXXX")
  # xz stops at the end of its stream; a pipe from tail would then fail on SIGPIPE.
  if xz -dc --single-stream < <(tail -c +"$((${offsets%%:*} + 1))" "$kernel") >"$partial" 2>/dev/null &&
      [ "$(head -c 4 "$partial")" = $'\x7fELF' ]; then
    chmod 644 "$partial"
    mv "$partial" "$out"
    kernel=$out
  fi
  rm -f -- "$partial"
  partial=""
}
extract_vmlinux
flock -u 9

root="$work/root"
mkdir -p "$root"
# Mirror the host's merged /usr so a library is found under both of the names it has there.
for d in bin sbin lib lib64; do
  if [ -L "/$d" ]; then
    target=$(readlink "/$d")
    mkdir -p "$root/${target#/}"
    ln -s "$target" "$root/$d"
  fi
done
mkdir -p "$root"/{dev,proc,sys,tmp,run,root,etc,var,bin,sbin,usr/bin,usr/sbin,"lib/modules/$kver"}
ln -s /run "$root/var/run"

copy_file() {
  mkdir -p "$root$(dirname "$1")"
  cp -L -- "$1" "$root$1"
}

# Copies an executable plus everything the dynamic loader will map for it (loader included).
copy_program() {
  local file=$1 lib interp
  copy_file "$file"
  # A script needs its interpreter; the interpreter's own libraries come with it.
  if [ "$(head -c 2 -- "$file")" = "#!" ]; then
    interp=$(head -n 1 -- "$file" | sed 's/^#! *//; s/[[:space:]].*//')
    if [ -n "$interp" ] && [ -f "$interp" ] && [ ! -e "$root$interp" ]; then copy_program "$interp"; fi
    return 0
  fi
  # ldd fails on static executables and non-ELF files, neither of which needs more.
  for lib in $(ldd -- "$file" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
    [ -e "$root$lib" ] || copy_file "$lib"
  done
}

copy_program "$binary"
# Debian's busybox runs its own applets ahead of PATH inside `busybox sh`, and its ip, tc and
# ping lack netns, netem and iputils' output format: system()/popen() get the host's /bin/sh
# and the host's tools instead.
copy_program /bin/sh
copy_program "$(command -v tc)"
copy_program "$(command -v ip)"
if command -v ping >/dev/null; then copy_program "$(command -v ping)"; fi
for f in ${FAULTLINE_VM_FILES:-}; do
  [ -e "$f" ] || usage_error "FAULTLINE_VM_FILES names a missing path: $f"
  f=$(realpath -s -- "$f")
  if [ -d "$f" ]; then
    mkdir -p "$root$f"
    cp -a -- "$f/." "$root$f/"
    while IFS= read -r x; do copy_program "$x"; done < <(find "$f" -type f -perm -u+x)
  else
    copy_program "$f"
  fi
done
# tc's delay distributions, iproute2's name tables and the loader cache (for libraries the
# host finds outside the default directories); all small.
for f in /usr/lib/x86_64-linux-gnu/tc /usr/lib/tc /etc/iproute2 /usr/share/iproute2 /etc/libnl /etc/ld.so.cache; do
  if [ -e "$f" ] && [ ! -e "$root$f" ]; then
    mkdir -p "$root$(dirname "$f")"
    cp -a -- "$f" "$root$f"
  fi
done

# busybox fills in everything else; the real tc/ip (and a copied /bin/sh, ...) keep priority.
cp /bin/busybox "$root/bin/busybox"
declare -A have=()
while IFS= read -r f; do have[${f##*/}]=1; done < <(find "$root"/{bin,sbin,usr/bin,usr/sbin}/ -maxdepth 1 ! -type d)
while IFS= read -r applet; do
  [ -z "${have[${applet##*/}]:-}" ] || continue
  have[${applet##*/}]=1
  ln -s /bin/busybox "$root/$applet"
done < <(/bin/busybox --list-full)

# glibc resolves "localhost" and user names through these; nothing else in /etc is needed.
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
printf 'passwd: files\ngroup: files\nhosts: files\n' >"$root/etc/nsswitch.conf"

# Kernel modules, dependencies first. The package ships no modules.dep (depmod writes it at
# install time), so read the depends= field it would have been built from.
declare -A modfile=() seen=()
while IFS= read -r f; do
  n=${f##*/}
  n=${n%%.ko*}
  modfile[${n//-/_}]=$f
done < <(find "$moddir" -name '*.ko*')
load_order=()
add_module() {
  local name=${1//-/_} src dst dep
  [ -z "${seen[$name]:-}" ] || return 0
  seen[$name]=1
  src=${modfile[$name]:-}
  if [ -z "$src" ]; then
    # Built into this kernel: nothing to load.
    if grep -q "/${name//_/[-_]}\.ko\$" "$moddir/modules.builtin" 2>/dev/null; then return 0; fi
    usage_error "kernel $kver has no module $name"
  fi
  dst="$root/lib/modules/$kver/$name.ko"
  # busybox insmod cannot read compressed modules.
  case $src in
    *.ko.xz) xz -dc -- "$src" >"$dst" ;;
    *.ko.gz) gzip -dc -- "$src" >"$dst" ;;
    *.ko.zst) zstd -qdc -- "$src" >"$dst" ;;
    *) cp -- "$src" "$dst" ;;
  esac
  for dep in $(tr '\0' '\n' <"$dst" | sed -n 's/^depends=//p' | tr ',' ' '); do
    add_module "$dep"
  done
  load_order+=("$name")
}
for m in $modules; do add_module "$m"; done

quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
command_line=""
for a in "$binary" "$@"; do command_line+=" $(quote "$a")"; done
exports=""
for v in ${FAULTLINE_VM_PASSENV:-}; do
  if [ -n "${!v+set}" ]; then exports+="export $v=$(quote "${!v}")"$'\n'; fi
done

cat >"$root/init" <<EOF
#!/bin/busybox sh
# PID 1 of the guest: set up what a test expects of a Linux system, run it, report, power off.
/bin/busybox mount -t devtmpfs devtmpfs /dev
# The kernel found no /dev/console in the initramfs, so PID 1 starts without stdio.
exec </dev/console >/dev/console 2>&1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
stty -onlcr 2>/dev/null
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# The root is already a writable tmpfs; a fresh one would hide a binary copied under /tmp.
[ -n "\$(ls -A /tmp)" ] || mount -t tmpfs tmpfs /tmp
[ -n "\$(ls -A /run)" ] || mount -t tmpfs tmpfs /run
# /var/run links here; ip netns keeps its namespaces in /var/run/netns.
mkdir -p /run/netns
for m in ${load_order[*]}; do
  insmod /lib/modules/$kver/\$m.ko || echo "run_in_vm: insmod \$m failed"
done
ip link set lo up
$exports
mkdir -p $(quote "$PWD") && cd $(quote "$PWD")
set --$command_line
read up idle </proc/uptime
# The blank line ends what the firmware left unfinished (the UART reset can eat its newline).
echo
echo "run_in_vm: guest up after \${up}s (kernel $kver), running: \$*"
"\$@" </dev/null
rc=\$?
echo
echo "$MARKER=\$rc"
poweroff -f
EOF
chmod 755 "$root/init"

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$work/initrd.gz"

# KVM is only worth it when it is backed by the CPU's virtualization extensions; a usable
# /dev/kvm without them (e.g. a paravirtual KVM on a nested cloud host) hangs a stock kernel.
kvm_works() {
  [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo
}
qemu=(qemu-system-x86_64 -nographic -no-reboot -m 1024 -smp 1
  -nic none  # the guest only uses lo and the virtual links a test creates
  -kernel "$kernel" -initrd "$work/initrd.gz" -append "console=ttyS0 quiet panic=-1")
case $accel in
  kvm) qemu+=(-enable-kvm -cpu host) ;;
  tcg) ;;
  auto) if kvm_works; then qemu+=(-enable-kvm -cpu host); accel=kvm; else accel=tcg; fi ;;
  *) usage_error "FAULTLINE_VM_ACCEL must be auto, kvm or tcg, not $accel" ;;
esac

log "booting $kver (${kernel##*/}, $accel, $(du -h "$work/initrd.gz" | cut -f1) initramfs, timeout ${timeout_s}s)"
# The filter drops the firmware's terminal resets and the serial console's carriage returns,
# which would otherwise garble a terminal or a ctest log. A fifo rather than a pipeline so
# that qemu_pid is timeout's own pid, for on_signal and for the exit status.
mkfifo "$work/console"
sed -u -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b[A-Za-z]//g' -e 's/\r$//' <"$work/console" |
  tee "$work/console.log" &
reader_pid=$!
timeout --kill-after=10 "$timeout_s" "${qemu[@]}" </dev/null >"$work/console" 2>&1 &
qemu_pid=$!
qemu_status=0
wait "$qemu_pid" || qemu_status=$?
qemu_pid=""
wait "$reader_pid" || true

code=$(sed -n "s/^$MARKER=\([0-9][0-9]*\)\$/\1/p" "$work/console.log" | tail -n 1)
if [ -z "$code" ]; then
  if [ "$qemu_status" -eq 124 ] || [ "$qemu_status" -eq 137 ]; then
    log "no $MARKER line: the VM was killed after ${timeout_s}s (FAULTLINE_VM_TIMEOUT)"
  else
    log "no $MARKER line: the guest died before reporting (qemu exit $qemu_status; a kernel panic shows above)"
  fi
  exit 3
fi
log "guest exit code $code, ${SECONDS}s in all"
exit "$code"
