#!/usr/bin/env bash
# Type=notify as systemd runs it: with NOTIFY_SOCKET and WATCHDOG_USEC set, each daemon
# sends READY=1 once it serves (the aggregator: listening; the agent: sources open),
# WATCHDOG=1 pings often enough for the watchdog (here 1.5 s, so a ping at least every
# 0.75 s), RELOADING=1 then READY=1 around a SIGHUP, and STOPPING=1 on SIGTERM before it
# exits 0. Messages are read from a real datagram socket (python3's socket module), as
# systemd's notify socket would get them.
. "$(dirname "$0")/lib.sh"
t_setup

# listen SOCKET OUT: collects datagrams, one per line (newlines inside become '|'), with
# the receive time, until killed.
listen() {
  python3 -u - "$1" "$2" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "w", buffering=1) as out:
    while True:
        data = s.recv(4096).decode()
        out.write("%.3f %s\n" % (time.monotonic(), data.replace("\n", "|")))
PY
  T_PIDS+=($!)
  for _ in $(seq 50); do [ -S "$1" ] && break; sleep 0.1; done
}

# run_daemon NAME OUT ARGS...: starts ARGS with the notify environment of a unit with
# WatchdogSec=1.5 (WATCHDOG_PID is the daemon's own pid, as systemd sets it).
run_daemon() {
  local sock=$T/$1.sock out=$2; shift 2
  listen "$sock" "$out"
  NOTIFY_SOCKET=$sock WATCHDOG_USEC=1500000 bash -c 'export WATCHDOG_PID=$$; exec "$@"' _ "$@" \
    2> "$T/$(basename "$out").log" &
  T_PIDS+=($!)
  T_LAST_PID=$!
}

# check_notify OUT WHO: READY first, pings, RELOADING then READY, STOPPING last.
check_notify() {
  local out=$1 who=$2
  check_grep '^[0-9.]+ READY=1\|STATUS=' "$out" "$who: READY=1 with a status"
  check_grep '^[0-9.]+ RELOADING=1$' "$out" "$who: RELOADING=1 on SIGHUP"
  check_eq "$(grep -c 'READY=1' "$out")" 2 "$who: READY=1 at start and after the reload"
  check_eq "$(tail -n 1 "$out" | cut -d' ' -f2)" "STOPPING=1" "$who: STOPPING=1 last"
  local pings gap
  pings=$(grep -c ' WATCHDOG=1$' "$out")
  if [ "$pings" -ge 3 ]; then ok "$who: $pings watchdog pings"; else not_ok "$who: $pings watchdog pings"; fi
  gap=$(awk '/ WATCHDOG=1$/ { if (p) { d = $1 - p; if (d > m) m = d } p = $1 } END { printf "%.2f", m }' "$out")
  if awk -v g="$gap" 'BEGIN { exit !(g < 1.5) }'; then ok "$who: pings at most $gap s apart (< 1.5 s)"
  else not_ok "$who: pings $gap s apart, the watchdog (1.5 s) would fire"; fi
}

# --- the aggregator ---
port=$(free_port)
echo "a1 notify-token" > "$T/agents.tokens"
printf '[aggregator]\nlisten = 127.0.0.1:%s\ndb_path = %s/db\ntokens_file = %s/agents.tokens\n' \
  "$port" "$T" "$T" > "$T/agg.ini"
run_daemon agg "$T/agg.notify" "$BIN/cadre-aggregator" --config "$T/agg.ini"
agg=$T_LAST_PID
wait_http "http://127.0.0.1:$port/healthz" || { cat "$T/agg.notify.log"; exit 1; }
sleep 2.5
kill -HUP "$agg"; sleep 1
kill -TERM "$agg"; wait "$agg"
check_eq "$?" 0 "aggregator exits 0 on SIGTERM"
check_notify "$T/agg.notify" aggregator

# --- the agent ---
mkdir -p "$T/logs"
: > "$T/logs/tool.jsonl"
echo "notify-token" > "$T/agent.token"
cp "$TESTS_DIR/data/agent/org.key" "$T/org.key"; chmod 600 "$T/org.key"
cat > "$T/agent.ini" <<INI
[agent]
id = a1
aggregator_url = http://127.0.0.1:$port
token_file = $T/agent.token
org_key_file = $T/org.key
state_dir = $T/state
poll_interval_s = 5
[source tool]
type = usage_jsonl
path = $T/logs/*.jsonl
INI
run_daemon agent "$T/agent.notify" "$BIN/cadre-agent" --config "$T/agent.ini"
agent=$T_LAST_PID
for _ in $(seq 50); do grep -q READY "$T/agent.notify" 2>/dev/null && break; sleep 0.1; done
sleep 2.5
kill -HUP "$agent"; sleep 1
kill -TERM "$agent"; wait "$agent"
check_eq "$?" 0 "agent exits 0 on SIGTERM"
check_notify "$T/agent.notify" agent

# Without NOTIFY_SOCKET nothing changes: --once still runs and exits (no socket needed).
"$BIN/cadre-agent" --config "$T/agent.ini" --dry-run > /dev/null 2>&1
check_eq "$?" 0 "the agent runs without a notify socket"
t_done
