#!/usr/bin/env bash
# The aggregator's HTTP surface without an agent: config checks, API errors, read tokens,
# gzip /metrics, HTTPS with client certificates made here, clean SIGTERM.
. "$(dirname "$0")/lib.sh"
t_setup
printf 'north-1 tok-1\n' > "$T/agents.tokens"
printf 'reader-token\n' > "$T/read.tokens"

# A min_group_size under 5 is refused with a message that says why.
cat > "$T/bad.ini" <<INI
[aggregator]
db_path = $T/db
tokens_file = $T/agents.tokens
min_group_size = 4
INI
"$BIN/cadre-aggregator" --check --config "$T/bad.ini" 2>"$T/bad.err"
check_eq "$?" 78 "min_group_size 4 refused"
check_grep 'bad.ini:4: min_group_size must be a whole number from 5' "$T/bad.err" "names line and limit"
printf '[aggregator]\ntokens_file = x\nlisten = a\nlisten = b\n' > "$T/dup.ini"
"$BIN/cadre-aggregator" --check --config "$T/dup.ini" 2>"$T/dup.err"
check_eq "$?" 78 "repeated key refused"
check_grep "dup.ini:4: key 'listen' repeated" "$T/dup.err" "names the repeated key"
printf '[aggregator]\ntokens_file = x\nlistn = a\n' > "$T/unk.ini"
"$BIN/cadre-aggregator" --check --config "$T/unk.ini" 2>"$T/unk.err"
check_eq "$?" 78 "unknown key refused"
check_grep "unk.ini:3: unknown key 'listn'" "$T/unk.err" "names the unknown key"
# The token says which agent sent a batch, so two agents cannot share one.
printf 'north-1 tok-1\n# a comment\nsouth-1 tok-1\n' > "$T/shared.tokens"
sed "s#^tokens_file = .*#tokens_file = $T/shared.tokens#; /min_group_size/d" "$T/bad.ini" > "$T/shared.ini"
"$BIN/cadre-aggregator" --check --config "$T/shared.ini" 2>"$T/shared.err"
check_eq "$?" 78 "a token shared by two agents refused by --check"
check_grep 'shared.tokens:3: agent south-1 has the token of agent north-1' "$T/shared.err" \
  "names the line and both agents"
printf 'north-1 tok-1\nnorth-1 tok-1\nsouth-1 tok-2\n' > "$T/shared.tokens"
"$BIN/cadre-aggregator" --check --config "$T/shared.ini" >/dev/null 2>"$T/shared.err"
check_eq "$?" 0 "a line repeated for the same agent is accepted"
printf '[aggregator]\ndb_path = %s/db\ntokens_file = %s/missing.tokens\n' "$T" "$T" > "$T/nofile.ini"
"$BIN/cadre-aggregator" --check --config "$T/nofile.ini" 2>"$T/nofile.err"
check_eq "$?" 78 "a missing tokens file refused by --check"
check_grep 'missing.tokens: cannot open' "$T/nofile.err" "names the tokens file"

# --check warns when /metrics and /api would be open to the network, and only then.
open_check() { # LISTEN EXTRA_LINE: prints the number of warnings --check gives
  printf '[aggregator]\nlisten = %s\ndb_path = %s/db\ntokens_file = %s/agents.tokens\n%s\n' \
    "$1" "$T" "$T" "$2" > "$T/open.ini"
  "$BIN/cadre-aggregator" --check --config "$T/open.ini" 2>&1 >/dev/null | grep -c 'not a loopback address'
}
check_eq "$(open_check 0.0.0.0:9470 '')" 1 "--check warns: 0.0.0.0 without read tokens"
check_eq "$(open_check '[::]:9470' '')" 1 "--check warns: [::] without read tokens"
check_eq "$(open_check 10.1.2.3:9470 '')" 1 "--check warns: a LAN address without read tokens"
check_eq "$(open_check 0.0.0.0:9470 "read_tokens_file = $T/read.tokens")" 0 "no warning with read tokens"
check_eq "$(open_check 127.0.0.1:9470 '')" 0 "no warning on 127.0.0.1"
check_eq "$(open_check '[::1]:9470' '')" 0 "no warning on [::1]"
check_eq "$(open_check localhost:9470 '')" 0 "no warning on localhost"

