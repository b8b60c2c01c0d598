#!/usr/bin/env bash
# The Debian packages, as an operator meets them (needs root, as CI runs). `make deb`
# builds cadre-common, cadre-agent and cadre-aggregator twice (a newer version the second
# time). lintian finds no error in them. dpkg -i installs the first build: system users,
# state folders (mode 700), conffiles, units that `systemd-analyze verify` accepts and
# whose `systemd-analyze security --offline=yes` exposure is at most 2.0. Each daemon is
# started exactly as its unit's ExecStart says, as its unit's User, with the packaged
# configuration edited as an operator would; a generated site goes from the packaged agent
# to the packaged aggregator. The second build is installed over the first: the edited
# configuration, the database, the spool and the checkpoints are kept; started again,
# three new log lines arrive and nothing is stored twice. dpkg -r keeps state and
# configuration; dpkg -P leaves no file of the packages, no state folder and no /etc/cadre.
. "$(dirname "$0")/lib.sh"
t_setup
[ "$(id -u)" -eq 0 ] || { not_ok "needs root (dpkg -i); run as root as CI does"; t_done; exit 1; }
root=$(cd "$TESTS_DIR/.." && pwd)
chmod 755 "$T"

for p in cadre-agent cadre-aggregator cadre-common; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed; then
    not_ok "$p is already installed on this machine: not touching it"; t_done; exit 1
  fi
done
cleanup_pkgs() { dpkg -P cadre-agent cadre-aggregator cadre-common >/dev/null 2>&1; }
trap 'cleanup_pkgs; t_cleanup' EXIT

# --- build twice ---
make -s -C "$root" deb DEB_OUT="$T/v1" > "$T/deb1.log" 2>&1 ||
  { not_ok "make deb: $(tail -5 "$T/deb1.log")"; t_done; exit 1; }
v1=$(dpkg-deb -f "$T"/v1/cadre-agent_*.deb Version)
v2="${v1%-*}-2"
make -s -C "$root" deb DEB_OUT="$T/v2" DEB_VERSION="$v2" > "$T/deb2.log" 2>&1 ||
  { not_ok "make deb (second build): $(tail -5 "$T/deb2.log")"; t_done; exit 1; }
check_eq "$(ls "$T"/v1/*.deb | wc -l)" 3 "make deb builds three packages"
check_grep '^Depends: .*librocksdb' <(dpkg-deb -f "$T"/v1/cadre-aggregator_*.deb Depends | sed 's/^/Depends: /') \
  "dependencies come from dpkg-shlibdeps (librocksdb)"
