#!/usr/bin/env bash
# Installs the real peers the test suite starts (Debian packages): Knot DNS, Prometheus and
# promtool, blackbox_exporter, Chromium, PostgreSQL 15, openssl, a Docker registry. Needs root (or sudo). Starts
# nothing: every test starts its own instance on a free loopback port.
set -euo pipefail
# golang-go + sprig + sigs.k8s.io/yaml: test/helm-render renders the Helm chart (no helm binary here).
# docker-registry (distribution 2.8) + apache2-utils (htpasswd -B): test/oci-image.test.ts's registry.
# prometheus-blackbox-exporter: the side-by-side, scrape and import tests compare /probe with it (and use its example.yml).
# curl and git: test/readme.test.ts clones the repository and runs the README's commands.
packages=(knot knot-dnsutils unbound prometheus chromium fonts-liberation postgresql-15 openssl iproute2 curl git golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev docker-registry apache2-utils prometheus-blackbox-exporter)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# kubectl for test/kubectl-agreement.test.ts: Debian's kubernetes-client (1.20) only when no kubectl
# is on PATH; installing it over another kubectl (a google-cloud-sdk one, say) fails on the file.
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
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