# Under systemd (JOURNAL_STREAM names stderr's device and inode) every log line starts
# with a syslog priority and carries no timestamp of its own; otherwise lines are
# timestamped. Both binaries, an error and a warning each.
printf '[aggregator]\nlisten = 0.0.0.0:1\ndb_path = %s/db\ntokens_file = %s/agents.tokens\n' "$T" "$T" > "$T/j.ini"
printf '[agent]\nid = a1\n' > "$T/ja.ini"
: > "$T/j.err"
js=$(stat -c '%d:%i' "$T/j.err")
JOURNAL_STREAM=$js "$BIN/cadre-aggregator" --check --config "$T/j.ini" >/dev/null 2>>"$T/j.err"
JOURNAL_STREAM=$js "$BIN/cadre-aggregator" --check --config "$T/missing.ini" >/dev/null 2>>"$T/j.err"
JOURNAL_STREAM=$js "$BIN/cadre-agent" --check --config "$T/ja.ini" >/dev/null 2>>"$T/j.err"
check_eq "$(grep -c '^<4>cadre-aggregator warn: ' "$T/j.err")" 1 "journal: the warning has priority 4"
check_eq "$(grep -c '^<3>cadre-aggregator error: ' "$T/j.err")" 1 "journal: the error has priority 3"
check_grep '^<3>cadre-agent: .*ja.ini: \[agent\] aggregator_url is required' "$T/j.err" \
  "journal: the agent's configuration error has priority 3"
check_eq "$(grep -cvE '^<[0-7]>cadre-(agent|aggregator)[: ]' "$T/j.err")" 0 "journal: every line has a priority prefix"
JOURNAL_STREAM=1:2 "$BIN/cadre-aggregator" --check --config "$T/j.ini" >/dev/null 2>"$T/nj.err"
check_grep '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z cadre-aggregator warn: ' "$T/nj.err" \
  "stderr that is not the journal keeps timestamps"
# log_format = logfmt: key=value lines, the message quoted; under the journal the same
# after the priority prefix and without ts=.
printf 'log_format = logfmt\n' >> "$T/j.ini"
"$BIN/cadre-aggregator" --check --config "$T/j.ini" >/dev/null 2>"$T/lf.err"
check_grep '^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z level=warn prog=cadre-aggregator msg="[^"]*listen[^"]*"$' \
  "$T/lf.err" "log_format = logfmt writes logfmt lines"
: > "$T/lfj.err"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/lfj.err") "$BIN/cadre-aggregator" --check --config "$T/j.ini" >/dev/null 2>>"$T/lfj.err"
check_grep '^<4>level=warn prog=cadre-aggregator msg="' "$T/lfj.err" "logfmt under the journal: priority, no ts"
printf 'log_format = json\n' > "$T/bad-lf.ini"
sed -i '$d' "$T/j.ini"; cat "$T/j.ini" "$T/bad-lf.ini" > "$T/bad.ini"
"$BIN/cadre-aggregator" --check --config "$T/bad.ini" >/dev/null 2>"$T/bad.err"
check_eq "$?" 78 "an unknown log_format is a configuration error"
check_grep 'log_format' "$T/bad.err" "the error names log_format"

# Plain HTTP with read tokens.
port=$(free_port)
cat > "$T/agg.ini" <<INI
[aggregator]
listen = 127.0.0.1:$port
db_path = $T/db
tokens_file = $T/agents.tokens
read_tokens_file = $T/read.tokens
as_of = 2026-09-30
INI
t_bg "$T/agg.log" "$BIN/cadre-aggregator" --config "$T/agg.ini"
agg=$T_LAST_PID
wait_http "http://127.0.0.1:$port/healthz" || { cat "$T/agg.log"; exit 1; }
base=http://127.0.0.1:$port
code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
check_eq "$(code "$base/metrics")" 401 "/metrics without a read token"
check_eq "$(code -H 'Authorization: Bearer reader-token' "$base/metrics")" 200 "/metrics with a read token"
check_eq "$(code -H 'Authorization: Bearer tok-1' "$base/metrics")" 401 "an agent token is not a read token"
R=(-H 'Authorization: Bearer reader-token')
for i in $(seq 50); do  # the first refresh runs at start
  [ "$(code "${R[@]}" "$base/api/v1/kpis?window=28d")" = 200 ] && break; sleep 0.1
