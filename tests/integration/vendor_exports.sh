#!/usr/bin/env bash
# Vendor exports: every examples/sources mapping runs agent -> aggregator, and gives what
# the same data written in canonical form gives.
#
# tests/tools/vendor_canonical.py rewrites the four sample exports (HR worker report,
# timekeeping punches in US Central local time across both 2026 summer-time changes, EHR
# efficiency in hours, LMS completions) into canonical files with Python's own csv,
# strptime and zoneinfo, and lists the rows a mapping cannot convert. Agent A reads the
# exports through the example mappings, agent B the canonical files, with one org key:
#   - every record of A's --dry-run equals B's, byte for byte (staff keys, instants, days,
#     minutes), and A rejects exactly the rows the converter could not convert;
#   - after --once into two aggregators, every KPI row of the API (28d, 90d, 365d, 2026Q1,
#     2026Q4 and 2026Q3) is the same in both, and there are rows of every family fed.
# Also: the local times of the 2026-03-08 and 2026-11-01 changes resolve as their offsets
# say (worked by hand below), and mapping mistakes are config errors naming the line.
. "$(dirname "$0")/lib.sh"
t_setup
root=$(cd "$(dirname "$0")/../.." && pwd)
ex=$root/examples/sources
mkdir -p "$T/canon" "$T/sa" "$T/sb"
python3 "$root/tests/tools/vendor_canonical.py" "$ex" "$T/canon" || { not_ok "converter failed"; t_done; exit 1; }
head -c 48 /dev/urandom | base64 | tr -d '\n' > "$T/org.key"
echo "vendor-token" > "$T/agent.token"
chmod 600 "$T/org.key" "$T/agent.token"
printf 'va vendor-token\nvb vendor-token-b\n' > "$T/tokens"
echo "vendor-token-b" > "$T/agent-b.token"
chmod 600 "$T/agent-b.token"
pa=$(free_port)
pb=$(free_port)
while [ "$pb" = "$pa" ]; do pb=$(free_port); done

# Agent A: the example sections, with their relative paths made absolute.
{
  printf '[agent]\nid = va\naggregator_url = http://127.0.0.1:%s\ntoken_file = %s\norg_key_file = %s\nstate_dir = %s\n' \
    "$pa" "$T/agent.token" "$T/org.key" "$T/sa"
  for d in hr-worker-report timekeeping-punches ehr-efficiency lms-completions; do
    sed -E -e "s#^(path|value_map\.[a-z_]+) = ([^/].*)#\1 = $ex/$d/\2#" "$ex/$d/source.conf"
  done
} > "$T/a.ini"
# Agent B: canonical files under the same source names.
{
  printf '[agent]\nid = vb\naggregator_url = http://127.0.0.1:%s\ntoken_file = %s\norg_key_file = %s\nstate_dir = %s\n' \
    "$pb" "$T/agent-b.token" "$T/org.key" "$T/sb"
  printf '[source hr]\ntype = staffing_csv\npath = %s/staffing.csv\n' "$T/canon"
  printf '[source timekeeping]\ntype = shifts_csv\npath = %s/shifts.csv\n' "$T/canon"
  printf '[source ehr]\ntype = ehr_csv\npath = %s/ehr.csv\n' "$T/canon"
  printf '[source lms]\ntype = training_csv\npath = %s/training.csv\n' "$T/canon"
} > "$T/b.ini"

"$BIN/cadre-agent" --config "$T/a.ini" --check > "$T/check.out" 2>&1
check_eq "$?" 0 "--check accepts the four example mappings"
check_no_grep 'has no column' "$T/check.out" "--check finds every mapped header in the example files"
"$BIN/cadre-agent" --config "$T/a.ini" --dry-run 2> "$T/a.log" | sort > "$T/a.jsonl"
"$BIN/cadre-agent" --config "$T/b.ini" --dry-run 2> "$T/b.log" | sort > "$T/b.jsonl"
n=$(wc -l < "$T/a.jsonl")
check_eq "$([ "$n" -gt 300 ] && echo many)" many "the mapped exports give records ($n)"
for ty in staffing shifts ehr training; do
  check_eq "$(grep -c "\"type\":\"$ty\"" "$T/a.jsonl")" "$(grep -c "\"type\":\"$ty\"" "$T/b.jsonl")" \
    "as many $ty records mapped as canonical"
done
if cmp -s "$T/a.jsonl" "$T/b.jsonl"; then ok "every mapped record equals its canonical twin"; else
  not_ok "mapped and canonical records differ: $(diff "$T/a.jsonl" "$T/b.jsonl" | head -5)"
