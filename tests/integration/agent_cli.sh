#!/usr/bin/env bash
# cadre-agent's command line: --check on good and bad configs (exit 0 / 78, line numbers),
# --help, --dry-run (records, no staff id, no state written), --once against a stopped and
# then a running aggregator (exit 75, then 0 with the spooled batches delivered), and a
# foreground run with self-metrics that SIGTERM stops with exit 0.
. "$(dirname "$0")/lib.sh"
t_setup

data=$T/data
mkdir -p "$data"
cp "$TESTS_DIR"/data/agent/* "$data"/
chmod 600 "$data/org.key"
echo "agent-test-token" > "$T/agent.token"
port=$(free_port)

# write_ini FILE [extra [agent] lines...]
write_ini() {
  local f=$1; shift
  {
    echo "[agent]"
    echo "id = test-1"
    echo "aggregator_url = http://127.0.0.1:$port"
    echo "token_file = $T/agent.token"
    echo "org_key_file = $data/org.key"
    echo "state_dir = $T/state"
    for l in "$@"; do echo "$l"; done
    echo "[source scribe]"
    echo "type = usage_jsonl"
    echo "path = $data/*.jsonl"
    echo "[source hr]"
    echo "type = staffing_csv"
    echo "path = $data/staffing.csv"
  } > "$f"
}

agent() { "$BIN/cadre-agent" "$@"; }

# --- --check ---
write_ini "$T/good.ini" "batch_max_wait_ms = 50"
agent --config "$T/good.ini" --check > "$T/check.out" 2>&1
check_eq "$?" 0 "--check on a good config"
check_grep 'OK' "$T/check.out" "--check says OK"
[ -e "$T/state" ] && not_ok "--check created state_dir" || ok "--check writes nothing"

# check_bad NAME WANT_REGEX: --check on $T/NAME.ini must exit 78 and print WANT_REGEX.
check_bad() {
  agent --config "$T/$1.ini" --check > "$T/$1.out" 2>&1
  check_eq "$?" 78 "--check exit status, $1"
  check_grep "$2" "$T/$1.out" "--check message, $1"
}

write_ini "$T/unknown.ini" "poll_intervall_s = 5"
check_bad unknown "unknown\.ini:7: unknown key 'poll_intervall_s' in \[agent\]"

write_ini "$T/repeated.ini" "heartbeat_s = 10" "heartbeat_s = 20"
check_bad repeated "repeated\.ini:8: key 'heartbeat_s' repeated in \[agent\] \(first on line 7\)"

write_ini "$T/srckey.ini"
echo "authoritativ = true" >> "$T/srckey.ini"
check_bad srckey "srckey\.ini:13: unknown key 'authoritativ' in \[source hr\]"

write_ini "$T/indent.ini" "  poll_interval_s = 5"
check_bad indent "indent\.ini:7: lines must start in column 1"

write_ini "$T/long.ini" "; $(head -c 220 /dev/zero | tr '\0' x)"
check_bad long "long\.ini:7: line longer than 200 bytes"

write_ini "$T/badval.ini" "spool_max_bytes = 12 parsecs"
check_bad badval "badval\.ini:7: spool_max_bytes must be a size"

write_ini "$T/badfsync.ini" "fsync = sometimes"
check_bad badfsync "badfsync\.ini:7: fsync must be always, interval or never"
write_ini "$T/badinterval.ini" "fsync = interval" "fsync_interval_ms = 5"
check_bad badinterval "badinterval\.ini:8: fsync_interval_ms must be a whole number from 10 to 60000"
write_ini "$T/interval.ini" "fsync = interval" "fsync_interval_ms = 250"
agent --config "$T/interval.ini" --check > "$T/interval.out" 2>&1
check_eq "$?" 0 "--check accepts fsync = interval"

write_ini "$T/badtype.ini"
printf '[source x]\ntype = carrier_pigeon\n' >> "$T/badtype.ini"
check_bad badtype "badtype\.ini:14: unknown source type 'carrier_pigeon'"

grep -v '^state_dir' "$T/good.ini" > "$T/nostate.ini"
check_bad nostate "\[agent\] state_dir is required"

cp "$data/org.key" "$T/open.key"
chmod 644 "$T/open.key"
sed "s|^org_key_file = .*|org_key_file = $T/open.key|" "$T/good.ini" > "$T/openkey.ini"
check_bad openkey "org_key_file .*open\.key: mode 644"
check_no_grep 'agent-test-org-key' "$T/openkey.out" "the key is never printed"

printf 'short-key\n' > "$T/short.key"
chmod 600 "$T/short.key"
sed "s|^org_key_file = .*|org_key_file = $T/short.key|" "$T/good.ini" > "$T/shortkey.ini"
check_bad shortkey "key is 9 bytes, needs at least 32"

sed "s|^token_file = .*|token_file = $T/nope.token|" "$T/good.ini" > "$T/notoken.ini"
check_bad notoken "token_file .*nope\.token: cannot open"

write_ini "$T/tls.ini" "tls_ca_file = $T/missing-ca.pem"
check_bad tls "tls_ca_file .*missing-ca\.pem: cannot open"

# --- --help and --version ---
agent --help > "$T/help.out" 2>&1
check_eq "$?" 0 "--help exit status"
for k in spool_max_bytes batch_max_wait_ms once_timeout_s authoritative usage_jsonl training_csv; do
  check_grep "$k" "$T/help.out" "--help lists $k"
done
check_grep '^cadre-agent [0-9]' <(agent --version) "--version"
agent > /dev/null 2>&1
check_eq "$?" 64 "no --config is a usage error"

# --- --dry-run ---
agent --config "$T/good.ini" --dry-run > "$T/dry.out" 2> "$T/dry.err"
check_eq "$?" 0 "--dry-run exit status"
# usage: lines 1, 2 and 5 are good; staffing: Q7001 and Q7002.
check_eq "$(wc -l < "$T/dry.out")" 5 "--dry-run records"
check_eq "$(grep -c '"type":"usage"' "$T/dry.out")" 3 "--dry-run usage records"
check_eq "$(grep -c '"type":"staffing"' "$T/dry.out")" 2 "--dry-run staffing records"
check_grep '"fte":"0.5".*|"end_reason":"voluntary"' "$T/dry.out" "--dry-run shows the fields"
check_grep '"staff":"[0-9a-f]{32}"' "$T/dry.out" "staff as a 16-byte hex pseudonym"
check_grep '\[source scribe\] line 3: invalid_value tool$' "$T/dry.err" "usage rejection logged"
check_grep '\[source scribe\] line 4: malformed$' "$T/dry.err" "usage malformed logged"
check_grep '\[source hr\] line 4: invalid_value start_date$' "$T/dry.err" "staffing rejection logged"
check_grep '\[source hr\] line 5: malformed$' "$T/dry.err" "staffing malformed logged"

# --- rejected rows: the first 10 of a minute logged one by one, then a count ---
mkdir -p "$T/many"
{ echo "staff_id,start_date,end_date,end_reason,site,department,role,fte"
  for i in $(seq 25); do echo "Q$i,2025-13-01,,,north,ICU,nurse,1.0"; done
  echo "Q9001,2025-01-01,,,north,ICU,nurse,1.0"; } > "$T/many/staffing.csv"
sed "s|^path = $data/staffing.csv|path = $T/many/staffing.csv|; s|^state_dir = .*|state_dir = $T/state-many|" \
  "$T/good.ini" > "$T/many.ini"
agent --config "$T/many.ini" --dry-run > "$T/many.out" 2> "$T/many.err"
check_eq "$(grep -c '"type":"staffing"' "$T/many.out")" 1 "the good row ships among 25 bad ones"
check_eq "$(grep -cE '\[source hr\] line [0-9]+: invalid_value start_date$' "$T/many.err")" 10 \
  "10 rejected rows logged one by one"
check_grep '\[source hr\] 15 more rows rejected in the last [0-9]+s, not logged one by one' "$T/many.err" \
  "the other 15 summarised in one line"
check_eq "$(grep -c 'warn: \[source hr\]' "$T/many.err")" 11 "11 warnings for 25 rejected rows"
check_no_grep '[Qq]700[0-9]|Alice|Smith|Bob|Jones|Carol' "$T/dry.out" "no staff id or name in --dry-run output"
check_no_grep '[Qq]700[0-9]|Alice|Smith|Bob|Jones|Carol' "$T/dry.err" "no staff id or name in --dry-run log"
[ -e "$T/state" ] && not_ok "--dry-run created state_dir" || ok "--dry-run writes no spool or checkpoint"
# The same id written two ways is one pseudonym; two ids are two.
u1=$(grep '"type":"usage"' "$T/dry.out" | sed -n 2p | sed 's/.*"staff":"\([0-9a-f]*\)".*/\1/')
s2=$(grep '"department"' "$T/dry.out" | grep physician | sed 's/.*"staff":"\([0-9a-f]*\)".*/\1/')
check_eq "$u1" "$s2" "' q7002 ' and 'Q7002' share a pseudonym"

