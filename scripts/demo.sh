#!/usr/bin/env bash
# make demo / make demo-stop: a generated 2,000-staff health system through the whole
# pipeline on this machine. Everything lives under demo/ (data, database, logs, pids).
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
D=$top/demo
BIN=${BIN:-$top/bin}

stop() {
  local f pid stopped=0
  for f in "$D"/*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null
      stopped=$((stopped + 1))
    fi
    rm -f "$f"
  done
  echo "demo: stopped $stopped process(es); data and logs stay in demo/ (rm -rf demo to start over)"
}

free_port() {
  local p
  for p in "$@" $(shuf -i 20000-32000 -n 50); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

metric_sum() { # sums every sample of a metric family in a /metrics body
  awk -v n="$1" 'index($1, n "{") == 1 || $1 == n { s += $2 } END { printf "%d", s }'
}

# An awk prelude: split_csv() fills f[1..n] from one RFC 4180 line (quoted commas and
# doubled quotes); show() prints ratios as percentages and *_seconds as seconds; pad()
# pads to a width in characters, not bytes (awk runs with LC_ALL=C, so names such as
# "Médecine" count their UTF-8 continuation bytes out).
csv_awk='
function pad(s, w,   t) {
  t = s
  return s sprintf("%*s", w - (length(s) - gsub(/[\200-\277]/, "", t)), "")
}
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
  return n
}
function show(kpi, v) {
  if (v == "") return "-"
  if (kpi ~ /_seconds$/) return sprintf("%.0f s", v)
  return sprintf("%.1f%%", 100 * v)
}
'

start() {
  if ls "$D"/*.pid >/dev/null 2>&1; then
    echo "demo: already running (make demo-stop first)"; exit 1
  fi
  mkdir -p "$D"
  staff=${DEMO_STAFF:-2000}
  # (Data from a generator that wrote no licences.csv is made again.)
  if [ ! -f "$D/data/summary.txt" ] || ! grep -q '^total licence ' "$D/data/summary.txt"; then
    echo "demo: generating a $staff-staff health system in demo/data ..."
    "$BIN/cadre-gen" --staff "$staff" --sites 2 --seed 1 --from 2024-10-01 --to 2026-09-30 \
      --out "$D/data" || { echo "demo: generator failed"; exit 1; }
  fi
  [ -f "$D/org.key" ] || { head -c 48 /dev/urandom | base64 | tr -d '\n' > "$D/org.key"; }
  chmod 600 "$D/org.key"
  port=$(free_port 9470)
  : > "$D/agents.tokens"
  cat > "$D/aggregator.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port
db_path = $D/db
tokens_file = $D/agents.tokens
min_group_size = 10
as_of = 2026-09-30
literacy_courses = ai-literacy-101, ai-safety
kpi_refresh_interval_s = 10
INI
  sites=()
  for dir in "$D"/data/*/; do
    site=$(basename "$dir")
    sites+=("$site")
    token=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    echo "$token" > "$D/agent-$site.token"
    echo "agent-$site $token" >> "$D/agents.tokens"
    mkdir -p "$D/state-$site"
    cat > "$D/agent-$site.ini" <<INI
[agent]
id = agent-$site
aggregator_url = http://127.0.0.1:$port
token_file = $D/agent-$site.token
org_key_file = $D/org.key
state_dir = $D/state-$site
poll_interval_s = 5
[source scribe]
type = usage_jsonl
path = $dir*.jsonl
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
[source seats]
type = licences_csv
path = ${dir}licences.csv
INI
  done

  nohup "$BIN/cadre-aggregator" --config "$D/aggregator.ini" > "$D/aggregator.log" 2>&1 &
  echo $! > "$D/aggregator.pid"
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
  echo "demo: aggregator on http://127.0.0.1:$port (database demo/db, log demo/aggregator.log)"
  for site in "${sites[@]}"; do
    nohup "$BIN/cadre-agent" --config "$D/agent-$site.ini" > "$D/agent-$site.log" 2>&1 &
    echo $! > "$D/agent-$site.pid"
    echo "demo: agent-$site reading demo/data/$site (log demo/agent-$site.log)"
  done

  if command -v prometheus >/dev/null 2>&1 && [ -f examples/prometheus.yml ]; then
    pport=$(free_port 9090)
    sed -e "s/127.0.0.1:9470/127.0.0.1:$port/" -e "s#rules.yml#$top/examples/rules.yml#" \
      examples/prometheus.yml > "$D/prometheus.yml"
    nohup prometheus --config.file="$D/prometheus.yml" --storage.tsdb.path="$D/prometheus" \
      --web.listen-address="127.0.0.1:$pport" > "$D/prometheus.log" 2>&1 &
    echo $! > "$D/prometheus.pid"
    echo "demo: Prometheus on http://127.0.0.1:$pport scraping the aggregator with examples/rules.yml"
  fi

  # Progress: stored records against the valid keys the generator wrote.
  want=$(awk '$1 == "total" { for (i = 3; i <= NF; i++) if ($i ~ /^valid_keys=/) { split($i, a, "="); s += a[2] } } END { print s + 0 }' "$D/data/summary.txt")
  echo "demo: ingesting ($want records expected) ..."
  last=-1 same=0
  for _ in $(seq 600); do
    got=$(curl -s "http://127.0.0.1:$port/metrics" | metric_sum cadre_stored_records)
    [ "$got" != "$last" ] && printf '\r  stored %d / %d records' "$got" "$want" && same=0
    [ "$got" = "$last" ] && same=$((same + 1))
    last=$got
    [ "$want" -gt 0 ] && [ "$got" -ge "$want" ] && break
    [ "$same" -ge 60 ] && break
    sleep 0.5
  done
  echo
  sleep 2  # the refresh that follows the last batch
  echo
  echo "Headline KPIs, last 28 days (as of 2026-09-30; burnout figures are workload proxies)"
  curl -s "http://127.0.0.1:$port/api/v1/kpis?window=28d&by=org&format=csv" |
    LC_ALL=C awk "$csv_awk"'NR > 1 { split_csv($0); if (f[8] == "false") printf "  %s %s\n", pad(f[2], 34), show(f[2], f[5]) }'
  echo
  echo "Adoption by department (28 days)"
  curl -s "http://127.0.0.1:$port/api/v1/kpis?window=28d&by=department&format=csv" |
    LC_ALL=C awk "$csv_awk"'NR > 1 { split_csv($0); if (f[2] == "adoption_ratio") printf "  %s %s\n", pad(f[4], 34), (f[8] == "true" ? "suppressed" : show(f[2], f[5])) }'
  echo
  echo "Look at:"
  echo "  http://127.0.0.1:$port/metrics"
  echo "  http://127.0.0.1:$port/api/v1/kpis?window=90d&by=department&format=csv"
  echo "  http://127.0.0.1:$port/api/v1/export?quarter=2026Q3&format=html"
  echo "Stop everything with: make demo-stop"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: scripts/demo.sh start|stop"; exit 64 ;;
esac
