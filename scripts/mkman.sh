#!/usr/bin/env bash
# mkman.sh BIN OUTDIR: writes cadre-agent.8, cadre-aggregator.8 and cadre.conf.5 into
# OUTDIR. The options and every configuration key (default and meaning) come from the
# binaries' own --help, which prints the tables the config parsers use, so a page cannot
# drift from the program; the prose around them is here.
set -euo pipefail
bin=$1 out=$2
mkdir -p "$out"
version=$("$bin/cadre-agent" --version | awk '{ print $2 }')
date=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%d)

# roff-escapes text: backslashes, and a leading dot or quote.
esc() { sed -e 's/\\/\\e/g' -e 's/^[.'"'"']/\\\&&/' -e 's/-/\\-/g'; }

# keys HELPFILE: the key table of a --help text as roff. A key line is
#   4 spaces, the key in 26 columns, a space, the default in 18 columns, a space, meaning
# (opttab_print_rows); a section line is "  [name]"; a "   type = T:" line starts the keys
# of one source type.
keys() {
  awk '
    function trim(s) { sub(/^ +/, "", s); sub(/ +$/, "", s); return s }
    function roff(s) { gsub(/\\/, "\\e", s); gsub(/-/, "\\-", s); return s }
    /^  \[/ { sec = $0; sub(/^  /, "", sec); split(sec, a, /  +/); printf ".SS %s\n", roff(a[1]);
              if (a[2] != "") printf "%s.\n", roff(a[2]); next }
    /^   type = / { t = $0; sub(/^   type = /, "", t); sub(/:$/, "", t);
                    printf ".PP\nWith \\fBtype = %s\\fR:\n", roff(t); next }
    /^    [^ ]/ {
      if (substr($0, 31, 1) != " " || (length($0) > 50 && substr($0, 50, 1) != " ")) {
        print "mkman: cannot read key line: " $0 > "/dev/stderr"; exit 1
      }
      key = trim(substr($0, 5, 26)); def = trim(substr($0, 32, 18)); what = substr($0, 51)
      printf ".TP\n.B %s\n", roff(key)
      if (def != "") printf "Default: \\fB%s\\fR. ", roff(def)
      printf "%s\n", roff(what)
      next
    }
    /^  [^ \[]/ || /^[^ ]/ { exit }
  ' "$1"
}

"$bin/cadre-agent" --help > "$out/agent.help" 2>&1
"$bin/cadre-aggregator" --help > "$out/aggregator.help" 2>&1
sed -n '/^Config keys/,$p' "$out/agent.help" | tail -n +2 > "$out/agent.keys"
sed -n '/^configuration keys/,$p' "$out/aggregator.help" | tail -n +2 > "$out/aggregator.keys"

# --- cadre-agent(8) ---------------------------------------------------------------------
{
  echo ".TH CADRE\\-AGENT 8 \"$date\" \"cadre $version\" \"System Administration\""
  echo ".SH NAME"
  echo "cadre\\-agent \\- read AI\\-usage logs and staffing exports, pseudonymise, ship to cadre\\-aggregator"
  echo ".SH SYNOPSIS"
  echo ".B cadre\\-agent"
  echo ".B \\-\\-config"
  echo ".I FILE"
  echo ".RB [ \\-\\-once | \\-\\-check | \\-\\-dry\\-run ]"
  echo ".RB [ \\-\\-verbose ]"
  echo ".br"
  echo ".B cadre\\-agent"
  echo ".BR \\-\\-help | \\-\\-version"
  echo ".SH DESCRIPTION"
  sed -n '4,/^$/p' "$out/agent.help" | sed '/^$/d' | esc
  echo ".PP"
  echo "Staff ids are replaced by the first 16 bytes of HMAC\\-SHA256(org key, trimmed"
  echo "lower\\-case id) before anything is written or sent: raw ids never leave the server."
  echo "Records wait in a durable spool under \\fIstate_dir\\fR until the aggregator acknowledges"
  echo "them, so a crash, a restart or an unreachable aggregator loses nothing."
  echo ".SH OPTIONS"
  awk '/^  --/ { if (o) print o; o = $0; next } /^  +[^ -]/ && o { o = o " " $0; next } /^$/ && o { print o; o = ""; exit }' "$out/agent.help" |
    sed -E 's/^  (--[a-z-]+( [A-Z]+)?) +/\1\t/; s/ +/ /g; s/ \(below\)$/ (see cadre.conf(5))/' |
    while IFS=$'\t' read -r opt what; do
      printf '.TP\n.B %s\n%s\n' "$(printf '%s' "$opt" | esc)" "$(printf '%s' "$what" | esc)"
    done
  printf '.TP\n.B \\-\\-help\nprint the options and every configuration key, and exit\n'
  printf '.TP\n.B \\-\\-version\nprint the version, and exit\n'
  echo ".SH CONFIGURATION"
  echo "An INI file; its keys are described in"
  echo ".BR cadre.conf (5)."
  echo ".SH SIGNALS"
  echo ".TP"
  echo ".B SIGHUP"
  echo "re\\-read the configuration file."
  echo ".TP"
  echo ".B SIGTERM, SIGINT"
  echo "stop reading, sync the spool and exit 0; what is not delivered yet goes out after"
  echo "the next start."
  echo ".SH EXIT STATUS"
  echo "0 on success; 64 usage error; 75 (\\fB\\-\\-once\\fR) records still unacknowledged after"
  echo "\\fBonce_timeout_s\\fR; 78 configuration, key or token file error; 1 any other failure"
  echo "to start (the message says which)."
  echo ".SH FILES"
  echo ".TP"
  echo ".I /etc/cadre/agent.conf"
  echo "configuration used by the packaged systemd unit"
  echo ".TP"
  echo ".I /var/lib/cadre\\-agent"
  echo "the packaged \\fBstate_dir\\fR: spool, checkpoints, rejected batches"
  echo ".SH SEE ALSO"
  echo ".BR cadre\\-aggregator (8),"
  echo ".BR cadre.conf (5)"
} > "$out/cadre-agent.8"

# --- cadre-aggregator(8) ----------------------------------------------------------------
{
  echo ".TH CADRE\\-AGGREGATOR 8 \"$date\" \"cadre $version\" \"System Administration\""
  echo ".SH NAME"
  echo "cadre\\-aggregator \\- store agents' batches in RocksDB and serve workforce KPIs"
  echo ".SH SYNOPSIS"
  sed -n '1,/^$/p' "$out/aggregator.help" | sed '/^$/d; s/^usage: //; s/^       //' |
    while IFS= read -r l; do printf '.B %s\n.br\n' "$(printf '%s' "$l" | esc)"; done
  echo ".SH DESCRIPTION"
  sed -n '/^Receives/,/^$/p' "$out/aggregator.help" | sed '/^$/d' | esc
  echo ".PP"
  echo "\\fBexport\\fR writes one quarter's KPI rows (CSV, JSON or a self\\-contained HTML report)"
  echo "from a read\\-only view of the database, while the daemon runs or when it is stopped."
  echo "\\fBbackup\\fR copies the database into a new folder, consistent as of one moment"
  echo "between two batches, while the daemon runs or when it is stopped (exit 73 when the folder"
  echo "exists, 74 on a read or write error); docs/operations.md explains restoring."
  echo "\\fBkpis\\fR prints the KPI catalogue."
  echo ".SH OPTIONS"
  awk '/^options:/ { on = 1; next } on && /^$/ { if (o) print o; exit }
       on && /^  +-/ { if (o) print o; o = $0; next } on && /^  +[^ -]/ { o = o " " $0 }' "$out/aggregator.help" |
    sed -E 's/^  +((-[a-z], )?--[a-z-]+( [A-Z]+)?) +/\1\t/; s/ +/ /g' |
    while IFS=$'\t' read -r opt what; do
      printf '.TP\n.B %s\n%s\n' "$(printf '%s' "$opt" | esc)" "$(printf '%s' "$what" | esc)"
    done
  echo ".SH CONFIGURATION"
  echo "An INI file; its keys are described in"
  echo ".BR cadre.conf (5)."
  echo ".SH SIGNALS"
  echo ".TP"
  echo ".B SIGHUP"
  echo "re\\-read the tokens files."
  echo ".TP"
  echo ".B SIGTERM, SIGINT"
  echo "finish the requests in flight, close the database, exit 0."
  echo ".SH EXIT STATUS"
  echo "0 on success; 64 usage error; 65 bad or future quarter, or a quarter with no data"
  echo "(\\fBexport\\fR); 66 no database; 73 cannot write the output; 78 configuration error."
  echo ".SH FILES"
  echo ".TP"
  echo ".I /etc/cadre/aggregator.conf"
  echo "configuration used by the packaged systemd unit"
  echo ".TP"
  echo ".I /var/lib/cadre"
  echo "the packaged database folder (\\fBdb_path\\fR)"
  echo ".SH SEE ALSO"
  echo ".BR cadre\\-agent (8),"
  echo ".BR cadre.conf (5)"
} > "$out/cadre-aggregator.8"

# --- cadre.conf(5) ----------------------------------------------------------------------
{
  echo ".TH CADRE.CONF 5 \"$date\" \"cadre $version\" \"File Formats\""
  echo ".SH NAME"
  echo "cadre.conf \\- configuration of cadre\\-agent and cadre\\-aggregator"
  echo ".SH DESCRIPTION"
  echo "Both programs read an INI file given with \\fB\\-\\-config\\fR: \\fB[section]\\fR lines,"
  echo "then \\fBkey = value\\fR lines. Lines start in column 1 and hold at most 200 bytes;"
  echo "\\fB;\\fR and \\fB#\\fR start comments. An unknown key, a repeated key or a value out of"
  echo "range is an error that names the line. Sizes take \\fBKiB\\fR, \\fBMiB\\fR or \\fBGiB\\fR."
  echo "\\fB\\-\\-check\\fR validates a file without starting anything."
  echo ".SH AGENT"
  echo "The agent's file has one \\fB[agent]\\fR section and one \\fB[source NAME]\\fR section per"
  echo "input; the \\fBtype\\fR of a source decides its other keys."
  keys "$out/agent.keys"
  echo ".SH AGGREGATOR"
  keys "$out/aggregator.keys"
  echo ".SH EXAMPLE"
  echo ".nf"
  echo "[agent]"
  echo "id = icu\\-1"
  echo "aggregator_url = https://cadre.example.org:9470"
  echo "token_file = /etc/cadre/agent.token"
  echo "org_key_file = /etc/cadre/org.key"
  echo "state_dir = /var/lib/cadre\\-agent"
  echo ""
  echo "[source scribe]"
  echo "type = usage_jsonl"
  echo "path = /var/log/scribe/*.jsonl"
  echo ".fi"
  echo ".SH SEE ALSO"
  echo ".BR cadre\\-agent (8),"
  echo ".BR cadre\\-aggregator (8)"
} > "$out/cadre.conf.5"
rm -f "$out"/*.help "$out"/*.keys
