#!/usr/bin/env bash
# Builds the base images the Atelier images are made from, without any registry: a Debian 12 root file system from
# debootstrap (imported into podman once), plus Debian's own packages. Idempotent: an image that exists is kept.
#
#   deploy/image/build-base.sh            # localhost/atelier-jre-base:17 and localhost/atelier-postgres:15
#   deploy/image/build-base.sh proxy      # also localhost/atelier-proxy:1 (HAProxy, for deploy/compose)
#
# Environment: ATELIER_MINBASE_IMAGE (the debootstrap image; default the one deploy/test-infra/podman.sh makes, so
# that both share it), ATELIER_DEBIAN_MIRROR (default: the host's apt mirror). Needs podman (root, or rootless with
# debootstrap run by root) and the Debian mirror. Builds use --network host, as deploy/test-infra/podman.sh does.
#
# With a registry at hand none of this is needed: build the engine with
#   podman build --build-arg BASE=docker.io/library/eclipse-temurin:17-jre -f deploy/image/Containerfile .
set -euo pipefail

MINBASE_IMAGE=${ATELIER_MINBASE_IMAGE:-localhost/atelier-test-debian-minbase:12}
JRE_IMAGE=localhost/atelier-jre-base:17
POSTGRES_IMAGE=localhost/atelier-postgres:15
PROXY_IMAGE=localhost/atelier-proxy:1
HERE=$(cd "$(dirname "$0")" && pwd)
STATE=${ATELIER_TEST_INFRA_DIR:-/var/tmp/atelier-test-infra}

log() { echo "build-base.sh: $*" >&2; }

mkdir -p "$STATE"
exec 9>"$STATE/image-base.lock"
flock 9   # one build at a time (parallel test JVMs)

build() { # image context-dir
  log "building $1"
  podman build -q --network host --format docker --build-arg "MINBASE=$MINBASE_IMAGE" -t "$1" "$2" \
    >"$STATE/image-base-build.log" 2>&1 || { tail -30 "$STATE/image-base-build.log" >&2; exit 1; }
}

if ! podman image exists "$MINBASE_IMAGE"; then
  command -v debootstrap >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  mirror=${ATELIER_DEBIAN_MIRROR:-}
  [ -n "$mirror" ] || mirror=$(sed -n 's/^URIs: *\([^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
  [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
  log "debootstrap Debian 12 minbase from $mirror (about a minute, once)"
  rootfs=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$STATE/debootstrap-base.log" 2>&1 \
    || { tail -20 "$STATE/debootstrap-base.log" >&2; exit 1; }
  tar -C "$rootfs" -c . | podman import - "$MINBASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
fi

podman image exists "$JRE_IMAGE" || build "$JRE_IMAGE" "$HERE/base/jre"
podman image exists "$POSTGRES_IMAGE" || build "$POSTGRES_IMAGE" "$HERE/base/postgres"
if [ "${1:-}" = proxy ]; then
  podman image exists "$PROXY_IMAGE" || build "$PROXY_IMAGE" "$HERE/base/proxy"
fi
echo "ATELIER_JRE_BASE=$JRE_IMAGE"
echo "ATELIER_POSTGRES_IMAGE=$POSTGRES_IMAGE"
