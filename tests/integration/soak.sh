#!/usr/bin/env bash
# A bounded soak of the aggregator: 200 simulated agents (tests/tools/soak.c, one thread
# each) post usage batches of 50 records for 12 s (at most 1,000 batches each, 50 ms apart:
# an agent's pace under a backlog, not a CPU hog that starves the probes) while
# 1,100 idle connections are held from five other loopback addresses and a scraper polls
# /metrics every 0.5 s and /healthz every 0.2 s. Every batch is acked exactly once (the
# aggregator's accepted batches and records equal what the clients got 200 for), /healthz
# answers every time within 1 s, and the aggregator's peak RSS stays under 400 MiB
# (measured about 150 MiB on a 2-core machine; the ceiling leaves room for noise).
. "$(dirname "$0")/lib.sh"
t_setup
TOOLS=$BUILD/tests/tools
port=$(free_port)
: > "$T/tokens"
for i in $(seq 0 199); do echo "soak-$i tok-soak-$i" >> "$T/tokens"; done
cat > "$T/agg.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port
db_path = $T/db
tokens_file = $T/tokens
as_of = 2026-09-30
kpi_refresh_interval_s = 2
INI
t_bg "$T/agg.log" "$BIN/cadre-aggregator" --config "$T/agg.ini"
agg=$T_LAST_PID
wait_http "http://127.0.0.1:$port/healthz" || { cat "$T/agg.log"; exit 1; }
base=http://127.0.0.1:$port

idle=0
for a in 2 3 4 5 6; do
  t_bg "$T/idle$a.out" "$TOOLS/idle_conns" 127.0.0.1 "$port" 220 idle "127.0.0.$a"
  for _ in $(seq 100); do grep -q '^open' "$T/idle$a.out" && break; sleep 0.1; done
  idle=$((idle + $(sed -n 's/^open //p' "$T/idle$a.out")))
done
check_eq "$idle" 1100 "idle connections held"

# The scraper, in the background until the agents are done.
(
  n=0
  while [ ! -e "$T/done" ]; do
    t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 2 "$base/healthz")
    echo "$t" >> "$T/healthz.txt"
    n=$((n + 1))
    [ $((n % 3)) = 0 ] && curl -s -o /dev/null --max-time 2 "$base/metrics" && echo ok >> "$T/scrapes.txt"
    sleep 0.2
  done
) &
scraper=$!
start=$SECONDS
"$TOOLS/soak" --port "$port" --agents 200 --seconds 12 --batches 1000 --records 50 --pause-ms 50 > "$T/soak.out"
check_eq "$?" 0 "soak client"
touch "$T/done"
wait "$scraper"
echo "# soak: $(cat "$T/soak.out") in $((SECONDS - start)) s"
read -r _ acked _ dups _ recs _ retries _ busy _ errs < "$T/soak.out"
m=$(curl -s "$base/metrics")
metric_of() { awk -v k="$1" '$1 == k { print $2 }' <<<"$m"; }
check_eq "$(( acked > 0 ))" 1 "batches acked ($acked)"
check_eq "$(metric_of 'cadre_ingest_batches_total{result="accepted"}')" "$acked" \
  "every batch the clients got 200 for was accepted once"
check_eq "$(metric_of 'cadre_ingest_batches_total{result="duplicate"}')" "$dups" \
  "duplicates only where a client resent after a lost answer ($dups)"
check_eq "$(metric_of 'cadre_ingest_records_total{type="usage"}')" "$recs" "records accepted = records acked"
check_eq "$(metric_of 'cadre_stored_records{type="usage"}')" "$recs" "records stored = records acked"
check_eq "$errs" 0 "no client saw a connection error or an unexpected answer"
nh=$(wc -l < "$T/healthz.txt")
slow=$(awk '$1 != 200 || $2 > 1.0' "$T/healthz.txt" | wc -l)
worst=$(awk 'BEGIN { w = 0 } $2 > w { w = $2 } END { printf "%.3f", w }' "$T/healthz.txt")
echo "# /healthz: $nh probes, worst $worst s; /metrics scrapes: $(wc -l < "$T/scrapes.txt" 2>/dev/null || echo 0)"
check_eq "$(( nh > 20 ))" 1 "/healthz probed throughout ($nh times)"
check_eq "$slow" 0 "/healthz answered 200 within 1 s every time (worst $worst s)"
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$agg/status")
echo "# aggregator peak RSS: $hwm KiB"
if ldd "$BIN/cadre-aggregator" 2>/dev/null | grep -q libasan; then
  echo "# the RSS ceiling is not checked on a sanitizer build (ASan's shadow memory)"
else
  check_eq "$(( hwm < 400 * 1024 ))" 1 "aggregator peak RSS $hwm KiB under 400 MiB"
fi
t_done
