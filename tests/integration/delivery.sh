#!/usr/bin/env bash
# Delivery under adverse conditions, real binaries over loopback (SPEC section 3):
#  1. aggregator down while the agent spools, then started: stored = summary exactly;
#  2. two batches in flight: a snapshot's correction, spooled behind the values it
#     corrects, lands after them;
#  3. log rotation by rename and by copytruncate during a run: no line lost or doubled;
#  4. spool cap (1 MiB) overflowed with the aggregator down: stored + dropped = written;
#  5. mTLS: an agent with a client certificate delivers, one without is refused (exit 75).
# Kill -9 of the agent and of the aggregator is in crash.sh.
. "$(dirname "$0")/lib.sh"
t_setup

mkdir -p "$T/keys"
head -c 48 /dev/urandom | base64 > "$T/keys/org.key"
chmod 600 "$T/keys/org.key"
# One token per agent: the aggregator finds the agent by its token.
for id in d-spool d-order d-rot d-cap d-tls d-notls; do
  echo "tok-$id" > "$T/keys/$id.token"
  echo "$id tok-$id"
done > "$T/agents.tokens"

# start_agg NAME PORT [extra [aggregator] lines...]: db in $T/NAME.db, log in $T/NAME.log.
start_agg() {
  local name=$1 port=$2; shift 2
  {
    echo "[aggregator]"
    echo "listen = 127.0.0.1:$port"
    echo "db_path = $T/$name.db"
    echo "tokens_file = $T/agents.tokens"
    echo "min_group_size = 5"
    echo "as_of = 2026-09-30"
    echo "kpi_refresh_interval_s = 1"
    for l in "$@"; do echo "$l"; done
  } > "$T/$name.agg.ini"
  t_bg "$T/$name.agg.log" "$BIN/cadre-aggregator" --config "$T/$name.agg.ini"
}