# --- --once: no aggregator, then one ---
write_ini "$T/once.ini" "batch_max_wait_ms = 50" "once_timeout_s = 2" "retry_max_s = 1"
agent --config "$T/once.ini" --once > /dev/null 2> "$T/once1.err"
check_eq "$?" 75 "--once with the aggregator down"
check_grep 'retrying' "$T/once1.err" "connection errors are retried"
ls "$T/state/spool"/seg-*.log > /dev/null 2>&1 && ok "batches stay in the spool" || not_ok "no spool segment"
[ -s "$T/state/spool_id" ] && ok "spool_id made with state_dir" || not_ok "no spool_id"

echo "test-1 agent-test-token" > "$T/agents.tokens"
cat > "$T/agg.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port
db_path = $T/db
tokens_file = $T/agents.tokens
min_group_size = 5
as_of = 2026-09-30
kpi_refresh_interval_s = 1
INI
t_bg "$T/agg.log" "$BIN/cadre-aggregator" --config "$T/agg.ini"
wait_http "http://127.0.0.1:$port/healthz" || { cat "$T/agg.log"; t_done; exit 1; }
agent --config "$T/once.ini" --once > /dev/null 2> "$T/once2.err"
check_eq "$?" 0 "--once after the aggregator came up"
ls "$T/state/spool"/seg-*.log > /dev/null 2>&1 && not_ok "spool not emptied" || ok "spool emptied after acks"
stored() {
  curl -s "http://127.0.0.1:$port/metrics" | awk -v s="cadre_stored_records{type=\"$1\"}" '$1 == s { print $2 }'
}
for i in $(seq 50); do [ "$(stored usage)" = 3 ] && break; sleep 0.2; done
check_eq "$(stored usage)" 3 "usage records stored"
check_eq "$(stored staffing)" 2 "staffing records stored"
check_no_grep '[Qq]700[0-9]|Alice|Smith' "$T/once2.err" "no staff id in the --once log"

