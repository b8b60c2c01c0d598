#!/usr/bin/env bash
# A health system of three regions, exact system-wide KPIs in a real VictoriaMetrics and a
# real Prometheus (examples/federation/).
#
# Three cadre-gen systems (different seeds, 500 staff each) are the regions; each region's
# agents pseudonymise with that region's own org key, so the regions hold distinct staff
# (as three hospitals' HR systems do). Each region's data goes to its own aggregator, which
# pushes with remote_write, send_counts = true and region="rN" into VictoriaMetrics, and
# also, through a second agent with the same key, into one central aggregator that holds
# all three regions: the reference. vmalert evaluates examples/federation/rules.yml over
# VictoriaMetrics and writes the results back.
#
# Checked:
# - the rules cover exactly the additive KPIs of the catalogue (`cadre-aggregator kpis`);
#   promtool checks and unit-tests rules.yml and alerts.yml;
# - every region's pushed numerator and denominator series equal its API rows (published
#   cells of additive KPIs in their /metrics windows), and suppressed cells and
#   non-additive KPIs have none;
# - through VictoriaMetrics' PromQL API, every cadre:system:<kpi> org-level value, for every
#   additive KPI and /metrics window, equals the central aggregator's value within 1e-9
#   (relative); so does every role, tool, hybrid_role and adoption_cohort cell the rules
#   record, and they record one exactly where all three regions publish the cell;
# - the same rules in a real Prometheus receiving the same remote_write (the regional
#   aggregators restarted with its url) give the same values; every query of the System
#   overview dashboard returns data there;
# - the example [remote_write] sections pass `cadre-aggregator --check`.
. "$(dirname "$0")/lib.sh"
t_setup
REPO=$(cd "$TESTS_DIR/.." && pwd)
FED=$REPO/examples/federation

for tool in victoria-metrics vmalert prometheus promtool jq curl python3; do
  command -v "$tool" >/dev/null ||
    { not_ok "$tool is missing (scripts/install-deps.sh installs it)"; t_done; exit 1; }
done

promtool_clean "promtool check rules (federation)" promtool check rules "$FED/rules.yml" "$FED/alerts.yml"
(cd "$FED" && promtool_clean "promtool test rules rules_test.yml" promtool test rules rules_test.yml)
(cd "$FED" && promtool_clean "promtool test rules alerts_test.yml" promtool test rules alerts_test.yml)

"$BIN/cadre-aggregator" kpis > "$T/kpis.tsv"
awk -F'\t' 'NR > 1 && $8 == "yes" { print $1 }' "$T/kpis.tsv" | LC_ALL=C sort > "$T/additive.txt"
awk -F'\t' 'NR > 1 && $8 != "yes" { print $1 }' "$T/kpis.tsv" | LC_ALL=C sort > "$T/non_additive.txt"
grep -oE 'record: cadre:system:[a-z0-9_]+' "$FED/rules.yml" | sed 's/.*cadre:system://' |
  LC_ALL=C sort > "$T/records.txt"
check_eq "$(diff "$T/additive.txt" "$T/records.txt" | grep -c '^[<>]')" 0 \
  "one cadre:system rule per additive KPI ($(wc -l < "$T/additive.txt"))"
if [ "$(wc -l < "$T/additive.txt")" -lt 20 ]; then not_ok "too few additive KPIs"; fi

# The example [remote_write] sections are valid configuration.
for f in "$FED"/aggregator-*.conf; do
  { printf '[aggregator]\nlisten = 127.0.0.1:1\ndb_path = %s/x\ntokens_file = %s/x.tokens\n' "$T" "$T"
    sed -n '/^\[remote_write\]/,$p' "$f"; } > "$T/example.ini"
  : > "$T/x.tokens"
  "$BIN/cadre-aggregator" --check --config "$T/example.ini" > /dev/null 2> "$T/example.err"
  check_eq "$?" 0 "$(basename "$f") passes --check"
  check_grep '^send_counts = true' "$f" "$(basename "$f") sets send_counts"
done
jq empty "$FED/system-overview.json" && ok "system-overview.json is valid JSON" ||
  not_ok "system-overview.json is not valid JSON"