# agent_ini FILE ID URL STATE [extra [agent] lines...] -- SOURCE-LINES (already formatted)
agent_ini() {
  local f=$1 id=$2 url=$3 state=$4; shift 4
  {
    echo "[agent]"
    echo "id = $id"
    echo "aggregator_url = $url"
    echo "token_file = $T/keys/$id.token"
    echo "org_key_file = $T/keys/org.key"
    echo "state_dir = $state"
    while [ $# -gt 0 ] && [ "$1" != -- ]; do echo "$1"; shift; done
    [ $# -gt 0 ] && shift
    for l in "$@"; do printf '%s\n' "$l"; done
  } > "$f"
}

# gen_sources DIR: the [source] sections for one cadre-gen site folder.
gen_sources() {
  local d=$1
  printf '[source usage]\ntype = usage_jsonl\npath = %s/usage.jsonl\n' "$d"
  local t
  for t in staffing shifts absences ehr training licences; do
    printf '[source %s]\ntype = %s_csv\npath = %s/%s.csv\n' "$t" "$t" "$d" "$t"
  done
}

# valid_keys SUMMARY TYPE / unmatched SUMMARY TYPE
valid_keys() { awk -v t="$2" '$1 == "total" && $2 == t { sub("valid_keys=", "", $4); print $4 }' "$1"; }
unmatched() {
  awk -v t="$2" '/^# unmatched total / { for (i = 4; i <= NF; i++) { split($i, a, "="); if (a[1] == t) print a[2] } }' "$1"
}
TYPES="usage staffing shifts absences ehr training licence"

# scrape URL FILE
scrape() { curl -s "$1/metrics" > "$2" 2>/dev/null; }

# wait_summary URL SUMMARY SECONDS OUT: waits until every stored (and unmatched) count
# equals the summary; prints the seconds it took in WAITED.
wait_summary() {
  local url=$1 sum=$2 secs=$3 out=$4 start=$SECONDS t good
  while [ $((SECONDS - start)) -lt "$secs" ]; do
    scrape "$url" "$out"
    good=1
    for t in $TYPES; do
      [ "$(metric "$out" "cadre_stored_records{type=\"$t\"}")" = "$(valid_keys "$sum" "$t")" ] || { good=0; break; }
      u=$(unmatched "$sum" "$t")
      if [ -n "$u" ] && [ "$(metric "$out" "cadre_unmatched_records{type=\"$t\"}")" != "$u" ]; then good=0; break; fi
    done
    [ $good = 1 ] && break
    sleep 0.3
  done
  WAITED=$((SECONDS - start))
  sleep 1.2; scrape "$url" "$out"   # one more KPI refresh: still exact, nothing extra
}

check_summary() { # METRICS SUMMARY WHAT
  local t u
  for t in $TYPES; do
    check_eq "$(metric "$1" "cadre_stored_records{type=\"$t\"}")" "$(valid_keys "$2" "$t")" "$3: stored $t"
    u=$(unmatched "$2" "$t")
    [ -n "$u" ] && check_eq "$(metric "$1" "cadre_unmatched_records{type=\"$t\"}")" "$u" "$3: unmatched $t"
  done
}

stop_pid() { # PID: SIGTERM, wait, status in STOP_RC
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 80); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  wait "$1" 2>/dev/null; STOP_RC=$?
}

"$BIN/cadre-gen" --staff 150 --sites 1 --seed 7 --from 2026-07-01 --to 2026-09-30 --out "$T/data" --quiet
check_eq "$?" 0 "cadre-gen"
SUM=$T/data/summary.txt

# ---------------------------------------------------------------- 1. aggregator down
echo "# 1. aggregator down while the agent spools"
p1=$(free_port)
agent_ini "$T/a1.ini" d-spool "http://127.0.0.1:$p1" "$T/st1" \
  "poll_interval_s = 1" "batch_max_wait_ms = 100" "batch_max_records = 1000" "retry_max_s = 1" \
  -- "$(gen_sources "$T/data/north")"
t_bg "$T/a1.log" "$BIN/cadre-agent" --config "$T/a1.ini"
a1=$T_LAST_PID
sleep 4
kill -0 "$a1" 2>/dev/null && ok "agent keeps running with no aggregator" || not_ok "agent died: $(tail -3 "$T/a1.log")"
ls "$T/st1/spool"/seg-*.log > /dev/null 2>&1 && ok "batches wait in the spool" || not_ok "no spool segment"
check_grep 'retrying' "$T/a1.log" "connection errors are retried"
start_agg s1 "$p1"
wait_http "http://127.0.0.1:$p1/healthz" || cat "$T/s1.agg.log"
wait_summary "http://127.0.0.1:$p1" "$SUM" 40 "$T/m1.txt"
echo "# converged ${WAITED}s after the aggregator started"
check_summary "$T/m1.txt" "$SUM" "after the outage"
stop_pid "$a1"
check_eq "$STOP_RC" 0 "agent SIGTERM exit status"
check_eq "$(ls "$T/st1/spool"/seg-*.log 2>/dev/null | wc -l)" 0 "spool drained"

# ---------------------------------------------------------------- 2. order
echo "# 2. two batches in flight keep their order"
# 20 people in ICU, then the same 20 episodes moved to ER: with two records a batch, the
# correction is 10 batches spooled behind the 10 it corrects. The agent sends a batch
# while the one before is unanswered (the aggregator allows it); were a correction
# applied before the value it corrects, that person would stay in ICU. Over loopback
# the batch sent first nearly always arrives first anyway: ingest_test's test_follows
# holds the first one back to show the aggregator waits for it.
mkdir -p "$T/ord"
staffing_csv() { # DEPT
  echo "Staff_ID,department,role,start_date,end_date,end_reason,site,hybrid_role,fte"
  for i in $(seq -w 1 20); do echo "S0$i,$1,nurse,2026-01-05,,,north,,1"; done
}
staffing_csv ICU > "$T/ord/staffing.csv"
p2=$(free_port)
agent_ini "$T/a2.ini" d-order "http://127.0.0.1:$p2" "$T/st2" \
  "poll_interval_s = 1" "batch_max_wait_ms = 100" "batch_max_records = 2" "retry_max_s = 1" \
  -- "$(printf '[source staffing]\ntype = staffing_csv\npath = %s/staffing.csv\n' "$T/ord")"
t_bg "$T/a2.log" "$BIN/cadre-agent" --config "$T/a2.ini"
a2=$T_LAST_PID
sleep 3
staffing_csv ER > "$T/ord/staffing.new" && mv "$T/ord/staffing.new" "$T/ord/staffing.csv"
for _ in $(seq 50); do [ "$(grep -c 'rows, 20 changed' "$T/a2.log")" = 2 ] && break; sleep 0.2; done
check_eq "$(grep -c 'rows, 20 changed' "$T/a2.log")" 2 "both snapshots spooled before the aggregator starts"
{
  echo "[aggregator]"; echo "listen = 127.0.0.1:$p2"; echo "db_path = $T/s2.db"
  echo "tokens_file = $T/agents.tokens"; echo "as_of = 2026-09-30"; echo "kpi_refresh_interval_s = 1"
} > "$T/s2.agg.ini"
t_bg "$T/s2.agg.log" "$BIN/cadre-aggregator" --verbose --config "$T/s2.agg.ini"
wait_http "http://127.0.0.1:$p2/healthz" || cat "$T/s2.agg.log"
for _ in $(seq 100); do
  curl -s "http://127.0.0.1:$p2/api/v1/kpis?window=30d&by=department" > "$T/ord.json"
  grep -q '"group":"ER"' "$T/ord.json" && ! grep -q '"group":"ICU"' "$T/ord.json" && break
  sleep 0.3
done
followed=$(grep -c 'follows batch' "$T/s2.agg.log")
check_eq "$(( followed > 0 ))" 1 "batches were sent two at a time ($followed followed the one before)"
scrape "http://127.0.0.1:$p2" "$T/m2.txt"
check_eq "$(metric "$T/m2.txt" 'cadre_stored_records{type="staffing"}')" 20 "20 episodes stored, once each"
sleep 1.2
curl -s "http://127.0.0.1:$p2/api/v1/kpis?window=30d&by=department" > "$T/ord.json"
check_grep '"kpi":"adoption_ratio","by":"department","group":"ER",.*"denominator":20,' "$T/ord.json" \
  "all 20 people are in the corrected department"
check_no_grep '"group":"ICU"' "$T/ord.json" "no correction landed before the value it corrects"
stop_pid "$a2"
check_eq "$STOP_RC" 0 "agent SIGTERM exit status"

# ---------------------------------------------------------------- 3. rotation
echo "# 3. rotation by rename and by copytruncate"
rd=$T/rot
mkdir -p "$rd"
n_lines=0
# put N FILE: appends N unique valid usage lines (ts and user unique per line).
put() {
  local n=$1 f=$2 i
  for i in $(seq "$n"); do
    n_lines=$((n_lines + 1))
    printf '{"ts":"2026-09-%02dT%02d:%02d:%02dZ","user":"N%06d","tool":"chat-assistant","minutes":%d}\n' \
      $((1 + n_lines / 3600 % 28)) $((n_lines / 60 % 24)) $((n_lines % 60)) $((n_lines % 60)) \
      "$n_lines" $((n_lines % 30 + 1))
  done >> "$f"
}
p3=$(free_port)
start_agg s3 "$p3"
wait_http "http://127.0.0.1:$p3/healthz" || cat "$T/s3.agg.log"
agent_ini "$T/a3.ini" d-rot "http://127.0.0.1:$p3" "$T/st3" \
  "poll_interval_s = 1" "batch_max_wait_ms = 50" "retry_max_s = 1" \
  -- "[source app]" "type = usage_jsonl" "path = $rd/app.jsonl*"
t_bg "$T/a3.log" "$BIN/cadre-agent" --config "$T/a3.ini"
a3=$T_LAST_PID
wait_usage() { # PORT WANT SECONDS
  local i n
  for i in $(seq $(($3 * 5))); do
    n=$(curl -s "http://127.0.0.1:$1/metrics" | awk '$1 == "cadre_stored_records{type=\"usage\"}" { print $2 }')
    [ "$n" = "$2" ] && break
    sleep 0.2
  done
  echo "${n:-absent}"
}
put 200 "$rd/app.jsonl"
check_eq "$(wait_usage "$p3" "$n_lines" 15)" "$n_lines" "usage before any rotation"
# Rename: lines appended just before the rename are read from app.jsonl.1.
put 150 "$rd/app.jsonl"
mv "$rd/app.jsonl" "$rd/app.jsonl.1"
put 100 "$rd/app.jsonl"
check_eq "$(wait_usage "$p3" "$n_lines" 15)" "$n_lines" "usage after rotation by rename"
# Again, with the agent reading in between appends.
put 50 "$rd/app.jsonl"; sleep 0.7; put 50 "$rd/app.jsonl"
mv "$rd/app.jsonl.1" "$rd/app.jsonl.2"; mv "$rd/app.jsonl" "$rd/app.jsonl.1"
put 100 "$rd/app.jsonl"
check_eq "$(wait_usage "$p3" "$n_lines" 15)" "$n_lines" "usage after a second rename (shifted names)"
# Copytruncate: lines appended just before the copy are in the copy (which the glob matches).
rm -f "$rd/app.jsonl.2"
put 120 "$rd/app.jsonl"
cp "$rd/app.jsonl" "$rd/app.jsonl.2"
truncate -s 0 "$rd/app.jsonl"
put 80 "$rd/app.jsonl"
check_eq "$(wait_usage "$p3" "$n_lines" 15)" "$n_lines" "usage after copytruncate"
# Copytruncate where the agent sees the empty file before new lines arrive.
put 60 "$rd/app.jsonl"
cp "$rd/app.jsonl" "$rd/app.jsonl.3"
truncate -s 0 "$rd/app.jsonl"
sleep 2.2
put 40 "$rd/app.jsonl"
check_eq "$(wait_usage "$p3" "$n_lines" 15)" "$n_lines" "usage after copytruncate with a pause"
sleep 2
check_eq "$(wait_usage "$p3" "$n_lines" 1)" "$n_lines" "no late duplicates ($n_lines distinct lines written)"
stop_pid "$a3"
check_eq "$STOP_RC" 0 "rotation agent SIGTERM exit status"

# ---------------------------------------------------------------- 4. spool cap
echo "# 4. spool cap with the aggregator down"
p4=$(free_port)
mp4=$(free_port)
cd_=$T/cap
mkdir -p "$cd_"
cap_lines=60000
awk -v n=$cap_lines 'BEGIN { for (i = 1; i <= n; i++)
  printf "{\"ts\":\"2026-08-%02dT%02d:%02d:%02dZ\",\"user\":\"P%06d\",\"tool\":\"ambient-scribe\",\"minutes\":%d,\"outcome\":\"accepted\"}\n",
    1 + int(i / 3600) % 28, int(i / 60) % 24, i % 60, i % 60, i, i % 50 + 1 }' > "$cd_/big.jsonl"
agent_ini "$T/a4.ini" d-cap "http://127.0.0.1:$p4" "$T/st4" \
  "poll_interval_s = 1" "batch_max_wait_ms = 100" "batch_max_records = 500" "retry_max_s = 1" \
  "spool_max_bytes = 1MiB" "metrics_listen = 127.0.0.1:$mp4" \
  -- "[source big]" "type = usage_jsonl" "path = $cd_/*.jsonl"
t_bg "$T/a4.log" "$BIN/cadre-agent" --config "$T/a4.ini"
a4=$T_LAST_PID
wait_http "http://127.0.0.1:$mp4/metrics" || cat "$T/a4.log"
for i in $(seq 100); do
  scrape "http://127.0.0.1:$mp4" "$T/am4.txt"
  [ "$(metric "$T/am4.txt" 'cadre_agent_source_records_total{source="big"}')" = $cap_lines ] && break
  sleep 0.2
done
check_eq "$(metric "$T/am4.txt" 'cadre_agent_source_records_total{source="big"}')" $cap_lines "every line read"
spool_bytes=$(metric "$T/am4.txt" cadre_agent_spool_bytes)
drop_before=$(metric "$T/am4.txt" cadre_agent_spool_dropped_records_total)
echo "# spool_bytes=$spool_bytes dropped=$drop_before before the aggregator started"
if [ "$spool_bytes" != absent ] && [ "$spool_bytes" -le $((1 << 20)) ]; then ok "spool within 1 MiB ($spool_bytes)"; else not_ok "spool_bytes $spool_bytes > 1 MiB"; fi
if [ "$drop_before" != absent ] && [ "$drop_before" -gt 0 ]; then ok "records dropped past the cap"; else not_ok "nothing dropped: $drop_before"; fi
check_grep 'drop' "$T/a4.log" "drops are logged"
start_agg s4 "$p4"
wait_http "http://127.0.0.1:$p4/healthz" || cat "$T/s4.agg.log"
for i in $(seq 150); do
  scrape "http://127.0.0.1:$mp4" "$T/am4.txt"
  [ "$(metric "$T/am4.txt" cadre_agent_spool_batches)" = 0 ] && break
  sleep 0.2
done
check_eq "$(metric "$T/am4.txt" cadre_agent_spool_batches)" 0 "spool drained after the aggregator came up"
dropped=$(metric "$T/am4.txt" cadre_agent_spool_dropped_records_total)
check_eq "$dropped" "$drop_before" "no drop once the aggregator answers"
want=$((cap_lines - dropped))
check_eq "$(wait_usage "$p4" "$want" 10)" "$want" "stored usage + dropped ($dropped) = $cap_lines written"
got=$(wait_usage "$p4" "$want" 1)
echo "# dropped=$dropped stored=$got of $cap_lines (stored + dropped = $((got + dropped)))"
# Known agent bug when this fails by exactly one batch: the ship thread keeps the oldest
# batch in memory while it retries; the cap drops (and counts) that batch from the spool,
# yet the in-memory copy is delivered once the aggregator answers.
stop_pid "$a4"

# ---------------------------------------------------------------- 5. mTLS
echo "# 5. mTLS"
mkdir -p "$T/tls"
(
  cd "$T/tls" || exit 1
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=cadre-test-ca 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=localhost 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > ext
  openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile ext 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout cli.key -out cli.csr -subj /CN=d-tls 2>/dev/null
  openssl x509 -req -in cli.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out cli.crt -days 2 2>/dev/null
)
[ -s "$T/tls/cli.crt" ] && ok "certificates made" || not_ok "openssl failed"
p5=$(free_port)
start_agg s5 "$p5" "tls_cert_file = $T/tls/srv.crt" "tls_key_file = $T/tls/srv.key" \
  "tls_client_ca_file = $T/tls/ca.crt"
tb=https://127.0.0.1:$p5
tcurl() { curl -s --cacert "$T/tls/ca.crt" --cert "$T/tls/cli.crt" --key "$T/tls/cli.key" "$@"; }
for i in $(seq 100); do tcurl -o /dev/null "$tb/healthz" && break; sleep 0.1; done
agent_ini "$T/a5.ini" d-tls "$tb" "$T/st5" \
  "batch_max_wait_ms = 100" "retry_max_s = 1" "once_timeout_s = 30" \
  "tls_ca_file = $T/tls/ca.crt" "tls_cert_file = $T/tls/cli.crt" "tls_key_file = $T/tls/cli.key" \
  -- "$(gen_sources "$T/data/north")"
"$BIN/cadre-agent" --config "$T/a5.ini" --once > /dev/null 2> "$T/a5.log"
check_eq "$?" 0 "--once with a client certificate"
for i in $(seq 40); do
  tcurl "$tb/metrics" > "$T/m5.txt"
  [ "$(metric "$T/m5.txt" 'cadre_stored_records{type="usage"}')" = "$(valid_keys "$SUM" usage)" ] &&
    [ "$(metric "$T/m5.txt" 'cadre_unmatched_records{type="usage"}')" = "$(unmatched "$SUM" usage)" ] && break
  sleep 0.3
done
check_summary "$T/m5.txt" "$SUM" "over mTLS"
# No client certificate: refused at the TLS layer or with 403; --once gives up with 75.
mkdir -p "$T/notls"
for i in 1 2 3 4 5; do
  printf '{"ts":"2026-09-20T10:0%d:00Z","user":"X%06d","tool":"chat-assistant"}\n' "$i" "$i"
done > "$T/notls/x.jsonl"
agent_ini "$T/a6.ini" d-notls "$tb" "$T/st6" \
  "batch_max_wait_ms = 50" "retry_max_s = 1" "once_timeout_s = 3" "tls_ca_file = $T/tls/ca.crt" \
  -- "[source x]" "type = usage_jsonl" "path = $T/notls/*.jsonl"
s=$SECONDS
timeout 30 "$BIN/cadre-agent" --config "$T/a6.ini" --once > /dev/null 2> "$T/a6.log"
rc=$?
check_eq "$rc" 75 "--once without a client certificate"
[ $((SECONDS - s)) -le 10 ] && ok "gave up within once_timeout_s ($((SECONDS - s))s)" || not_ok "took $((SECONDS - s))s"
check_grep 'retrying' "$T/a6.log" "the refusal is retried, not dropped"
sleep 1.5
tcurl "$tb/metrics" > "$T/m5b.txt"
check_eq "$(metric "$T/m5b.txt" 'cadre_stored_records{type="usage"}')" "$(valid_keys "$SUM" usage)" \
  "nothing stored from the agent without a certificate"
check_grep '^cadre_agent_last_seen_timestamp_seconds\{agent="d-tls"' "$T/m5b.txt" "d-tls seen"
check_no_grep 'd-notls' "$T/m5b.txt" "d-notls never seen by the aggregator"

t_done
