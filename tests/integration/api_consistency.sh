#!/usr/bin/env bash
# Over a generated health system: the API's CSV and JSON rows agree cell by cell, in every
# /metrics window the gauges equal the API's published cells exactly, and no suppressed cell
# reaches /metrics.
. "$(dirname "$0")/lib.sh"
t_setup
"$BIN/cadre-gen" --staff 400 --sites 2 --seed 3 --from 2025-10-01 --to 2026-09-30 --quiet --out "$T/data"
check_eq "$?" 0 "generator"
head -c 48 /dev/urandom | base64 | tr -d '\n' > "$T/org.key"; chmod 600 "$T/org.key"
port=$(free_port)
: > "$T/tokens"
cat > "$T/agg.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port
db_path = $T/db
tokens_file = $T/tokens
as_of = 2026-09-30
min_group_size = 10
kpi_refresh_interval_s = 1
INI
for dir in "$T"/data/*/; do
  site=$(basename "$dir")
  echo "tok-$site" > "$T/token-$site"
  echo "a-$site tok-$site" >> "$T/tokens"
  cat > "$T/agent-$site.ini" <<INI
[agent]
id = a-$site
aggregator_url = http://127.0.0.1:$port
token_file = $T/token-$site
org_key_file = $T/org.key
state_dir = $T/state-$site
[source u]
type = usage_jsonl
path = ${dir}usage.jsonl
[source s]
type = staffing_csv
path = ${dir}staffing.csv
[source sh]
type = shifts_csv
path = ${dir}shifts.csv
[source a]
type = absences_csv
path = ${dir}absences.csv
[source e]
type = ehr_csv
path = ${dir}ehr.csv
[source t]
type = training_csv
path = ${dir}training.csv
[source l]
type = licences_csv
path = ${dir}licences.csv
INI
done
t_bg "$T/agg.log" "$BIN/cadre-aggregator" --config "$T/agg.ini"
wait_http "http://127.0.0.1:$port/healthz" || exit 1
for f in "$T"/agent-*.ini; do
  "$BIN/cadre-agent" --config "$f" --once 2>>"$T/agents.log"
  check_eq "$?" 0 "agent $(basename "$f") --once"
done
sleep 3 # the refresh after the last batch (interval 1 s, debounce 1 s)
base="http://127.0.0.1:$port"
curl -s "$base/metrics" > "$T/metrics.txt"
curl -s "$base/api/v1/kpis?window=28d&format=csv" > "$T/28d.csv"
curl -s "$base/api/v1/kpis?window=28d&format=json" > "$T/28d.json"
curl -s "$base/api/v1/kpis?window=2026Q3&format=csv" > "$T/q.csv"
curl -s "$base/api/v1/kpis?window=2026Q3&format=json" > "$T/q.json"

# CSV rows -> "kpi|by|group|value|suppressed" with a quote-aware splitter.
csv_cells() {
  awk '
  function split_csv(line,   i, c, q, n, cur) {
    n = 1; cur = ""; q = 0
    for (i = 1; i <= length(line); i++) {
      c = substr(line, i, 1)
      if (q && c == "\"" && substr(line, i + 1, 1) == "\"") { cur = cur c; i++ }
      else if (c == "\"") q = !q
      else if (c == "," && !q) { f[n++] = cur; cur = "" }
      else cur = cur c
    }
    f[n] = cur
  }
  NR > 1 { split_csv($0); print f[2] "|" f[3] "|" f[4] "|" f[5] "|" f[8] }' "$1" | sort
}
# JSON rows (one object per line as the API writes them) -> the same shape.
json_cells() {
  grep '^,\?{"window"' "$1" | sed -E \
    's/^,?\{"window":"[^"]*","kpi":"([^"]*)","by":"([^"]*)","group":"((\\.|[^"\\])*)","value":([^,]*),.*"suppressed":(true|false).*/\1|\2|\3|\5|\6/' |
    sed -E 's/\|null\|/||/; s/\\"/"/g; s/\\\\/\\/g' | sort
}
for w in 28d q; do
  csv_cells "$T/$w.csv" > "$T/$w.csv.cells"
  json_cells "$T/$w.json" > "$T/$w.json.cells"
  n=$(wc -l < "$T/$w.csv.cells")
  [ "$n" -gt 100 ] && ok "$w: $n rows" || not_ok "$w: only $n rows"
  if cmp -s "$T/$w.csv.cells" "$T/$w.json.cells"; then ok "$w: CSV and JSON agree on every cell"
  else not_ok "$w: CSV and JSON differ: $(diff "$T/$w.csv.cells" "$T/$w.json.cells" | head -4)"; fi