check_eq "$(jq '[.. | objects | select(has("datasource")) | .datasource
                 | select(. != {"type": "prometheus", "uid": "${datasource}"})] | length' \
  "$FED/system-overview.json")" 0 "System overview: every datasource is the \$datasource variable"

# ---- ports, data, keys ----
pick_port vport
pick_port vaport
pick_port pport
pick_port cport
regions=(r1 r2 r3)
declare -A port
for r in "${regions[@]}"; do pick_port "port_$r"; port[$r]=$(eval echo "\$port_$r"); done

seed=40
for r in "${regions[@]}"; do
  seed=$((seed + 1))
  "$BIN/cadre-gen" --staff 500 --sites 1 --seed "$seed" --from 2025-01-01 --to 2026-09-30 \
    --no-bad-rows --quiet --out "$T/gen-$r" || { not_ok "cadre-gen $r failed"; t_done; exit 1; }
  head -c 48 /dev/urandom | base64 | tr -d '\n' > "$T/$r.key"
  chmod 600 "$T/$r.key"
done

# agg_conf NAME PORT [REMOTE_WRITE_URL REGION]
agg_conf() {
  cat > "$T/agg-$1.ini" <<INI
[aggregator]
listen = 127.0.0.1:$2
db_path = $T/db-$1
tokens_file = $T/agg-$1.tokens
min_group_size = 5
as_of = 2026-09-30
literacy_courses = ai-literacy-101, ai-safety
kpi_refresh_interval_s = 1
sync_writes = false
INI
  if [ $# -ge 4 ]; then
    cat >> "$T/agg-$1.ini" <<INI
[remote_write]
url = $3
interval_s = 1
external_labels = region="$4"
send_counts = true
INI
  fi
}
# agent_conf NAME REGION PORT
agent_conf() {
  local d=$T/gen-$2/north
  echo "token-$1-$RANDOM$RANDOM" > "$T/agent-$1.token"
  mkdir -p "$T/state-$1"
  cat > "$T/agent-$1.ini" <<INI
[agent]
id = agent-$1
aggregator_url = http://127.0.0.1:$3
token_file = $T/agent-$1.token
org_key_file = $T/$2.key
state_dir = $T/state-$1
batch_max_wait_ms = 100
fsync = never
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
}

VM=http://127.0.0.1:$vport
: > "$T/agg-central.tokens"
agg_conf central "$cport"
for r in "${regions[@]}"; do
  agg_conf "$r" "${port[$r]}" # [remote_write] comes once the data is in (below)
  agent_conf "$r" "$r" "${port[$r]}"
  echo "agent-$r $(cat "$T/agent-$r.token")" > "$T/agg-$r.tokens"
  agent_conf "$r-c" "$r" "$cport"
  echo "agent-$r-c $(cat "$T/agent-$r-c.token")" >> "$T/agg-central.tokens"
done

# ---- VictoriaMetrics, vmalert, the aggregators, the agents ----
# latencyOffset 0: a sample is visible at once (it is stamped with the KPI refresh time).
t_bg "$T/vm.log" victoria-metrics -storageDataPath="$T/vm" -httpListenAddr="127.0.0.1:$vport" \
  -search.latencyOffset=0s -search.disableCache -loggerLevel=WARN
wait_http "$VM/health" || { not_ok "VictoriaMetrics did not start"; cat "$T/vm.log"; t_done; exit 1; }
t_bg "$T/vmalert.log" vmalert -rule="$FED/rules.yml" -datasource.url="$VM" \
  -remoteWrite.url="$VM" -evaluationInterval=1s -httpListenAddr="127.0.0.1:$vaport" \
  -loggerLevel=WARN
wait_http "http://127.0.0.1:$vaport/health" || { not_ok "vmalert did not start"; cat "$T/vmalert.log"; t_done; exit 1; }

declare -A agg_pid
for a in central "${regions[@]}"; do
  t_bg "$T/agg-$a.log" "$BIN/cadre-aggregator" --config "$T/agg-$a.ini"
  agg_pid[$a]=$T_LAST_PID
done
for a in central "${regions[@]}"; do
  p=$cport; [ "$a" != central ] && p=${port[$a]}
  wait_http "http://127.0.0.1:$p/healthz" || { not_ok "aggregator $a did not start"; cat "$T/agg-$a.log"; t_done; exit 1; }
done
for r in "${regions[@]}"; do
  for a in "$r" "$r-c"; do
    "$BIN/cadre-agent" --config "$T/agent-$a.ini" --once > /dev/null 2> "$T/agent-$a.log"
    check_eq "$?" 0 "agent $a --once"
  done
done

# api_rows PORT FILE: every KPI row of every /metrics window, as JSON Lines.
api_rows() {
  local w
  for w in 7d 28d 90d 365d; do
    curl -s "http://127.0.0.1:$1/api/v1/kpis?window=$w&format=json"
  done | jq -c '(if type == "array" then .[] else (.rows // .kpis // .)[] end)' > "$2"
}
# The agents have been acked; wait for a refresh that includes everything: one that
# started a second or more after the last ack (the model takes every acknowledged batch
# before a refresh reads it; a refresh follows new data by about a second).
acked=$(date +%s)
for a in central "${regions[@]}"; do
  p=$cport; [ "$a" != central ] && p=${port[$a]}
  for _ in $(seq 300); do
    last=$(curl -s "http://127.0.0.1:$p/metrics" | awk '$1 == "cadre_kpi_last_refresh_timestamp_seconds" { print $2 }')
    awk -v l="${last:-0}" -v a="$acked" 'BEGIN { exit !(l >= a + 2) }' && break
    sleep 0.1
  done
done
# Push only final figures: each regional aggregator restarts with [remote_write] now that
# every batch is stored (on a slow machine an intermediate snapshot's cells would linger in
# the database for its lookback).
for r in "${regions[@]}"; do
  kill -TERM "${agg_pid[$r]}"; wait "${agg_pid[$r]}" 2>/dev/null
  agg_conf "$r" "${port[$r]}" "$VM/api/v1/write" "$r"
  t_bg "$T/agg-$r-vm.log" "$BIN/cadre-aggregator" --config "$T/agg-$r.ini"
  agg_pid[$r]=$T_LAST_PID
  wait_http "http://127.0.0.1:${port[$r]}/healthz" || { not_ok "aggregator $r did not restart"; t_done; exit 1; }
done
for a in central "${regions[@]}"; do
  p=$cport; [ "$a" != central ] && p=${port[$a]}
  api_rows "$p" "$T/rows-$a.jsonl"
done
check_eq "$(head -c 1 "$T/rows-central.jsonl")" "{" "the API rows parse"
n_central=$(wc -l < "$T/rows-central.jsonl")
if [ "$n_central" -ge 500 ]; then ok "central aggregator: $n_central KPI rows"; else not_ok "central aggregator: only $n_central rows"; fi

# compare.py: the comparisons, in one place. Modes:
#   counts REGION ROWS EXPORT  pushed counts of one region vs its API rows
#   system ROWS RESULT         cadre:system:* query result vs the central rows
cat > "$T/compare.py" <<'PY'
import json, sys

def load_rows(path, kpis):
    """API rows keyed by (kpi, window, by, group), for the KPIs in kpis."""
    out = {}
    for line in open(path):
        r = json.loads(line)
        if r["kpi"] in kpis:
            out[(r["kpi"], r["window"], r["by"], r["group"])] = r
    return out

def catalogue(tsv):
    additive, windows = set(), {}
    for i, line in enumerate(open(tsv)):
        f = line.rstrip("\n").split("\t")
        if i == 0:
            continue
        windows[f[0]] = f[5].split(",")
        if f[7] == "yes":
            additive.add(f[0])
    return additive, windows

def close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))

