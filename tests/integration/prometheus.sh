#!/usr/bin/env bash
# Prometheus and Grafana, end to end. Static: examples/rules.yml and prometheus.yml pass
# promtool with no findings and examples/rules_test.yml; every dashboard is valid JSON with
# unique panel ids, a description on every panel and only the $datasource variable (default
# cadre-prometheus) as datasource.
# Live: a generated two-site health system (bin/cadre-gen, 1000 staff, min_group_size 5, so
# every KPI family has published cells) goes through two real agents (metrics_listen on)
# into the real aggregator; /metrics passes `promtool check metrics`; a real Prometheus
# scrapes aggregator and agents every second with examples/rules.yml loaded. Then every
# panel query of every dashboard, for every value of its `window` variable (site and
# department = .*, $__rate_interval and $__interval = 1m, $__range = 1h), every variable
# query and every recording rule returns data, and every rule evaluates without error.
# (tests/data/pipeline is too small for this: with fewer than 5 people per cell it
# publishes no ai_output, burnout, EHR or hybrid-role cell at all.)
. "$(dirname "$0")/lib.sh"
t_setup
REPO=$(cd "$TESTS_DIR/.." && pwd)
DASH=$REPO/dashboards
EX=$REPO/examples

for tool in prometheus promtool jq curl; do
  command -v "$tool" >/dev/null ||
    { not_ok "$tool is missing (scripts/install-deps.sh installs it)"; t_done; exit 1; }
done

# ---- static checks ----

promtool_clean "promtool check rules examples/rules.yml" promtool check rules "$EX/rules.yml"
promtool_clean "promtool check config examples/prometheus.yml" \
  promtool check config "$EX/prometheus.yml"
promtool_clean "promtool test rules examples/rules_test.yml" \
  promtool test rules "$EX/rules_test.yml"

boards=(adoption hybrid-roles-retention burnout-proxies fleet-health)
for b in "${boards[@]}"; do
  f=$DASH/$b.json
  if ! jq empty "$f" 2>"$T/jq.err"; then not_ok "$b.json is not valid JSON: $(cat "$T/jq.err")"; continue; fi
  ok "$b.json is valid JSON"
  check_eq "$(jq '[.panels[] | .id] | (length > 0) and (length == (unique | length)) and
                  all(type == "number")' "$f")" true "$b: panel ids are unique numbers"
  # Every datasource reference anywhere, and every panel, target and query variable has one.
  check_eq "$(jq '[.. | objects | select(has("datasource")) | .datasource
                  | select(. != {"type": "prometheus", "uid": "${datasource}"})] | length' "$f")" 0 \
    "$b: every datasource reference is the \$datasource variable"
  check_eq "$(jq -c '.templating.list[] | select(.name == "datasource") | [.type, .query, .current.value]' "$f")" \
    '["datasource","prometheus","cadre-prometheus"]' \
    "$b: \$datasource picks a Prometheus data source, cadre-prometheus by default"
  check_eq "$(jq '[.panels[] | select(.datasource == null), (.targets // [] | .[] |
                  select(.datasource == null))] | length' "$f")" 0 \
    "$b: every panel and target names its datasource"
  check_eq "$(jq '[.templating.list[] | select(.type == "query" and .datasource == null)] | length' "$f")" 0 \
    "$b: every query variable names its datasource"
  check_eq "$(jq -c '[.templating.list[].name] | sort' "$f")" '["datasource","department","site","window"]' \
    "$b: template variables"
  check_eq "$(jq '[.panels[] | select((.description // "") | length < 40)] | length' "$f")" 0 \
    "$b: every panel has a description"
  check_eq "$(jq '[.panels[] | select((.targets // []) | length == 0)] | length' "$f")" 0 \
    "$b: every panel has a query"
  check_eq "$(jq -r '.uid' "$f")" "cadre-$b" "$b: dashboard uid"
  check_eq "$(jq '.schemaVersion >= 36 and .schemaVersion <= 39' "$f")" true \
    "$b: Grafana 10 schema version"