# A second --once: nothing new, nothing sent, exit 0 at once.
agent --config "$T/once.ini" --once > /dev/null 2> "$T/once3.err"
check_eq "$?" 0 "--once with nothing new"

# --- foreground: self-metrics, SIGTERM ---
mport=$(free_port)
write_ini "$T/run.ini" "batch_max_wait_ms = 50" "poll_interval_s = 1" "metrics_listen = 127.0.0.1:$mport"
"$BIN/cadre-agent" --config "$T/run.ini" > /dev/null 2> "$T/run.err" &
apid=$!
T_PIDS+=("$apid")
wait_http "http://127.0.0.1:$mport/metrics" || cat "$T/run.err"
echo '{"ts":"2026-09-13T10:00:00Z","user":"Q7009","tool":"chat-assistant"}' >> "$data/usage.jsonl"
for i in $(seq 50); do [ "$(stored usage)" = 4 ] && break; sleep 0.2; done
check_eq "$(stored usage)" 4 "a line appended while running is shipped"
curl -s "http://127.0.0.1:$mport/metrics" > "$T/agent-metrics.txt"
check_eq "$(metric "$T/agent-metrics.txt" 'cadre_agent_source_records_total{source="scribe"}')" 1 \
  "records_total (the new line only)"
check_eq "$(metric "$T/agent-metrics.txt" 'cadre_agent_spool_bytes')" 0 "spool empty"
check_grep '^cadre_agent_last_ack_timestamp_seconds [1-9]' "$T/agent-metrics.txt" "last ack time"
if command -v promtool > /dev/null; then
  check_eq "$(promtool check metrics < "$T/agent-metrics.txt" 2>&1)" "" "promtool on agent metrics"
