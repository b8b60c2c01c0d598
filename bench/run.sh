#!/usr/bin/env bash
# make bench: measures Cadre and writes docs/BENCHMARKS.md. Machines are shared and noisy,
# so each figure is a median of repeated runs, with ratios to a baseline run in the same
# command where one exists. BENCH_STAFF (default 50000) and BENCH_DAYS (730) set the scale.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BIN:?}" "${BUILD:?}"
staff=${BENCH_STAFF:-50000}
days=${BENCH_DAYS:-730}
out=docs/BENCHMARKS.md
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cadre-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "bench: KPI engine on a synthetic model of $staff staff x $days days" >&2
"$BUILD/bench/kpi_bench" "$staff" "$days" > "$tmp/kpi.txt"
cat "$tmp/kpi.txt" >&2

{
  echo "# Benchmarks"
  echo
  echo "Produced by \`make bench\` (\`bench/run.sh\`) on $(nproc) cores, $(date -u +%Y-%m-%d)."
  echo "Medians of 5 runs. Reproduce one section with the command shown above it."
  echo
  echo "## KPI engine"
  echo
  echo "\`build/bench/kpi_bench $staff $days\` builds the in-memory model through the"
  echo "same function ingest uses, then times a full refresh (every KPI, every breakdown,"
  echo "windows 7d, 28d, 90d and 365d, suppression and /metrics rendering) and one quarter."
  echo "Targets: refresh <= 2 s, quarter query <= 1 s."
  echo
  echo '```'
  cat "$tmp/kpi.txt"
  echo '```'
} > "$out"

