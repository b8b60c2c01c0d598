#!/usr/bin/env bash
# Man pages and `make install`: scripts/mkman.sh makes cadre-agent(8), cadre-aggregator(8)
# and cadre.conf(5) from the binaries' --help; each renders with `man --warnings` at 80
# columns without a warning; every configuration key --help lists is a key entry of
# cadre.conf(5), and every key entry there is one --help lists (both binaries, every
# section and source type). `make install DESTDIR=... PREFIX=/usr` puts the binaries, the
# pages and the licence in place, and the installed binaries run.
. "$(dirname "$0")/lib.sh"
t_setup
root=$(cd "$TESTS_DIR/.." && pwd)

bash "$root/scripts/mkman.sh" "$BIN" "$T/man"
for page in cadre-agent.8 cadre-aggregator.8 cadre.conf.5; do
  if [ -s "$T/man/$page" ]; then ok "$page made"; else not_ok "$page made"; continue; fi
  MANWIDTH=80 man --warnings -l "$T/man/$page" > "$T/$page.txt" 2> "$T/$page.warn"
  if [ -s "$T/$page.warn" ]; then not_ok "$page renders without warnings: $(head -3 "$T/$page.warn")"
  else ok "$page renders without warnings"; fi
  check_grep "^SEE ALSO" "$T/$page.txt" "$page has its sections"
done

# Keys as --help prints them: 4 spaces, then the key (common/opttab.c). Keys of the page:
# the .B line after each .TP in the AGENT and AGGREGATOR sections.
{ "$BIN/cadre-agent" --help; "$BIN/cadre-aggregator" --help; } 2>&1 |
  awk '/^    [a-z][a-zA-Z0-9_.]*( |$)/ { print $1 }' | sort -u > "$T/help.keys"
awk '/^\.SH (AGENT|AGGREGATOR)/ { on = 1; next } /^\.SH / { on = 0 }
     on && prev == ".TP" && /^\.B / { k = $2; gsub(/\\-/, "-", k); print k } { prev = $0 }' \
  "$T/man/cadre.conf.5" | sort -u > "$T/man.keys"
n=$(wc -l < "$T/help.keys")
if [ "$n" -ge 40 ]; then ok "--help lists $n distinct keys"; else not_ok "--help lists only $n keys"; fi
missing=$(comm -23 "$T/help.keys" "$T/man.keys" | tr '\n' ' ')
extra=$(comm -13 "$T/help.keys" "$T/man.keys" | tr '\n' ' ')
check_eq "$missing" "" "every --help key is in cadre.conf(5)"
check_eq "$extra" "" "every cadre.conf(5) key is in --help"
for k in sync_writes authoritative external_labels once_timeout_s; do
  check_grep "^       $k\$" "$T/cadre.conf.5.txt" "cadre.conf(5) describes $k"
done
check_grep "Default: 5000" "$T/cadre.conf.5.txt" "cadre.conf(5) gives defaults"

# make install into a staging folder, with the binaries already built in $BIN.
make -s -C "$root" install BIN="$BIN" BUILD="${BUILD:-$root/build}" DESTDIR="$T/stage" PREFIX=/usr > "$T/install.log" 2>&1 ||
  not_ok "make install: $(tail -3 "$T/install.log")"
for f in usr/bin/cadre-agent usr/bin/cadre-aggregator usr/share/man/man8/cadre-agent.8 \
  usr/share/man/man8/cadre-aggregator.8 usr/share/man/man5/cadre.conf.5 \
  usr/share/doc/cadre/LICENSE; do
  if [ -f "$T/stage/$f" ]; then ok "installed /$f"; else not_ok "installed /$f"; fi
done
check_grep "Apache License" "$T/stage/usr/share/doc/cadre/LICENSE" "the licence is Apache-2.0"
check_eq "$("$T/stage/usr/bin/cadre-agent" --version)" "$("$BIN/cadre-agent" --version)" \
  "the installed agent runs"
check_eq "$(stat -c %a "$T/stage/usr/bin/cadre-aggregator")" 755 "binaries are mode 755"
t_done