fi
grep -o '\[source [a-z]*\] line [0-9]*: [a-z_]* [a-z_]*' "$T/a.log" | sort > "$T/a.rejects"
check_eq "$(cat "$T/a.rejects")" "$(cat "$T/canon/rejects.txt")" "the rows rejected are those the converter could not convert"
check_eq "$(wc -l < "$T/a.rejects")" 3 "three rows rejected (end reason and course not in the map, a skipped wall time; see below)"
check_eq "$(grep -c 'line' "$T/b.log")" 0 "the canonical files have no rejected row"
check_no_grep 'E10[0-9][0-9]|Worker [0-9]|hospital\.example' "$T/a.jsonl" "no staff id, name or e-mail in the records"
check_no_grep 'E10[0-9][0-9]|Worker [0-9]|hospital\.example' "$T/a.log" "no staff id, name or e-mail in the log"

# Summer time, by hand. E1005 (staff index 4) works nights 19:00-07:30. The night of
# 2026-03-07 starts 19:00 CST (-06:00) = 03-08T01:00Z and ends 07:30 CDT (-05:00) =
# 12:30Z: 11.5 h worked. On 2026-10-31 19:00 CDT = 11-01T00:00Z to 07:30 CST = 13:30Z:
# 13.5 h. "11/01/2026 01:30 AM" happens twice: the earlier, CDT, 06:30Z is read.
# "03/08/2026 02:30 AM" never happened: rejected (line 180).
e1005=$(grep '"type":"staffing"' "$T/a.jsonl" | grep '"start_date":"2023-05-30"' | sed -E 's/.*"staff":"([0-9a-f]+)".*/\1/')
check_grep "\"staff\":\"$e1005\",\"start\":\"2026-03-08T01:00:00.000000Z\",\"end\":\"2026-03-08T12:30:00.000000Z\",\"day\":\"2026-03-07\"" \
  "$T/a.jsonl" "a night across the spring change: 11.5 h, on its local start day"
check_grep "\"start\":\"2026-11-01T00:00:00.000000Z\",\"end\":\"2026-11-01T13:30:00.000000Z\",\"day\":\"2026-10-31\"" \
  "$T/a.jsonl" "a night across the autumn change: 13.5 h"
check_grep '"end":"2026-11-01T06:30:00.000000Z"' "$T/a.jsonl" "a repeated wall time is its earlier instant"
check_grep '\[source timekeeping\] line 180: invalid_value start' "$T/a.log" "a skipped wall time is invalid_value"

# End to end: two aggregators, one per agent, same as-of date.
for x in a b; do
  p=$pa; [ $x = b ] && p=$pb
  cat > "$T/agg-$x.ini" <<INI
[aggregator]
listen = 127.0.0.1:$p
db_path = $T/db-$x
tokens_file = $T/tokens
min_group_size = 5
as_of = 2026-11-14
kpi_refresh_interval_s = 1
literacy_courses = ai-literacy-101, ai-literacy-201
INI
  t_bg "$T/agg-$x.log" "$BIN/cadre-aggregator" --config "$T/agg-$x.ini"
  wait_http "http://127.0.0.1:$p/healthz" || { not_ok "aggregator $x did not start"; t_done; exit 1; }
done
"$BIN/cadre-agent" --config "$T/a.ini" --once > /dev/null 2> "$T/a-once.log"
check_eq "$?" 0 "agent A --once"
"$BIN/cadre-agent" --config "$T/b.ini" --once > /dev/null 2> "$T/b-once.log"
check_eq "$?" 0 "agent B --once"
sleep 2.5 # a refresh after the last batch
for w in 28d 90d 365d 2026Q1 2026Q3 2026Q4; do
  curl -s "http://127.0.0.1:$pa/api/v1/kpis?window=$w&format=json" | jq -S '.rows | sort_by(.kpi, .by, .group, (.tool // ""))' > "$T/a-$w.json"
  curl -s "http://127.0.0.1:$pb/api/v1/kpis?window=$w&format=json" | jq -S '.rows | sort_by(.kpi, .by, .group, (.tool // ""))' > "$T/b-$w.json"
  rows=$(jq length "$T/a-$w.json")
  if [ "$rows" -gt 0 ] && cmp -s "$T/a-$w.json" "$T/b-$w.json"; then ok "window $w: the $rows KPI rows are the same"; else
    not_ok "window $w: rows differ ($rows): $(diff "$T/a-$w.json" "$T/b-$w.json" | head -6)"
  fi
