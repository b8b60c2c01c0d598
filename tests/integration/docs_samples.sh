#!/usr/bin/env bash
# The samples of docs/formats.md are what the agent reads: each ```json / ```csv block
# under a "## `TYPE`" heading is written to a file and read by `cadre-agent --dry-run` as
# a source of that type. A valid sample ships one record per data line with no rejection;
# the block whose lines end in "<- line N: reason field" is rejected exactly as it says.
. "$(dirname "$0")/lib.sh"
t_setup
doc="$TESTS_DIR/../docs/formats.md"
cp "$TESTS_DIR/data/agent/org.key" "$T/org.key"; chmod 600 "$T/org.key"
echo t > "$T/token"
# Split the page: sample N of TYPE goes to $T/TYPE.N (the block's lines as written).
awk -v out="$T" '
  /^## `[a-z_]+`/ { t = $2; gsub(/[`:]/, "", t); n = 0; next }
  /^## / { t = ""; next }
  /^```(csv|json)$/ && t != "" { n++; f = out "/" t "." n; printf "" > f; inb = 1; next }
  /^```$/ && inb { inb = 0; close(f); next }
  inb { print > f }
' "$doc"
ls "$T" | grep -E '^[a-z_]+\.[0-9]+$' > "$T/samples"
check_eq "$(wc -l < "$T/samples")" 8 "eight samples in docs/formats.md"
for s in $(cat "$T/samples"); do
  type=${s%.*}
  f=$T/$s.in
  sed 's/ *<- line .*$//' "$T/$s" > "$f"
  printf '[agent]\nid = docs\naggregator_url = http://127.0.0.1:9\ntoken_file = %s/token\norg_key_file = %s/org.key\nstate_dir = %s/state-%s\n[source doc]\ntype = %s\npath = %s\n' \
    "$T" "$T" "$T" "$s" "$type" "$f" > "$T/$s.ini"
  "$BIN/cadre-agent" --config "$T/$s.ini" --dry-run > "$T/$s.out" 2> "$T/$s.err"
  check_eq "$?" 0 "$s: --dry-run"
  if grep -q '<- line' "$T/$s"; then
    want=$(sed -n 's/^.*<- line \([0-9]*\): \([a-z_]*\)\( [a-z_]*\)\{0,1\}.*$/line \1: \2\3/p' "$T/$s" | sed 's/ *$//')
    got=$(grep -o 'line [0-9]*: [a-z_]*\( [a-z_]*\)\{0,1\}$' "$T/$s.err")
    check_eq "$got" "$want" "$s: the rejections the page lists"
    check_eq "$(wc -l < "$T/$s.out")" 0 "$s: no record from the rejected rows"
  else
    rows=$(grep -cv '^staff_id,' "$f")
    check_eq "$(wc -l < "$T/$s.out")" "$rows" "$s: one record per line"
    check_eq "$(grep -c 'line [0-9]*:' "$T/$s.err")" 0 "$s: no rejection"
  fi
done
t_done
