#!/usr/bin/env bash
# A CSV snapshot source in bounded memory: a 2,000,000-row shifts export (20,000 staff x
# 100 days, made by awk) goes through `cadre-agent --once` to a real aggregator on
# loopback. The agent's peak RSS (GNU time's %M) must stay within 64 MiB; the aggregator
# stores 2,000,000 shifts. One row's overtime then changes: the second --once ships exactly
# one record (the agent's log line, and the aggregator's ingested count grows by one) and
# the stored count stays 2,000,000 (docs/agent.md, "CSV snapshot sources"). fsync = never
# and sync_writes = false keep it within a minute on a small machine.
. "$(dirname "$0")/lib.sh"
t_setup
# A binary built with SANITIZE=1 links ASan: its RSS says nothing about the agent's.
SANITIZED=$(ldd "$BIN/cadre-agent" 2>/dev/null | grep -q libasan && echo 1)

# CSV_MEMORY_STAFF=50000 makes the 5,000,000-row case (not run by default: ~2 minutes).
STAFF=${CSV_MEMORY_STAFF:-20000}
DAYS=100
ROWS=$((STAFF * DAYS))
port=$(free_port)
data=$T/data
mkdir -p "$data"
cp "$TESTS_DIR/data/agent/org.key" "$data/org.key"
chmod 600 "$data/org.key"
echo "csv-memory-token" > "$T/agent.token"
printf 'mem-1 csv-memory-token\n' > "$T/agents.tokens"

# gen_shifts CHANGED_STAFF: writes the export; CHANGED_STAFF's first shift gets 9.5 hours
# of overtime instead of its usual value (-1: no row changed).
gen_shifts() {
  awk -v staff="$STAFF" -v days="$DAYS" -v changed="$1" 'BEGIN {
    split("31 28 31 30 31 30 31 31 30 31 30 31", ml, " ")
    m = 1; d = 1
    for (i = 0; i < days; i++) {
      date[i] = sprintf("2026-%02d-%02d", m, d)
      if (++d > ml[m]) { d = 1; m++ }
    }
    print "staff_id,start,end,overtime_hours"
    for (s = 0; s < staff; s++)
      for (i = 0; i < days; i++)
        printf "S%05d,%sT07:00:00Z,%sT19:00:00Z,%s\n", s, date[i], date[i],
               (s == changed && i == 0) ? "9.5" : sprintf("%d.5", (s + i) % 3)
  }' > "$data/shifts.tmp" && mv "$data/shifts.tmp" "$data/shifts.csv"
}

cat > "$T/agg.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port
db_path = $T/db
tokens_file = $T/agents.tokens
as_of = 2026-09-30
sync_writes = false
kpi_refresh_interval_s = 1
INI

cat > "$T/agent.ini" <<INI
[agent]
id = mem-1
aggregator_url = http://127.0.0.1:$port
token_file = $T/agent.token
org_key_file = $data/org.key
state_dir = $T/state
fsync = never
[source roster]
type = shifts_csv
path = $data/shifts.csv
INI

t_bg "$T/agg.log" "$BIN/cadre-aggregator" --config "$T/agg.ini"
wait_http "http://127.0.0.1:$port/healthz" || { cat "$T/agg.log"; exit 1; }

# run_once N: one --once under GNU time; sets RSS_KB and SECS.
run_once() {
  /usr/bin/time -f '%M %e' -o "$T/time$1.txt" \
    "$BIN/cadre-agent" --config "$T/agent.ini" --once >/dev/null 2>"$T/agent$1.log"
  check_eq "$?" 0 "agent --once exit status, run $1"
  read -r RSS_KB SECS < "$T/time$1.txt"
  echo "# run $1: peak RSS $RSS_KB KiB, $SECS s"
  if [ -n "$SANITIZED" ]; then
    echo "# run $1: the 64 MiB ceiling is not checked on a sanitizer build (ASan's shadow memory and quarantine)"
  elif [ "$RSS_KB" -le 65536 ]; then ok "run $1 peak RSS $RSS_KB KiB <= 65536"
  else not_ok "run $1 peak RSS $RSS_KB KiB > 65536"; fi
}

# stored_shifts WANT: waits until /metrics shows WANT stored shifts; prints the last value.
stored_shifts() {
  local v i
  for i in $(seq 150); do
    curl -s "http://127.0.0.1:$port/metrics" > "$T/metrics.txt"
    v=$(metric "$T/metrics.txt" 'cadre_stored_records{type="shifts"}')
    [ "$v" = "$1" ] && break
    sleep 0.2
  done
  echo "$v"
}

gen_shifts -1
run_once 1
check_grep "\[source roster\] snapshot .*: $ROWS rows, $ROWS changed, 0 deleted" "$T/agent1.log" \
  "first run ships every row"
check_eq "$(stored_shifts "$ROWS")" "$ROWS" "stored shifts after the first run"

gen_shifts 12345
run_once 2
check_grep "\[source roster\] snapshot .*: $ROWS rows, 1 changed, 0 deleted" "$T/agent2.log" \
  "second run ships the one changed row"
check_eq "$(stored_shifts "$ROWS")" "$ROWS" "stored shifts after the second run (one replaced)"
check_eq "$(metric "$T/metrics.txt" 'cadre_ingest_records_total{type="shifts"}')" \
  "$((ROWS + 1))" "shift records ingested over both runs (the second run sent one)"

t_done
