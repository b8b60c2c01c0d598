#!/usr/bin/env bash
# Licences end to end: the real agent reads a licences_csv snapshot (with rows it must
# reject), staffing and usage; the real aggregator stores the licences and publishes
# ai_access_ratio and ai_licence_utilisation_ratio on /metrics (28d and 90d) and in the API,
# with type="licence" in the self-metrics. Expected figures worked out by hand:
#
# As-of 2026-09-30: 28d = 09-03..09-30, 90d = 07-03..09-30. N001..N016 are ICU nurses from
# 2025-01-01 (population 16 in both windows).
#   m365-copilot licences from 2026-01-01: N001..N008; github-copilot from 2026-06-01:
#   N009..N014 (14 members with access); C999 has a licence and no episode (unmatched).
#   Usage: N001..N004 m365-copilot.teams on 09-10 (covered by the m365-copilot licence);
#   N005 m365-copilot on 08-01 (in 90d only); N009..N011 github-copilot on 09-20; N012
#   github-copilot on 2026-05-20 (before the licence); N015 m365-copilot on 09-12 (no
#   licence: not in utilisation).
# 28d: access 14/16 = 0.875; utilisation 7/14 = 0.5; by tool m365-copilot 4/8 = 0.5,
#      github-copilot 3/6 = 0.5.
# 90d: access 14/16; utilisation 8/14 = 0.5714285714285714; m365-copilot 5/8 = 0.625.
# Rejected: a tool with a capital and a space (invalid_value tool), a removed_date before
# the assigned_date (invalid_value removed_date), an empty tool (missing_field tool).
. "$(dirname "$0")/lib.sh"
t_setup
port=$(free_port)
d=$T/data
mkdir -p "$d" "$T/state"
head -c 48 /dev/urandom | base64 | tr -d '\n' > "$d/org.key"
chmod 600 "$d/org.key"
echo "lic-token" > "$T/agent.token"
echo "lic-1 lic-token" > "$T/agents.tokens"
{
  echo "staff_id,start_date,department,role"
  for i in $(seq -w 1 16); do echo "N0$i,2025-01-01,ICU,nurse"; done
} > "$d/staffing.csv"
{
  echo "Staff_ID , Tool,assigned_date,removed_date,note"
  for i in $(seq 1 8); do printf 'N%03d,m365-copilot,2026-01-01,,\n' "$i"; done
  for i in $(seq 9 14); do printf 'N%03d,github-copilot,2026-06-01,,"seat, renewed"\n' "$i"; done
  echo "C999,m365-copilot,2026-01-01,,"
  echo "N015,M365 Copilot,2026-01-01,,"
  echo "N016,github-copilot,2026-06-01,2026-05-31,"
  echo "N016,,2026-06-01,,"
} > "$d/licences.csv"
{
  for i in 1 2 3 4; do printf '{"ts":"2026-09-10T10:00:00Z","user":"N%03d","tool":"m365-copilot.teams"}\n' "$i"; done
  echo '{"ts":"2026-08-01T10:00:00Z","user":"N005","tool":"m365-copilot"}'
  for i in 9 10 11; do printf '{"ts":"2026-09-20T10:00:00Z","user":"N%03d","tool":"github-copilot"}\n' "$i"; done
  echo '{"ts":"2026-05-20T10:00:00Z","user":"N012","tool":"github-copilot"}'
  echo '{"ts":"2026-09-12T10:00:00Z","user":"N015","tool":"m365-copilot"}'
} > "$d/usage.jsonl"

