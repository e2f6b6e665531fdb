#!/usr/bin/env bash
# Builds the project's image from the Dockerfile with buildah (no Docker engine needed).
#   scripts/container/build-image.sh [tag]     (default rocketmq-ts:dev)
# The host's CA bundle is passed as the optional `npm_ca` build secret when NODE_EXTRA_CA_CERTS
# names one, for registries reached through a TLS-intercepting proxy; it never lands in a layer.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
"$here/ensure-tools.sh"
source "$here/env.sh"
"$here/make-base-image.sh"

tag="${1:-rocketmq-ts:dev}"
secret=()
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  secret=(--secret "id=npm_ca,src=$NODE_EXTRA_CA_CERTS")
fi
buildah build --network host --layers "${secret[@]}" -t "$tag" -f "$root/Dockerfile" "$root"
