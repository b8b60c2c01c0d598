#!/usr/bin/env bash
# make bench: measures Cadre and writes docs/BENCHMARKS.md. Machines are shared and noisy,
# so figures are medians of repeated runs where the time allows, with ratios to RocksDB's
# own db_bench run in the same command on the same disk.
#
# Environment:
#   BENCH_STAFF, BENCH_DAYS  KPI engine scale (50000, 730)
#   BENCH_SCALES             staff counts for end-to-end ingest ("5000 20000 50000")
#   BENCH_RUNS               runs at the first scale, for medians (3)
#   BENCH_SOURCE_STAFF       data set of the per-source agent runs (20000)
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BIN:?}" "${BUILD:?}"
staff=${BENCH_STAFF:-50000}
days=${BENCH_DAYS:-730}
scales=${BENCH_SCALES:-5000 20000 50000}
runs=${BENCH_RUNS:-3}
source_staff=${BENCH_SOURCE_STAFF:-20000}
out=docs/BENCHMARKS.md
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cadre-bench.XXXXXX")
agg=
cleanup() {
  [ -n "$agg" ] && kill -TERM "$agg" 2>/dev/null && wait "$agg" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
say() { echo "bench: $*" >&2; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }'; } # KiB -> MB
fmt() { awk -v x="$1" -v f="$2" 'BEGIN { printf f, x }'; }

say "KPI engine on a synthetic model of $staff staff x $days days"
"$BUILD/bench/kpi_bench" "$staff" "$days" > "$tmp/kpi.txt"
cat "$tmp/kpi.txt" >&2

# --- The aggregator and agents used below ---------------------------------------------
head -c 48 /dev/urandom | base64 | tr -d '\n' > "$tmp/org.key"; chmod 600 "$tmp/org.key"
echo "tok-bench" > "$tmp/token"
echo "bench tok-bench" > "$tmp/tokens"
port=$(for p in $(shuf -i 20000-32000 -n 20); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; break; }; done)
cat > "$tmp/agg.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port
db_path = $tmp/db
tokens_file = $tmp/tokens
as_of = 2026-09-30
kpi_refresh_interval_s = 60
sync_writes = true
INI
# agent_ini FILE SOURCES_DIR [TYPE]: one agent, fsync = always, every source of a generated
# site (or only TYPE's).
agent_ini() {
  local f=$1 dir=$2 only=${3:-}
  cat > "$f" <<INI
[agent]
id = bench
aggregator_url = http://127.0.0.1:$port
token_file = $tmp/token
org_key_file = $tmp/org.key
state_dir = $tmp/state
fsync = always
once_timeout_s = 7200
INI
  local t
  for t in usage_jsonl:usage.jsonl staffing_csv:staffing.csv shifts_csv:shifts.csv \
    absences_csv:absences.csv ehr_csv:ehr.csv training_csv:training.csv licences_csv:licences.csv; do
    [ -n "$only" ] && [ "$only" != "${t%%:*}" ] && continue
    printf '[source %s]\ntype = %s\npath = %s/%s\n' "${t%%_*}" "${t%%:*}" "$dir" "${t#*:}" >> "$f"
  done
}
start_agg() {
  rm -rf "$tmp/db" "$tmp/state"
  sync # no write-back left from an earlier run lands in this one
  "$BIN/cadre-aggregator" --config "$tmp/agg.ini" 2> "$tmp/agg.log" &
  agg=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
}
stop_agg() { kill -TERM "$agg"; wait "$agg" || true; agg=; }
metric() { curl -s "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 } END { printf "%.9g\n", s }'; }
agg_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$agg/stat"; }
agg_hwm() { awk '/VmHWM/ { print $2 }' "/proc/$agg/status"; }
# run_agent INI: --once under GNU time; prints "wall user sys max_rss_kib".
run_agent() {
  /usr/bin/time -f '%e %U %S %M' -o "$tmp/agent.time" "$BIN/cadre-agent" --config "$1" --once 2> "$tmp/agent.log"
  cat "$tmp/agent.time"
}
# fillseq N SYNC BATCH: db_bench's ops/s writing N 24-byte keys with 60-byte values.
fillseq() {
  rm -rf "$tmp/dbbench"
  db_bench --benchmarks=fillseq --num="$1" --value_size=60 --key_size=24 --batch_size="$3" \
    --sync="$2" --db="$tmp/dbbench" --compression_type=lz4 > "$tmp/dbbench.txt" 2>&1 || true
  rm -rf "$tmp/dbbench"
  awk '/^fillseq/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^ops\/sec/) print $i }' "$tmp/dbbench.txt"
}

# --- End to end, one agent with seven sources into one aggregator, per scale -----------
# e2e STAFF: appends "staff records wall agent_user agent_sys agent_rss agg_cpu agg_rss
# refresh" to $tmp/e2e.
e2e() {
  local s=$1 dir=$tmp/data-$1
  start_agg
  agent_ini "$tmp/agent.ini" "$dir/north"
  local t0 t1 a
  t0=$(date +%s.%N)
  a=$(run_agent "$tmp/agent.ini")
  t1=$(date +%s.%N)
  local cpu rss stored end
  cpu=$(agg_cpu); rss=$(agg_hwm); stored=$(metric cadre_stored_records)
  # The refresh that follows the last batch: its duration is the figure (every KPI, every
  # breakdown, all /metrics windows over the whole data set).
  end=$(date +%s)
  for _ in $(seq 600); do
    awk -v e="$end" -v l="$(metric cadre_kpi_last_refresh_timestamp_seconds)" 'BEGIN { exit !(l >= e) }' && break
    sleep 0.5
  done
  echo "$s $stored $(echo "$t1 - $t0" | bc -l) $(echo "$a" | awk '{ print $2, $3, $4 }') $cpu $rss $(metric cadre_kpi_refresh_duration_seconds)" >> "$tmp/e2e"
  stop_agg
}
: > "$tmp/e2e"; : > "$tmp/fill"
first=
for s in $scales; do
  say "end to end: generating $s staff"
  "$BIN/cadre-gen" --staff "$s" --sites 1 --seed 1 --quiet --out "$tmp/data-$s"
  n=1; [ -z "$first" ] && { first=$s; n=$runs; }
  for r in $(seq "$n"); do
    say "end to end: $s staff, run $r of $n"
    e2e "$s"
    recs=$(tail -n 1 "$tmp/e2e" | awk '{ print $2 }')
    say "db_bench fillseq, $recs records, no sync, batch 100 / synced, batch 5000"
    echo "$s $(fillseq "$recs" 0 100) $(fillseq "$recs" 1 5000)" >> "$tmp/fill"
  done
  [ "$s" = "$source_staff" ] || [ "$s" = "$first" ] || rm -rf "$tmp/data-$s"
done
# The KPI engine again, on the generated data the last scale stored (its database is
# still there: the aggregator has stopped).
last=${scales##* }
say "KPI engine on the stored $last-staff data set"
"$BUILD/bench/kpi_bench" --db "$tmp/db" > "$tmp/kpi-db.txt"
cat "$tmp/kpi-db.txt" >&2

# --- Agent per source type ------------------------------------------------------------
src_dir=$tmp/data-$source_staff
if [ ! -d "$src_dir" ]; then
  say "generating $source_staff staff for the per-source runs"
  "$BIN/cadre-gen" --staff "$source_staff" --sites 1 --seed 1 --quiet --out "$src_dir"
fi
: > "$tmp/src"
for r in $(seq "$runs"); do
  for type in usage_jsonl staffing_csv shifts_csv absences_csv ehr_csv training_csv licences_csv; do
    say "agent alone: $type ($source_staff staff), run $r of $runs"
    start_agg
    agent_ini "$tmp/agent-src.ini" "$src_dir/north" "$type"
    a=$(run_agent "$tmp/agent-src.ini")
    echo "$type $(metric cadre_stored_records) $a $(agg_cpu)" >> "$tmp/src"
    stop_agg
  done
done

# --- The report -----------------------------------------------------------------------
col_median() { # FILE KEY KEYCOL COL: median of column COL over rows whose KEYCOL is KEY
  awk -v k="$2" -v kc="$3" -v c="$4" '$kc == k { print $c }' "$1" | median
}
# The API pollers against the stand-in vendor server (bench/pollers.sh).
say "API pollers"
BIN="$BIN" bash bench/pollers.sh > "$tmp/pollers.md"

{
  echo "# Benchmarks"
  echo
  echo "Produced by \`make bench\` (\`bench/run.sh\`) on $(nproc) cores, $(date -u +%Y-%m-%d)."
  echo "Each section says how many runs it took; medians where there are several."
  echo
  echo "## KPI engine"
  echo
  echo "\`build/bench/kpi_bench $staff $days\` builds the in-memory model through the"
  echo "same function ingest uses, then times a full refresh (every KPI, every breakdown,"
  echo "windows 7d, 28d, 90d and 365d, suppression and /metrics rendering) and one quarter,"
  echo "then the same refresh without the load-off estimates to show their share; then"
  echo "\`kpi_bench --db\` does the same on the database the $last-staff end-to-end run"
  echo "below stored (generated data: adoption spread over two years, so many more load-off"
  echo "estimates). Medians of 5. Targets: refresh <= 1 s at 50,000 staff x 730 days,"
  echo "quarter query <= 1 s."
  echo
  echo '```'
  cat "$tmp/kpi.txt"
  echo
  cat "$tmp/kpi-db.txt"
  echo '```'
  echo
  echo "## End to end"
  echo
  echo "\`cadre-gen --staff N --sites 1 --seed 1\` (two years, seven sources), one"
  echo "\`cadre-agent --once\` with all seven sources (\`fsync = always\`) into one"
  echo "\`cadre-aggregator\` on loopback (\`sync_writes = true\`), fresh database each run."
  echo "Baselines, on the same disk right after each run: \`db_bench --benchmarks=fillseq"
  echo "--num=RECORDS --value_size=60 --key_size=24 --compression_type=lz4\` with"
  echo "\`--sync=0 --batch_size=100\` (no sync) and \`--sync=1 --batch_size=5000\` (synced)."
  echo "Target: ingest >= 0.25 x the no-sync fillseq. The first scale is the median of"
  echo "$runs runs (ratios taken per run); the others are one run each."
  echo
  echo "| staff | records | ingest wall | records/s | / fillseq no sync | / fillseq synced | agent CPU | agent peak RSS | aggregator CPU per record | aggregator peak RSS | RSS per stored record | KPI refresh |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  for s in $scales; do
    paste -d' ' <(awk -v s="$s" '$1 == s' "$tmp/e2e") <(awk -v s="$s" '$1 == s { print $2, $3 }' "$tmp/fill") |
      awk '{ rate = $2 / $3; print $2, $3, rate, rate / $10, rate / $11, $4 + $5, $6, $7 / $2 * 1e6, $8, $8 * 1024 / $2, $9 }' > "$tmp/rows"
    m() { awk -v c="$1" '{ print $c }' "$tmp/rows" | median; }
    echo "| $s | $(m 1) | $(fmt "$(m 2)" '%.1f') s | $(fmt "$(m 3)" '%.0f') | $(fmt "$(m 4)" '%.3f') | $(fmt "$(m 5)" '%.3f') | $(fmt "$(m 6)" '%.1f') s | $(mb "$(m 7)") MB | $(fmt "$(m 8)" '%.2f') µs | $(mb "$(m 9)") MB | $(fmt "$(m 10)" '%.0f') B | $(fmt "$(m 11)" '%.3f') s |"
  done
  echo
  echo "db_bench fillseq at each scale (ops/s, no sync / synced):"
  echo
  awk '{ printf "- %s staff: %s / %s\n", $1, $2, $3 }' "$tmp/fill"
  echo
  echo "## Agent per source type"
  echo
  echo "One source of the $source_staff-staff data set at a time, \`cadre-agent --once\`"
  echo "(\`fsync = always\`) into a fresh aggregator; \`/usr/bin/time -f '%e %U %S %M'\`"
  echo "around the agent. Medians of $runs runs. Target: agent peak RSS <= 64 MB on any input."
  echo
  echo "| source type | records | wall | agent CPU (user + sys) | agent CPU per record | agent peak RSS | aggregator CPU |"
  echo "|---|---|---|---|---|---|---|"
  for type in usage_jsonl staffing_csv shifts_csv absences_csv ehr_csv training_csv licences_csv; do
    recs=$(col_median "$tmp/src" "$type" 1 2)
    cpu=$(awk -v t="$type" '$1 == t { print $4 + $5 }' "$tmp/src" | median)
    echo "| $type | $recs | $(col_median "$tmp/src" "$type" 1 3) s | $cpu s | $(awk -v c="$cpu" -v n="$recs" 'BEGIN { printf "%.2f", n ? c / n * 1e6 : 0 }') µs | $(mb "$(col_median "$tmp/src" "$type" 1 6)") MB | $(col_median "$tmp/src" "$type" 1 7) s |"
  done
  echo
  cat "$tmp/pollers.md"
  cat bench/history.md
} > "$out"
say "wrote $out"
