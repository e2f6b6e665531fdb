#!/usr/bin/env bash
# podman with this project's container settings (env.sh): `scripts/container/podman.sh run …`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"
exec podman "$@"