# --- End to end: generator -> agents -> aggregator (RocksDB, sync_writes = true) -------
e2e_staff=${BENCH_E2E_STAFF:-5000}
echo "bench: end to end with a generated $e2e_staff-staff system" >&2
"$BIN/cadre-gen" --staff "$e2e_staff" --sites 2 --seed 1 --quiet --out "$tmp/data"
records=$(awk '$1 == "total" { for (i = 3; i <= NF; i++) if ($i ~ /^valid_keys=/) { split($i, a, "="); s += a[2] } } END { print s }' "$tmp/data/summary.txt")
head -c 48 /dev/urandom | base64 | tr -d '\n' > "$tmp/org.key"; chmod 600 "$tmp/org.key"
: > "$tmp/tokens"
port=$(for p in $(shuf -i 20000-32000 -n 20); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; break; }; done)
cat > "$tmp/agg.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port
db_path = $tmp/db
tokens_file = $tmp/tokens
as_of = 2026-09-30
kpi_refresh_interval_s = 60
INI
sites=()
for dir in "$tmp"/data/*/; do
  site=$(basename "$dir"); sites+=("$site")
  echo "tok-$site" > "$tmp/token-$site"
  echo "bench-$site tok-$site" >> "$tmp/tokens"
  cat > "$tmp/agent-$site.ini" <<INI
[agent]
id = bench-$site
aggregator_url = http://127.0.0.1:$port
token_file = $tmp/token-$site
org_key_file = $tmp/org.key
state_dir = $tmp/state-$site
once_timeout_s = 3600
[source scribe]
type = usage_jsonl
path = ${dir}usage.jsonl
[source hr]
type = staffing_csv
path = ${dir}staffing.csv
[source roster]
type = shifts_csv
path = ${dir}shifts.csv
[source leave]
type = absences_csv
path = ${dir}absences.csv
[source ehr]
type = ehr_csv
path = ${dir}ehr.csv
[source lms]
type = training_csv
path = ${dir}training.csv
INI
done
"$BIN/cadre-aggregator" --config "$tmp/agg.ini" 2> "$tmp/agg.log" &
agg=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
t0=$(date +%s.%N)
for site in "${sites[@]}"; do
  "$BIN/cadre-agent" --config "$tmp/agent-$site.ini" --once 2> "$tmp/agent-$site.log" &
done
wait $(jobs -p | grep -v "^$agg$") 2>/dev/null || true
t1=$(date +%s.%N)
ingest_s=$(echo "$t1 - $t0" | bc -l)
stored=$(curl -s "http://127.0.0.1:$port/metrics" | awk '$1 ~ /^cadre_stored_records\{/ { s += $2 } END { print s }')
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
sleep 3
scrape=$(for i in $(seq 51); do curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/metrics"; done | median)
quarter=$(for i in $(seq 5); do curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/api/v1/kpis?window=2026Q3"; done | median)
refresh=$(curl -s "http://127.0.0.1:$port/metrics" | awk '$1 == "cadre_kpi_refresh_duration_seconds" { print $2 }')
agg_rss=$(awk '/VmHWM/ { print $2 }' /proc/$agg/status)
kill -TERM $agg; wait $agg || true
db_bytes=$(du -sb "$tmp/db" | cut -f1)
# Baseline: RocksDB's own db_bench writing as many ~60-byte values, synced per batch of 5000.
db_bench --benchmarks=fillseq --num="$records" --value_size=60 --key_size=24 --batch_size=5000 \
  --sync=1 --db="$tmp/dbbench" --compression_type=lz4 > "$tmp/dbbench.txt" 2>&1 || true
dbb=$(awk '/^fillseq/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^ops\/sec/) print $i }' "$tmp/dbbench.txt")
rm -rf "$tmp/dbbench"

# Agent alone: the first 1,000,000 usage lines, one source, aggregator on loopback, each
# run on a fresh database and state folder; 5 runs per fsync mode, the modes taking turns
# so that a drift in the machine's load touches both alike; medians reported.
mkdir -p "$tmp/one"; awk "NR <= 1000000" "$tmp"/data/*/usage.jsonl > "$tmp/one/usage.jsonl"
lines=$(wc -l < "$tmp/one/usage.jsonl")
agent_run() { # MODE RUN: one --once run; appends "wall user sys rss_kib agg_cpu_s" to $tmp/agent.MODE
  local mode=$1 agg
  rm -rf "$tmp/db" "$tmp/state-one"
  sync # start with no write-back pending from the runs before (db_bench leaves gigabytes)
  "$BIN/cadre-aggregator" --config "$tmp/agg.ini" 2> "$tmp/agg2.log" &
  agg=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
  sed -e "/^\[source hr\]/,\$d" -e "s#path = .*usage.jsonl#path = $tmp/one/usage.jsonl#" \
    -e "s#state_dir = .*#state_dir = $tmp/state-one\nfsync = $mode#" "$tmp/agent-${sites[0]}.ini" > "$tmp/agent-one.ini"
  /usr/bin/time -f '%e %U %S %M' -o "$tmp/agent.time" "$BIN/cadre-agent" --config "$tmp/agent-one.ini" --once 2> "$tmp/agent-one.log"
  local cpu
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$agg/stat")
  kill -TERM $agg; wait $agg || true
  echo "$(cat "$tmp/agent.time") $cpu" >> "$tmp/agent.$mode"
}
col_median() { awk -v c="$1" '{ print $c }' "$2" | median; }
for r in 1 2 3 4 5; do
  for mode in always interval; do
    echo "bench: agent alone, fsync = $mode, run $r of 5" >&2
    agent_run $mode
  done
done