mode = sys.argv[1]
additive, windows = catalogue(sys.argv[2])
fails = 0

def bad(msg):
    global fails
    fails += 1
    if fails <= 15:
        print("  mismatch: " + msg)

if mode == "counts":
    rows = load_rows(sys.argv[3], set(windows))
    got = {}
    for line in open(sys.argv[4]):      # VictoriaMetrics /api/v1/export lines
        s = json.loads(line)
        m = s["metric"]
        name = m["__name__"][len("cadre_"):]
        side = "numerator" if name.endswith("_numerator") else "denominator"
        kpi = name[: -len("_" + side)]
        got[(kpi, m["window"], m["by"], m["group"], side)] = s["values"][-1]
    want = {}
    for (kpi, w, by, g), r in rows.items():
        if kpi in additive and w in windows[kpi] and not r["suppressed"]:
            want[(kpi, w, by, g, "numerator")] = r["numerator"]
            want[(kpi, w, by, g, "denominator")] = r["denominator"]
    for k in sorted(set(want) | set(got), key=str):
        if k not in got:
            bad("not pushed: %s" % (k,))
        elif k not in want:
            r = rows.get(k[:4])
            why = "suppressed" if r and r["suppressed"] else ("not additive" if k[0] not in additive else "no such row")
            bad("pushed but %s: %s" % (why, k))
        elif not close(float(got[k]), float(want[k])):
            bad("%s: pushed %s, API %s" % (k, got[k], want[k]))
    nsupp = sum(1 for (kpi, w, by, g), r in rows.items()
                if r["suppressed"] and kpi in additive and w in windows[kpi])
    print("%d count series compared, %d suppressed cells without counts" % (len(want), nsupp))
