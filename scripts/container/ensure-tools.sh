#!/usr/bin/env bash
# Installs the Debian packages that build and run the image without a Docker engine, if missing.
set -euo pipefail
missing=()
for tool in buildah podman runc debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "installing ${missing[*]} from Debian" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get install -y --no-install-recommends buildah podman runc debootstrap >&2 ||
    { $SUDO apt-get update >&2 && $SUDO apt-get install -y --no-install-recommends buildah podman runc debootstrap >&2; }
fi
