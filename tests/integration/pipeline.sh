#!/usr/bin/env bash
# The first slice end to end: the real agent reads tests/data/pipeline (every source type,
# with bad rows of each kind), ships over loopback HTTP to the real aggregator on a real
# RocksDB folder; /metrics is checked by value. Expected figures are worked out by hand
# from the data files and SPEC sections 2 and 5 (see the comments).
. "$(dirname "$0")/lib.sh"
t_setup

port=$(free_port)
data=$T/data
mkdir -p "$data" "$T/state"
cp "$TESTS_DIR"/data/pipeline/* "$data"/
chmod 600 "$data/org.key"
echo "north-secret-token" > "$T/agent.token"
printf 'north-1 north-secret-token\n' > "$T/agents.tokens"

cat > "$T/agg.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port
db_path = $T/db
tokens_file = $T/agents.tokens
min_group_size = 5
as_of = 2026-09-30
max_body_bytes = 1MiB
kpi_refresh_interval_s = 1
INI

write_agent_ini() { # $1 = state dir
  cat > "$T/agent.ini" <<INI
[agent]
id = north-1
aggregator_url = http://127.0.0.1:$port
token_file = $T/agent.token
org_key_file = $data/org.key
state_dir = $1
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
}

t_bg "$T/agg.log" "$BIN/cadre-aggregator" --config "$T/agg.ini"
wait_http "http://127.0.0.1:$port/healthz" || { cat "$T/agg.log"; exit 1; }

write_agent_ini "$T/state"
"$BIN/cadre-agent" --config "$T/agent.ini" --once >"$T/agent.out" 2>"$T/agent.log"
check_eq "$?" 0 "agent --once exit status"

# Waits until /metrics shows the refresh that follows the last batch.
scrape() {
  local want_stored=$1 i
  for i in $(seq 100); do
    curl -s "http://127.0.0.1:$port/metrics" > "$T/metrics.txt"
    if [ "$(metric "$T/metrics.txt" 'cadre_stored_records{type="usage"}')" = "$want_stored" ] &&
       grep -q '^cadre_adoption_ratio{window="28d",by="org",group="all"}' "$T/metrics.txt"; then
      sleep 2.5  # one more refresh so the KPIs include the last batch
      curl -s "http://127.0.0.1:$port/metrics" > "$T/metrics.txt"
      return 0
    fi
    sleep 0.2
  done
  return 1
}
scrape 9 || { not_ok "metrics never showed the stored usage"; cat "$T/agent.log" "$T/agg.log"; t_done; exit 1; }

# Distinct records per type. staffing: N001..N013 = 13 keys (N001 appears twice with one
# key, " n001 " normalising to n001; the later row wins). usage: 9 valid lines (N999 is
# valid but unmatched). shifts 3, absences 3 (PTO matches case-insensitively), ehr 2,
# training 2.
for pair in usage:9 staffing:13 shifts:3 absences:3 ehr:2 training:2; do
  check_eq "$(metric "$T/metrics.txt" "cadre_stored_records{type=\"${pair%%:*}\"}")" "${pair##*:}" \
    "stored ${pair%%:*}"
done
check_eq "$(metric "$T/metrics.txt" 'cadre_unmatched_records{type="usage"}')" 1 "unmatched usage (N999)"

# Rejections, as the agent logs them: staffing malformed 1 (short row), missing_field 1
# (no id), invalid_value 2 (month 13, fte 2); usage malformed 1, missing_field 1 (no
# tool), invalid_value 4 (tool charset, minutes -1, hour 25, numeric user); shifts
# invalid_value 3; absences invalid_value 2; ehr missing_field 1; training invalid_value 1.
count_rej() { grep -cE "\[source $1\] line [0-9]+: $2( |$)" "$T/agent.log"; }
check_eq "$(count_rej hr malformed)" 1 "hr malformed"
check_eq "$(count_rej hr missing_field)" 1 "hr missing_field"
check_eq "$(count_rej hr invalid_value)" 2 "hr invalid_value"
check_eq "$(count_rej scribe malformed)" 1 "scribe malformed"
check_eq "$(count_rej scribe missing_field)" 1 "scribe missing_field"
check_eq "$(count_rej scribe invalid_value)" 4 "scribe invalid_value"
check_eq "$(count_rej roster invalid_value)" 3 "roster invalid_value"
check_eq "$(count_rej leave invalid_value)" 2 "leave invalid_value"
check_eq "$(count_rej ehr missing_field)" 1 "ehr missing_field"
check_eq "$(count_rej lms invalid_value)" 1 "lms invalid_value"
check_no_grep 'N00[0-9]|n00[0-9]|N999|Jane|Rick' "$T/agent.log" "no staff id or name in the agent log"

# Adoption, 28d = 2026-09-03..09-30. Population N001..N012 (N013 left 08-31). Active:
# N001, N002 (09-10 at +02:00), N003, N004, N007 (09-20 at -05:00), N008 = 6 -> 6/12.
# ICU N001..N006: 4 active -> 4/6; ER N007..N012: 2 -> 2/6 (both >= min_group_size 5).
num_eq() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "absent" && d < 1e-12) }'; }
check_num() {
  local got; got=$(metric "$T/metrics.txt" "$1")
  if num_eq "$got" "$2"; then ok "$1 = $got"; else not_ok "$1: got $got, want $2"; fi
}
check_num 'cadre_adoption_ratio{window="28d",by="org",group="all"}' 0.5
check_num 'cadre_adoption_ratio{window="28d",by="department",group="ICU"}' "$(awk 'BEGIN{printf "%.17g", 4/6}')"
check_num 'cadre_adoption_ratio{window="28d",by="department",group="ER"}' "$(awk 'BEGIN{printf "%.17g", 2/6}')"
# Roles: physician (N005, N010) has 2 < 5 people; nurse is then suppressed as its
# complement. Neither may appear.
check_eq "$(metric "$T/metrics.txt" 'cadre_adoption_ratio{window="28d",by="role",group="physician"}')" absent "physician suppressed"
check_eq "$(metric "$T/metrics.txt" 'cadre_adoption_ratio{window="28d",by="role",group="nurse"}')" absent "nurse suppressed (complementary)"

if command -v promtool >/dev/null; then
  out=$(promtool check metrics < "$T/metrics.txt" 2>&1)
  check_eq "$out" "" "promtool check metrics findings"
else
  not_ok "promtool is missing (scripts/install-deps.sh installs prometheus)"
fi

# From scratch again: state wiped, same files, a new spool id. Nothing new is stored.
before=$(grep '^cadre_stored_records' "$T/metrics.txt")
write_agent_ini "$T/state2"
"$BIN/cadre-agent" --config "$T/agent.ini" --once >/dev/null 2>"$T/agent2.log"
check_eq "$?" 0 "second agent run exit status"
curl -s "http://127.0.0.1:$port/metrics" > "$T/metrics2.txt"
after=$(grep '^cadre_stored_records' "$T/metrics2.txt")
check_eq "$after" "$before" "stored counts after a from-scratch re-run"
check_grep '^cadre_ingest_batches_total\{result="accepted"\} [1-9]' "$T/metrics2.txt" "accepted batches counted"

# Bad requests get their status and a reason; the aggregator keeps serving.
url=http://127.0.0.1:$port/v1/ingest
code=$(curl -s -o "$T/r.txt" -w '%{http_code}' -H 'Authorization: Bearer wrong' \
  -H 'Content-Type: application/x-protobuf' --data-binary 'x' "$url")
check_eq "$code" 401 "wrong token"
code=$(curl -s -o "$T/r.txt" -w '%{http_code}' -H 'Authorization: Bearer north-secret-token' \
  -H 'Content-Type: application/x-protobuf' --data-binary 'garbage, not protobuf' "$url")
check_eq "$code" 400 "garbage body"
check_grep 'protobuf' "$T/r.txt" "400 says why"
head -c 2000000 /dev/zero > "$T/big"
code=$(curl -s -o "$T/r.txt" -w '%{http_code}' -H 'Authorization: Bearer north-secret-token' \
  -H 'Content-Type: application/x-protobuf' --data-binary @"$T/big" "$url")
check_eq "$code" 413 "oversized body"
# A small gzip body that inflates past max_body_bytes is refused too.
gzip -c "$T/big" > "$T/big.gz"
code=$(curl -s -o "$T/r.txt" -w '%{http_code}' -H 'Authorization: Bearer north-secret-token' \
  -H 'Content-Type: application/x-protobuf' -H 'Content-Encoding: gzip' \
  --data-binary @"$T/big.gz" "$url")
check_eq "$code" 413 "gzip bomb"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")
check_eq "$code" 200 "still serving"

t_done