else:
    regions = sys.argv[5:]
    rows = load_rows(sys.argv[3], additive)
    region_rows = [load_rows(p, additive) for p in regions]
    got = {}
    for s in json.load(open(sys.argv[4]))["data"]["result"]:
        m = s["metric"]
        got[(m["__name__"].split(":")[-1], m["window"], m["by"], m["group"])] = float(s["value"][1])
    # Every org cell of every additive KPI and window, and the other system breakdowns
    # exactly where every region publishes the cell (and publishes the KPI in the window).
    want, left_out = {}, 0
    for k, r in rows.items():
        kpi, w, by, g = k
        if w not in windows[kpi] or by not in ("org", "role", "tool", "hybrid_role", "adoption_cohort"):
            continue
        if by == "org":
            want[k] = r
        elif all(k in rr and not rr[k]["suppressed"] for rr in region_rows):
            want[k] = r
        elif any(k in rr and not rr[k]["suppressed"] for rr in region_rows):
            left_out += 1  # published by some regions only: no system value
    if left_out == 0:
        bad("no cell is published by some regions only: the completeness rule is not exercised")
    norg = 0
    for k in sorted(set(want) | set(got), key=str):
        if k not in got:
            bad("no system value for %s" % (k,))
        elif k not in want:
            bad("system value %s for %s, where some region has no published cell" % (got[k], k))
        else:
            v = want[k]["numerator"] / want[k]["denominator"]
            if want[k]["suppressed"]:
                bad("%s is suppressed centrally" % (k,))
            elif not close(got[k], v):
                bad("%s: system %.17g, one aggregator %.17g" % (k, got[k], v))
            norg += k[2] == "org"
    print("%d system cells compared (%d org-level), all within 1e-9; %d cells published by "
          "some regions only have none" % (len(want), norg, left_out)
          if not fails else "%d mismatches" % fails)
sys.exit(1 if fails else 0)
PY

# ---- the pushed counts, region by region ----
for r in "${regions[@]}"; do
  ok=0
  for _ in $(seq 60); do
    curl -s --data-urlencode "match[]={region=\"$r\",__name__=~\"cadre_.+_(numerator|denominator)\"}" \
      "$VM/api/v1/export" > "$T/export-$r.jsonl"
    if python3 "$T/compare.py" counts "$T/kpis.tsv" "$T/rows-$r.jsonl" "$T/export-$r.jsonl" \
      > "$T/counts-$r.out" 2>&1; then ok=1; break; fi
    sleep 0.5
  done
  if [ "$ok" = 1 ]; then ok "region $r: $(tail -1 "$T/counts-$r.out")"
  else not_ok "region $r: pushed counts differ from its API rows"; cat "$T/counts-$r.out"; fi
done
check_eq "$(curl -s --data-urlencode 'query=count({__name__=~"cadre_ai_champion_coverage_ratio_.+"})' \
  "$VM/api/v1/query" | jq '.data.result | length')" 0 "no counts for the non-additive champion coverage"
check_eq "$(curl -s --data-urlencode 'query=count({__name__=~"cadre_.+_ratio|cadre_.+_seconds",region="r1"})' \
  "$VM/api/v1/query" | jq -r '.data.result[0].value[1] // 0' | awk '$1 > 0 { print "yes" }')" yes \
  "the ratios are pushed beside the counts"
