#!/usr/bin/env bash
# cadre-aggregator backup while the daemon ingests. A generated site (600 staff, seven
# sources) goes through one agent in batches of 500. Mid-way the agent is paused
# (SIGSTOP): once the stored counts stop moving, the daemon's own 2026Q3 KPI rows
# (GET /api/v1/kpis, computed from its live model) and counts are taken, and a backup is
# made beside the running daemon. The agent goes on to the end, with a second backup
# taken while it runs unpaused. Then each backup is served by a new aggregator: the first
# one's KPI rows and counts equal the original's at the backup point, byte for byte; the
# second one's stored counts (kept in its meta keys) equal the keys its families hold,
# which only a copy made between two batches gives. Also: a backup never overwrites (exit
# 73) and needs a database (exit 66); no temporary folder is left behind.
. "$(dirname "$0")/lib.sh"
t_setup
"$BIN/cadre-gen" --staff 600 --sites 1 --seed 3 --from 2026-01-01 --to 2026-09-30 --quiet --out "$T/data"
head -c 48 /dev/urandom | base64 | tr -d '\n' > "$T/org.key"; chmod 600 "$T/org.key"
echo "tok-1" > "$T/token"; echo "a-1 tok-1" > "$T/tokens"
# agg_ini FILE PORT DB
agg_ini() {
  printf '[aggregator]\nlisten = 127.0.0.1:%s\ndb_path = %s\ntokens_file = %s/tokens\nas_of = 2026-09-30\nmin_group_size = 5\n' \
    "$2" "$3" "$T" > "$1"
}
port=$(free_port)
agg_ini "$T/agg.ini" "$port" "$T/db"
dir=$(ls -d "$T"/data/*/ | head -1)
{
  printf '[agent]\nid = a-1\naggregator_url = http://127.0.0.1:%s\ntoken_file = %s/token\n' "$port" "$T"
  printf 'org_key_file = %s/org.key\nstate_dir = %s/state\nbatch_max_records = 500\n' "$T" "$T"
  for s in staffing_csv:staffing.csv usage_jsonl:usage.jsonl shifts_csv:shifts.csv \
    absences_csv:absences.csv ehr_csv:ehr.csv training_csv:training.csv licences_csv:licences.csv; do
    printf '[source %s]\ntype = %s\npath = %s%s\n' "${s%%_*}" "${s%%:*}" "$dir" "${s#*:}"
  done
} > "$T/agent.ini"
t_bg "$T/agg.log" "$BIN/cadre-aggregator" --config "$T/agg.ini"
agg=$T_LAST_PID
wait_http "http://127.0.0.1:$port/healthz" || exit 1
expected=$(awk '$1 == "total" { for (i = 3; i <= NF; i++) if ($i ~ /^valid_keys=/) { split($i, a, "="); s += a[2] } } END { print s }' "$T/data/summary.txt")
stored() { curl -s "http://127.0.0.1:$1/metrics" | awk '$1 ~ /^cadre_stored_records\{/ { s += $2 } END { print s + 0 }'; }
per_type() { curl -s "http://127.0.0.1:$1/metrics" | grep '^cadre_stored_records{' | sort; }

"$BIN/cadre-agent" --config "$T/agent.ini" --once 2> "$T/agent.log" &
agent=$!
# Staffing goes first, then usage: paused past a third, the rows hold episodes and usage.
for _ in $(seq 300); do [ "$(stored "$port")" -ge $((expected / 3)) ] && break; sleep 0.05; done
kill -STOP "$agent"
prev=-1
for _ in $(seq 100); do now=$(stored "$port"); [ "$now" = "$prev" ] && break; prev=$now; sleep 0.3; done
at=$(stored "$port")
if [ "$at" -gt 0 ] && [ "$at" -lt "$expected" ]; then ok "paused mid-ingest: $at of $expected records stored"
else not_ok "pause point: $at of $expected records stored"; fi
curl -s "http://127.0.0.1:$port/api/v1/kpis?window=2026Q3&format=csv" > "$T/at.csv"
per_type "$port" > "$T/at.types"
"$BIN/cadre-aggregator" backup --config "$T/agg.ini" --to "$T/bk1" 2> "$T/bk1.log"
check_eq "$?" 0 "backup beside the running daemon"
kill -CONT "$agent"
sleep 0.3
"$BIN/cadre-aggregator" backup --config "$T/agg.ini" --to "$T/bk2" 2> "$T/bk2.log"
check_eq "$?" 0 "backup while the agent delivers"
wait "$agent"
check_eq "$?" 0 "the agent delivered everything"
check_eq "$(stored "$port")" "$expected" "the original holds every record"
kill -TERM "$agg"; wait "$agg" 2>/dev/null

# The first backup, served: the original's rows and counts at the backup point.
port2=$(free_port)
agg_ini "$T/r1.ini" "$port2" "$T/bk1"
t_bg "$T/r1.log" "$BIN/cadre-aggregator" --config "$T/r1.ini"
r1=$T_LAST_PID
wait_http "http://127.0.0.1:$port2/healthz" || exit 1
curl -s "http://127.0.0.1:$port2/api/v1/kpis?window=2026Q3&format=csv" > "$T/r1.csv"
per_type "$port2" > "$T/r1.types"
check_eq "$(wc -l < "$T/at.csv")" "$(wc -l < "$T/r1.csv")" "as many KPI rows"
if [ "$(wc -l < "$T/at.csv")" -gt 10 ] && cmp -s "$T/at.csv" "$T/r1.csv"; then
  ok "the restored KPI rows equal the original's at the backup point ($(wc -l < "$T/r1.csv") lines)"
else not_ok "restored KPI rows differ: $(diff "$T/at.csv" "$T/r1.csv" | head -4)"; fi
if cmp -s "$T/at.types" "$T/r1.types"; then ok "the restored stored counts equal the original's"
else not_ok "stored counts differ: $(diff "$T/at.types" "$T/r1.types" | head -4)"; fi
kill -TERM "$r1"; wait "$r1" 2>/dev/null

# The second backup: its counters agree with the keys it holds (the backup log counts the
# keys of each family as it copies them).
port3=$(free_port)
agg_ini "$T/r2.ini" "$port3" "$T/bk2"
t_bg "$T/r2.log" "$BIN/cadre-aggregator" --config "$T/r2.ini"
wait_http "http://127.0.0.1:$port3/healthz" || exit 1
for t in usage staffing shifts absences ehr training licence; do
  keys=$(awk -v t="$t" '$4 == "backup:" && $5 == t { print $6 }' "$T/bk2.log")
  got=$(per_type "$port3" | awk -v t="$t" -F'[ "]' '$2 == t { print $NF }')
  check_eq "$got" "${keys:-missing}" "second backup: $t counter = keys copied"
done
b2=$(stored "$port3")
if [ "$b2" -ge "$at" ] && [ "$b2" -le "$expected" ]; then ok "second backup holds $b2 records (between $at and $expected)"
else not_ok "second backup holds $b2 records"; fi

# Refusals, and nothing left behind.
"$BIN/cadre-aggregator" backup --config "$T/agg.ini" --to "$T/bk1" 2> "$T/again.log"
check_eq "$?" 73 "a backup never overwrites"
check_grep 'exists' "$T/again.log" "says the folder exists"
agg_ini "$T/none.ini" "$port" "$T/nothing-here"
"$BIN/cadre-aggregator" backup --config "$T/none.ini" --to "$T/bk3" 2> "$T/none.log"
check_eq "$?" 66 "no database to back up"
check_eq "$(find "$T" -maxdepth 1 -name '*.tmp-*' | wc -l)" 0 "no temporary folder left"
[ -e "$T/bk3" ] && not_ok "a failed backup left its folder" || ok "a failed backup leaves no folder"
t_done
