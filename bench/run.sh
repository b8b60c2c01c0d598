#!/usr/bin/env bash
# make bench: measures Cadre and writes docs/BENCHMARKS.md. Machines are shared and noisy,
# so each figure is a median of repeated runs, with ratios to a baseline run in the same
# command where one exists. BENCH_STAFF (default 50000) and BENCH_DAYS (730) set the scale.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BIN:?}" "${BUILD:?}"
staff=${BENCH_STAFF:-50000}
days=${BENCH_DAYS:-730}
out=docs/BENCHMARKS.md
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cadre-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "bench: KPI engine on a synthetic model of $staff staff x $days days" >&2
"$BUILD/bench/kpi_bench" "$staff" "$days" > "$tmp/kpi.txt"
cat "$tmp/kpi.txt" >&2

{
  echo "# Benchmarks"
  echo
  echo "Produced by \`make bench\` (\`bench/run.sh\`) on $(nproc) cores, $(date -u +%Y-%m-%d)."
  echo "Medians of 5 runs. Reproduce one section with the command shown above it."
  echo
  echo "## KPI engine"
  echo
  echo "\`$BUILD/bench/kpi_bench $staff $days\` builds the in-memory model through the"
  echo "same function ingest uses, then times a full refresh (every KPI, every breakdown,"
  echo "windows 7d, 28d, 90d and 365d, suppression and /metrics rendering) and one quarter."
  echo "Targets: refresh <= 2 s, quarter query <= 1 s."
  echo
  echo '```'
  cat "$tmp/kpi.txt"
  echo '```'
} > "$out"
echo "bench: wrote $out" >&2
