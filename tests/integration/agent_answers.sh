#!/usr/bin/env bash
# How cadre-agent treats the aggregator's answers (SPEC section 3, "Answers" and SIGTERM),
# against build/tests/tools/stub_ingest, a stand-in that answers from a script, because the
# real aggregator never answers these ways on purpose:
#  a. 400: the batch and the reason go to state_dir/rejected/, counted; later batches are
#     acked and --once still exits 0;
#  b. 503 and 429 with Retry-After: 2 are retried after 2 s, not after the 1 s backoff cap;
#  c. an idle agent POSTs heartbeats (no seq, no records) every heartbeat_s, and the real
#     aggregator shows it as seen;
#  d. SIGTERM with a POST in flight that never gets an answer: exit 0 after the 5 s grace,
#     and the batch goes out after the restart.
# The stub logs one line per POST (key=value: mono_ms, bytes, plain, kind, seq, records,
# status); see tests/tools/stub_ingest.c.
. "$(dirname "$0")/lib.sh"
: "${BUILD:=$(cd "$TESTS_DIR/.." && pwd)/build}"
STUB=$BUILD/tests/tools/stub_ingest
t_setup

if [ ! -x "$STUB" ]; then
  not_ok "$STUB is missing (make units builds it)"
  t_done
  exit 1
fi

mkdir -p "$T/keys"
head -c 48 /dev/urandom | base64 > "$T/keys/org.key"
chmod 600 "$T/keys/org.key"

# start_stub NAME SCRIPT: a stub on a free port, log in $T/NAME.stub; sets SP (its port)
# and STUB_PID.
start_stub() {
  SP=$(free_port)
  : > "$T/$1.stub"
  t_bg "$T/$1.stub.err" "$STUB" --port "$SP" --log "$T/$1.stub" --script "$2"
  STUB_PID=$T_LAST_PID
  wait_http "http://127.0.0.1:$SP/" 10 || cat "$T/$1.stub.err"
}

# agent_ini NAME PORT [extra [agent] lines...]: $T/NAME.ini for agent id NAME, state in
# $T/NAME.state, one usage_jsonl source reading $T/NAME.data/*.jsonl.
agent_ini() {
  local name=$1 port=$2; shift 2
  echo "tok-$name" > "$T/keys/$name.token"
  mkdir -p "$T/$name.data"
  {
    echo "[agent]"
    echo "id = $name"
    echo "aggregator_url = http://127.0.0.1:$port"
    echo "token_file = $T/keys/$name.token"
    echo "org_key_file = $T/keys/org.key"
    echo "state_dir = $T/$name.state"
    for l in "$@"; do echo "$l"; done
    echo "[source usage]"
    echo "type = usage_jsonl"
    echo "path = $T/$name.data/*.jsonl"
  } > "$T/$name.ini"
}

# put_lines NAME N: N valid usage lines (distinct users and times) in $T/NAME.data/u.jsonl.
put_lines() {
  local i
  for i in $(seq "$2"); do
    printf '{"ts":"2026-09-20T10:%02d:00Z","user":"U%04d","tool":"chat-assistant"}\n' "$i" "$i"
  done >> "$T/$1.data/u.jsonl"
}