done
check_eq "$(jq '[.panels[] | select(.description | test("never a diagnosis") | not)] | length' \
  "$DASH/burnout-proxies.json")" 0 "every burnout panel says these are proxies, never a diagnosis"
check_eq "$(jq -r '[.templating.list[] | select(.name == "window") | .options[].value] | join(",")' \
  "$DASH/adoption.json")" "7d,28d,90d" "adoption windows"
check_eq "$(jq -r '[.templating.list[] | select(.name == "window") | .options[].value] | join(",")' \
  "$DASH/burnout-proxies.json")" "28d,90d" "burnout windows"
check_eq "$(jq -r '[.templating.list[] | select(.name == "window") | .options[].value] | join(",")' \
  "$DASH/hybrid-roles-retention.json")" "90d,365d" "retention windows"
check_grep '^ +uid: cadre-prometheus$' "$DASH/provisioning/datasources/cadre.yml" \
  "provisioned datasource uid"
check_grep '^ +url: http://localhost:9090$' "$DASH/provisioning/datasources/cadre.yml" \
  "provisioned datasource url"
check_grep '^ +type: file$' "$DASH/provisioning/dashboards/cadre.yml" "file dashboard provider"

# ---- the pipeline: generated data, two agents, the aggregator ----

port='' pport=''

pick_port port
"$BIN/cadre-gen" --staff 1000 --sites 2 --seed 7 --from 2025-08-01 --to 2026-09-30 \
  --out "$T/data" --quiet || { not_ok "cadre-gen failed"; t_done; exit 1; }
head -c 48 /dev/urandom | base64 | tr -d '\n' > "$T/org.key"
chmod 600 "$T/org.key"
: > "$T/agents.tokens"
agent_targets=()
for site in north south; do
  pick_port aport
  agent_targets+=("\"127.0.0.1:$aport\"")
  echo "token-$site-$RANDOM$RANDOM" > "$T/agent-$site.token"
  echo "agent-$site $(cat "$T/agent-$site.token")" >> "$T/agents.tokens"
  d=$T/data/$site
  mkdir -p "$T/state-$site"
  cat > "$T/agent-$site.ini" <<INI
[agent]
id = agent-$site
aggregator_url = http://127.0.0.1:$port
token_file = $T/agent-$site.token
org_key_file = $T/org.key
state_dir = $T/state-$site
batch_max_wait_ms = 100
fsync = never
metrics_listen = 127.0.0.1:$aport
[source scribe]
type = usage_jsonl
path = $d/*.jsonl
[source hr]
type = staffing_csv
path = $d/staffing.csv
[source roster]
type = shifts_csv
path = $d/shifts.csv
[source leave]
type = absences_csv
path = $d/absences.csv
[source ehr]
type = ehr_csv
path = $d/ehr.csv
[source lms]
type = training_csv
path = $d/training.csv
[source seats]
type = licences_csv
path = $d/licences.csv
INI
done
cat > "$T/agg.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port
db_path = $T/db
tokens_file = $T/agents.tokens
min_group_size = 5
as_of = 2026-09-30
literacy_courses = ai-literacy-101, ai-safety
kpi_refresh_interval_s = 1
sync_writes = false
INI
t_bg "$T/agg.log" "$BIN/cadre-aggregator" --config "$T/agg.ini"
wait_http "http://127.0.0.1:$port/healthz" || { not_ok "aggregator did not start"; cat "$T/agg.log"; t_done; exit 1; }
for site in north south; do
  t_bg "$T/agent-$site.log" "$BIN/cadre-agent" --config "$T/agent-$site.ini"
done

# Prometheus (examples/prometheus.yml, 1 s intervals, plus the agents) starts while the
# agents ship.

pick_port pport
sed -e "s/127.0.0.1:9470/127.0.0.1:$port/" -e 's/^\(  scrape_interval:\).*/\1 1s/' \
  -e 's/^\(  evaluation_interval:\).*/\1 1s/' -e "s#^  - rules.yml\$#  - $EX/rules.yml#" \
  "$EX/prometheus.yml" > "$T/prometheus.yml"
