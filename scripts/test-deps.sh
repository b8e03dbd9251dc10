#!/usr/bin/env bash
# Installs the real peers the test suite starts (Debian packages): Knot DNS, Prometheus and
# promtool, blackbox_exporter, Chromium, PostgreSQL 15, openssl. Needs root (or sudo). Starts nothing: every test
# starts its own instance on a free loopback port.
set -euo pipefail
# golang-go + sprig + sigs.k8s.io/yaml: test/helm-render renders the Helm chart (no helm binary here).
# prometheus-blackbox-exporter: the side-by-side, scrape and import tests compare /probe with it (and use its example.yml).
packages=(knot knot-dnsutils prometheus chromium fonts-liberation postgresql-15 openssl iproute2 golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev prometheus-blackbox-exporter)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "test-deps: all present (${packages[*]})"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null
echo "test-deps: installed ${missing[*]}"
