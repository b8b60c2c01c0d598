#!/usr/bin/env bash
# Kill -9 at random moments (SPEC section 3: "Kill -9 of the agent or the aggregator at any
# moment loses no record that a source handed over, and the aggregator counts nothing
# twice"). cadre-gen writes two sites; the north agent is killed 20 times while it ships
# (restarted on the same state_dir; odd rounds with fsync = always, even ones with fsync =
# interval: a kill -9 leaves the page cache behind, so neither may lose a record), then the
# aggregator is killed 20 times while the south agent (fsync = never) ships (restarted on
# the same db_path and port). Stored and unmatched counts must equal summary.txt exactly.
. "$(dirname "$0")/lib.sh"
t_setup

ROUNDS=${ROUNDS:-20}
mkdir -p "$T/keys"
head -c 48 /dev/urandom | base64 > "$T/keys/org.key"
chmod 600 "$T/keys/org.key"
for id in c-north c-south; do
  echo "tok-$id" > "$T/keys/$id.token"
  echo "$id tok-$id"
done > "$T/agents.tokens"

"$BIN/cadre-gen" --staff 1000 --sites 2 --seed 7 --from 2025-10-01 --to 2026-09-30 --out "$T/data" --quiet
check_eq "$?" 0 "cadre-gen"
SUM=$T/data/summary.txt
TYPES="usage staffing shifts absences ehr training licence"
keys() { awk -v s="$1" -v t="$2" '$1 == s && $2 == t { sub("valid_keys=", "", $4); print $4 }' "$SUM"; }
unmatched() {
  awk -v t="$1" '/^# unmatched total / { for (i = 4; i <= NF; i++) { split($i, a, "="); if (a[1] == t) print a[2] } }' "$SUM"
}

port=$(free_port)
url=http://127.0.0.1:$port
cat > "$T/agg.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port
db_path = $T/db
tokens_file = $T/agents.tokens
min_group_size = 5
as_of = 2026-09-30
kpi_refresh_interval_s = 1
INI

for site in north south; do
  {
    echo "[agent]"
    echo "id = c-$site"
    echo "aggregator_url = $url"
    echo "token_file = $T/keys/c-$site.token"
    echo "org_key_file = $T/keys/org.key"
    echo "state_dir = $T/state-$site"
    echo "poll_interval_s = 1"
    echo "batch_max_wait_ms = 100"
    echo "batch_max_records = 2000"
    echo "retry_max_s = 1"
    if [ $site = north ]; then echo "fsync = always"; else echo "fsync = never"; fi
    echo "fsync_interval_ms = 200"
    printf '[source usage]\ntype = usage_jsonl\npath = %s/usage.jsonl\n' "$T/data/$site"
    for t in staffing shifts absences ehr training licences; do
      printf '[source %s]\ntype = %s_csv\npath = %s/%s.csv\n' "$t" "$t" "$T/data/$site" "$t"
    done
  } > "$T/$site.ini"
done

# forget PID: drops a dead process from the cleanup list (its pid may be reused).
forget() {
  local p keep=()
  for p in "${T_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  T_PIDS=("${keep[@]}")
}
kill9() { kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null; forget "$1"; }
rand_sleep() { sleep "$(awk -v r=$((RANDOM % 451 + 50)) 'BEGIN { printf "%.3f", r / 1000 }')"; }
start_agg() { t_bg "$T/agg.$1.log" "$BIN/cadre-aggregator" --config "$T/agg.ini"; AGG=$T_LAST_PID; }