{
  echo
  echo "## End to end"
  echo
  echo "\`BENCH_E2E_STAFF=$e2e_staff make bench\`: \`cadre-gen --staff $e2e_staff --sites 2\` (2 years),"
  echo "one \`cadre-agent --once\` per site into one \`cadre-aggregator\` on loopback,"
  echo "\`sync_writes = true\`. Baseline: \`db_bench --benchmarks=fillseq --num=$records"
  echo "--value_size=60 --batch_size=5000 --sync=1\` on the same disk in the same run."
  echo
  echo "| measure | value |"
  echo "|---|---|"
  echo "| records stored | $stored of $records expected |"
  echo "| ingest, wall (both agents in parallel) | $(printf '%.1f' "$ingest_s") s |"
  echo "| ingest rate | $(echo "$stored / $ingest_s" | bc) records/s |"
  echo "| db_bench fillseq (baseline) | ${dbb:-n/a} ops/s |"
  [ -n "$dbb" ] && echo "| ingest rate / db_bench | $(echo "scale=3; $stored / $ingest_s / $dbb" | bc) |"
  echo "| KPI refresh (cadre_kpi_refresh_duration_seconds) | $refresh s |"
  echo "| GET /metrics, median of 51 | $scrape s |"
  echo "| GET /api/v1/kpis?window=2026Q3, median of 5 | $quarter s |"
  echo "| aggregator peak RSS | $((agg_rss / 1024)) MiB |"
  echo "| database size | $((db_bytes / 1048576)) MiB |"
  echo
  echo "## Agent throughput"
  echo
  echo "$lines usage lines, one \`usage_jsonl\` source, \`cadre-agent --once\` into a"
  echo "\`cadre-aggregator\` on loopback (\`sync_writes = true\`), fresh database and state"
  echo "folder each run; \`/usr/bin/time -f '%e %U %S %M'\` around the agent, the aggregator's"
  echo "CPU from /proc. Medians of 5 runs per \`fsync\` mode, the modes taking turns."
  echo "Targets: >= 300,000 lines/s end to end, agent peak RSS <= 16 MB."
  echo
  echo "| measure | fsync = always | fsync = interval |"
  echo "|---|---|---|"
  wa=$(col_median 1 "$tmp/agent.always"); wi=$(col_median 1 "$tmp/agent.interval")
  echo "| wall (lines read to last ack) | $wa s | $wi s |"
  echo "| lines/s | $(echo "$lines / $wa" | bc) | $(echo "$lines / $wi" | bc) |"
  cpu() { awk '{ print $2 + $3 }' "$1" | median; }
  echo "| agent CPU (user + sys) | $(cpu "$tmp/agent.always") s | $(cpu "$tmp/agent.interval") s |"
  ra=$(col_median 4 "$tmp/agent.always"); ri=$(col_median 4 "$tmp/agent.interval")
  mb() { echo "scale=1; $1 * 1024 / 1000000" | bc; }
  echo "| agent peak RSS | $(mb "$ra") MB ($ra KiB) | $(mb "$ri") MB ($ri KiB) |"
  echo "| aggregator CPU | $(col_median 5 "$tmp/agent.always") s | $(col_median 5 "$tmp/agent.interval") s |"
  verdict() { if [ "$1" = 1 ]; then echo met; else echo missed; fi; }
  echo
  echo "## Reading these figures"
  echo
  echo "- Agent targets, \`fsync = always\`: throughput $(verdict "$(echo "$lines / $wa >= 300000" | bc)")"\
" ($(echo "$lines / $wa" | bc) lines/s against 300,000),"
  echo "  peak RSS $(verdict "$(echo "$ra * 1024 <= 16000000" | bc)") ($(mb "$ra") MB against 16 MB)."
  echo "- Of the CPU one run takes, the agent spends $(cpu "$tmp/agent.always") s reading, checking,"
  echo "  pseudonymising, spooling and sending; the aggregator spends $(col_median 5 "$tmp/agent.always") s checking,"
  echo "  keying and writing the records, and waits on its synced RocksDB batches."
  echo "- \`fsync = interval\` skips the agent's fsync per batch; its median wall time here was"
  echo "  $(printf "%.2f" "$(echo "scale=4; $wi / $wa" | bc)") times \`always\`'s. What it can save grows with the cost of an fsync"
  echo "  (network or spinning disks); the loss window it opens is in docs/agent.md."
  echo "- Every run starts after \`sync\`, so write-back left by db_bench or an earlier run"
  echo "  does not land in the agent's figures. The machine is shared: take small differences"
  echo "  between runs as noise."
} >> "$out"
echo "bench: wrote $out" >&2