if dpkg --compare-versions "$v2" gt "$v1"; then ok "second build is newer ($v1 -> $v2)"; else not_ok "$v2 not newer than $v1"; fi
lintian --tag-display-limit 0 "$T"/v1/*.deb > "$T/lintian.out" 2>&1
check_eq "$(grep -c '^E: ' "$T/lintian.out")" 0 "lintian: no error"
# The one warning left (initial-upload-closes-no-bugs) concerns uploads to Debian's archive.
check_eq "$(grep '^W: ' "$T/lintian.out" | grep -vc 'initial-upload-closes-no-bugs')" 0 \
  "lintian: no warning but initial-upload-closes-no-bugs"

# --- install ---
dpkg -i "$T"/v1/cadre-common_*.deb "$T"/v1/cadre-agent_*.deb "$T"/v1/cadre-aggregator_*.deb > "$T/dpkg1.log" 2>&1
check_eq "$?" 0 "dpkg -i of the three packages"
for u in cadre cadre-agent; do
  if getent passwd "$u" > /dev/null; then ok "system user $u"; else not_ok "system user $u"; fi
done
check_eq "$(stat -c '%U %a' /var/lib/cadre)" "cadre 700" "/var/lib/cadre"
check_eq "$(stat -c '%U %a' /var/lib/cadre-agent)" "cadre-agent 700" "/var/lib/cadre-agent"
check_grep '^/etc/cadre/agent.conf$' /var/lib/dpkg/info/cadre-agent.conffiles "agent.conf is a conffile"
for u in cadre-agent cadre-aggregator; do
  systemd-analyze verify "/lib/systemd/system/$u.service" > "$T/$u.verify" 2>&1
  check_eq "$(cat "$T/$u.verify")" "" "systemd-analyze verify $u.service"
  score=$(systemd-analyze security --offline=yes "/lib/systemd/system/$u.service" 2>/dev/null |
    awk '/Overall exposure level/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+$/) print $i }')
  if awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }'; then ok "$u.service exposure $score <= 2.0"
  else not_ok "$u.service exposure '$score' > 2.0"; fi
done
man -w cadre.conf > /dev/null 2>&1 && ok "man cadre.conf" || not_ok "man cadre.conf"

# --- configure as an operator would ---
"$BIN/cadre-gen" --staff 300 --sites 1 --seed 9 --from 2026-07-01 --to 2026-09-30 --quiet --out "$T/data"
chmod -R a+rX "$T/data"
dir=$(ls -d "$T"/data/*/ | head -1)
expected=$(awk '$1 == "total" { for (i = 3; i <= NF; i++) if ($i ~ /^valid_keys=/) { split($i, a, "="); s += a[2] } } END { print s }' "$T/data/summary.txt")
port=$(free_port)
sed -i "s|^listen = .*|listen = 127.0.0.1:$port|" /etc/cadre/aggregator.conf
printf 'as_of = 2026-09-30\nmin_group_size = 5\n' >> /etc/cadre/aggregator.conf
echo "pkg-site pkg-token" > /etc/cadre/agents.tokens
chown cadre:cadre /etc/cadre/agents.tokens; chmod 600 /etc/cadre/agents.tokens
echo "pkg-token" > /etc/cadre/agent.token
head -c 48 /dev/urandom | base64 | tr -d '\n' > /etc/cadre/org.key
chown cadre-agent:cadre-agent /etc/cadre/agent.token /etc/cadre/org.key
chmod 600 /etc/cadre/agent.token /etc/cadre/org.key
sed -i -e "s|^;id = .*|id = pkg-site|" -e "s|^;aggregator_url = .*|aggregator_url = http://127.0.0.1:$port|" \
  -e "s|^;token_file = .*|token_file = /etc/cadre/agent.token|" -e "s|^;org_key_file = .*|org_key_file = /etc/cadre/org.key|" \
  /etc/cadre/agent.conf
{
  echo "poll_interval_s = 1"
  for s in staffing_csv:staffing.csv usage_jsonl:usage.jsonl shifts_csv:shifts.csv \
    absences_csv:absences.csv ehr_csv:ehr.csv training_csv:training.csv licences_csv:licences.csv; do
    printf '[source %s]\ntype = %s\npath = %s%s\n' "${s%%_*}" "${s%%:*}" "$dir" "${s#*:}"
  done
} >> /etc/cadre/agent.conf
# poll_interval_s must sit in [agent]: move the appended key up under it.
sed -i '/^poll_interval_s = 1$/d' /etc/cadre/agent.conf
sed -i 's|^state_dir = /var/lib/cadre-agent$|&\npoll_interval_s = 1|' /etc/cadre/agent.conf
runuser -u cadre-agent -- /usr/bin/cadre-agent --check --config /etc/cadre/agent.conf > "$T/check.out" 2>&1
check_eq "$?" 0 "the edited agent.conf passes --check as cadre-agent ($(tail -1 "$T/check.out"))"

# start UNIT LOG: runs the unit's ExecStart as its User, in the background.
start() {
  local f=/lib/systemd/system/$1.service cmd user
  cmd=$(sed -n 's/^ExecStart=//p' "$f"); user=$(sed -n 's/^User=//p' "$f")
  # shellcheck disable=SC2086
  runuser -u "$user" -- $cmd 2> "$2" &
  T_PIDS+=($!); T_LAST_PID=$!
}
stored() { curl -s "http://127.0.0.1:$port/metrics" | awk '$1 ~ /^cadre_stored_records\{/ { s += $2 } END { print s + 0 }'; }
wait_stored() { for _ in $(seq 300); do [ "$(stored)" -ge "$1" ] && break; sleep 0.2; done; stored; }
stop() { kill -TERM "$1"; wait "$1" 2>/dev/null; }