# converge SITE|total SECONDS: waits until the stored counts (and, for total, unmatched)
# equal the summary; WAITED = seconds taken.
converge() {
  local scope=$1 secs=$2 start=$SECONDS good t u
  while [ $((SECONDS - start)) -lt "$secs" ]; do
    curl -s "$url/metrics" > "$T/m.txt" 2>/dev/null
    good=1
    for t in $TYPES; do
      [ "$(metric "$T/m.txt" "cadre_stored_records{type=\"$t\"}")" = "$(keys "$scope" "$t")" ] || { good=0; break; }
      if [ "$scope" = total ]; then
        u=$(unmatched "$t")
        [ -z "$u" ] || [ "$(metric "$T/m.txt" "cadre_unmatched_records{type=\"$t\"}")" = "$u" ] || { good=0; break; }
      fi
    done
    [ $good = 1 ] && break
    sleep 0.3
  done
  WAITED=$((SECONDS - start))
  sleep 1.2; curl -s "$url/metrics" > "$T/m.txt"   # a later refresh: still exact
  for t in $TYPES; do
    check_eq "$(metric "$T/m.txt" "cadre_stored_records{type=\"$t\"}")" "$(keys "$scope" "$t")" "$3: stored $t"
    if [ "$scope" = total ]; then
      u=$(unmatched "$t")
      [ -n "$u" ] && check_eq "$(metric "$T/m.txt" "cadre_unmatched_records{type=\"$t\"}")" "$u" "$3: unmatched $t"
    fi
  done
}

# ------------------------------------------------------------ kill -9 of the agent
start_agg 0
wait_http "$url/healthz" || { cat "$T/agg.0.log"; t_done; exit 1; }
kills=0
for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then mode=always; else mode=interval; fi
  sed -i "s/^fsync = .*/fsync = $mode/" "$T/north.ini"
  t_bg "$T/north.$r.log" "$BIN/cadre-agent" --config "$T/north.ini"
  a=$T_LAST_PID
  rand_sleep
  if kill -0 "$a" 2>/dev/null; then kills=$((kills + 1)); else echo "# round $r: agent had exited: $(tail -2 "$T/north.$r.log")"; fi
  kill9 "$a"
done
echo "# agent killed $kills times"
check_eq "$kills" "$ROUNDS" "agent alive at every kill"
echo "# $(grep -h 'cut off\|torn\|damaged' "$T"/north.*.log | wc -l) torn-tail recoveries logged"
echo "# stored before the final restart: $(curl -s "$url/metrics" | grep '^cadre_stored_records' | tr '\n' ' ')"
t_bg "$T/north.final.log" "$BIN/cadre-agent" --config "$T/north.ini"
NORTH=$T_LAST_PID
converge north 60 "after $kills agent kills"
echo "# north converged ${WAITED}s after the last agent restart"

# ------------------------------------------------------------ kill -9 of the aggregator
t_bg "$T/south.log" "$BIN/cadre-agent" --config "$T/south.ini"
SOUTH=$T_LAST_PID
akills=0
for r in $(seq "$ROUNDS"); do
  rand_sleep
  kill -0 "$AGG" 2>/dev/null && akills=$((akills + 1))
  kill9 "$AGG"
  start_agg "$r"
  [ "$r" = $((ROUNDS / 2)) ] && echo "# mid-way: $(grep -o 'batch [0-9]*' "$T/south.log" | tail -1)"
done
echo "# aggregator killed $akills times"
check_eq "$akills" "$ROUNDS" "aggregator alive at every kill"
# The last one must come up (a lock or the port left behind would show here).
if ! wait_http "$url/healthz" 20; then
  tail -5 "$T/agg.$ROUNDS.log"
  kill9 "$AGG"; start_agg final; wait_http "$url/healthz" 20
fi
converge total 60 "after $akills aggregator kills"
echo "# total converged ${WAITED}s after the last aggregator restart"
kill -0 "$NORTH" 2>/dev/null && ok "north agent still running" || not_ok "north agent died"
kill -0 "$SOUTH" 2>/dev/null && ok "south agent still running" || not_ok "south agent died"
started=$(grep -l 'listening on' "$T"/agg.*.log | wc -l)
echo "# $started of $((ROUNDS + 1)) aggregator starts reached 'listening'"
check_no_grep 'rejected' "$T/south.log" "no batch rejected"

t_done
