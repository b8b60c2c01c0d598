#!/usr/bin/env bash
# Drift of AI output, end to end: cadre-gen plants a jump in imaging-triage's rejected share
# in the last 7 days (15 % -> 45 %); the agent ships the usage and staffing of 2,000 staff;
# the aggregator publishes cadre_ai_output_<outcome>_drift_z; a real Prometheus scrapes it
# with examples/rules.yml and sends alerts to a real Alertmanager
# (prometheus-alertmanager). Alertmanager must receive CadreAiOutputDrift for
# imaging-triage, and for no other tool.
#
# The rules are examples/rules.yml as shipped, except that the drift alert's `for: 2h` is
# cut to `for: 1s` in the test's copy (a test cannot wait two hours; `promtool test rules`
# in prometheus.sh checks the 2 h with examples/rules_test.yml).
. "$(dirname "$0")/lib.sh"
t_setup
REPO=$(cd "$TESTS_DIR/.." && pwd)

for tool in prometheus prometheus-alertmanager jq curl; do
  command -v "$tool" >/dev/null ||
    { not_ok "$tool is missing (scripts/install-deps.sh installs it)"; t_done; exit 1; }
done
pick_port port
pick_port pport
pick_port amport

"$BIN/cadre-gen" --staff 2000 --sites 1 --seed 5 --from 2026-05-01 --to 2026-09-30 \
  --no-bad-rows --quiet --out "$T/data" || { not_ok "cadre-gen failed"; t_done; exit 1; }
head -c 48 /dev/urandom | base64 | tr -d '\n' > "$T/org.key"
chmod 600 "$T/org.key"
echo "drift-token-$RANDOM$RANDOM" > "$T/agent.token"
echo "agent-1 $(cat "$T/agent.token")" > "$T/agents.tokens"
cat > "$T/agg.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port
db_path = $T/db
tokens_file = $T/agents.tokens
min_group_size = 5
as_of = 2026-09-30
kpi_refresh_interval_s = 1
sync_writes = false
INI
cat > "$T/agent.ini" <<INI
[agent]
id = agent-1
aggregator_url = http://127.0.0.1:$port
token_file = $T/agent.token
org_key_file = $T/org.key
state_dir = $T/state
fsync = never
[source scribe]
type = usage_jsonl
path = $T/data/north/usage.jsonl
[source hr]
type = staffing_csv
path = $T/data/north/staffing.csv
INI
mkdir -p "$T/state"
t_bg "$T/agg.log" "$BIN/cadre-aggregator" --config "$T/agg.ini"
wait_http "http://127.0.0.1:$port/healthz" || { not_ok "aggregator did not start"; cat "$T/agg.log"; t_done; exit 1; }
"$BIN/cadre-agent" --config "$T/agent.ini" --once > /dev/null 2> "$T/agent.log"
check_eq "$?" 0 "agent --once"
sleep 2.5 # the refresh after the last batch

# The z scores on /metrics: the planted tool far above 3, every other tool within it.
curl -s "http://127.0.0.1:$port/metrics" > "$T/metrics.txt"
grep '^cadre_ai_output_.*_drift_z' "$T/metrics.txt" | sed 's/^/# /'
z=$(metric "$T/metrics.txt" 'cadre_ai_output_rejected_drift_z{window="7d",by="tool",group="imaging-triage"}')
if awk -v z="$z" 'BEGIN { exit !(z != "absent" && z > 3) }'; then
  ok "imaging-triage rejected drift z = $z (> 3)"
else
  not_ok "imaging-triage rejected drift z = $z, want > 3"
fi
others=$(grep '^cadre_ai_output_.*_drift_z' "$T/metrics.txt" | grep -v 'group="imaging-triage"' |
  awk '{ v = $2 < 0 ? -$2 : $2; if (v > 3) print }')
check_eq "$others" "" "no other tool's drift |z| above 3"
n=$(grep -c '^cadre_ai_output_.*_drift_z' "$T/metrics.txt")
if [ "$n" -ge 9 ]; then ok "$n drift series on /metrics"; else not_ok "only $n drift series"; fi

# Alertmanager, and Prometheus with the shipped rules sending to it.
cat > "$T/alertmanager.yml" <<YML
route:
  receiver: keep
  group_wait: 1s
  group_interval: 1s
receivers:
  - name: keep
YML
t_bg "$T/am.log" prometheus-alertmanager --config.file="$T/alertmanager.yml" \
  --storage.path="$T/am" --web.listen-address="127.0.0.1:$amport" --cluster.listen-address=
AM=http://127.0.0.1:$amport
wait_http "$AM/-/ready" 30 || { not_ok "Alertmanager did not start"; cat "$T/am.log"; t_done; exit 1; }

# Cut only the drift alerts' `for: 2h`: the line after each CadreAiOutputDrift expr.
awk '/alert: CadreAiOutputDrift/ { drift = 1 } drift && /^ +for: 2h$/ { sub(/2h/, "1s"); drift = 0 } { print }' \
  "$REPO/examples/rules.yml" > "$T/rules.yml"
check_eq "$(grep -c 'for: 1s' "$T/rules.yml")" 3 "the test copy cuts the three drift alerts' for"
check_eq "$(diff "$REPO/examples/rules.yml" "$T/rules.yml" | grep -c '^>')" 3 "and changes nothing else"
cat > "$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $T/rules.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:$amport"]
scrape_configs:
  - job_name: cadre-aggregator
    static_configs:
      - targets: ["127.0.0.1:$port"]
YML
t_bg "$T/prometheus.log" prometheus --config.file="$T/prometheus.yml" \
  --storage.tsdb.path="$T/prom" --web.listen-address="127.0.0.1:$pport"

got=''
end=$((SECONDS + 60))
while [ "$SECONDS" -lt "$end" ]; do
  curl -s "$AM/api/v2/alerts" > "$T/am.json" 2>/dev/null
  got=$(jq -r '[.[] | select(.labels.alertname == "CadreAiOutputDrift") |
                "\(.labels.group)/\(.labels.outcome)"] | unique | join(" ")' "$T/am.json" 2>/dev/null)
  [ "$got" = "imaging-triage/accepted imaging-triage/rejected" ] && break
  sleep 0.5
done
# imaging-triage has no edited outcomes, so its accepted share falls as its rejected
# share rises: both alert.
check_eq "$got" "imaging-triage/accepted imaging-triage/rejected" \
  "Alertmanager received CadreAiOutputDrift for imaging-triage only"
check_eq "$(jq -r '[.[] | select(.labels.alertname == "CadreAiOutputDrift" and .labels.outcome == "rejected")][0] |
  .annotations.summary' "$T/am.json")" \
  "AI tool imaging-triage: rejected share drifted (z = $(printf '%.1f' "$z"))" "the alert's summary"
sleep 3 # and nothing else arrives for another tool
curl -s "$AM/api/v2/alerts" > "$T/am.json"
check_eq "$(jq -r '[.[] | select(.labels.alertname == "CadreAiOutputDrift" and .labels.group != "imaging-triage")] | length' "$T/am.json")" \
  0 "no drift alert for another tool"
t_done