start cadre-aggregator "$T/agg1.log"; agg=$T_LAST_PID
wait_http "http://127.0.0.1:$port/healthz" || { not_ok "packaged aggregator: $(tail -3 "$T/agg1.log")"; t_done; exit 1; }
start cadre-agent "$T/agent1.log"; agent=$T_LAST_PID
check_eq "$(wait_stored "$expected")" "$expected" "the packaged agent delivered the site to the packaged aggregator"
stop "$agent"; stop "$agg"
check_eq "$(stat -c %U /var/lib/cadre/db)" cadre "the database belongs to cadre"
check_eq "$(find /var/lib/cadre-agent -maxdepth 1 -name spool_id | wc -l)" 1 "the agent's state is in /var/lib/cadre-agent"
sum_before=$(cat /var/lib/cadre-agent/spool_id | md5sum)
ckpt_before=$(cd /var/lib/cadre-agent/checkpoints && ls | sort | xargs md5sum | md5sum)
check_eq "$(ls /var/lib/cadre-agent/checkpoints | wc -l)" 7 "one checkpoint per source (seven sources)"

# --- upgrade ---
dpkg -i --force-confold "$T"/v2/cadre-common_*.deb "$T"/v2/cadre-agent_*.deb "$T"/v2/cadre-aggregator_*.deb > "$T/dpkg2.log" 2>&1
check_eq "$?" 0 "dpkg -i of the newer build"
check_eq "$(dpkg-query -W -f='${Version}' cadre-aggregator)" "$v2" "upgraded to $v2"
check_grep "^listen = 127.0.0.1:$port$" /etc/cadre/aggregator.conf "the edited aggregator.conf is kept"
check_grep '^id = pkg-site$' /etc/cadre/agent.conf "the edited agent.conf is kept"
check_eq "$(md5sum < /var/lib/cadre-agent/spool_id)" "$sum_before" "the agent's spool id is kept"
check_eq "$(cd /var/lib/cadre-agent/checkpoints && ls | sort | xargs md5sum | md5sum)" "$ckpt_before" \
  "the agent's checkpoints are kept byte for byte"
start cadre-aggregator "$T/agg2.log"; agg=$T_LAST_PID
wait_http "http://127.0.0.1:$port/healthz" || { not_ok "upgraded aggregator: $(tail -3 "$T/agg2.log")"; t_done; exit 1; }
check_eq "$(stored)" "$expected" "the database is kept"
start cadre-agent "$T/agent2.log"; agent=$T_LAST_PID
sleep 2 # the agent has polled every source again: unchanged snapshots and logs add nothing
last=$(tail -n 1 "${dir}usage.jsonl")
for i in 1 2 3; do echo "$last" | sed "s/\"minutes\":[0-9.]*/\"minutes\":$i.5/" >> "${dir}usage.jsonl"; done
check_eq "$(wait_stored $((expected + 3)))" $((expected + 3)) "three new lines after the upgrade, nothing stored twice"
sleep 1.5
check_eq "$(stored)" $((expected + 3)) "still nothing stored twice"
stop "$agent"; stop "$agg"

# --- remove, then purge ---
for deb in "$T"/v2/*.deb; do dpkg-deb -c "$deb"; done |
  awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' > "$T/files"
if [ "$(wc -l < "$T/files")" -ge 10 ]; then ok "$(wc -l < "$T/files") files in the packages"
else not_ok "only $(wc -l < "$T/files") files listed"; fi
dpkg -r cadre-agent cadre-aggregator > "$T/dpkg3.log" 2>&1
check_eq "$?" 0 "dpkg -r"
[ -e /usr/bin/cadre-agent ] && not_ok "binary left after remove" || ok "binaries gone after remove"
[ -d /var/lib/cadre/db ] && ok "remove keeps the database" || not_ok "remove deleted the database"
[ -f /etc/cadre/agent.conf ] && ok "remove keeps the configuration" || not_ok "remove deleted agent.conf"
rm -f /etc/cadre/agents.tokens /etc/cadre/agent.token /etc/cadre/org.key # the operator's own files
dpkg -P cadre-agent cadre-aggregator cadre-common > "$T/dpkg4.log" 2>&1
check_eq "$?" 0 "dpkg -P"
left=$(while read -r f; do [ -e "$f" ] && echo "$f"; done < "$T/files")
check_eq "$left" "" "no file of the packages left after purge ($(wc -l < "$T/files") checked)"
for d in /var/lib/cadre /var/lib/cadre-agent /etc/cadre; do
  [ -e "$d" ] && not_ok "$d left after purge" || ok "$d gone after purge"
done
t_done
