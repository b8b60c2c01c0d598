#!/usr/bin/env bash
# Runs every unit test binary and every integration script; prints "N passed, N failed".
# Environment: BIN (folder with the cadre binaries), BUILD (folder with tests/*_test).
# TESTS=pattern runs only the tests whose name matches the pattern (grep -E).
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${BIN:?BIN must name the folder of the binaries}"
: "${BUILD:?BUILD must name the build folder}"
export BIN BUILD
pass=0
fail=0
failed=()
logdir=$(mktemp -d "${TMPDIR:-/tmp}/cadre-test-logs.XXXXXX")

run_one() {
  local name=$1; shift
  if [ -n "${TESTS:-}" ] && ! grep -qE "$TESTS" <<<"$name"; then return; fi
  local start=$SECONDS
  if "$@" >"$logdir/${name//\//_}.log" 2>&1; then
    pass=$((pass + 1))
    printf 'ok   %-40s %3ds\n' "$name" $((SECONDS - start))
  else
    fail=$((fail + 1))
    failed+=("$name")
    printf 'FAIL %-40s %3ds\n' "$name" $((SECONDS - start))
    sed 's/^/     | /' "$logdir/${name//\//_}.log" | tail -n 60
  fi
}

for t in "$BUILD"/tests/*_test; do
  [ -x "$t" ] || continue
  run_one "unit/$(basename "$t")" "$t"
done
for t in "$here"/integration/*.sh; do
  [ -f "$t" ] || continue
  [ "$(basename "$t")" = lib.sh ] && continue
  run_one "integration/$(basename "$t" .sh)" bash "$t"
done

[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]} (logs in $logdir)"
[ ${#failed[@]} -eq 0 ] && rm -rf "$logdir"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
