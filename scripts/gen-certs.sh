#!/usr/bin/env bash
# Makes a CA and the certificates a small faultline install needs, with openssl:
#   DIR/ca.crt, ca.key                  the CA (keep ca.key off the nodes)
#   DIR/controller.crt, .key            the controller (SANs: localhost, 127.0.0.1, and any
#                                        --controller-name given)
#   DIR/cli.crt, .key                   the faultline CLI
#   DIR/<node>.crt, .key                one per injector node; CN and DNS SAN = the node name,
#                                        which the controller binds the injector's name to
# Usage: scripts/gen-certs.sh DIR [--controller-name NAME]... [NODE...]
# Re-running keeps the CA and existing certificates and adds what is missing.
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 DIR [--controller-name NAME]... [NODE...]" >&2
  exit 2
fi
dir=$1
shift
controller_names=(localhost)
nodes=()
while [ $# -gt 0 ]; do
  case "$1" in
    --controller-name) controller_names+=("$2"); shift 2 ;;
    -*) echo "$0: unknown option $1" >&2; exit 2 ;;
    *) nodes+=("$1"); shift ;;
  esac
done
for n in "${nodes[@]}"; do
  if ! [[ "$n" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then
    echo "$0: node name '$n': letters, digits, '.', '_' and '-' only" >&2
    exit 2
  fi
  case "$n" in
    ca | controller | cli | faultline-*)
      echo "$0: node name '$n' is reserved (it would clash with the CA, controller or CLI)" >&2
      exit 2 ;;
  esac
done

mkdir -p "$dir"
umask 077
days=825

if [ ! -f "$dir/ca.key" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 3650 \
    -subj "/O=faultline/CN=faultline CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  echo "made $dir/ca.crt"
fi

# issue NAME CN SAN USAGE
issue() {
  local name=$1 cn=$2 san=$3 usage=$4
  [ -f "$dir/$name.crt" ] && return 0
  local ext
  ext=$(mktemp)
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\nsubjectAltName=%s\n' \
    "$usage" "$san" >"$ext"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/O=faultline/CN=$cn" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -CAcreateserial -days "$days" -extfile "$ext" -out "$dir/$name.crt" 2>/dev/null
  rm -f "$dir/$name.csr" "$ext"
  echo "made $dir/$name.crt (CN=$cn)"
}

san="IP:127.0.0.1,IP:::1"
for n in "${controller_names[@]}"; do
  if [[ "$n" =~ ^[0-9.]+$ ]]; then san+=",IP:$n"; else san+=",DNS:$n"; fi
done
issue controller faultline-controller "$san" serverAuth
issue cli faultline-cli "DNS:faultline-cli" clientAuth
for n in "${nodes[@]}"; do
  issue "$n" "$n" "DNS:$n" clientAuth
done
chmod 644 "$dir"/*.crt