done
check_grep '\|true$' "$T/28d.csv.cells" "some cells are suppressed (min_group_size 10)"
check_grep '\|false$' "$T/28d.csv.cells" "some cells are published"

# /metrics, every window it carries: each gauge equals the API's published value for the
# same cell, no suppressed cell appears (suppressed for any reason: small groups, their
# complements, one person dominating an hours cell, a drift or stderr cell following its
# cell), and the gauges are exactly the published cells of the KPIs /metrics carries in
# that window (the catalogue's windows).
for w in 7d 28d 90d 365d; do
  [ -f "$T/$w.csv.cells" ] || { curl -s "$base/api/v1/kpis?window=$w&format=csv" > "$T/$w.csv"
                                csv_cells "$T/$w.csv" > "$T/$w.csv.cells"; }
  "$BIN/cadre-aggregator" kpis | awk -F'\t' -v w="$w" 'NR > 1 && ("," $6 ",") ~ ("," w ",") { print $1 }' \
    > "$T/kpis.$w"
  awk -F'|' -v w="$w" 'NR == FNR { k[$1] = 1; next }
    $5 == "false" && ($1 in k) { print "cadre_" $1 "{window=\"" w "\",by=\"" $2 "\",group=\"" $3 "\"} " $4 }' \
    "$T/kpis.$w" "$T/$w.csv.cells" | sort > "$T/api.$w.gauges"
  # (cadre_loadoff_adopters and _controls carry an outcome label: not KPI cells.)
  grep -E "^cadre_[a-z0-9_]+\{window=\"$w\",by=\"[^\"]*\",group=\"([^\"\\\\]|\\\\.)*\"\} " \
    "$T/metrics.txt" | sort > "$T/metric.$w.gauges"
  check_eq "$(comm -13 "$T/api.$w.gauges" "$T/metric.$w.gauges" | wc -l)" 0 \
    "$w gauges on /metrics not equal to a published API cell"
  check_eq "$(comm -23 "$T/api.$w.gauges" "$T/metric.$w.gauges" | wc -l)" 0 \
    "$w published API cells of /metrics KPIs missing from /metrics"
  awk -F'|' -v w="$w" '$5 == "true" { print "cadre_" $1 "{window=\"" w "\",by=\"" $2 "\",group=\"" $3 "\"}" }' \
    "$T/$w.csv.cells" > "$T/suppressed.$w.keys"
  leak=$(awk 'NR == FNR { s[$1] = 1; next } { k = $1 } (k in s)' "$T/suppressed.$w.keys" "$T/metric.$w.gauges" | wc -l)
  check_eq "$leak" 0 "suppressed $w cells on /metrics"
done
cp "$T/metric.28d.gauges" "$T/metric.gauges"
check_grep '^cadre_adoption_ratio\{window="28d",by="org",group="all"\} ' "$T/metric.gauges" "org adoption on /metrics"
check_grep '^cadre_ai_access_ratio\{window="28d",by="org",group="all"\} ' "$T/metric.gauges" \
  "org licence access on /metrics (28d)"
check_grep '^cadre_ai_licence_utilisation_ratio\{window="90d",by="tool",' "$T/metric.90d.gauges" \
  "licence utilisation by tool on /metrics (90d)"
check_grep '^cadre_ai_output_[a-z]+_drift_z\{window="7d",by="tool",' "$T/metric.7d.gauges" \
  "drift z scores on /metrics (7d)"
check_grep '^cadre_loadoff_overtime_change\{window="365d",by="org",group="all"\} ' "$T/metric.365d.gauges" \
  "org load-off change on /metrics (365d)"
check_grep '^cadre_loadoff_overtime_change_stderr\{window="365d",by="org",group="all"\} ' \
  "$T/metric.365d.gauges" "org load-off stderr on /metrics (365d), its value the square root"
check_grep '^cadre_loadoff_adopters\{window="365d",by="org",group="all",outcome="overtime"\} [1-9]' \
  "$T/metrics.txt" "adopters behind the org load-off change"
# The KPIs /metrics carries in 28d, from the catalogue (`cadre-aggregator kpis`).
"$BIN/cadre-aggregator" kpis | awk -F'\t' 'NR > 1 && ("," $6 ",") ~ /,28d,/ { print $1 }' > "$T/kpis28"
check_eq "$(metric "$T/metrics.txt" 'cadre_suppressed_cells{window="28d"}')" \
  "$(awk -F'|' 'NR == FNR { k[$1] = 1; next } $5 == "true" && ($1 in k)' "$T/kpis28" "$T/28d.csv.cells" | wc -l)" \
  "cadre_suppressed_cells{window=28d} counts the suppressed cells of the KPIs /metrics carries in 28d"
t_done
