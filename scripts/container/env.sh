# Sourced by the container scripts: where podman/buildah keep their state for this project, and
# the settings this kind of host needs (shared/notes/containers-here.md): runc instead of crun,
# cgroupfs, ulimits within the host's hard limits, overlay storage under one folder.
CONTAINER_STATE_DIR="${CONTAINER_STATE_DIR:-${TMPDIR:-/tmp}/rocketmq-ts-containers}"
mkdir -p "$CONTAINER_STATE_DIR"

cat > "$CONTAINER_STATE_DIR/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$CONTAINER_STATE_DIR/storage"
runroot = "$CONTAINER_STATE_DIR/run"
CONF

cat > "$CONTAINER_STATE_DIR/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF

cat > "$CONTAINER_STATE_DIR/registries.conf" <<CONF
unqualified-search-registries = []
CONF

export CONTAINERS_STORAGE_CONF="$CONTAINER_STATE_DIR/storage.conf"
export CONTAINERS_CONF="$CONTAINER_STATE_DIR/containers.conf"
export CONTAINERS_REGISTRIES_CONF="$CONTAINER_STATE_DIR/registries.conf"
export BUILDAH_RUNTIME=/usr/bin/runc
export BUILDAH_ISOLATION=chroot
