#!/usr/bin/env bash
# remote_write end to end: the real aggregator, configured with [remote_write] (url of a
# real Prometheus started with --web.enable-remote-write-receiver, interval_s = 1,
# external_labels region="north", a token file), receives tests/data/pipeline from the real
# agent. It starts pushing before Prometheus is up (connection refused: retried with
# backoff, counted as retry), then delivers once it is. Prometheus must then hold exactly
# the KPI series of /metrics (same names, window/by/group, values), each with region="north"
# and no other label, suppressed cells absent, stamped with a KPI refresh time; the
# aggregator counts its requests in cadre_remote_write_* self-metrics.
. "$(dirname "$0")/lib.sh"
t_setup

for tool in prometheus jq curl; do
  command -v "$tool" >/dev/null ||
    { not_ok "$tool is missing (scripts/install-deps.sh installs it)"; t_done; exit 1; }
done

port=$(free_port)
pport=$(free_port)
while [ "$pport" = "$port" ]; do pport=$(free_port); done
data=$T/data
mkdir -p "$data" "$T/state"
cp "$TESTS_DIR"/data/pipeline/* "$data"/
chmod 600 "$data/org.key"
echo "north-secret-token" > "$T/agent.token"
printf 'north-1 north-secret-token\n' > "$T/agents.tokens"
echo "rw-push-token" > "$T/rw.token"

cat > "$T/agg.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port
db_path = $T/db
tokens_file = $T/agents.tokens
min_group_size = 5
as_of = 2026-09-30
kpi_refresh_interval_s = 1
[remote_write]
url = http://127.0.0.1:$pport/api/v1/write
interval_s = 1
token_file = $T/rw.token
external_labels = region="north"
INI
cat > "$T/agent.ini" <<INI
[agent]
id = north-1
aggregator_url = http://127.0.0.1:$port
token_file = $T/agent.token
org_key_file = $data/org.key
state_dir = $T/state
batch_max_wait_ms = 100
[source scribe]
type = usage_jsonl
path = $data/*.jsonl
[source hr]
type = staffing_csv
path = $data/staffing.csv
[source roster]
type = shifts_csv
path = $data/shifts.csv
[source leave]
type = absences_csv
path = $data/absences.csv
[source ehr]
type = ehr_csv
path = $data/ehr.csv
[source lms]
type = training_csv
path = $data/training.csv
INI

# Bad external labels are a configuration error (exit 78), found by --check too.
sed 's/^external_labels = .*/external_labels = region=north/' "$T/agg.ini" > "$T/bad.ini"
"$BIN/cadre-aggregator" --check --config "$T/bad.ini" >/dev/null 2>"$T/bad.err"
check_eq "$?" 78 "--check refuses external_labels without quotes"
check_grep 'external_labels' "$T/bad.err" "the error names external_labels"

t_bg "$T/agg.log" "$BIN/cadre-aggregator" --config "$T/agg.ini"
wait_http "http://127.0.0.1:$port/healthz" || { not_ok "aggregator did not start"; cat "$T/agg.log"; t_done; exit 1; }
"$BIN/cadre-agent" --config "$T/agent.ini" --once >"$T/agent.out" 2>"$T/agent.log"
check_eq "$?" 0 "agent --once exit status"

# Nothing listens on the remote_write url yet: the pushes are retried and counted.
end=$((SECONDS + 10))
while [ "$SECONDS" -lt "$end" ]; do
  curl -s "http://127.0.0.1:$port/metrics" > "$T/metrics.txt"
  r=$(metric "$T/metrics.txt" 'cadre_remote_write_requests_total{result="retry"}')
  [ "$r" != absent ] && [ "$r" != 0 ] && break
  sleep 0.1
done
check_grep '^cadre_remote_write_requests_total\{result="retry"\} [1-9]' "$T/metrics.txt" \
  "refused pushes counted as retry"
if ! grep -q '^cadre_remote_write_requests_total' "$T/metrics.txt"; then
  not_ok "no cadre_remote_write_* on /metrics: [remote_write] is not wired into the aggregator"
  t_done
  exit 1
fi
check_grep 'remote_write: .*127\.0\.0\.1.*retrying' "$T/agg.log" "a refused push is logged"

t_bg "$T/prometheus.log" prometheus --config.file=/dev/null --web.enable-remote-write-receiver \
  --storage.tsdb.path="$T/prom" --web.listen-address="127.0.0.1:$pport"
P=http://127.0.0.1:$pport

# The KPI series of /metrics as "name{window,by,group} value" lines, values normalised.
kpi_lines_metrics() {
  grep -E '^cadre_[a-z0-9_]+\{window="[^"]*",by="[^"]*",group="[^"]*"\} ' "$1" |
    awk '{ v = $NF; $NF = ""; sub(/ $/, ""); printf "%s %.17g\n", $0, v }' | LC_ALL=C sort
}
# The same from Prometheus: every series with region="north".
kpi_lines_prom() {
  curl -s --data-urlencode 'query={region="north"}' "$P/api/v1/query" |
    jq -r '.data.result[] | "\(.metric.__name__){window=\"\(.metric.window)\",by=\"\(.metric.by)\",group=\"\(.metric.group)\"} \(.value[1])"' |
    awk '{ v = $NF; $NF = ""; sub(/ $/, ""); printf "%s %.17g\n", $0, v }' | LC_ALL=C sort
}