done
# Every family the exports feed has rows: training, EHR, shifts and HR.
for k in ai_literacy_ratio ehr_time8_seconds overtime_ratio retention_ratio; do
  check_eq "$(jq --arg k "$k" '[.[] | select(.kpi | startswith($k))] | length > 0' "$T/a-28d.json" "$T/a-2026Q4.json" | sort -u | tail -1)" \
    true "rows of $k"
done
curl -s "http://127.0.0.1:$pa/metrics" > "$T/ma.txt"
curl -s "http://127.0.0.1:$pb/metrics" > "$T/mb.txt"
check_eq "$(grep '^cadre_stored_records' "$T/ma.txt")" "$(grep '^cadre_stored_records' "$T/mb.txt")" "stored records by type"

# A mapped header the export does not have: --check warns (the config itself is fine, and
# tomorrow's export may have it), the poll logs it with the config line, and rows miss
# the field (start_date is required: missing_field on every row).
sed -e 's/start_date=Hire Date/start_date=Hired On/' -e "s#^state_dir = .*#state_dir = $T/shdr#" \
  "$T/a.ini" > "$T/hdr.ini"
"$BIN/cadre-agent" --config "$T/hdr.ini" --check > "$T/hdr.check" 2>&1
check_eq "$?" 0 "--check passes a mapping whose header the file lacks"
check_grep "\[source hr\] $ex/hr-worker-report/workers.csv has no column 'Hired On' \(start_date\)" "$T/hdr.check" \
  "--check names the missing header and its column"
line=$(grep -n '^columns = staff_id=Employee ID, start_date=Hired On' "$T/hdr.ini" | cut -d: -f1)
"$BIN/cadre-agent" --config "$T/hdr.ini" --dry-run > /dev/null 2> "$T/hdr.log"
check_grep "\[source hr\] the file has no column 'Hired On' \(the header of start_date, config line $line\)" "$T/hdr.log" \
  "the poll logs the missing header with the config line"
check_grep '\[source hr\] snapshot .*workers.csv: 0 rows' "$T/hdr.log" "no row without start_date is shipped"
check_grep '\[source hr\] 11 more rows rejected' "$T/hdr.log" "all 21 rows rejected (10 logged one by one, 11 summed up)"

# Mapping mistakes are config errors that name the line (and never start the agent).
bad() { # KEY-VALUE-LINES EXPECTED-MESSAGE WHAT
  { printf '[agent]\nid = v\naggregator_url = http://127.0.0.1:9\ntoken_file = %s\norg_key_file = %s\nstate_dir = %s\n[source x]\ntype = ehr_csv\npath = /nonexistent\n' \
      "$T/agent.token" "$T/org.key" "$T/sx"; printf '%b' "$1"; } > "$T/bad.ini"
  out=$("$BIN/cadre-agent" --config "$T/bad.ini" --check 2>&1)
  rc=$?
  if [ "$rc" = 78 ] && grep -qF -- "$2" <<<"$out"; then ok "$3"; else not_ok "$3: rc $rc, '$out'"; fi
}
bad 'columns = staff_id=Provider, ehr=EHR\n' "bad.ini:10: [source x] columns: 'ehr' is not a column of ehr_csv" "an unknown canonical column"
bad 'columns = staff_id=A\ncolumn.staff_id = B\n' "bad.ini:11: [source x] column.staff_id: staff_id is mapped twice (first on line 10)" "a column mapped twice"
bad 'minutes_from_hours = date\n' "bad.ini:10: [source x] minutes_from_hours: 'date' is not a minutes column of ehr_csv" "hours on a non-minute column"
bad 'value_map.inbox_minutes = /nonexistent/map.csv\n' "bad.ini:10: [source x] value_map.inbox_minutes: cannot read /nonexistent/map.csv" "a missing value map"
bad 'timestamp_format = %Y\n' "bad.ini:10: [source x] timestamp_format: ehr_csv has no timestamp column" "a timestamp format on a type without timestamps"
bad 'date_format = %Q\n' "bad.ini:10: [source x] date_format: %Q is not a conversion" "an unknown conversion"
bad 'timezone = America/Chicago\n' "bad.ini:10: [source x] timezone: applies to timestamp_format" "a timezone without a timestamp format"
printf 'from,to\nA,1\nB,2\nA,3\n' > "$T/dup.csv"
bad "value_map.ehr_minutes = $T/dup.csv\n" "dup.csv: line 4 maps the from value of line 2 to another value" "a value map that contradicts itself"
t_done
