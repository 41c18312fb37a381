#!/usr/bin/env bash
# Installs the system tools the tests and the lab need, when they are missing:
#   softhsm2 (a real PKCS#11 token), gnutls-bin (certtool, an independent verifier), openssl,
#   postgresql-15 (a real server for the storage tests), curl, chromium (the RA pages' browser
#   tests, driven by playwright-core) with fonts-lao + fonts-noto-core (Lao script rendered).
# As root it installs them with apt-get; otherwise it says exactly what to run. Idempotent.
set -euo pipefail

need=()
[ -e /usr/lib/softhsm/libsofthsm2.so ] || command -v softhsm2-util >/dev/null 2>&1 || need+=(softhsm2)
command -v certtool >/dev/null 2>&1 || need+=(gnutls-bin)
[ -x /usr/bin/vfychain ] || need+=(libnss3-tools) # NSS vfychain: a third independent verifier (test/certs)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -e /usr/share/fonts/truetype/lao/Phetsarath_OT.ttf ] || need+=(fonts-lao)
[ -e /usr/share/fonts/truetype/noto/NotoSansLao-Regular.ttf ] || need+=(fonts-noto-core)
# chrony: a real NTP server for the TSA's clock tests (never started as this machine's service);
# faketime: the same server with its clock off.
[ -x /usr/sbin/chronyd ] || need+=(chrony)
command -v faketime >/dev/null 2>&1 || need+=(faketime)

if [ ${#need[@]} -eq 0 ]; then
  echo "setup: system tools present (softhsm2, certtool, openssl, curl, postgresql-15, chromium, Lao fonts, chrony, faketime)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing: ${need[*]}" >&2
  echo "setup: run as root: apt-get update && apt-get install -y ${need[*]}" >&2
  exit 1
fi

echo "setup: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# No package may start a daemon here (chrony's would try to discipline this machine's clock):
# policy-rc.d refuses every service start during the install.
created_policy=false
if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=true; fi
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
if $created_policy; then rm -f /usr/sbin/policy-rc.d; fi
# The Debian package starts a cluster we do not use; tests start their own servers.
if printf '%s\n' "${need[@]}" | grep -qx postgresql-15; then
  (pg_ctlcluster 15 main stop >/dev/null 2>&1 || true)
fi
echo "setup: done"
