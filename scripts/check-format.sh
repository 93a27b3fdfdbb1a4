#!/usr/bin/env bash
# Checks that every C++ file under src/, tests/ and bench/ is laid out as .clang-format says.
# With --fix, reformats them instead. Prints each file that differs and exits 1 if any does.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mapfile -t files < <(git ls-files 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h' 'bench/*.cpp' \
  'bench/*.h')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
# One clang-format for every file: it names each line that differs.
if ! out=$(clang-format --dry-run -Werror "${files[@]}" 2>&1); then
  grep -oE '^[^:]+\.(cpp|h):[0-9]+' <<<"$out" | sort -u -t: -k1,1 | sed 's/^/not formatted: /' >&2
  echo "check-format: files differ from .clang-format; run scripts/check-format.sh --fix" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files formatted"
