#!/usr/bin/env bash
# Connection floods against the aggregator: idle and half-sent connections from many
# addresses must not starve /healthz, /metrics or ingest; one address cannot take more
# than max_connections_per_ip; idle connections are closed after connection_timeout_s;
# the HTTP library's messages are timestamped log lines, not raw stderr.
. "$(dirname "$0")/lib.sh"
t_setup
IDLE=$BUILD/tests/tools/idle_conns
printf 'north-1 tok-1\n' > "$T/agents.tokens"
port=$(free_port)
cat > "$T/agg.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port
db_path = $T/db
tokens_file = $T/agents.tokens
as_of = 2026-09-30
connection_timeout_s = 4
INI
t_bg "$T/agg.log" "$BIN/cadre-aggregator" --config "$T/agg.ini"
wait_http "http://127.0.0.1:$port/healthz" || { cat "$T/agg.log"; exit 1; }

# hold NAME N MODE SRC: opens N connections from SRC in the background (held until
# release NAME, which prints how many the server had closed into NAME.out).
declare -A held=()
hold() {
  t_bg "$T/$1.out" "$IDLE" 127.0.0.1 "$port" "$2" "$3" "$4"
  held[$1]=$T_LAST_PID
  for _ in $(seq 100); do grep -q '^open' "$T/$1.out" && return 0; sleep 0.1; done
  return 1
}
release() { kill -TERM "${held[$1]}"; wait "${held[$1]}"; }

# 400 idle or half-sent connections from each of three addresses and 1,100 from a fourth
# (2,300 in all; the default limits are 256 per address and 4,096 in all): nobody else
# is starved.
hold a 400 idle 127.0.0.2
hold b 400 half 127.0.0.3
hold c 400 idle 127.0.0.4
hold d 1100 idle 127.0.0.5
slow=0
for i in $(seq 20); do
  t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 1 "http://127.0.0.1:$port/healthz")
  case $t in 200\ *) ;; *) slow=$((slow + 1)) ;; esac
  sleep 0.1
done
check_eq "$slow" 0 "/healthz answered 20 of 20 times within 1 s during the flood"
check_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/metrics")" 200 \
  "/metrics answers during the flood"
# An ingest during the flood: an empty body is a malformed batch, answered 400 at once.
check_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H 'Authorization: Bearer tok-1' \
  -H 'Content-Type: application/x-protobuf' --data-binary 'x' "http://127.0.0.1:$port/v1/ingest")" 400 \
  "ingest answers during the flood"
# A Cadre-Follows that is not a sequence number is refused before the body is looked at.
check_eq "$(curl -s -o "$T/follows.out" -w '%{http_code}' --max-time 2 -H 'Authorization: Bearer tok-1' \
  -H 'Content-Type: application/x-protobuf' -H 'Cadre-Follows: 12x' --data-binary 'x' \
  "http://127.0.0.1:$port/v1/ingest")" 400 "a bad Cadre-Follows header is refused"
check_grep 'Cadre-Follows must be a batch sequence number' "$T/follows.out" "and the answer says why"
# Per address: 1,100 attempted, at most 256 kept open (the others were closed at once).
sleep 1
release d
closed_d=$(sed -n 's/^closed-by-peer //p' "$T/d.out")
open_d=$(sed -n 's/^open //p' "$T/d.out")
check_eq "$(( open_d - closed_d <= 256 ))" 1 "one address holds at most 256 connections (held $((open_d - closed_d)) of $open_d)"
# Idle timeout: 4 s later every held connection has been closed by the server.
sleep 5
for n in a b c; do release "$n"; done
for n in a b c; do
  check_eq "$(sed -n 's/^closed-by-peer //p' "$T/$n.out")" "$(sed -n 's/^open //p' "$T/$n.out")" \
    "connections of $n closed by the server after connection_timeout_s"
done
check_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/healthz")" 200 \
  "/healthz after the flood"
# The in-flight budget: max_body_bytes = 1MiB and max_inflight_bytes = 15MiB (the least
# that holds one largest batch: 2 x 1 + 12 x 1 + 1 MiB). 30 uploads of 1 MiB each at
# 256 KB/s would hold 30 MiB; the aggregator holds at most 15 MiB and answers the others
# 503 with Retry-After: 1.
port2=$(free_port)
cat > "$T/agg2.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port2
db_path = $T/db2
tokens_file = $T/agents.tokens
as_of = 2026-09-30
max_body_bytes = 1MiB
max_inflight_bytes = 15MiB
INI
t_bg "$T/agg2.log" "$BIN/cadre-aggregator" --config "$T/agg2.ini"
agg2=$T_LAST_PID
wait_http "http://127.0.0.1:$port2/healthz" || { cat "$T/agg2.log"; exit 1; }
head -c $((1 << 20)) /dev/urandom > "$T/body"
upids=()
for i in $(seq 30); do
  curl -s -o /dev/null -D "$T/up$i.h" --limit-rate 256K -H 'Authorization: Bearer tok-1' \
    -H 'Content-Type: application/x-protobuf' --data-binary @"$T/body" \
    "http://127.0.0.1:$port2/v1/ingest" &
  upids+=($!)
done
peak=0
for _ in $(seq 30); do
  v=$(curl -s "http://127.0.0.1:$port2/metrics" | awk '$1 == "cadre_http_inflight_bytes" { print $2 }')
  [ -n "$v" ] && [ "${v%.*}" -gt "$peak" ] && peak=${v%.*}
  sleep 0.1
done
wait "${upids[@]}"
check_eq "$(( peak > 0 && peak <= 15 * 1048576 ))" 1 "in-flight bytes peaked at $peak, within max_inflight_bytes"
n503=$(grep -l '^HTTP/1.1 503' "$T"/up*.h | wc -l)
n400=$(grep -l '^HTTP/1.1 400' "$T"/up*.h | wc -l)
check_eq "$(( n503 > 0 && n400 > 0 && n503 + n400 == 30 ))" 1 \
  "uploads past the budget answered 503 ($n503), the others read and refused as not protobuf ($n400)"
check_eq "$(grep -il '^Retry-After: 1' "$T"/up*.h | wc -l)" "$n503" "every 503 says Retry-After: 1"
m=$(curl -s "http://127.0.0.1:$port2/metrics")
check_eq "$(awk '$1 == "cadre_http_inflight_bytes" { print $2 }' <<<"$m")" 0 "nothing held once the uploads ended"
check_eq "$(awk '$1 == "cadre_ingest_busy_total" { print $2 }' <<<"$m")" "$n503" "cadre_ingest_busy_total counts the 503s"
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$agg2/status")
check_eq "$(( hwm < 200 * 1024 ))" 1 "aggregator peak RSS ${hwm} KiB under 200 MiB"

# Every line the aggregator wrote is one of its own timestamped log lines.
check_eq "$(grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z cadre-aggregator ' "$T/agg.log")" 0 \
  "no raw library lines on stderr"
t_done
