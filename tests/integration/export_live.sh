#!/usr/bin/env bash
# The quarterly export while the daemon ingests (a read-only secondary beside it), and,
# once ingest is done, the same rows as the daemon's own /api/v1/export; then with the
# daemon stopped.
. "$(dirname "$0")/lib.sh"
t_setup
"$BIN/cadre-gen" --staff 800 --sites 1 --seed 5 --from 2026-01-01 --to 2026-09-30 --quiet --out "$T/data"
head -c 48 /dev/urandom | base64 | tr -d '\n' > "$T/org.key"; chmod 600 "$T/org.key"
port=$(free_port)
echo "tok-1" > "$T/token"; echo "a-1 tok-1" > "$T/tokens"
cat > "$T/agg.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port
db_path = $T/db
tokens_file = $T/tokens
as_of = 2026-09-30
kpi_refresh_interval_s = 1
INI
dir=$(ls -d "$T"/data/*/ | head -1)
cat > "$T/agent.ini" <<INI
[agent]
id = a-1
aggregator_url = http://127.0.0.1:$port
token_file = $T/token
org_key_file = $T/org.key
state_dir = $T/state
batch_max_records = 500
[source u]
type = usage_jsonl
path = ${dir}usage.jsonl
[source s]
type = staffing_csv
path = ${dir}staffing.csv
[source sh]
type = shifts_csv
path = ${dir}shifts.csv
INI
t_bg "$T/agg.log" "$BIN/cadre-aggregator" --config "$T/agg.ini"
wait_http "http://127.0.0.1:$port/healthz" || exit 1
"$BIN/cadre-agent" --config "$T/agent.ini" --once 2>"$T/agent.log" &
agent=$!
n=0 fails=0
while kill -0 "$agent" 2>/dev/null && [ $n -lt 20 ]; do
  n=$((n + 1))
  "$BIN/cadre-aggregator" export --config "$T/agg.ini" --quarter 2026Q3 --format json \
    --out "$T/live-$n.json" 2>>"$T/export.log"
  rc=$?
  # While staffing may not have arrived yet the quarter can be empty (exit 65); anything
  # else must be a complete document.
  if [ $rc -eq 0 ]; then grep -q '^\]}$' "$T/live-$n.json" || fails=$((fails + 1))
  elif [ $rc -ne 65 ]; then fails=$((fails + 1)); fi
done
wait "$agent"
check_eq "$?" 0 "agent --once"
[ $n -ge 1 ] && ok "$n exports ran during ingest" || not_ok "no export ran during ingest"
check_eq "$fails" 0 "exports during ingest that failed or were cut short"
sleep 3 # the refresh after the last batch
"$BIN/cadre-aggregator" export --config "$T/agg.ini" --quarter 2026Q3 --format json --out "$T/cli.json"
check_eq "$?" 0 "export after ingest"
curl -s "http://127.0.0.1:$port/api/v1/export?quarter=2026Q3&format=json" > "$T/api.json"
if cmp -s "$T/cli.json" "$T/api.json"; then ok "the CLI export equals /api/v1/export"
else not_ok "CLI and API exports differ: $(diff "$T/cli.json" "$T/api.json" | head -3)"; fi
check_grep '"kpi":"adoption_ratio","by":"org"' "$T/cli.json" "the export has the org adoption row"
kill -TERM "$T_LAST_PID"; wait "$T_LAST_PID" 2>/dev/null
"$BIN/cadre-aggregator" export --config "$T/agg.ini" --quarter 2026Q3 --format csv --out "$T/stopped.csv"
check_eq "$?" 0 "export with the daemon stopped"
check_eq "$(head -1 "$T/stopped.csv")" "window,kpi,by,group,value,numerator,denominator,suppressed,window_start,window_end,prev_value,delta" "CSV header"
"$BIN/cadre-aggregator" export --config "$T/agg.ini" --quarter 2026Q4 --format csv --out "$T/x.csv" 2>"$T/err"
check_eq "$?" 65 "a quarter after the as-of day"
check_grep 'starts after the as-of day' "$T/err" "says why"
# A symlink planted where the old code put its temp file (PATH.tmp-PID; bash's $$ is the
# export's PID after exec) must not be written through: the victim stays as it was.
echo "precious" > "$T/victim"
bash -c 'ln -s "$1/victim" "$1/planted.csv.tmp-$$"; exec "$2" export --config "$1/agg.ini" --quarter 2026Q3 --format csv --out "$1/planted.csv"' _ "$T" "$BIN/cadre-aggregator"
check_eq "$?" 0 "export beside a planted symlink"
check_eq "$(cat "$T/victim")" "precious" "the symlink's target is untouched"
check_eq "$(head -1 "$T/planted.csv" | cut -d, -f1-2)" "window,kpi" "the export is written to its own path"
check_eq "$(stat -c %a "$T/planted.csv")" 644 "the export's mode is 644"
check_eq "$(find "$T" -maxdepth 1 -name 'planted.csv.tmp-*' ! -type l | wc -l)" 0 "no temp file left"
ls "$T"/db.secondary-* >/dev/null 2>&1 && not_ok "secondary scratch folders left behind" || ok "no secondary scratch folder left"
t_done
