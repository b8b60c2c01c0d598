#!/usr/bin/env bash
# The agent on a full disk: state_dir on a small tmpfs (needs root, as CI has). Phase 1:
# with the aggregator down, the spool fills the disk down to the agent's reserve; the
# sources wait (logged, cadre_agent_sources_paused 1) without failing half-way; once the
# aggregator is up, delivery frees space and every line arrives exactly once. Phase 2: the
# disk is filled to the last byte while batches wait; acked segments are removed even
# though the spool's state cannot be saved, which frees the space the agent needs, and
# again every line arrives exactly once.
. "$(dirname "$0")/lib.sh"
t_setup
mkdir -p "$T/state" "$T/data"
t_tmpfs "$T/state" 8m
head -c 48 /dev/urandom | base64 | tr -d '\n' > "$T/org.key"; chmod 600 "$T/org.key"
echo tok > "$T/token"; chmod 600 "$T/token"
echo "a1 tok" > "$T/tokens"
port=$(free_port); mport=$(free_port)
cat > "$T/agg.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port
db_path = $T/db
tokens_file = $T/tokens
sync_writes = false
INI
cat > "$T/agent.ini" <<INI
[agent]
id = a1
aggregator_url = http://127.0.0.1:$port
token_file = $T/token
org_key_file = $T/org.key
state_dir = $T/state
poll_interval_s = 1
batch_max_records = 500
retry_max_s = 1
metrics_listen = 127.0.0.1:$mport
[source u]
type = usage_jsonl
path = $T/data/*.jsonl
INI
lines() { # FILE FIRST COUNT: usage lines numbered FIRST.. (about 100 bytes each)
  awk -v a="$2" -v n="$3" 'BEGIN { for (i = a; i < a + n; i++) printf "{\"ts\":\"2026-09-10T08:00:00Z\",\"user\":\"u%d\",\"tool\":\"scribe\",\"event\":\"pad%027d\"}\n", i % 300, i }' > "$1"
}
usage_total() { curl -s "http://127.0.0.1:$port/metrics" | awk '$1 == "cadre_ingest_records_total{type=\"usage\"}" { print $2 }'; }
usage_stored() { curl -s "http://127.0.0.1:$port/metrics" | awk '$1 == "cadre_stored_records{type=\"usage\"}" { print $2 }'; }
agent_metric() { curl -s "http://127.0.0.1:$mport/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
wait_stored() { # N SECONDS
  for _ in $(seq $(($2 * 10))); do [ "$(usage_stored)" = "$1" ] && return 0; sleep 0.1; done
  return 1
}

# ---- phase 1: the spool fills the disk while the aggregator is down
head -c 2000000 /dev/zero > "$T/state/filler"
lines "$T/data/a.jsonl" 0 200000 # 20 MB of lines: far more than the disk holds as batches
t_bg "$T/agent.log" "$BIN/cadre-agent" --config "$T/agent.ini"
agent=$T_LAST_PID
paused=0
for _ in $(seq 100); do [ "$(agent_metric cadre_agent_sources_paused)" = 1 ] && { paused=1; break; }; sleep 0.1; done
check_eq "$paused" 1 "the sources wait while state_dir is nearly full"
free=$(agent_metric cadre_agent_state_dir_free_bytes)
check_eq "$(( free < 5242880 ))" 1 "cadre_agent_state_dir_free_bytes ($free) is under the 5 MiB reserve"
check_grep 'the sources wait until space returns' "$T/agent.log" "the pause is logged, with why"
check_no_grep 'No space left on device' "$T/agent.log" "no write failed for lack of space"
t_bg "$T/agg.log" "$BIN/cadre-aggregator" --config "$T/agg.ini"
wait_http "http://127.0.0.1:$port/healthz" || exit 1
wait_stored 200000 60 || not_ok "stored $(usage_stored) of 200000"
check_eq "$(usage_stored)" 200000 "every line stored"
check_eq "$(usage_total)" 200000 "every line delivered once (cadre_ingest_records_total counts re-deliveries too)"
check_grep 'bytes free again: the sources are read' "$T/agent.log" "the resumption is logged"
check_eq "$(( $(grep -c 'the sources wait' "$T/agent.log") <= 3 ))" 1 "the pause is not logged at every poll"
kill -0 "$agent" 2>/dev/null && ok "the agent kept running" || not_ok "the agent died"

# ---- phase 2: the disk is filled to the last byte while batches wait to be acked
kill -STOP "$(pgrep -f "cadre-aggregator --config $T/agg.ini")"
lines "$T/data/b.jsonl" 200000 20000 # 2 MB more, read and spooled while nobody acks
sleep 3
dd if=/dev/zero of="$T/state/filler2" bs=4096 2>/dev/null # until the disk is full
check_eq "$(df --output=avail "$T/state" | tail -1 | tr -d ' ')" 0 "state_dir is full"
kill -CONT "$(pgrep -f "cadre-aggregator --config $T/agg.ini")"
wait_stored 220000 60 || not_ok "stored $(usage_stored) of 220000"
check_eq "$(usage_stored)" 220000 "every line stored after the disk was full"
check_eq "$(usage_total)" 220000 "and delivered once"
check_eq "$(( $(df --output=avail -B1 "$T/state" | tail -1) > 1000000 ))" 1 "acked segments were removed, freeing space"
kill -0 "$agent" 2>/dev/null && ok "the agent kept running" || not_ok "the agent died"
t_done
