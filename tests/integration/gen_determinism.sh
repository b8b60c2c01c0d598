#!/usr/bin/env bash
# cadre-gen: the same arguments give byte-identical output, another seed differs, the layout
# is as documented, summary.txt agrees with the files (record counts, totals) and the CSV
# headers carry the required columns of SPEC section 2.
. "$(dirname "$0")/lib.sh"
t_setup
GEN=$BIN/cadre-gen
[ -x "$GEN" ] || { not_ok "$GEN is not built"; t_done; exit 1; }
args=(--staff 200 --from 2025-07-01 --to 2026-06-30 --quiet)
types="usage staffing shifts absences ehr training licence"
file_of() { case $1 in usage) echo usage.jsonl ;; licence) echo licences.csv ;; *) echo "$1.csv" ;; esac; }

"$GEN" "${args[@]}" --seed 42 --out "$T/a"; check_eq "$?" 0 "first run exit status"
"$GEN" "${args[@]}" --seed 42 --out "$T/b"; check_eq "$?" 0 "second run exit status"
"$GEN" "${args[@]}" --seed 43 --out "$T/c"; check_eq "$?" 0 "other seed exit status"

# Layout: two sites by default, seven exports each, and summary.txt.
files_of() { (cd "$1" && find . -type f | LC_ALL=C sort); }
want=$(printf '%s\n' ./north/{absences.csv,ehr.csv,licences.csv,shifts.csv,staffing.csv,training.csv,usage.jsonl} \
  ./south/{absences.csv,ehr.csv,licences.csv,shifts.csv,staffing.csv,training.csv,usage.jsonl} ./summary.txt |
  LC_ALL=C sort)
check_eq "$(files_of "$T/a")" "$want" "files written"

# Determinism: every file byte for byte.
same=0 differ=0
for f in $(files_of "$T/a"); do
  if cmp -s "$T/a/$f" "$T/b/$f"; then same=$((same + 1)); else differ=$((differ + 1)); echo "# differs: $f"; fi
done
check_eq "$same/$differ" "15/0" "same seed: identical files/differing files"
if cmp -s "$T/a/north/usage.jsonl" "$T/c/north/usage.jsonl" ||
   cmp -s "$T/a/south/shifts.csv" "$T/c/south/shifts.csv" ||
   cmp -s "$T/a/north/licences.csv" "$T/c/north/licences.csv"; then
  not_ok "seed 43 gives the same usage, shifts or licences as seed 42"
else
  ok "another seed gives other data"
fi