done
check_eq "$(code "${R[@]}" "$base/api/v1/kpis?window=28d")" 200 "kpis 28d"
check_grep '^\{"as_of":"2026-09-30","rows":\[' "$T/body" "empty store: JSON with as_of"
check_eq "$(code "${R[@]}" "$base/api/v1/kpis?window=31x")" 400 "bad window"
check_grep 'Nd \(1 <= N <= 730\) or YYYYQn' "$T/body" "400 says what windows are allowed"
check_eq "$(code "${R[@]}" "$base/api/v1/kpis?window=2026Q4")" 400 "quarter after the as-of day"
check_eq "$(code "${R[@]}" "$base/api/v1/kpis?window=28d&by=ward")" 400 "bad breakdown"
check_grep 'org, site, department, role, tool, hybrid_role, adoption_cohort' "$T/body" "400 lists the breakdowns"
check_eq "$(code "${R[@]}" "$base/api/v1/kpis?window=28d&format=xml")" 400 "bad format"
check_eq "$(code "${R[@]}" "$base/api/v1/kpis")" 400 "window missing"
check_eq "$(code "${R[@]}" "$base/api/v1/kpis?window=28d&format=csv")" 200 "kpis csv"
check_eq "$(head -1 "$T/body")" "window,kpi,by,group,value,numerator,denominator,suppressed,window_start,window_end" "csv header"
check_eq "$(code "$base/nope")" 404 "unknown path"
check_eq "$(code -X DELETE "$base/metrics")" 405 "wrong method"
curl -s "${R[@]}" -H 'Accept-Encoding: gzip' -D "$T/hdr" -o "$T/m.gz" "$base/metrics"
check_grep '^Content-Encoding: gzip' "$T/hdr" "gzip when the scraper accepts it"
check_grep '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$T/hdr" "exposition content type"
gunzip -c "$T/m.gz" > "$T/m.txt"
check_grep '^cadre_build_info\{version="[0-9.]+"\} 1$' "$T/m.txt" "gzip body decodes"
out=$(promtool check metrics < "$T/m.txt" 2>&1)
check_eq "$out" "" "promtool check metrics findings"
check_no_grep '^[a-z_]+(\{[^}]*\})? [^ ]+ [0-9]+$' "$T/m.txt" "no sample timestamps"

# SIGTERM: exits 0 and closes the store (a second start opens it again).
kill -TERM "$agg"
wait "$agg"
check_eq "$?" 0 "exit status after SIGTERM"

# HTTPS with client certificates, made here with openssl.
mkdir -p "$T/tls" && cd "$T/tls" || exit 1
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=cadre-test-ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > ext
openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile ext 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout cli.key -out cli.csr -subj /CN=north-1 2>/dev/null
openssl x509 -req -in cli.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out cli.crt -days 2 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.crt -days 2 -subj /CN=rogue 2>/dev/null
cd - >/dev/null || exit 1
tport=$(free_port)
cat > "$T/tls.ini" <<INI
[aggregator]
listen = 127.0.0.1:$tport
db_path = $T/db
tokens_file = $T/agents.tokens
tls_cert_file = $T/tls/srv.crt
tls_key_file = $T/tls/srv.key
tls_client_ca_file = $T/tls/ca.crt
INI
t_bg "$T/tls.log" "$BIN/cadre-aggregator" --config "$T/tls.ini"
for i in $(seq 50); do curl -s -k -o /dev/null "https://127.0.0.1:$tport/healthz" && break; sleep 0.1; done
tb=https://127.0.0.1:$tport
check_eq "$(code --cacert "$T/tls/ca.crt" "$tb/healthz")" 403 "no client certificate"
check_eq "$(code --cacert "$T/tls/ca.crt" --cert "$T/tls/rogue.crt" --key "$T/tls/rogue.key" "$tb/healthz")" 403 "certificate from another CA"
check_eq "$(code --cacert "$T/tls/ca.crt" --cert "$T/tls/cli.crt" --key "$T/tls/cli.key" "$tb/healthz")" 200 "client certificate from the CA"
check_eq "$(code --cacert "$T/tls/ca.crt" --cert "$T/tls/cli.crt" --key "$T/tls/cli.key" -X POST \
  -H 'Authorization: Bearer tok-1' -H 'Content-Type: application/x-protobuf' --data-binary 'x' "$tb/v1/ingest")" 400 "ingest over mTLS reaches the decoder"
check_eq "$(code --cacert "$T/tls/ca.crt" -X POST -H 'Authorization: Bearer tok-1' \
  -H 'Content-Type: application/x-protobuf' --data-binary 'x' "$tb/v1/ingest")" 403 "ingest without a client certificate"
t_done