agents=$(IFS=,; echo "${agent_targets[*]}")
cat >> "$T/prometheus.yml" <<YML
  - job_name: cadre-agent
    static_configs:
      - targets: [$agents]
YML
check_grep "  - $EX/rules.yml" "$T/prometheus.yml" "test config loads examples/rules.yml"
promtool_clean "promtool check config (test copy)" promtool check config "$T/prometheus.yml"
t_bg "$T/prometheus.log" prometheus --config.file="$T/prometheus.yml" \
  --storage.tsdb.path="$T/prom" --web.listen-address="127.0.0.1:$pport"
P=http://127.0.0.1:$pport

# Every valid key the generator wrote is stored (summary.txt counts them per type).
end=$((SECONDS + 45))
while [ "$SECONDS" -lt "$end" ]; do
  curl -s "http://127.0.0.1:$port/metrics" > "$T/metrics.txt"
  done_types=0
  for ty in usage staffing shifts absences ehr training licence; do
    want=$(awk -v t="$ty" '$1 == "total" && $2 == t { sub("valid_keys=", "", $4); print $4 }' \
      "$T/data/summary.txt")
    [ "$(metric "$T/metrics.txt" "cadre_stored_records{type=\"$ty\"}")" = "$want" ] &&
      done_types=$((done_types + 1))
  done
  [ "$done_types" = 7 ] && break
  sleep 0.2
done
check_eq "$done_types" 7 "record types fully stored"
[ "$done_types" = 7 ] || { tail -5 "$T"/agent-*.log "$T/agg.log"; t_done; exit 1; }
sleep 2.5  # the refresh after the last batch
curl -s "http://127.0.0.1:$port/metrics" > "$T/metrics.txt"
check_eq "$(promtool check metrics < "$T/metrics.txt" 2>&1)" "" "promtool check metrics findings"

# The KPI catalogue (cadre-aggregator kpis) against /metrics and the dashboards: every KPI
# of the catalogue is a gauge family on /metrics, and every cadre_* metric a dashboard
# queries is a family the aggregator or an agent exposes.
"$BIN/cadre-aggregator" kpis > "$T/catalogue.tsv"
check_eq "$(head -1 "$T/catalogue.tsv" | cut -f1)" kpi "catalogue header"
ncat=0
while IFS=$'\t' read -r k _; do
  ncat=$((ncat + 1))
  grep -qx "# TYPE cadre_$k gauge" "$T/metrics.txt" || not_ok "catalogue KPI $k has no gauge family on /metrics"
done < <(tail -n +2 "$T/catalogue.tsv")
check_eq "$(grep -c '^# TYPE cadre_.* gauge$' "$T/metrics.txt" | awk -v n="$ncat" '{ print ($1 >= n) }')" 1 \
  "the $ncat catalogue KPIs are gauge families on /metrics"
curl -s "http://${agent_targets[0]//\"/}/metrics" > "$T/agent-metrics.txt"
cat "$T/metrics.txt" "$T/agent-metrics.txt" | sed -n 's/^# TYPE \([a-z0-9_]*\) .*/\1/p' | sort -u > "$T/families.txt"
for b in "${boards[@]}"; do
  unknown=$(grep -o 'cadre_[a-z0-9_]*' "$DASH/$b.json" | grep -v '^cadre_$' | sort -u | comm -23 - "$T/families.txt" | tr '\n' ' ')
  check_eq "$unknown" "" "$b: every cadre_* metric it queries is exposed"
done


# q EXPR: prints "STATUS N" (N = number of series in the result) or "error MESSAGE".
q() {
  curl -s --data-urlencode "query=$1" "$P/api/v1/query" |
    jq -r 'if .status == "success" then "success \(.data.result | length)"
           else "error \(.error)" end' 2>/dev/null || echo "error no answer"
}

# qv EXPR: the value of the first series of the result, or "none".
qv() {
  curl -s --data-urlencode "query=$1" "$P/api/v1/query" |
    jq -r '.data.result[0].value[1] // "none"' 2>/dev/null || echo none
}

refreshed=$(metric "$T/metrics.txt" cadre_kpi_last_refresh_timestamp_seconds)
ready=0
end=$((SECONDS + 30))
while [ "$SECONDS" -lt "$end" ]; do
  # Aggregator and both agents up, three scrapes at least (a rate over 1m needs two), the
  # refresh after the last batch scraped, every rule evaluated without error.
  if [ "$(qv 'count(up{job=~"cadre-aggregator|cadre-agent"} == 1)')" = 3 ] &&
     [ "$(qv 'min(count_over_time(up[1m])) >= 3')" != none ] &&
     [ "$(qv "cadre_kpi_last_refresh_timestamp_seconds >= $refreshed")" != none ] &&
     [ "$(curl -s "$P/api/v1/rules" | jq '[.data.groups[].rules[] | select(.health != "ok")] | length')" = 0 ]; then
    ready=1
    break
  fi
  sleep 0.2
done
check_eq "$ready" 1 "Prometheus scraped aggregator and agents and evaluated the rules"
[ "$ready" = 1 ] || { tail -20 "$T/prometheus.log"; t_done; exit 1; }

# Rules: all loaded, none in error; every recording rule has data.
nrules=$(promtool check rules "$EX/rules.yml" | sed -n 's/.*SUCCESS: \([0-9]*\) rules found.*/\1/p')
curl -s "$P/api/v1/rules" > "$T/rules.json"
check_eq "$(jq '[.data.groups[].rules[]] | length' "$T/rules.json")" "$nrules" "rules loaded"
check_eq "$(jq -r '[.data.groups[].rules[] | select(.health != "ok") | "\(.name): \(.lastError)"] | join("; ")' "$T/rules.json")" "" \
  "rules evaluate without error"
for r in $(jq -r '.data.groups[].rules[] | select(.type == "recording") | .name' "$T/rules.json"); do
  res=$(q "$r")
  case $res in
    "success 0") not_ok "recording rule $r: no data" ;;
    success*) ok "recording rule $r: ${res#success } series" ;;
    *) not_ok "recording rule $r: $res" ;;
  esac