# The stored data shows in /metrics (as pipeline.sh), then the same series in Prometheus.
delivered=0
end=$((SECONDS + 30))
while [ "$SECONDS" -lt "$end" ]; do
  curl -s "http://127.0.0.1:$port/metrics" > "$T/metrics.txt"
  kpi_lines_metrics "$T/metrics.txt" > "$T/want.txt"
  if [ "$(metric "$T/metrics.txt" 'cadre_stored_records{type="usage"}')" = 9 ] &&
     grep -q '^cadre_adoption_ratio{window="28d",by="org",group="all"}' "$T/want.txt"; then
    kpi_lines_prom > "$T/got.txt" 2>/dev/null
    if cmp -s "$T/want.txt" "$T/got.txt"; then delivered=1; break; fi
  fi
  sleep 0.2
done
check_eq "$delivered" 1 "Prometheus holds exactly the KPI series of /metrics"
if [ "$delivered" != 1 ]; then
  diff "$T/want.txt" "$T/got.txt" | head -20
  tail -20 "$T/agg.log" "$T/prometheus.log"
  t_done
  exit 1
fi
check_eq "$(wc -l < "$T/want.txt")" "$(grep -c '^cadre_.*{window=' "$T/want.txt")" "KPI lines parsed"
if [ "$(wc -l < "$T/want.txt")" -ge 40 ]; then ok "$(wc -l < "$T/want.txt") KPI series compared"
else not_ok "only $(wc -l < "$T/want.txt") KPI series on /metrics"; fi

# The brief's check, by value: cadre_adoption_ratio{region="north"} against /metrics.
for g in 'department,ICU' 'department,ER' 'org,all'; do
  by=${g%%,*} grp=${g##*,}
  want=$(metric "$T/metrics.txt" "cadre_adoption_ratio{window=\"28d\",by=\"$by\",group=\"$grp\"}")
  got=$(curl -s --data-urlencode "query=cadre_adoption_ratio{region=\"north\",window=\"28d\",by=\"$by\",group=\"$grp\"}" \
    "$P/api/v1/query" | jq -r '.data.result[0].value[1] // "absent"')
  if awk -v a="$want" -v b="$got" 'BEGIN { exit !(a != "absent" && b != "absent" && a + 0 == b + 0) }'; then
    ok "cadre_adoption_ratio{region=\"north\",by=\"$by\",group=\"$grp\"} = $got, as /metrics"
  else
    not_ok "cadre_adoption_ratio{region=\"north\",by=\"$by\",group=\"$grp\"}: got $got, /metrics $want"
  fi
done

# Labels: __name__, window, by, group, region and nothing else (no job, no instance).
check_eq "$(curl -s --data-urlencode 'query={region="north"}' "$P/api/v1/query" |
  jq -r '[.data.result[].metric | keys | join(",")] | unique | join(" ")')" \
  "__name__,by,group,region,window" "label names of every pushed series"
# Suppressed cells stay out (pipeline.sh: physician has 2 people, nurse its complement).
check_eq "$(curl -s --data-urlencode 'query=count({region="north",by="role"})' "$P/api/v1/query" |
  jq -r '.data.result | length')" 0 "no suppressed role cell pushed"
# Nothing but KPIs: no self-metric was pushed.
check_eq "$(curl -s --data-urlencode 'query=count({region="north",__name__=~"cadre_(stored|ingest|agent|kpi|build|suppressed|unmatched|newest|remote)_.*"})' \
  "$P/api/v1/query" | jq -r '.data.result | length')" 0 "no self-metric pushed"

# Samples carry the refresh time (ms), not the push time: at most the newest refresh.
ts=$(curl -s --data-urlencode 'query=max(timestamp(cadre_adoption_ratio{region="north"}))' \
  "$P/api/v1/query" | jq -r '.data.result[0].value[1]')
curl -s "http://127.0.0.1:$port/metrics" > "$T/metrics2.txt"
refresh=$(metric "$T/metrics2.txt" cadre_kpi_last_refresh_timestamp_seconds)
if awk -v t="$ts" -v r="$refresh" 'BEGIN { exit !(t > 0 && t <= r + 0.001 && r - t < 30) }'; then
  ok "sample timestamp $ts is a refresh time (last refresh $refresh)"
else
  not_ok "sample timestamp $ts vs last refresh $refresh"
fi

# Self-metrics: delivered requests and samples counted, a recent success.
check_grep '^cadre_remote_write_requests_total\{result="ok"\} [1-9]' "$T/metrics2.txt" \
  "delivered pushes counted"
check_grep '^cadre_remote_write_samples_total [1-9]' "$T/metrics2.txt" "pushed samples counted"
check_grep '^cadre_remote_write_requests_total\{result="error"\} 0$' "$T/metrics2.txt" \
  "no push dropped"
last_ok=$(metric "$T/metrics2.txt" cadre_remote_write_last_success_timestamp_seconds)
if awk -v t="$last_ok" -v now="$(date +%s)" 'BEGIN { exit !(now - t < 30 && t <= now + 1) }'; then
  ok "last success $last_ok is recent"
else
  not_ok "cadre_remote_write_last_success_timestamp_seconds = $last_ok"
fi
check_grep 'remote_write: delivered again' "$T/agg.log" "recovery is logged"
if command -v promtool >/dev/null; then
  check_eq "$(promtool check metrics < "$T/metrics2.txt" 2>&1)" "" \
    "promtool check metrics with remote_write self-metrics"
fi

t_done
