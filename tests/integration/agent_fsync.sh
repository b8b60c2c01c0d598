#!/usr/bin/env bash
# fsync modes, watched at the system calls (strace): the agent ships 12 usage lines in 4
# batches of 3 (batch_max_records = 3) to a real aggregator, once per mode, and the test
# counts the fdatasync calls on spool segment files (SPEC section 3, docs/agent.md):
#  - always:   one per batch appended, so at least 4;
#  - interval: with fsync_interval_ms = 60000 the timer never fires during the run, so at
#              most the one at shutdown (fewer than one per batch);
#  - never:    none.
# Then interval with fsync_interval_ms = 50 in a run held open by the aggregator being
# down at first: the timer syncs the spool although no batch is acked.
. "$(dirname "$0")/lib.sh"
t_setup

if ! strace -f -o /dev/null true 2>/dev/null; then
  echo "# skip: strace cannot trace processes here (ptrace not permitted)"
  exit 0
fi

head -c 48 /dev/urandom | base64 > "$T/org.key"
chmod 600 "$T/org.key"
echo "tok-fs" > "$T/fs.token"
echo "fs tok-fs" > "$T/agents.tokens"
port=$(free_port)
url="http://127.0.0.1:$port"
cat > "$T/agg.ini" <<EOF
[aggregator]
listen = 127.0.0.1:$port
db_path = $T/db
tokens_file = $T/agents.tokens
as_of = 2026-09-30
EOF
t_bg "$T/agg.log" "$BIN/cadre-aggregator" --config "$T/agg.ini"
agg=$T_LAST_PID
wait_http "$url/healthz" || { not_ok "aggregator did not start"; t_done; exit; }

for i in $(seq 12); do
  printf '{"ts":"2026-09-10T08:%02d:00Z","user":"F%03d","tool":"ambient-scribe","minutes":%d}\n' \
    "$i" "$i" "$i"
done > "$T/usage.jsonl"

# run MODE INTERVAL_MS: one --once run on a fresh state folder under strace; prints the
# number of fdatasync calls on spool segments.
run() {
  local mode=$1 ms=$2 state=$T/state-$1-$2
  cat > "$T/$mode.ini" <<EOF
[agent]
id = fs
aggregator_url = $url
token_file = $T/fs.token
org_key_file = $T/org.key
state_dir = $state
batch_max_records = 3
fsync = $mode
fsync_interval_ms = $ms
[source scribe]
type = usage_jsonl
path = $T/usage.jsonl
EOF
  # LeakSanitizer cannot run under ptrace (SANITIZE=1 builds); the other tests check leaks.
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    strace -f -y -qq -e trace=fdatasync -o "$T/$mode-$ms.trace" \
    "$BIN/cadre-agent" --config "$T/$mode.ini" --once 2> "$T/$mode-$ms.log"
  echo "$?" > "$T/$mode-$ms.rc"
  grep -c 'fdatasync([0-9]*<[^>]*/spool/seg-[0-9a-f]*\.log>' "$T/$mode-$ms.trace"
}

n=$(run always 1000)
check_eq "$(cat "$T/always-1000.rc")" 0 "fsync = always: --once exit status"
if [ "$n" -ge 4 ]; then ok "fsync = always: $n segment syncs for 4 batches"
else not_ok "fsync = always: $n segment syncs, want at least 4 (one per batch)"; fi

n=$(run interval 60000)
check_eq "$(cat "$T/interval-60000.rc")" 0 "fsync = interval: --once exit status"
if [ "$n" -le 1 ]; then ok "fsync = interval (60 s): $n segment syncs for 4 batches"
else not_ok "fsync = interval (60 s): $n segment syncs, want at most 1"; fi

n=$(run never 1000)
check_eq "$(cat "$T/never-1000.rc")" 0 "fsync = never: --once exit status"
check_eq "$n" 0 "fsync = never: segment syncs"

curl -s "$url/metrics" > "$T/metrics"
check_eq "$(metric "$T/metrics" 'cadre_stored_records{type="usage"}')" 12 "usage records stored"

# The timer: with the aggregator down, --once waits (retrying) and the spool holds the
# batches; the 50 ms timer must sync them meanwhile. The aggregator comes back after 1 s.
kill -TERM "$agg"; wait "$agg" 2>/dev/null
( sleep 1; exec "$BIN/cadre-aggregator" --config "$T/agg.ini" ) > "$T/agg2.log" 2>&1 &
T_PIDS+=($!)
n=$(run interval 50)
check_eq "$(cat "$T/interval-50.rc")" 0 "fsync = interval (50 ms), aggregator late: --once exit status"
if [ "$n" -ge 1 ]; then ok "fsync = interval (50 ms): the timer synced the spool ($n calls)"
else not_ok "fsync = interval (50 ms): no segment sync while waiting for the aggregator"; fi

t_done
