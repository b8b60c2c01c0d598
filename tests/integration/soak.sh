#!/usr/bin/env bash
# A bounded soak of the aggregator: 200 simulated agents (tests/tools/soak.c, one thread
# each) post usage batches of 50 records for 12 s (at most 1,000 batches each, 50 ms apart:
# an agent's pace under a backlog, not a CPU hog that starves the probes) while
# 1,100 idle connections are held from five other loopback addresses, /healthz is probed
# every 0.2 s and a scraper polls /metrics every 0.5 s. Every batch is acked exactly once (the
# aggregator's accepted batches and records equal what the clients got 200 for), /healthz
# answers every time within 1 s, and the aggregator's peak RSS stays under 400 MiB
# (measured about 150 MiB on a 2-core machine; the ceiling leaves room for noise).
. "$(dirname "$0")/lib.sh"
t_setup
TOOLS=$BUILD/tests/tools
port=$(free_port)
"$TOOLS/soak" --agents 200 --tokens-out "$T/tokens" || exit 1
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

# The probes, in the background until the agents are done: /healthz every 0.2 s and a
# scraper of /metrics every 0.5 s, each its own loop so that a slow /metrics answer never
# delays a /healthz probe. Each line: HTTP status and seconds taken.
probe() { # probe URL PAUSE OUT
  while [ ! -e "$T/done" ]; do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 5 "$1" >> "$3"
    sleep "$2"
  done
}
probe "$base/healthz" 0.2 "$T/healthz.txt" &
prober=$!
probe "$base/metrics" 0.5 "$T/metrics.txt" &
scraper=$!
start=$SECONDS
"$TOOLS/soak" --port "$port" --agents 200 --seconds 12 --batches 1000 --records 50 --pause-ms 50 > "$T/soak.out"
check_eq "$?" 0 "soak client"
took=$((SECONDS - start))
touch "$T/done"
wait "$prober" "$scraper"
echo "# soak: $(cat "$T/soak.out") in $took s"
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
# worst FILE: the longest time in a probe file, in seconds.
worst() { awk 'BEGIN { w = 0 } $2 > w { w = $2 } END { printf "%.3f", w }' "$1"; }
nh=$(wc -l < "$T/healthz.txt")
nm=$(wc -l < "$T/metrics.txt")
slow=$(awk '$1 != 200 || $2 > 1.0' "$T/healthz.txt" | wc -l)
wh=$(worst "$T/healthz.txt")
echo "# /healthz: $nh probes, worst $wh s; /metrics: $nm scrapes, worst $(worst "$T/metrics.txt") s"
# A probe every 1.2 s at the least (0.2 s apart, answers within 1 s) over the whole run.
check_eq "$(( nh * 12 >= took * 10 ))" 1 "/healthz probed throughout ($nh times in $took s)"
check_eq "$slow" 0 "/healthz answered 200 within 1 s every time (worst $wh s)"
check_eq "$(( nm * 55 >= took * 10 ))" 1 "/metrics scraped throughout ($nm times in $took s)"
check_eq "$(awk '$1 != 200' "$T/metrics.txt" | wc -l)" 0 "/metrics answered 200 every time"
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$agg/status")
echo "# aggregator peak RSS: $hwm KiB"
if ldd "$BIN/cadre-aggregator" 2>/dev/null | grep -q libasan; then
  echo "# the RSS ceiling is not checked on a sanitizer build (ASan's shadow memory)"
else
  check_eq "$(( hwm < 400 * 1024 ))" 1 "aggregator peak RSS $hwm KiB under 400 MiB"
fi
t_done