fi
# SIGHUP: a new source starts; id cannot change (logged, old kept, so the token matches).
printf 'staff_id,course,completed_date\nQ7001,ai-literacy-101,2026-03-01\n' > "$data/training.csv"
sed 's/^id = test-1/id = renamed-1/' "$T/run.ini" > "$T/run2.ini"
printf '[source lms]\ntype = training_csv\npath = %s\n' "$data/training.csv" >> "$T/run2.ini"
cp "$T/run2.ini" "$T/run.ini"
kill -HUP "$apid"
for i in $(seq 50); do [ "$(stored training)" = 1 ] && break; sleep 0.2; done
check_eq "$(stored training)" 1 "a source added by SIGHUP is shipped"
check_grep 'reload: id cannot change while running; keeping test-1' "$T/run.err" "id change refused"
kill -TERM "$apid"
for i in $(seq 70); do kill -0 "$apid" 2>/dev/null || break; sleep 0.1; done
wait "$apid"
check_eq "$?" 0 "SIGTERM exit status"
check_grep 'stopped' "$T/run.err" "stop logged"

# --- 413: batches too large for the aggregator are split until they fit ---
port2=$(free_port)
mkdir -p "$T/big"
cp "$data/org.key" "$T/big/org.key"
for i in $(seq 60); do
  printf '{"ts":"2026-09-10T08:%02d:00Z","user":"B%03d","tool":"ambient-scribe","minutes":%d}\n' \
    $((i % 60)) "$i" "$i"
done > "$T/big/u.jsonl"
cat > "$T/agg2.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port2
db_path = $T/db2
tokens_file = $T/agents.tokens
max_body_bytes = 1KiB
kpi_refresh_interval_s = 1
INI
t_bg "$T/agg2.log" "$BIN/cadre-aggregator" --config "$T/agg2.ini"
wait_http "http://127.0.0.1:$port2/healthz" || { cat "$T/agg2.log"; t_done; exit 1; }
cat > "$T/big.ini" <<INI
[agent]
id = test-1
aggregator_url = http://127.0.0.1:$port2
token_file = $T/agent.token
org_key_file = $T/big/org.key
state_dir = $T/state-big
compress = none
once_timeout_s = 60
[source scribe]
type = usage_jsonl
path = $T/big/*.jsonl
INI
agent --config "$T/big.ini" --once > /dev/null 2> "$T/big.err"
check_eq "$?" 0 "--once against a 1 KiB body limit"
check_grep 'too large \(413\); sent as batches' "$T/big.err" "413 splits the batch"
for i in $(seq 50); do
  n=$(curl -s "http://127.0.0.1:$port2/metrics" | awk '$1 == "cadre_stored_records{type=\"usage\"}" { print $2 }')
  [ "$n" = 60 ] && break; sleep 0.2
done
check_eq "$n" 60 "every record of the split batches stored"
[ -d "$T/state-big/rejected" ] && not_ok "rejected/ holds batches" || ok "nothing rejected"

t_done