if grep -q '"suppressed":true' "$T/rows-r1.jsonl"; then ok "region r1 has suppressed cells to leave out"
else not_ok "region r1 suppressed nothing: the test does not exercise suppression"; fi

# system_query URL FILE: every cadre:system:* series at the latest evaluation.
system_query() {
  curl -s --data-urlencode 'query={__name__=~"cadre:system:.+"}' "$1/api/v1/query" > "$2"
}
compare_system() {  # compare_system URL WHAT
  local good=0
  for _ in $(seq 60); do
    system_query "$1" "$T/system.json"
    if python3 "$T/compare.py" system "$T/kpis.tsv" "$T/rows-central.jsonl" "$T/system.json" \
      "$T/rows-r1.jsonl" "$T/rows-r2.jsonl" "$T/rows-r3.jsonl" > "$T/system.out" 2>&1; then
      good=1; break
    fi
    sleep 0.5
  done
  if [ "$good" = 1 ]; then ok "$2: $(tail -1 "$T/system.out")"
  else not_ok "$2: system-wide values differ from one aggregator over all regions"; cat "$T/system.out"; fi
}
compare_system "$VM" "VictoriaMetrics + vmalert"
mean=$(curl -s --data-urlencode 'query=avg(cadre_adoption_ratio{by="org",window="28d"})' "$VM/api/v1/query" |
  jq -r '.data.result[0].value[1]')
sys=$(curl -s --data-urlencode 'query=cadre:system:adoption_ratio{by="org",window="28d"}' "$VM/api/v1/query" |
  jq -r '.data.result[0].value[1]')
# The naive alternative is wrong: the mean of the regional ratios weighs regions equally.
if awk -v a="$sys" -v b="$mean" 'BEGIN { d = a - b; exit !(a > 0 && (d > 1e-6 || d < -1e-6)) }'; then
  ok "adoption 28d: system $sys, not the mean of the regional ratios $mean"
else
  not_ok "adoption 28d: system $sys, mean of the regional ratios $mean"
fi

# ---- the same remote_write into Prometheus, the same rules ----
P=http://127.0.0.1:$pport
cat > "$T/prometheus.yml" <<YML
global:
  evaluation_interval: 1s
rule_files:
  - $FED/rules.yml
  - $FED/alerts.yml
YML
t_bg "$T/prometheus.log" prometheus --config.file="$T/prometheus.yml" --web.enable-remote-write-receiver \
  --storage.tsdb.path="$T/prom" --web.listen-address="127.0.0.1:$pport"
wait_http "$P/-/ready" 30 || { not_ok "Prometheus did not start"; cat "$T/prometheus.log"; t_done; exit 1; }
for r in "${regions[@]}"; do
  kill -TERM "${agg_pid[$r]}"; wait "${agg_pid[$r]}" 2>/dev/null
  sed -i "s#^url = .*#url = $P/api/v1/write#" "$T/agg-$r.ini"
  t_bg "$T/agg-$r-2.log" "$BIN/cadre-aggregator" --config "$T/agg-$r.ini"
done
compare_system "$P" "Prometheus"

# Every query of the System overview dashboard returns data in that Prometheus.
jq -r '.panels[].targets[].expr' "$FED/system-overview.json" | sed 's/\$region/.*/g' > "$T/panel.queries"
nq=0
while IFS= read -r q; do
  nq=$((nq + 1))
  n=$(curl -s --data-urlencode "query=$q" "$P/api/v1/query" | jq '.data.result | length')
  if [ "${n:-0}" -gt 0 ]; then ok "panel query returns $n series: $q"
  else not_ok "panel query returns nothing: $q"; fi
done < "$T/panel.queries"
[ "$nq" -ge 10 ] || not_ok "only $nq panel queries"
check_eq "$(curl -s --data-urlencode 'query=count(group by (region) ({__name__=~"cadre_.+",by="org"}))' \
  "$P/api/v1/query" | jq -r '.data.result[0].value[1]')" 3 "Regions pushing"
check_eq "$(curl -s "$P/api/v1/rules" | jq '[.data.groups[].rules[] | select(.health != "ok")] | length')" 0 \
  "every rule evaluates without error"
check_eq "$(curl -s "$P/api/v1/alerts" | jq '.data.alerts | length')" 0 "no region flagged while all push"

t_done
