#!/usr/bin/env bash
# The dependency rule of docs/architecture.md, enforced: every #include "dir/..." in a layer
# must name a folder that layer may depend on. Prints each include that breaks the direction
# as FILE:LINE: include, and exits 1 if there is one.
#
#   cli -> controller -> experiments -> common      injector -> common      proxy -> common
#   experiments, injector -> proxy (a proxy_toxic is the body the proxy's own parser takes)
#   experiments, controller, injector -> proto (faultline/, opentelemetry/, grpc/)
#   inside controller: only the engine's composer (controller.h/.cpp, api/) and run/ itself
#   include run/; plan/, report/, watch/, link/, store/, schedule/, auth/ and the metrics
#   sit below it.
#   tests/support -> common only (tests read /proc the way the product does, not through it).
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root"

# layer glob | allowed include folders (space separated)
rules=(
  "src/common|common"
  "src/experiments|common experiments proxy faultline"
  "src/injector|common injector proxy faultline k8s fmt"
  "src/controller|common experiments controller faultline opentelemetry grpc"
  "src/cli|cli common controller experiments injector proxy faultline"
  "src/proxy|common proxy"
  "src/demo|common"
  "tests/support|common support"
)
# folders whose files may not include controller/run/
below_run=(src/controller/plan src/controller/report src/controller/watch src/controller/link
  src/controller/store src/controller/schedule src/controller/auth
  src/controller/controller_metrics.h src/controller/controller_metrics.cpp
  src/controller/run_state.h src/controller/run_state.cpp)

bad=0
for rule in "${rules[@]}"; do
  layer="${rule%%|*}"
  allowed=" ${rule#*|} "
  while IFS=: read -r file line text; do
    dir=$(sed -E 's/^#include "([a-z_0-9]+)\/.*/\1/' <<<"$text")
    if [[ "$allowed" != *" $dir "* ]]; then
      echo "$file:$line: $text  ($layer may include only:${allowed% })"
      bad=1
    fi
  done < <(grep -rsnE '^#include "[a-z_0-9]+/' "$layer" || true)
done
while IFS=: read -r file line text; do
  echo "$file:$line: $text  (only the engine's composer and run/ include run/)"
  bad=1
done < <(grep -rsnE '^#include "controller/run/' "${below_run[@]}" || true)

if [ "$bad" -ne 0 ]; then
  echo "dependency direction broken: see docs/architecture.md, \"Dependency rule\"" >&2
  exit 1
fi
echo "dependency direction holds"
