#!/usr/bin/env bash
# Load-off on generated data that has the answer in it. cadre-gen (5,000 staff, one site,
# two years) plants a 10 % cut in after-hours EHR time for ambient-scribe users in Medicine
# and Emergency after a 28-day ramp, nothing elsewhere, on top of an after-hours drift
# everyone shares and adopters starting out higher. The same arguments with
# --loadoff-effect 0 give the same data without the cut (no random draw differs), so for
# any cell the planted effect on the estimate is exactly
#     planted = change(with the cut) - change(without it)
# (same adopters, same controls). Both data sets go agent -> aggregator; the 365d
# loadoff_wow8_change and its stderr come from the API.
#
# Asserted:
# - where it was planted (org, Medicine, Emergency) the planted effect is negative, and the
#   estimate recovers it: |change - planted| <= 2 stderr (that is, the estimator reads
#   within 2 stderr of 0 on the same data without the cut);
# - the naive before/after difference (loadoff_naive.py: each adopter's own change, no
#   comparison group, from the raw exports) misses it by more than 2 stderr in Medicine,
#   where most adopters are: the shared drift is in it;
# - where nothing was planted (the other departments with at least 10 adopters) the
#   change is within 3 stderr of 0, and Medicine's band excludes 0.
# Every figure is printed.
. "$(dirname "$0")/lib.sh"
t_setup

for tool in python3 jq curl; do
  command -v "$tool" >/dev/null ||
    { not_ok "$tool is missing (scripts/install-deps.sh installs it)"; t_done; exit 1; }
done

declare -A aggpid aggport
head -c 48 /dev/urandom | base64 | tr -d '\n' > "$T/org.key"
chmod 600 "$T/org.key"
for eff in 10 0; do
  "$BIN/cadre-gen" --staff 5000 --sites 1 --seed 12 --no-bad-rows --quiet \
    --loadoff-effect "$eff" --out "$T/gen$eff" || { not_ok "cadre-gen failed"; t_done; exit 1; }
  pick_port port
  echo "lo-token-$eff-$RANDOM$RANDOM" > "$T/agent$eff.token"
  echo "agent-$eff $(cat "$T/agent$eff.token")" > "$T/agents$eff.tokens"
  cat > "$T/agg$eff.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port
db_path = $T/db$eff
tokens_file = $T/agents$eff.tokens
as_of = 2026-09-30
kpi_refresh_interval_s = 1
sync_writes = false
INI
  d=$T/gen$eff/north
  mkdir -p "$T/state$eff"
  cat > "$T/agent$eff.ini" <<INI
[agent]
id = agent-$eff
aggregator_url = http://127.0.0.1:$port
token_file = $T/agent$eff.token
org_key_file = $T/org.key
state_dir = $T/state$eff
fsync = never
[source scribe]
type = usage_jsonl
path = $d/usage.jsonl
[source hr]
type = staffing_csv
path = $d/staffing.csv
[source ehr]
type = ehr_csv
path = $d/ehr.csv
INI
  t_bg "$T/agg$eff.log" "$BIN/cadre-aggregator" --config "$T/agg$eff.ini"
  aggpid[$eff]=$T_LAST_PID aggport[$eff]=$port
  wait_http "http://127.0.0.1:$port/healthz" || { not_ok "aggregator did not start"; cat "$T/agg$eff.log"; t_done; exit 1; }
  "$BIN/cadre-agent" --config "$T/agent$eff.ini" --once > /dev/null 2> "$T/agent$eff.log"
  check_eq "$?" 0 "agent --once (effect $eff %)"
  sleep 2.5 # the refresh after the last batch (365d is served from it)
  curl -s "http://127.0.0.1:$port/api/v1/kpis?window=365d&by=department&format=json" > "$T/dept$eff.json"
  curl -s "http://127.0.0.1:$port/api/v1/kpis?window=365d&by=org&format=json" > "$T/org$eff.json"
done
cmp -s "$T/gen10/north/usage.jsonl" "$T/gen0/north/usage.jsonl" &&
  cmp -s "$T/gen10/north/staffing.csv" "$T/gen0/north/staffing.csv" &&
  ok "the two data sets differ only in EHR rows" || not_ok "usage or staffing differ between the two data sets"

python3 "$TESTS_DIR/integration/loadoff_naive.py" "$T/gen10/north" 2026-09-30 > "$T/naive.tsv" ||
  { not_ok "loadoff_naive.py failed"; t_done; exit 1; }

python3 - "$T" > "$T/verdict.txt" <<'PY'
import json, sys
T = sys.argv[1]
def cells(eff):
    out = {}
    for f in ("org", "dept"):
        for r in json.load(open("%s/%s%s.json" % (T, f, eff)))["rows"]:
            if r["kpi"] in ("loadoff_wow8_change", "loadoff_wow8_change_stderr") and not r["suppressed"]:
                out.setdefault(r["group"] if r["by"] == "department" else "org", {})[r["kpi"]] = r
    return out