# Data records of a file: CSV without its header and blank lines, a quoted field may span
# lines (a record ends on a line that leaves no quote open); JSONL non-blank lines.
records() {
  case $1 in
  *.jsonl) grep -c '[^[:space:]]' "$1" ;;
  *) awk 'BEGIN { inq = 0; n = 0 }
          { line = $0; sub(/\r$/, "", line)
            if (!inq && FNR > 1 && line !~ /^[ \t]*$/) n++
            if (gsub(/"/, "\"", line) % 2) inq = !inq }
          END { print n }' "$1" ;;
  esac
}
# summary.txt lines "site type k=v ...", read once: F["site type k"]=v.
declare -A F
load_summary() {
  local site type kv
  F=()
  while read -r site type rest; do
    [[ $site == \#* ]] && continue
    for kv in $rest; do F["$site $type ${kv%%=*}"]=${kv#*=}; done
  done < "$1"
}
field() { echo "${F["$2 $3 $4"]}"; } # field SUMMARY SITE TYPE NAME
sum=$T/a/summary.txt
load_summary "$sum"
check_grep '^# cadre-gen staff=200 sites=2 from=2025-07-01 to=2026-06-30 seed=42 bad_rows=1$' "$sum" \
  "summary names its arguments"
for t in $types; do
  f=$(file_of "$t")
  tot_rows=0 tot_keys=0
  for s in north south; do
    got=$(records "$T/a/$s/$f")
    check_eq "$(field "$sum" "$s" "$t" rows)" "$got" "$s/$f rows in summary = records in file"
    keys=$(field "$sum" "$s" "$t" valid_keys)
    bad=0
    for r in malformed missing_field invalid_value; do
      n=$(field "$sum" "$s" "$t" "$r")
      [ "${n:-0}" -gt 0 ] && ok "$s/$f has $r rows ($n)" || not_ok "$s/$f has no $r rows"
      bad=$((bad + n))
    done
    if [ "$keys" -gt 0 ] && [ $((keys + bad)) -le "$got" ]; then
      ok "$s/$f valid_keys $keys + invalid $bad <= rows $got"
    else
      not_ok "$s/$f valid_keys $keys + invalid $bad > rows $got"
    fi
    tot_rows=$((tot_rows + got)) tot_keys=$((tot_keys + keys))
  done
  check_eq "$(field "$sum" total "$t" rows)" "$tot_rows" "total $t rows"
  check_eq "$(field "$sum" total "$t" valid_keys)" "$tot_keys" "total $t valid_keys"
done
# Usage lines are each their own key; with no duplicates in a file keys = valid lines.
u=$(field "$sum" north usage rows); k=$(field "$sum" north usage valid_keys)
b=$(( $(field "$sum" north usage malformed) + $(field "$sum" north usage missing_field) + $(field "$sum" north usage invalid_value) ))
check_eq "$k" "$((u - b))" "north usage valid_keys = rows - invalid"

# Required columns (header names trimmed, case-insensitive, BOM and CR dropped, quotes off).
need() { # need FILE COLUMN...
  local f=$1 c h; shift
  h=$(head -n 1 "$f" | sed 's/^\xef\xbb\xbf//; s/\r$//; s/"//g; s/[[:space:]]*,[[:space:]]*/,/g; s/^[[:space:]]*//' |
    tr 'A-Z' 'a-z')
  for c in "$@"; do
    [[ ",$h," == *",$c,"* ]] && ok "${f#"$T"/} has column $c" || not_ok "${f#"$T"/} lacks column $c"
  done
}
for s in north south; do
  need "$T/a/$s/staffing.csv" staff_id start_date department role end_date end_reason site hybrid_role fte
  need "$T/a/$s/shifts.csv" staff_id start end overtime_hours
  need "$T/a/$s/absences.csv" staff_id date hours kind
  need "$T/a/$s/ehr.csv" staff_id date scheduled_patient_hours ehr_minutes outside_scheduled_minutes inbox_minutes
  need "$T/a/$s/training.csv" staff_id course completed_date
  need "$T/a/$s/licences.csv" staff_id tool assigned_date removed_date
done

# Some of the promised nastiness is really there.
n=$T/a/north
check_eq "$(head -c 3 "$n/training.csv" | od -An -tx1 | tr -d ' ')" "efbbbf" "training.csv starts with a BOM"
check_grep $'\r$' "$n/staffing.csv" "staffing.csv has CRLF line ends"
check_grep '^employee_name,' "$n/staffing.csv" "staffing.csv has an unknown employee_name column first"
check_grep ',"[^"]*,[^"]*",' "$n/staffing.csv" "a quoted field with a comma"
check_grep 'Soins intensifs' "$n/staffing.csv" "a non-ASCII department"
check_grep ',[a-z][0-9]{6},' "$n/training.csv" "lower-case staff ids"
check_grep '"user":" [A-Z][0-9]{6} "' "$n/usage.jsonl" "space-padded user ids"
check_grep '"ts":"[^"]*\.[0-9]{3}Z"' "$n/usage.jsonl" "timestamps in Z with fractions"
check_grep '"ts":"[^"]*[+-][0-9]{2}:[0-9]{2}"' "$n/usage.jsonl" "timestamps with offsets"
for r in transfer role_change voluntary involuntary retirement other; do
  cat "$T"/a/*/staffing.csv | grep -qiE ",$r,(north|south)," && ok "end reason $r present" ||
    not_ok "end reason $r missing"
done
for h in clinical_translator model_governance_lead data_strategist ethics_steward ai_champion; do
  cat "$T"/a/*/staffing.csv | grep -qi ",$h," && ok "hybrid role $h present" ||
    not_ok "hybrid role $h missing"
done
check_grep '^[a-z-]+,[A-Z][0-9]{6},[0-9]{4}-[0-9]{2}-[0-9]{2},[0-9]{4}-[0-9]{2}-[0-9]{2},' "$n/licences.csv" \
  "licences.csv has a removed seat"
check_grep '^[a-z-]+,[A-Z][0-9]{6},[0-9]{4}-[0-9]{2}-[0-9]{2},,' "$n/licences.csv" "licences.csv has a seat still assigned"
check_grep ',"[^"]*,[^"]*"$' "$n/licences.csv" "licences.csv: a quoted assigned_by with a comma"
check_eq "$(grep -c '^$' "$n/licences.csv")" 1 "licences.csv: one blank line"
long=$(grep -ho '^"Clinical Decision[^"]*"' "$T"/a/*/training.csv | head -n 1 | tr -d '"')
check_eq "$(printf '%s' "$long" | wc -c)" 128 "a course name of exactly 128 bytes"

# --no-bad-rows: nothing rejected anywhere; --sites and argument errors.
"$GEN" --staff 50 --seed 42 --sites 3 --no-bad-rows --quiet --out "$T/d"
check_eq "$?" 0 "--no-bad-rows --sites 3 exit status"
check_eq "$(ls "$T/d" | tr '\n' ' ')" "east north south summary.txt " "three site folders"
check_eq "$(awk '$1 !~ /^#/ { for (i = 5; i <= 7; i++) { split($i, kv, "="); s += kv[2] } } END { print s + 0 }' "$T/d/summary.txt")" \
  0 "no invalid rows with --no-bad-rows"
"$GEN" --help >/dev/null; check_eq "$?" 0 "--help exit status"
"$GEN" --staff nope --out "$T/e" 2>/dev/null; check_eq "$?" 2 "bad argument exit status"

t_done
