#!/usr/bin/env bash
# The aggregator on a full disk: db_path on a small tmpfs (needs root, as CI has). With the
# disk under store_min_free_bytes, batches are refused with 503 and nothing is acked that
# is not stored; the agent keeps them; when space returns the same aggregator process (no
# restart) stores every line exactly once. (RocksDB itself is never let meet a full disk:
# Debian's build aborts on a failed WAL sync, which this test would show as a dead
# process.)
. "$(dirname "$0")/lib.sh"
t_setup
mkdir -p "$T/db" "$T/data"
t_tmpfs "$T/db" 48m
head -c 48 /dev/urandom | base64 | tr -d '\n' > "$T/org.key"; chmod 600 "$T/org.key"
echo tok > "$T/token"; chmod 600 "$T/token"
echo "a1 tok" > "$T/tokens"
port=$(free_port)
cat > "$T/agg.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port
db_path = $T/db/rocks
tokens_file = $T/tokens
store_min_free_bytes = 8MiB
INI
cat > "$T/agent.ini" <<INI
[agent]
id = a1
aggregator_url = http://127.0.0.1:$port
token_file = $T/token
org_key_file = $T/org.key
state_dir = $T/state
poll_interval_s = 1
retry_max_s = 1
[source u]
type = usage_jsonl
path = $T/data/*.jsonl
INI
t_bg "$T/agg.log" "$BIN/cadre-aggregator" --config "$T/agg.ini"
agg=$T_LAST_PID
wait_http "http://127.0.0.1:$port/healthz" || { cat "$T/agg.log"; exit 1; }
m() { curl -s "http://127.0.0.1:$port/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
# Leave 4 MiB free: under the 8 MiB reserve.
head -c $(( $(df --output=avail -B1 "$T/db" | tail -1) - 4194304 )) /dev/zero > "$T/db/filler"
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "{\"ts\":\"2026-09-10T08:00:00Z\",\"user\":\"u%d\",\"tool\":\"scribe\",\"event\":\"pad%027d\"}\n", i % 300, i }' > "$T/data/a.jsonl"
t_bg "$T/agent.log" "$BIN/cadre-agent" --config "$T/agent.ini"
refused=0
for _ in $(seq 100); do
  refused=$(m cadre_ingest_disk_full_total)
  [ "${refused:-0}" -gt 2 ] && break
  sleep 0.1
done
check_eq "$(( ${refused:-0} > 2 ))" 1 "batches refused while the disk is nearly full ($refused)"
check_eq "$(m 'cadre_stored_records{type="usage"}')" 0 "nothing stored meanwhile"
check_eq "$(( $(m cadre_store_free_bytes) < 8388608 ))" 1 "cadre_store_free_bytes shows it"
check_grep 'under store_min_free_bytes' "$T/agg.log" "the refusal is logged"
check_grep 'HTTP 503' "$T/agent.log" "the agent was told 503 and retries"
rm "$T/db/filler"
for _ in $(seq 300); do [ "$(m 'cadre_stored_records{type="usage"}')" = 100000 ] && break; sleep 0.1; done
check_eq "$(m 'cadre_stored_records{type="usage"}')" 100000 "every line stored once space returned"
check_eq "$(m 'cadre_ingest_records_total{type="usage"}')" 100000 "and delivered once"
kill -0 "$agg" 2>/dev/null && ok "the same aggregator process throughout" || not_ok "the aggregator died: $(tail -3 "$T/agg.log")"
check_no_grep 'Assertion|No space left' "$T/agg.log" "RocksDB never met the full disk"
t_done
