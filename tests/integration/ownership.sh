#!/usr/bin/env bash
# Who may change a record, with the real binaries: agent a1 ships an HR export; agent b2,
# whose token carries no scope, ships the same export with two rows changed and one gone
# (authoritative, so it sends a tombstone): all three are refused as not_permitted and the
# store keeps a1's rows; hr, scoped to staffing at site north, may change the north row
# but not the south one; a1-new, inheriting a1, deletes a row of a1's. (--once here ships
# and waits for the acks: a refused record is still an acked batch.)
. "$(dirname "$0")/lib.sh"
t_setup
port=$(free_port)
head -c 48 /dev/urandom | base64 | tr -d '\n' > "$T/org.key"; chmod 600 "$T/org.key"
cat > "$T/agents.tokens" <<TOK
a1 tok-a1
b2 tok-b2
hr tok-hr types=staffing sites=north
a1-new tok-a1new inherits=a1
TOK
cat > "$T/agg.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port
db_path = $T/db
tokens_file = $T/agents.tokens
sync_writes = false
INI
t_bg "$T/agg.log" "$BIN/cadre-aggregator" --config "$T/agg.ini"
wait_http "http://127.0.0.1:$port/healthz" || { cat "$T/agg.log"; exit 1; }

# run_agent ID CSV: one --once run of agent ID over CSV (authoritative staffing source).
run_agent() {
  printf '%s\n' "$(awk -v id="$1" '$1 == id { print $2 }' "$T/agents.tokens")" > "$T/$1.token"
  chmod 600 "$T/$1.token"
  cat > "$T/$1.ini" <<INI
[agent]
id = $1
aggregator_url = http://127.0.0.1:$port
token_file = $T/$1.token
org_key_file = $T/org.key
state_dir = $T/state-$1
[source hr]
type = staffing_csv
path = $2
authoritative = true
INI
  "$BIN/cadre-agent" --config "$T/$1.ini" --once 2>>"$T/agents.log"
}
metric_of() { curl -s "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
stored() { metric_of 'cadre_stored_records{type="staffing"}'; }
refused() { metric_of 'cadre_ingest_rejected_records_total{reason="not_permitted"}'; }

cat > "$T/hr.csv" <<CSV
staff_id,start_date,department,role,site
n1,2025-01-01,ICU,nurse,north
n2,2025-01-01,ICU,nurse,north
s1,2025-01-01,ER,nurse,south
CSV
run_agent a1 "$T/hr.csv"
check_eq "$?" 0 "a1 --once"
check_eq "$(stored)" 3 "a1's three episodes stored"

# b2 ships the same export first, so it knows n2; then n1 and s1 changed and n2 gone (a
# tombstone): three refusals, nothing changes.
cat > "$T/b2.csv" <<CSV
staff_id,start_date,department,role,site
n1,2025-01-01,ICU,physician,north
s1,2025-01-01,ER,physician,south
CSV
run_agent b2 "$T/hr.csv" # the same bodies as a1's: accepted, nothing changes
check_eq "$(refused)" 0 "the same bodies from b2 are not refused"
run_agent b2 "$T/b2.csv"
check_eq "$?" 0 "b2 --once (its batches are taken; its records refused one by one)"
check_eq "$(refused)" 3 "b2's two changes and one deletion refused as not_permitted"
check_eq "$(stored)" 3 "a1's episodes all still stored"

# hr (staffing at north): n1's change goes through, s1's (south) does not.
run_agent hr "$T/b2.csv"
check_eq "$(refused)" 4 "hr may not change the south episode (one more refusal)"
run_agent hr "$T/b2.csv" # nothing new: its agent state knows what it shipped
check_eq "$(refused)" 4 "a second run ships nothing new"

# a1-new inherits a1: removing n2 from its export deletes a1's episode.
cat > "$T/a1new.csv" <<CSV
staff_id,start_date,department,role,site
n1,2025-01-01,ICU,physician,north
s1,2025-01-01,ER,nurse,south
CSV
printf 'staff_id,start_date,department,role,site\nn2,2025-01-01,ICU,nurse,north\n' > "$T/seed.csv"
run_agent a1-new "$T/seed.csv"   # it knows n2 (the same body: accepted, changes nothing)
run_agent a1-new "$T/a1new.csv"  # n2 gone: a tombstone; n1 and s1 as stored now
check_eq "$(stored)" 2 "a1-new deleted a1's n2"
check_eq "$(refused)" 4 "nothing refused: n1 and s1 came with the bodies already stored"
t_done