done

# Panel queries as Grafana sends them, one line per (panel, target, window value) with the
# variables substituted: "ID<TAB>TITLE<TAB>WINDOW<TAB>EXPR" (WINDOW "-" when the
# expression does not use it).
panel_queries() {
  jq -r '
    def subst($w):
      gsub("\\$\\{?__rate_interval\\}?|\\$\\{?__interval\\}?"; "1m")
      | gsub("\\$\\{?__range\\}?"; "1h")
      | gsub("\\$\\{window(:[a-z]+)?\\}|\\$window\\b|\\[\\[window\\]\\]"; $w)
      | gsub("\\$\\{(site|department)(:[a-z]+)?\\}|\\$(site|department)\\b|\\[\\[(site|department)\\]\\]"; ".*");
    [.templating.list[] | select(.name == "window") | .options[].value] as $ws
    | .panels[] | .id as $id | .title as $t | .targets[] | .expr | gsub("[\t\n]"; " ") as $e
    | if ($e | test("\\$\\{?window|\\[\\[window")) then ($ws[] as $w | [$w, ($e | subst($w))])
      else ["-", ($e | subst("-"))] end
    | "\($id)\t\($t)\t\(.[0])\t\(.[1])"' "$1"
}

declare -A cache=()
empty=()
for b in "${boards[@]}"; do
  f=$DASH/$b.json
  # Variable queries: label_values(SELECTOR, LABEL).
  while IFS= read -r vq; do
    sel=$(sed -E 's/^label_values\((.*),[[:space:]]*([A-Za-z_]+)\)$/\1/' <<<"$vq")
    lab=$(sed -E 's/^label_values\((.*),[[:space:]]*([A-Za-z_]+)\)$/\2/' <<<"$vq")
    n=$(curl -s -G --data-urlencode "match[]=$sel" "$P/api/v1/label/$lab/values" | jq '.data | length')
    if [ "${n:-0}" -gt 0 ]; then ok "$b: variable query $vq: $n values"
    else not_ok "$b: variable query $vq: no values"; fi
  done < <(jq -r '.templating.list[] | select(.type == "query") | .query |
                  if type == "object" then .query else . end' "$f")

  while IFS=$'\t' read -r id title w e; do
    what="$b #$id $title${w/#-/}"
    [ "$w" != - ] && what="$b #$id $title (window $w)"
    case $e in *'$'* | *'[['*) not_ok "$what: unsubstituted variable in $e"; continue ;; esac
    if [ -z "${cache[$e]:-}" ]; then
      body=$(curl -s --data-urlencode "query=$e" "$P/api/v1/query")
      case $body in
        *'"status":"success"'*) # series = occurrences of "metric":
          rest=${body//\"metric\":/}
          cache[$e]=$(((${#body} - ${#rest}) / 9)) ;;
        *) cache[$e]="error: $body" ;;
      esac
    fi
    case ${cache[$e]} in
      0) not_ok "$what: no data for $e"; empty+=("$what") ;;
      error*) not_ok "$what: ${cache[$e]} for $e" ;;
      *) ok "$what: ${cache[$e]} series" ;;
    esac
  done < <(panel_queries "$f")
done
[ ${#empty[@]} -gt 0 ] && printf '# panel without data: %s\n' "${empty[@]}"

# ---- the Load-off dashboard: its own variables (outcome), every query for every outcome ----
f=$DASH/load-off.json
check_eq "$(jq -r '.uid' "$f")" cadre-load-off "load-off: dashboard uid"
check_eq "$(jq -c '[.templating.list[].name]' "$f")" '["datasource","window","outcome","department"]' \
  "load-off: template variables"
check_eq "$(jq '[.. | objects | select(has("datasource")) | .datasource
                | select(. != {"type": "prometheus", "uid": "${datasource}"})] | length' "$f")" 0 \
  "load-off: every datasource reference is the \$datasource variable"
check_eq "$(jq '[.panels[] | select((.description // "") | length < 40)] | length' "$f")" 0 \
  "load-off: every panel has a description"
check_eq "$(jq '[.panels[] | select(.description | test("cannot|not proof|no measurable change"))] | length > 0' "$f")" \
  true "load-off: descriptions say what the figure cannot prove"
outcomes=$(jq -r '.templating.list[] | select(.name == "outcome") | [.options[].value] | join(" ")' "$f")
check_eq "$outcomes" "wow8 ehr_time8 inbox_time8 overtime sickness" "load-off: outcomes"
unknown=$(sed 's/\${outcome}/wow8/g' "$f" | grep -o 'cadre_[a-z0-9_]*' | grep -v '_$' | sort -u |
  comm -23 - "$T/families.txt" | tr '\n' ' ')
check_eq "$unknown" "" "load-off: every cadre_* metric it queries is exposed"
for o in $outcomes; do
  while IFS= read -r e; do
    e=$(sed -e "s/\${outcome}/$o/g" -e 's/\$window/365d/g' -e 's/\$department/.*/g' <<<"$e")
    case $e in *'$'*) not_ok "load-off ($o): unsubstituted variable in $e"; continue ;; esac
    res=$(q "$e")
    case $res in
      "success 0") not_ok "load-off ($o): no data for $e" ;;
      success*) ok "load-off ($o): ${res#success } series: $e" ;;
      *) not_ok "load-off ($o): $res for $e" ;;
    esac
  done < <(jq -r '.panels[].targets[].expr' "$f")
done

t_done
