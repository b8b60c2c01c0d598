#!/usr/bin/env bash
# bench/pollers.sh: the API pollers at scale. The stand-in vendor server
# (tests/tools/vendor_api.py) lists BENCH_SEATS GitHub Copilot seats (100 a page, GitHub's
# largest) and as many Microsoft 365 Copilot users (BENCH_GRAPH_PAGE a page); one agent
# with both sources polls it with `--once` under GNU time into a fresh aggregator: a first
# poll (every licence and last-activity day is new) and a poll of the next day (the state
# is compared, a few records change). Prints a Markdown section on stdout (bench/run.sh
# puts it into docs/BENCHMARKS.md); progress goes to stderr.
#   BENCH_SEATS       seats and users (50000)
#   BENCH_GRAPH_PAGE  Graph rows per page (1000)
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BIN:?}"
seats=${BENCH_SEATS:-50000}
gpage=${BENCH_GRAPH_PAGE:-1000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cadre-bench-poll.XXXXXX")
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
say() { echo "bench pollers: $*" >&2; }
port() { for p in $(shuf -i 20000-32000 -n 50); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return; }; done; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }'; }

say "generating $seats seats and $seats users"
start=$(date -u -d '-40 days' +%F)
python3 tests/tools/vendor_api.py gen --seed 1 --start "$start" --days 2 --github-seats "$seats" \
  --m365-users "$seats" --out "$tmp/data.json"
head -c 48 /dev/urandom | base64 | tr -d '\n' > "$tmp/org.key"
echo "bench-secret" > "$tmp/secret"
echo "ghp_bench" > "$tmp/gh.token"
echo "tok-bench" > "$tmp/token"
echo "bench tok-bench" > "$tmp/tokens"
chmod 600 "$tmp/org.key" "$tmp/secret" "$tmp/gh.token"
vport=$(port)
python3 tests/tools/vendor_api.py serve --data "$tmp/data.json" --port "$vport" --client-id app \
  --client-secret-file "$tmp/secret" --github-token-file "$tmp/gh.token" --org acme \
  --page-size "$gpage" > "$tmp/vendor.log" 2>&1 &
pids+=($!)
aport=$(port)
cat > "$tmp/agg.ini" <<INI
[aggregator]
listen = 127.0.0.1:$aport
db_path = $tmp/db
tokens_file = $tmp/tokens
kpi_refresh_interval_s = 60
INI
"$BIN/cadre-aggregator" --config "$tmp/agg.ini" > "$tmp/agg.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$aport/healthz" && curl -s -o /dev/null "http://127.0.0.1:$vport/_control/stats" && break
  sleep 0.1
done
cat > "$tmp/agent.ini" <<INI
[agent]
id = bench
aggregator_url = http://127.0.0.1:$aport
token_file = $tmp/token
org_key_file = $tmp/org.key
state_dir = $tmp/state
[source gh]
type = github_copilot
base_url = http://127.0.0.1:$vport/github
org = acme
token_file = $tmp/gh.token
account_id = upn
[source m365]
type = m365_copilot
base_url = http://127.0.0.1:$vport/graph/v1.0
token_url = http://127.0.0.1:$vport/t/oauth2/v2.0/token
client_id = app
client_secret_file = $tmp/secret
account_id = upn_local_part
INI
day() { date -u -d "$start +$1 days" +%F; }
rows=()
for i in 0 1; do
  curl -s -X POST -d "{\"today\": \"$(day "$i")\"}" "http://127.0.0.1:$vport/_control" > /dev/null
  # The server's first listing of a day is built then; warm it so the agent is timed.
  curl -s -o /dev/null "http://127.0.0.1:$vport/github/orgs/acme/copilot/billing/seats?per_page=1" \
    -H 'Accept: application/vnd.github+json' -H 'X-GitHub-Api-Version: 2022-11-28' \
    -H 'Authorization: Bearer ghp_bench'
  say "poll of day $i"
  /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$BIN/cadre-agent" --config "$tmp/agent.ini" --once \
    2> "$tmp/agent.log"
  read -r wall user sys rss < "$tmp/time"
  recs=$(grep -o 'polled ([0-9-]*): [0-9]* items, [0-9]* new licences, [0-9]* ended, [0-9]* usage' "$tmp/agent.log" |
    awk '{ n += $5 + $8 + $10 } END { print n + 0 }')
  pages=$(curl -s "http://127.0.0.1:$vport/_control/stats" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["pages"]["github"] + s["pages"]["m365"])')
  rows+=("$i $wall $user $sys $rss $recs $pages")
  say "day $i: wall $wall s, CPU $user + $sys s, peak RSS $rss KiB, $recs records, pages so far $pages"
done
state=$(du -k "$tmp/state/checkpoints" | awk '{ print $1 }')
echo "## API pollers"
echo
echo "One agent with \`github_copilot\` and \`m365_copilot\` polls the stand-in vendor server"
echo "(\`tests/tools/vendor_api.py\`, Python, loopback) listing $seats GitHub seats (100 a page)"
echo "and $seats Microsoft 365 users ($gpage a page); \`cadre-agent --once\` under"
echo "\`/usr/bin/time\` into a fresh aggregator. The wall time includes the Python server's"
echo "own time to answer. State after the polls: $(mb "$state") MB."
echo
echo "| poll | wall | agent CPU (user + sys) | agent peak RSS | records shipped |"
echo "|---|---|---|---|---|"
prev_pages=0
for r in "${rows[@]}"; do
  set -- $r
  what="first (all new)"
  [ "$1" = 1 ] && what="next day (state compared)"
  echo "| $what | $2 s | $(awk -v u="$3" -v s="$4" 'BEGIN { printf "%.2f", u + s }') s | $(mb "$5") MB | $6 |"
done
echo
