#!/usr/bin/env bash
# Installs the Debian 12 packages that Cadre's build, tests and demo need, when missing.
# Idempotent: does nothing (and needs no root) when everything is already installed.
set -euo pipefail

pkgs=(
  make gcc pkg-config clang libclang-rt-14-dev clang-format cppcheck
  protobuf-c-compiler libprotobuf-c-dev
  librocksdb-dev rocksdb-tools
  libmicrohttpd-dev libgnutls28-dev
  libcurl4-openssl-dev libssl-dev
  libinih-dev libjansson-dev libcsv-dev
  zlib1g-dev libzstd-dev libsnappy-dev libisal-dev
  libcmocka-dev libsystemd-dev
  curl prometheus prometheus-alertmanager victoria-metrics chromium libxml2-utils openssl time bc jq strace
  man-db groff-base lintian dpkg-dev systemd adduser python3
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
  else
    echo "install-deps: missing packages (${missing[*]}) and not root; run as root or install them" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null || $SUDO apt-get update
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
# The prometheus, prometheus-alertmanager and victoria-metrics packages start system services; Cadre's tests run
# their own. Only a service this script has just installed is stopped: one that was there
# before is the machine owner's, and left alone.
for svc in prometheus prometheus-alertmanager victoria-metrics; do
  if [[ " ${missing[*]} " == *" $svc "* ]] && command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true
  fi
done