cat > "$T/agg.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port
db_path = $T/db
tokens_file = $T/agents.tokens
min_group_size = 5
as_of = 2026-09-30
kpi_refresh_interval_s = 1
INI
cat > "$T/agent.ini" <<INI
[agent]
id = lic-1
aggregator_url = http://127.0.0.1:$port
token_file = $T/agent.token
org_key_file = $d/org.key
state_dir = $T/state
[source scribe]
type = usage_jsonl
path = $d/usage.jsonl
[source hr]
type = staffing_csv
path = $d/staffing.csv
[source seats]
type = licences_csv
path = $d/licences.csv
INI
"$BIN/cadre-agent" --config "$T/agent.ini" --check > /dev/null 2>&1
check_eq "$?" 0 "--check accepts a licences_csv source"
"$BIN/cadre-agent" --config "$T/agent.ini" --dry-run > "$T/dry.jsonl" 2> "$T/dry.log"
check_eq "$(grep -c '"type":"licence"' "$T/dry.jsonl")" 15 "--dry-run: 15 licence records"
check_grep '"tool":"github-copilot","assigned_date":"2026-06-01"' "$T/dry.jsonl" "--dry-run shows a licence's fields"
check_no_grep 'N0|C999' "$T/dry.jsonl" "--dry-run shows no staff id"
check_grep 'line 17: invalid_value tool' "$T/dry.log" "a tool outside [a-z0-9._-] is invalid_value"
check_grep 'line 18: invalid_value removed_date' "$T/dry.log" "removed before assigned is invalid_value"
check_grep 'line 19: missing_field tool' "$T/dry.log" "an empty tool is missing_field"

t_bg "$T/agg.log" "$BIN/cadre-aggregator" --config "$T/agg.ini"
wait_http "http://127.0.0.1:$port/healthz" || { not_ok "aggregator did not start"; cat "$T/agg.log"; t_done; exit 1; }
"$BIN/cadre-agent" --config "$T/agent.ini" --once > /dev/null 2> "$T/agent.log"
check_eq "$?" 0 "agent --once"
sleep 2.5 # the refresh after the last batch
curl -s "http://127.0.0.1:$port/metrics" > "$T/metrics.txt"
for c in 'cadre_ai_access_ratio{window="28d",by="org",group="all"} 0.875' \
  'cadre_ai_access_ratio{window="90d",by="org",group="all"} 0.875' \
  'cadre_ai_access_ratio{window="28d",by="department",group="ICU"} 0.875' \
  'cadre_ai_licence_utilisation_ratio{window="28d",by="org",group="all"} 0.5' \
  'cadre_ai_licence_utilisation_ratio{window="28d",by="tool",group="m365-copilot"} 0.5' \
  'cadre_ai_licence_utilisation_ratio{window="28d",by="tool",group="github-copilot"} 0.5' \
  'cadre_ai_licence_utilisation_ratio{window="90d",by="org",group="all"} 0.5714285714285714' \
  'cadre_ai_licence_utilisation_ratio{window="90d",by="tool",group="m365-copilot"} 0.625' \
  'cadre_stored_records{type="licence"} 15' \
  'cadre_unmatched_records{type="licence"} 1' \
  'cadre_ingest_records_total{type="licence"} 15'; do
  if grep -qxF "$c" "$T/metrics.txt"; then ok "$c"; else
    not_ok "$c: got '$(grep -F "${c% *} " "$T/metrics.txt")'"
  fi
done
# The newest licence's assigned day: 2026-06-01 (C999's 2026-01-01 is older).
check_eq "$(metric "$T/metrics.txt" 'cadre_newest_record_timestamp_seconds{type="licence"}' | awk '{ printf "%d", $1 }')" \
  "$(date -u -d 2026-06-01 +%s)" "newest licence record"
# The API row for the org, and the catalogue.
curl -s "http://127.0.0.1:$port/api/v1/kpis?window=28d&by=tool&format=json" > "$T/tool.json"
check_eq "$(jq -c '[.rows[] | select(.kpi == "ai_licence_utilisation_ratio") | [.group, .numerator, .denominator]]' "$T/tool.json")" \
  '[["github-copilot",3,6],["m365-copilot",4,8]]' "utilisation by tool in the API: numerators and denominators"
"$BIN/cadre-aggregator" kpis | awk -F'\t' '$1 ~ /^ai_(access|licence)/ { print $1, $5, $6 }' > "$T/cat.txt"
check_grep '^ai_access_ratio org,site,department,role 28d,90d$' "$T/cat.txt" "catalogue: access breakdowns and windows"
check_grep '^ai_licence_utilisation_ratio org,site,department,role,tool 28d,90d$' "$T/cat.txt" \
  "catalogue: utilisation breakdowns and windows"
if command -v promtool >/dev/null; then
  check_eq "$(promtool check metrics < "$T/metrics.txt" 2>&1)" "" "promtool check metrics"
fi
t_done
