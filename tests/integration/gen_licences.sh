#!/usr/bin/env bash
# cadre-gen's licences.csv agrees with its usage, as the real agent reads them: one
# --dry-run over every site's usage, staffing and licences (one org key, so a person who
# moved between sites has one pseudonym), checked by gen_licences_check.py:
#  - every valid usage record's day lies in a licence of its tool (or of a parent tool) of
#    the same person, and every user's first seat was assigned on or before their first use;
#  - some seats are never used, some removed after use and some removed unused;
#  - summary.txt's licence tallies are what the agent and SPEC section 7 make of the file:
#    valid keys per site, rejected rows per site and reason (from the agent's log), and
#    unmatched licences (no staffing episode on any of the licence's days).
# Then an aggregator stores the licences: cadre_stored_records and cadre_unmatched_records
# {type="licence"} equal summary.txt's totals.
. "$(dirname "$0")/lib.sh"
t_setup
for tool in python3 curl; do
  command -v "$tool" >/dev/null || { not_ok "$tool is missing (scripts/install-deps.sh)"; t_done; exit 1; }
done
"$BIN/cadre-gen" --staff 300 --sites 2 --seed 11 --from 2025-07-01 --to 2026-06-30 --quiet \
  --out "$T/data" || { not_ok "cadre-gen failed"; t_done; exit 1; }
SUM=$T/data/summary.txt
head -c 48 /dev/urandom | base64 | tr -d '\n' > "$T/org.key"
chmod 600 "$T/org.key"
echo "gl-token" > "$T/token"
echo "gl-1 gl-token" > "$T/tokens"
port=$(free_port)
{
  printf '[agent]\nid = gl-1\naggregator_url = http://127.0.0.1:%s\ntoken_file = %s/token\n' "$port" "$T"
  printf 'org_key_file = %s/org.key\nstate_dir = %s/state\nbatch_max_wait_ms = 100\n' "$T" "$T"
  for s in north south; do
    printf '[source %s-usage]\ntype = usage_jsonl\npath = %s/%s/usage.jsonl\n' "$s" "$T/data" "$s"
    printf '[source %s-hr]\ntype = staffing_csv\npath = %s/%s/staffing.csv\n' "$s" "$T/data" "$s"
    printf '[source %s-lic]\ntype = licences_csv\npath = %s/%s/licences.csv\n' "$s" "$T/data" "$s"
  done
} > "$T/agent.ini"
"$BIN/cadre-agent" --config "$T/agent.ini" --dry-run > "$T/dry.jsonl" 2> "$T/dry.log"
check_eq "$?" 0 "agent --dry-run exit status"
python3 "$TESTS_DIR/integration/gen_licences_check.py" "$T/dry.jsonl" > "$T/facts.txt" ||
  { not_ok "gen_licences_check.py failed"; t_done; exit 1; }
cat "$T/facts.txt"
fact() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "missing" }' "$T/facts.txt"; }
# positive NAME: the fact is a number above 0.
positive() {
  local v; v=$(fact "$1")
  if [[ $v =~ ^[0-9]+$ ]] && [ "$v" -gt 0 ]; then ok "$1 = $v > 0"; else not_ok "$1: got '$v', want > 0"; fi
}
# sum_field SITE|total TYPE NAME: a summary.txt count.
sum_field() {
  awk -v s="$1" -v t="$2" -v k="$3" '$1 == s && $2 == t {
    for (i = 3; i <= NF; i++) { split($i, a, "="); if (a[1] == k) print a[2] } }' "$SUM"
}

positive usage
positive licences
check_eq "$(fact usage_uncovered)" 0 "usage records on a day no licence of the person covers"
check_eq "$(fact seat_before_first_use)" "$(fact users)" "users whose first seat came on or before their first use"
positive licences_used
positive licences_idle
positive holders_never_used
positive removed_after_use
positive removed_unused
check_eq "$(fact licences)" "$(sum_field total licence valid_keys)" "licence records = summary total valid_keys"
for s in north south; do
  check_eq "$(fact "keys.$s-lic")" "$(sum_field "$s" licence valid_keys)" "$s licence keys = summary valid_keys"
  for r in malformed missing_field invalid_value; do
    n=$(grep -cE "\[source $s-lic\] line [0-9]+: $r( |$)" "$T/dry.log")
    want=$(sum_field "$s" licence "$r")
    check_eq "$n" "$want" "$s licences rejected as $r (agent log = summary)"
    [ "${want:-0}" -gt 0 ] && ok "$s licences.csv has $r rows" || not_ok "$s licences.csv has no $r rows"
  done
done
unm=$(awk '/^# unmatched total / { for (i = 4; i <= NF; i++) { split($i, a, "="); if (a[1] == "licence") print a[2] } }' "$SUM")
check_eq "$(fact unmatched)" "$unm" "unmatched licences (no episode on any of their days) = summary"
# Exactly the ghosts' seats: cadre-gen makes max(3, staff / 250) = 3 ids without an episode
# (contractors, students, service accounts), each with one seat; a staff member's seat
# always starts its window on a day they are employed (docs/generator.md).
check_eq "$unm" 3 "unmatched licences: the 3 ghosts' seats"
check_no_grep '[A-Z][0-9]{6}' "$T/dry.log" "no staff id in the agent's log"

# The aggregator's view: every valid licence key stored once, unmatched as in the summary.
printf '[aggregator]\nlisten = 127.0.0.1:%s\ndb_path = %s/db\ntokens_file = %s/tokens\nas_of = 2026-06-30\nmin_group_size = 5\nkpi_refresh_interval_s = 1\n' \
  "$port" "$T" "$T" > "$T/agg.ini"
t_bg "$T/agg.log" "$BIN/cadre-aggregator" --config "$T/agg.ini"
wait_http "http://127.0.0.1:$port/healthz" || { not_ok "aggregator did not start"; t_done; exit 1; }
"$BIN/cadre-agent" --config "$T/agent.ini" --once > /dev/null 2> "$T/agent.log"
check_eq "$?" 0 "agent --once exit status"
want_keys=$(sum_field total licence valid_keys)
for _ in $(seq 100); do
  curl -s "http://127.0.0.1:$port/metrics" > "$T/metrics.txt"
  [ "$(metric "$T/metrics.txt" 'cadre_stored_records{type="licence"}')" = "$want_keys" ] &&
    [ "$(metric "$T/metrics.txt" 'cadre_unmatched_records{type="licence"}')" = "$unm" ] && break
  sleep 0.2
done
check_eq "$(metric "$T/metrics.txt" 'cadre_stored_records{type="licence"}')" "$want_keys" "stored licences"
check_eq "$(metric "$T/metrics.txt" 'cadre_unmatched_records{type="licence"}')" "$unm" "unmatched licences on /metrics"
t_done