# wait_posts LOG N SECONDS [REGEX]: waits until LOG has N lines (matching REGEX).
wait_posts() {
  local i
  for i in $(seq $(($3 * 10))); do
    [ "$(grep -cE -- "${4:-.}" "$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

# field LOG LINE KEY: the value of KEY= on line LINE of a stub log.
field() { sed -n "$2p" "$1" | tr ' ' '\n' | sed -n "s/^$3=//p"; }

# sum_records LOG STATUS: records in the POSTs answered with STATUS.
sum_records() {
  awk -v st="status=$2" '$NF == st { for (i = 1; i <= NF; i++) if ($i ~ /^records=/) { sub("records=", "", $i); n += $i } } END { print n + 0 }' "$1"
}

scrape() { curl -s "http://127.0.0.1:$1/metrics" > "$2"; }

# wait_drained MPORT FILE: waits until the agent's spool is empty; FILE holds the last scrape.
wait_drained() {
  local i
  for i in $(seq 100); do
    scrape "$1" "$2"
    [ "$(metric "$2" cadre_agent_spool_batches)" = 0 ] && return 0
    sleep 0.1
  done
  return 1
}

stop_pid() { # PID: SIGTERM, wait, status in STOP_RC
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  wait "$1" 2>/dev/null; STOP_RC=$?
}

now_ms() { date +%s%3N; }

# ---------------------------------------------------------------- a. 400
echo "# a. 400 moves the batch to rejected/; the agent goes on"
start_stub a "400,200,400,200"
mp=$(free_port)
# 8 lines with batch_max_records = 2 make 4 batches of 2 (SPEC: batches are cut at
# batch_max_records); the script refuses the 1st and the 3rd. heartbeat_s is long so no
# heartbeat takes a script item.
agent_ini ra "$SP" "batch_max_records = 2" "heartbeat_s = 3600" "retry_max_s = 1" \
  "metrics_listen = 127.0.0.1:$mp"
put_lines ra 8
t_bg "$T/ra.log" "$BIN/cadre-agent" --config "$T/ra.ini"
ra=$T_LAST_PID
wait_posts "$T/a.stub" 4 10 || not_ok "stub got $(wc -l < "$T/a.stub") POSTs, want 4"
wait_drained "$mp" "$T/ra.m" || not_ok "spool not drained: $(metric "$T/ra.m" cadre_agent_spool_batches) batches"
check_eq "$(wc -l < "$T/a.stub")" 4 "POSTs (4 batches, each sent once: a 400 is not retried)"
check_eq "$(grep -c 'kind=batch .* records=2 ' "$T/a.stub")" 4 "batches of 2 records"
check_eq "$(metric "$T/ra.m" cadre_agent_rejected_batches_total)" 2 \
  "cadre_agent_rejected_batches_total (the two 400s of the script)"
check_eq "$(metric "$T/ra.m" cadre_agent_send_retries_total)" 0 "no retries for 400"
# 8 records - 2 refused batches of 2 = 4 records acked.
check_eq "$(sum_records "$T/a.stub" 200)" 4 "records in the acked batches"
check_eq "$(ls "$T/ra.state/rejected" 2>/dev/null | wc -l)" 4 "rejected/ holds 2 x (.pb, .txt)"
for n in 1 3; do
  seq=$(field "$T/a.stub" $n seq)
  plain=$(field "$T/a.stub" $n plain)
  base=$T/ra.state/rejected/$(printf 'batch-%020d' "$seq")
  if [ -f "$base.txt" ] && [ -f "$base.pb" ]; then ok "rejected/ has batch $seq"; else not_ok "no $base.{pb,txt}: $(ls "$T/ra.state/rejected" 2>&1)"; fi
  # ship.c write_rejected: "HTTP 400: " + the body of the answer + "\n".
  check_eq "$(cat "$base.txt" 2>/dev/null)" "HTTP 400: bad batch: stub says no" "reason of batch $seq"
  # The .pb is the request body before gzip, which the stub measured as plain=.
  check_eq "$(stat -c %s "$base.pb" 2>/dev/null)" "$plain" "size of rejected batch $seq's body"
done
stop_pid "$ra"
check_eq "$STOP_RC" 0 "agent SIGTERM exit status"
kill -TERM "$STUB_PID"

# --once: 6 lines = 3 batches of 2; the first is refused, the other two acked; exit 0.
start_stub ao "400,200"
agent_ini ro "$SP" "batch_max_records = 2" "retry_max_s = 1" "once_timeout_s = 15"
put_lines ro 6
timeout 30 "$BIN/cadre-agent" --config "$T/ro.ini" --once > /dev/null 2> "$T/ro.log"
check_eq "$?" 0 "--once exit status with a refused batch"
check_eq "$(grep -c 'status=400' "$T/ao.stub")/$(grep -c 'status=200' "$T/ao.stub")" 1/2 \
  "--once: POSTs answered 400/200"
check_eq "$(ls "$T/ro.state/rejected"/*.txt 2>/dev/null | wc -l)" 1 "--once: one batch in rejected/"
check_eq "$(ls "$T/ro.state/spool"/seg-*.log 2>/dev/null | wc -l)" 0 "--once: spool empty"
check_grep 'refused with 400 \(bad batch: stub says no\)' "$T/ro.log" "the refusal is logged with its reason"
# The stub's reason has a newline in it: the agent's log keeps it on one line.
check_eq "$(grep -c '^stub says no' "$T/ro.log")" 0 "a newline in the server's reply does not split a log line"
kill -TERM "$STUB_PID"

# rejected/ is capped: 12 lines = 6 batches of 2, every one refused, rejected_max_bytes =
# 1KiB. The .pb of a batch of 2 and its .txt take about 300 bytes, so the oldest go and
# what stays fits the cap; the newest batch is there.
start_stub ac "400,400,400,400,400,400"
agent_ini rc "$SP" "batch_max_records = 2" "retry_max_s = 1" "once_timeout_s = 15" \
  "rejected_max_bytes = 1KiB"
put_lines rc 12
timeout 30 "$BIN/cadre-agent" --config "$T/rc.ini" --once > /dev/null 2> "$T/rc.log"
check_eq "$?" 0 "--once exit status with every batch refused"
check_eq "$(grep -c 'status=400' "$T/ac.stub")" 6 "six batches refused"
rsize=$(find "$T/rc.state/rejected" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
check_eq "$(( rsize <= 1024 ))" 1 "rejected/ holds $rsize bytes, within rejected_max_bytes"
newest=$(field "$T/ac.stub" 6 seq)
oldest=$(field "$T/ac.stub" 1 seq)
[ -f "$T/rc.state/rejected/$(printf 'batch-%020d' "$newest").pb" ] && ok "the newest refused batch is kept" ||
  not_ok "newest batch $newest not in rejected/: $(ls "$T/rc.state/rejected")"
[ ! -e "$T/rc.state/rejected/$(printf 'batch-%020d' "$oldest").pb" ] && ok "the oldest refused batch was removed" ||
  not_ok "oldest batch $oldest still in rejected/"
check_grep 'rejected/ over rejected_max_bytes' "$T/rc.log" "the removal is logged"
kill -TERM "$STUB_PID"

# ---------------------------------------------------------------- b. Retry-After
# retry_max_s = 1 caps the backoff at 1 s (the first retry waits at most 0.5 s), so a gap
# of 2 s or more between the two POSTs can only come from Retry-After: 2.
retry_case() { # NAME SCRIPT MIN_MS MAX_MS WHAT
  local name=$1 script=$2 lo=$3 hi=$4 what=$5 m
  start_stub "$name" "$script"
  m=$(free_port)
  agent_ini "r$name" "$SP" "heartbeat_s = 3600" "retry_max_s = 1" "metrics_listen = 127.0.0.1:$m"
  put_lines "r$name" 3
  t_bg "$T/r$name.log" "$BIN/cadre-agent" --config "$T/r$name.ini"
  local pid=$T_LAST_PID
  wait_posts "$T/$name.stub" 2 10 || not_ok "$what: $(wc -l < "$T/$name.stub") POSTs, want 2"
  wait_drained "$m" "$T/r$name.m" || not_ok "$what: spool not drained"
  local gap=$(($(field "$T/$name.stub" 2 mono_ms) - $(field "$T/$name.stub" 1 mono_ms)))
  if [ "$gap" -ge "$lo" ] && [ "$gap" -le "$hi" ]; then ok "$what: retried after $gap ms (want $lo..$hi)"
  else not_ok "$what: retried after $gap ms, want $lo..$hi"; fi
  check_eq "$(field "$T/$name.stub" 2 seq)/$(field "$T/$name.stub" 2 records)" \
    "$(field "$T/$name.stub" 1 seq)/3" "$what: the same batch (seq/records) is resent"
  check_eq "$(metric "$T/r$name.m" cadre_agent_send_retries_total)" 1 "$what: send_retries_total"
  check_eq "$(wc -l < "$T/$name.stub")" 2 "$what: POSTs"
  stop_pid "$pid"
  kill -TERM "$STUB_PID"
}
echo "# b. Retry-After on 503 and 429"
retry_case b503 "503:2,200" 2000 6000 "503 Retry-After: 2"
retry_case b429 "429:2,200" 2000 6000 "429 Retry-After: 2"
# Control: without Retry-After the first retry comes within the 0.5 s backoff (+ slack), so
# the measurement above does tell the two apart.
retry_case bnone "503,200" 0 1500 "503 without Retry-After"

# ---------------------------------------------------------------- c. heartbeats
echo "# c. heartbeats from an idle agent"
start_stub c "200"
agent_ini hb "$SP" "heartbeat_s = 1" "poll_interval_s = 1"
: > "$T/hb.data/u.jsonl"   # a source with no data
t_bg "$T/hb.log" "$BIN/cadre-agent" --config "$T/hb.ini"
hb=$T_LAST_PID
sleep 4.2
stop_pid "$hb"
check_eq "$STOP_RC" 0 "heartbeat agent SIGTERM exit status"
kill -TERM "$STUB_PID"
n_hb=$(grep -c 'kind=heartbeat agent=hb seq=- records=0 ' "$T/c.stub")
# One heartbeat per heartbeat_s (1 s) of idleness, counted from the start and from the end
# of the previous POST: 3 or 4 in 4.2 s; at least 2, and no more than 5.
if [ "$n_hb" -ge 2 ] && [ "$n_hb" -le 5 ]; then ok "heartbeats in 4.2 s: $n_hb (want 2..5)"
else not_ok "heartbeats in 4.2 s: $n_hb, want 2..5: $(cat "$T/c.stub")"; fi
check_eq "$(grep -cv 'kind=heartbeat' "$T/c.stub")" 0 "no POST other than heartbeats"
min_gap=$(awk '{ sub("mono_ms=", "", $1); if (NR > 1 && (min == "" || $1 - prev < min)) min = $1 - prev; prev = $1 } END { print min + 0 }' "$T/c.stub")
if [ "$n_hb" -lt 2 ]; then not_ok "fewer than 2 heartbeats: no gap to measure"
elif [ "$min_gap" -ge 950 ]; then ok "heartbeats at least heartbeat_s apart ($min_gap ms)"
else not_ok "heartbeats $min_gap ms apart, want >= 950 (heartbeat_s = 1)"; fi

# The real aggregator: a heartbeat-only agent is seen.
ap=$(free_port)
echo "hba tok-hba" > "$T/agents.tokens"
cat > "$T/agg.ini" <<INI
[aggregator]
listen = 127.0.0.1:$ap
db_path = $T/agg.db
tokens_file = $T/agents.tokens
min_group_size = 5
as_of = 2026-09-30
kpi_refresh_interval_s = 1
INI
t_bg "$T/agg.log" "$BIN/cadre-aggregator" --config "$T/agg.ini"
agg=$T_LAST_PID
wait_http "http://127.0.0.1:$ap/healthz" || cat "$T/agg.log"
mp=$(free_port)
agent_ini hba "$ap" "heartbeat_s = 1" "poll_interval_s = 1" "metrics_listen = 127.0.0.1:$mp"
: > "$T/hba.data/u.jsonl"
t_bg "$T/hba.log" "$BIN/cadre-agent" --config "$T/hba.ini"
hba=$T_LAST_PID
series='cadre_agent_last_seen_timestamp_seconds{agent="hba"}'
for i in $(seq 60); do
  scrape "$ap" "$T/agg.m"
  [ "$(metric "$T/agg.m" "$series")" != absent ] && break
  sleep 0.1
done
now=$(date +%s)
seen=$(metric "$T/agg.m" "$series")
# The first heartbeat leaves 1 s after the start; the aggregator stamps it on arrival.
if [ "$seen" != absent ] && awk -v s="$seen" -v n="$now" 'BEGIN { d = n - s; exit !(d >= -2 && d <= 5) }'; then
  ok "$series = $seen, within 5 s of now ($now)"
else not_ok "$series = $seen, want within 5 s of $now"; fi
check_grep '^cadre_agent_spool_bytes\{agent="hba"\} [0-9]' "$T/agg.m" "cadre_agent_spool_bytes{agent=\"hba\"} reported"
# An idle agent's spool is empty: it reports 0 bytes, as its own metric says.
scrape "$mp" "$T/hba.m"
check_eq "$(metric "$T/agg.m" 'cadre_agent_spool_bytes{agent="hba"}')" "$(metric "$T/hba.m" cadre_agent_spool_bytes)" \
  "spool bytes reported = the agent's cadre_agent_spool_bytes"
check_eq "$(metric "$T/agg.m" 'cadre_ingest_batches_total{result="accepted"}')" 0 "heartbeats are not batches"
stop_pid "$hba"
stop_pid "$agg"

# ---------------------------------------------------------------- d. SIGTERM grace
echo "# d. SIGTERM with a POST in flight"
start_stub d "hang"
agent_ini rd "$SP" "heartbeat_s = 3600" "retry_max_s = 1"
put_lines rd 5
t_bg "$T/rd.log" "$BIN/cadre-agent" --config "$T/rd.ini"
rd=$T_LAST_PID
wait_posts "$T/d.stub" 1 10 'status=hang' || not_ok "the POST never reached the stub"
hung_seq=$(field "$T/d.stub" 1 seq)
sleep 0.3
t0=$(now_ms)
kill -TERM "$rd"
for _ in $(seq 240); do kill -0 "$rd" 2>/dev/null || break; sleep 0.05; done
t1=$(now_ms)
wait "$rd" 2>/dev/null
check_eq "$?" 0 "SIGTERM exit status with a POST in flight"
# SPEC: "waits at most 5 s for a POST in flight": the agent shuts the connection down when
# the 5 s are up; 1 s slack on top for exiting on a busy host. Less than 4.5 s would mean
# the agent did not wait for the POST.
el=$((t1 - t0))
if [ "$el" -ge 4500 ] && [ "$el" -le 6000 ]; then ok "exit $el ms after SIGTERM (want 4500..6000)"
else not_ok "exit $el ms after SIGTERM, want 4500..6000"; fi
check_eq "$(wc -l < "$T/d.stub")" 1 "one POST, never answered"
check_grep 'stopped' "$T/rd.log" "stop logged"
ls "$T/rd.state/spool"/seg-*.log > /dev/null 2>&1 && ok "the unacked batch stays in the spool" || not_ok "spool empty after SIGTERM"
kill -TERM "$STUB_PID"
# Restart against a stub that acks: the same batch (seq) goes out with its 5 records, and
# nothing is read again (the checkpoint advanced when the batch was spooled).
start_stub d2 "200"
sed -i "s|^aggregator_url = .*|aggregator_url = http://127.0.0.1:$SP|" "$T/rd.ini"
sed -i "s|^heartbeat_s = .*|once_timeout_s = 15|" "$T/rd.ini"
timeout 30 "$BIN/cadre-agent" --config "$T/rd.ini" --once > /dev/null 2> "$T/rd2.log"
check_eq "$?" 0 "--once after the restart"
check_eq "$(wc -l < "$T/d2.stub")" 1 "one POST after the restart"
check_eq "$(field "$T/d2.stub" 1 seq)/$(field "$T/d2.stub" 1 records)" "$hung_seq/5" \
  "the batch cut off by SIGTERM (seq/records) is delivered after the restart"
kill -TERM "$STUB_PID"

t_done
