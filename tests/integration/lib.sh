# lib.sh - shared helpers for integration tests (sourced, not run).
# Each test: `. "$(dirname "$0")/lib.sh"`, then t_setup; assertions count failures and
# t_done exits non-zero if any failed. Processes started with t_bg are killed at exit.
set -u
: "${BIN:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/bin}"
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T_FAILS=0
T_CHECKS=0
T_PIDS=()
T_MOUNTS=()

t_setup() {
  T=$(mktemp -d "${TMPDIR:-/tmp}/cadre-it.XXXXXX")
  trap t_cleanup EXIT
}

t_cleanup() {
  local p m
  for p in "${T_PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null; done
  for p in "${T_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  for m in "${T_MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
  if [ "$T_FAILS" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$T"; else echo "kept $T"; fi
}

# t_tmpfs DIR SIZE: mounts a tmpfs of SIZE (e.g. 8m) at DIR, unmounted at exit. Needs
# root (CI runs as root); fails the test, saying why, otherwise.
t_tmpfs() {
  mkdir -p "$1"
  if ! mount -t tmpfs -o "size=$2" tmpfs "$1" 2>"$T/mount.err"; then
    not_ok "cannot mount a tmpfs at $1 (root needed): $(cat "$T/mount.err")"
    t_done
    exit 1
  fi
  T_MOUNTS+=("$1")
}

# free_port: prints a TCP port on 127.0.0.1 that nothing listens on, below the ephemeral
# range (32768+) so that a client retrying a connection cannot take it as its own source
# port (a TCP self-connect would hold it before the server binds).
free_port() {
  local p
  for p in $(shuf -i 20000-32000 -n 50); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# pick_port VAR: sets VAR to a free port that no earlier call in this test chose (for
# tests that pick several ports before anything binds them).
T_USED_PORTS=" "
pick_port() {
  local p
  for _ in $(seq 20); do
    p=$(free_port) || return 1
    case $T_USED_PORTS in *" $p "*) continue ;; esac
    T_USED_PORTS="$T_USED_PORTS$p "
    printf -v "$1" '%s' "$p"
    return 0
  done
  return 1
}

# promtool_clean WHAT CMD...: exit 0 and nothing but its Checking/SUCCESS lines.
promtool_clean() {
  local what=$1 out rc; shift
  out=$("$@" 2>&1); rc=$?
  check_eq "$rc" 0 "$what exit status"
  check_eq "$(grep -vE '^(Checking .*| +SUCCESS(: .*)?|Unit Testing: .*|)$' <<<"$out")" "" \
    "$what findings"
}

# t_bg LOG CMD...: starts CMD in the background with output to LOG; sets T_LAST_PID.
t_bg() {
  local log=$1; shift
  "$@" >"$log" 2>&1 &
  T_LAST_PID=$!
  T_PIDS+=("$T_LAST_PID")
}

# wait_http URL [SECONDS]: waits until URL answers with any HTTP status.
wait_http() {
  local url=$1 n=${2:-20} i
  for i in $(seq $((n * 10))); do
    curl -s -o /dev/null "$url" && return 0
    sleep 0.1
  done
  echo "timed out waiting for $url" >&2
  return 1
}

ok() { T_CHECKS=$((T_CHECKS + 1)); echo "ok - $*"; }
not_ok() { T_CHECKS=$((T_CHECKS + 1)); T_FAILS=$((T_FAILS + 1)); echo "not ok - $*"; }

# check_eq GOT WANT WHAT
check_eq() {
  if [ "$1" = "$2" ]; then ok "$3 = $2"; else not_ok "$3: got '$1', want '$2'"; fi
}

# check_grep PATTERN FILE WHAT: FILE contains a line matching the extended regex.
check_grep() {
  if grep -qE -- "$1" "$2"; then ok "$3"; else not_ok "$3: no line matches /$1/ in $2"; fi
}

# check_no_grep PATTERN FILE WHAT
check_no_grep() {
  if grep -qE -- "$1" "$2"; then not_ok "$3: $(grep -E -- "$1" "$2" | head -3)"; else ok "$3"; fi
}

# metric FILE 'name{labels}': prints the sample value of the exact series, or "absent".
metric() {
  local v
  v=$(awk -v s="$2" '$1 == s { print $2; found = 1 } END { if (!found) print "absent" }' "$1")
  echo "$v"
}

t_done() {
  echo "# $T_CHECKS checks, $T_FAILS failed"
  [ "$T_CHECKS" -gt 0 ] && [ "$T_FAILS" -eq 0 ]
}