w, wo = cells(10), cells(0)
naive = {l.split("\t")[0]: float(l.split("\t")[1]) for l in open(T + "/naive.tsv")}
def fig(c, k):
    return c[k]["value"]
print("cell\tchange\tstderr\tadopters\tchange_without_cut\tplanted\tnaive")
for g in sorted(w, key=lambda g: (g != "org", g)):
    if "loadoff_wow8_change_stderr" not in w[g] or g not in wo:
        continue
    ch, se = fig(w[g], "loadoff_wow8_change"), fig(w[g], "loadoff_wow8_change_stderr")
    n = w[g]["loadoff_wow8_change"]["denominator"]
    ch0 = fig(wo[g], "loadoff_wow8_change")
    print("%s\t%.1f\t%.1f\t%d\t%.1f\t%.1f\t%s" % (g, ch, se, n, ch0, ch - ch0,
          "%.1f" % naive[g] if g in naive else "-"))
PY
sed 's/^/# /' "$T/verdict.txt"

# field CELL COLUMN
field() { awk -F'\t' -v g="$1" -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  $1 == g { print $(col[c]) }' "$T/verdict.txt"; }
for g in org Medicine Emergency; do
  ch=$(field "$g" change) se=$(field "$g" stderr) pl=$(field "$g" planted)
  [ -n "$ch" ] || { not_ok "$g: no published load-off cell"; continue; }
  if awk -v p="$pl" -v s="$se" 'BEGIN { exit !(p < -s) }'; then ok "$g: planted effect $pl s is negative (stderr $se)"
  else not_ok "$g: planted effect $pl s (stderr $se) is not clearly negative"; fi
  if awk -v c="$ch" -v p="$pl" -v s="$se" 'BEGIN { d = c - p; if (d < 0) d = -d; exit !(d <= 2 * s) }'; then
    ok "$g: change $ch s recovers the planted $pl s within 2 stderr ($se)"
  else
    not_ok "$g: change $ch s is more than 2 stderr ($se) from the planted $pl s"
  fi
done
ch=$(field Medicine change) se=$(field Medicine stderr) pl=$(field Medicine planted) nv=$(field Medicine naive)
if awk -v n="$nv" -v p="$pl" -v s="$se" 'BEGIN { d = n - p; if (d < 0) d = -d; exit !(n != "-" && d > 2 * s) }'; then
  ok "Medicine: the naive before/after $nv s misses the planted $pl s by more than 2 stderr ($se)"
else
  not_ok "Medicine: the naive before/after $nv s is within 2 stderr ($se) of the planted $pl s"
fi
if awk -v c="$ch" -v s="$se" 'BEGIN { exit !(c + 1.96 * s < 0) }'; then ok "Medicine: the band excludes 0"
else not_ok "Medicine: the band ($ch +- 1.96 x $se) includes 0"; fi
nplacebo=0
while IFS=$'\t' read -r g ch se n _; do
  case $g in cell | org | Medicine | Emergency) continue ;; esac
  [ "$n" -ge 10 ] || continue
  nplacebo=$((nplacebo + 1))
  if awk -v c="$ch" -v s="$se" 'BEGIN { if (c < 0) c = -c; exit !(c <= 3 * s) }'; then
    ok "$g (nothing planted): change $ch s is within 3 stderr ($se) of 0"
  else
    not_ok "$g (nothing planted): change $ch s is more than 3 stderr ($se) from 0"
  fi
done < "$T/verdict.txt"
if [ "$nplacebo" -ge 3 ]; then ok "$nplacebo departments without an effect checked"
else not_ok "only $nplacebo departments without an effect have 10 adopters"; fi

# The lean where nothing was planted, and the proposed pre-period gap (docs/kpi.md,
# "Load-off on data without an effect"): the data without the cut, read again with
# loadoff_pre_gap_days = 7, must lean less at org level than with the defined periods.
kill -TERM "${aggpid[0]}"; wait "${aggpid[0]}" 2>/dev/null
echo "loadoff_pre_gap_days = 7" >> "$T/agg0.ini"
t_bg "$T/agg0-gap.log" "$BIN/cadre-aggregator" --config "$T/agg0.ini"
wait_http "http://127.0.0.1:${aggport[0]}/healthz" || { not_ok "aggregator did not restart"; t_done; exit 1; }
sleep 1.5
gap=$(curl -s "http://127.0.0.1:${aggport[0]}/api/v1/kpis?window=365d&by=org&format=json" |
  jq -r '[.rows[] | select(.kpi == "loadoff_wow8_change_stderr" or .kpi == "loadoff_wow8_change") | .value | tostring] | join(" ")')
nogap=$(field org change_without_cut)
echo "# org, data without the cut: change $nogap s with the defined periods; change and stderr $gap with a 7-day gap"
if awk -v a="${gap%% *}" -v b="$nogap" 'BEGIN { if (a < 0) a = -a; if (b < 0) b = -b; exit !(a < b) }'; then
  ok "a 7-day pre-period gap leans less: ${gap%% *} s against $nogap s"
else
  not_ok "a 7-day pre-period gap does not lean less: ${gap%% *} s against $nogap s"
fi
t_done
