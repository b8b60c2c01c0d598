#!/usr/bin/env bash
# mkdeb.sh BIN MANDIR OUTDIR [VERSION]: builds cadre-agent, cadre-aggregator and
# cadre-common .deb files with dpkg-deb from the files in debian/ (units, configs,
# maintainer scripts), the binaries in BIN and the man pages in MANDIR. The version is
# the program's version and `git describe`'s distance and commit (0.1.0+git85.g1a2b3c4-1),
# or VERSION. Dependencies come from dpkg-shlibdeps, not from a hand-kept list.
set -euo pipefail
bin=$1 man=$2 out=$3
root=$(cd "$(dirname "$0")/.." && pwd)
upstream=$("$bin/cadre-agent" --version | awk '{ print $2 }')
if [ -n "${4:-}" ]; then
  version=$4
else
  desc=$(git -C "$root" describe --always --long 2>/dev/null || echo unknown)
  version="$upstream+git$(git -C "$root" rev-list --count HEAD 2>/dev/null || echo 0).g${desc##*g}"
  version="${version%.gunknown}-1"
fi
arch=$(dpkg --print-architecture)
maint="Cadre maintainers <maintainers@cadre.example.org>"
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/cadre-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
date=$(date -u -R -d "@${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)}")

# docs PKG: copyright and changelog, as Debian policy wants them.
docs() {
  local d=$work/$1/usr/share/doc/$1
  install -d "$d"
  {
    echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
    echo "Upstream-Name: cadre"
    echo
    echo "Files: *"
    echo "Copyright: 2026 Cadre contributors"
    echo "License: Apache-2.0"
    echo " On Debian systems, the full text of the Apache License 2.0 is in"
    echo " /usr/share/common-licenses/Apache-2.0."
  } > "$d/copyright"
  printf '%s (%s) unstable; urgency=medium\n\n  * Build of Cadre %s.\n\n -- %s  %s\n' \
    "$1" "$version" "$upstream" "$maint" "$date" | gzip -9n > "$d/changelog.Debian.gz"
}

# control PKG ARCH SHORT LONG DEPENDS: writes DEBIAN/control (DEPENDS may be empty).
control() {
  local p=$1 a=$2 short=$3 long=$4 deps=$5 size
  size=$(du -sk --exclude=DEBIAN "$work/$p" | cut -f1)
  {
    echo "Package: $p"
    echo "Version: $version"
    echo "Architecture: $a"
    echo "Maintainer: $maint"
    echo "Installed-Size: $size"
    [ -n "$deps" ] && echo "Depends: $deps"
    echo "Section: admin"
    echo "Priority: optional"
    echo "Description: $short"
    echo "$long" | fold -s -w 72 | sed 's/ *$//; s/^/ /'
  } > "$work/$p/DEBIAN/control"
}

# shlibs PKG BINARY: the Depends line dpkg-shlibdeps computes for the binary.
shlibs() {
  local d
  d=$(cd "$work/$1" && mkdir -p debian && echo "Source: cadre" > debian/control &&
    dpkg-shlibdeps -O "-e$work/$1/usr/bin/$2" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
  rm -rf "$work/$1/debian"
  echo "$d"
}

# --- cadre-common: the configuration manual page ---
p=cadre-common
install -d "$work/$p/DEBIAN" "$work/$p/usr/share/man/man5"
gzip -9n < "$man/cadre.conf.5" > "$work/$p/usr/share/man/man5/cadre.conf.5.gz"
docs $p
control $p all "Cadre AI-workforce metrics: shared files" \
  "Files both Cadre daemons use: the cadre.conf(5) manual page of their configuration files." ""

# --- the daemons ---
for d in agent aggregator; do
  p=cadre-$d
  install -d "$work/$p/DEBIAN" "$work/$p/usr/bin" "$work/$p/etc/cadre" \
    "$work/$p/lib/systemd/system" "$work/$p/usr/share/man/man8"
  install -m 755 "$bin/$p" "$work/$p/usr/bin/$p"
  strip --strip-unneeded --remove-section=.comment --remove-section=.note "$work/$p/usr/bin/$p"
  install -m 644 "$root/debian/$d.conf" "$work/$p/etc/cadre/$d.conf"
  install -m 644 "$root/debian/$p.service" "$work/$p/lib/systemd/system/$p.service"
  gzip -9n < "$man/$p.8" > "$work/$p/usr/share/man/man8/$p.8.gz"
  docs $p
  echo "/etc/cadre/$d.conf" > "$work/$p/DEBIAN/conffiles"
  for s in postinst postrm; do
    install -m 755 "$root/debian/$p.$s" "$work/$p/DEBIAN/$s"
  done
done
control cadre-agent "$arch" "Cadre AI-workforce metrics: agent for department servers" \
  "Reads AI-tool usage logs and staffing exports (HR episodes, shifts, absences, EHR activity, training), replaces staff ids by keyed pseudonyms and ships the records to a cadre-aggregator over HTTP. Raw staff ids never leave the server." \
  "$(shlibs cadre-agent cadre-agent), adduser, cadre-common (= $version)"
control cadre-aggregator "$arch" "Cadre AI-workforce metrics: aggregator and KPI server" \
  "Receives pseudonymised records from Cadre agents, keeps them in RocksDB and serves workforce KPIs (AI adoption, retention in hybrid roles, burnout proxies, AI literacy) to Prometheus and Grafana, with small groups suppressed." \
  "$(shlibs cadre-aggregator cadre-aggregator), adduser, cadre-common (= $version)"

for p in cadre-common cadre-agent cadre-aggregator; do
  a=$arch; [ $p = cadre-common ] && a=all
  dpkg-deb --root-owner-group -Zxz --build "$work/$p" "$out/${p}_${version}_$a.deb" >/dev/null
  echo "$out/${p}_${version}_$a.deb"
done
