#!/usr/bin/env bash
# The executive HTML report as a browser sees it: the page rendered by the unit test's
# hand-built tables ($BUILD/tests/report_html_test with CADRE_REPORT_OUT) must be
# well-formed, carry no external reference, and render in headless Chromium to a PNG
# screenshot and a PDF, with the network never touched.
# Needs Debian packages chromium and libxml2-utils (xmllint); installs nothing itself.
. "$(dirname "$0")/lib.sh"
t_setup
: "${BUILD:?BUILD must name the build folder}"

page=$T/report.html
if CADRE_REPORT_OUT=$page "$BUILD/tests/report_html_test" >"$T/unit.log" 2>&1; then
  ok "report_html_test wrote the page"
else
  not_ok "report_html_test failed: $(tail -5 "$T/unit.log")"
fi
[ -s "$page" ] || { not_ok "no page at $page"; t_done; exit; }

# (1) Structure: strict XML well-formedness (the page is polyglot markup) and UTF-8.
check_eq "$(head -c 15 "$page")" "<!DOCTYPE html>" "doctype"
if command -v xmllint >/dev/null 2>&1; then
  if xmllint --noout --nonet "$page" 2>"$T/xmllint.err"; then
    ok "xmllint: well-formed"
  else
    not_ok "xmllint: $(head -5 "$T/xmllint.err")"
  fi
  # Every src or href attribute, anywhere, must point inside the page.
  refs=$(xmllint --nonet --xpath '//@*[local-name()="src" or local-name()="href" or local-name()="srcset" or local-name()="action" or local-name()="poster"]' "$page" 2>/dev/null)
  if [ -z "$refs" ] || ! grep -qvE '^ *(href|src)="#' <<<"$refs"; then
    ok "no src/href outside the page"
  else
    not_ok "attributes pointing elsewhere: $refs"
  fi
else
  not_ok "xmllint missing: install libxml2-utils"
fi
if iconv -f UTF-8 -t UTF-8 "$page" >/dev/null 2>&1; then ok "valid UTF-8"; else not_ok "invalid UTF-8"; fi
check_no_grep '(src|href|action|srcset|poster)=' "$page" "no resource attributes at all"
check_no_grep '[a-zA-Z][a-zA-Z0-9+.-]*://|="//' "$page" "no URL with a scheme or protocol-relative"
check_no_grep '<(script|link|img|iframe|object|embed|base)[ >/]' "$page" "no scripts or embedded resources"
check_no_grep '@import|url\(|@font-face' "$page" "no CSS that loads anything"
check_grep '<svg class="bars"' "$page" "department bars are inline SVG"
check_eq "$(grep -o '<svg class="trend"' "$page" | wc -l)" 8 "eight inline SVG trend charts"
check_grep 'Obstetrics &amp; Gynecology &lt;A&gt;' "$page" "escaped department name"
check_grep '@page' "$page" "print CSS"

# (2) Rendering: headless Chromium with networking features off, from file://.
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
  not_ok "chromium missing: install the Debian package chromium"
  t_done
  exit
fi
chrome() {
  timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-default-apps --disable-extensions --host-resolver-rules='MAP * ~NOTFOUND' \
    --user-data-dir="$T/chrome" "$@" \
    "file://$page"
}
chrome --screenshot="$T/report.png" --window-size=1240,1754 >"$T/shot.log" 2>&1
check_eq "$?" 0 "chromium --screenshot exit status"
chrome --print-to-pdf="$T/report.pdf" --no-pdf-header-footer >"$T/pdf.log" 2>&1
check_eq "$?" 0 "chromium --print-to-pdf exit status"

size() { if [ -f "$1" ]; then stat -c %s "$1"; else echo 0; fi; }
png=$(size "$T/report.png")
pdf=$(size "$T/report.pdf")
if [ "$png" -gt 50000 ]; then ok "screenshot is $png bytes"; else not_ok "screenshot too small: $png bytes"; fi
if [ "$(head -c 8 "$T/report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
  ok "screenshot is a PNG"
else
  not_ok "screenshot is not a PNG"
fi
if [ "$pdf" -gt 20000 ]; then ok "PDF is $pdf bytes"; else not_ok "PDF too small: $pdf bytes"; fi
check_eq "$(head -c 5 "$T/report.pdf" 2>/dev/null)" "%PDF-" "PDF header"

[ -n "${KEEP:-}" ] && echo "page, screenshot and PDF in $T"
t_done
