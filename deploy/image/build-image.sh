#!/usr/bin/env bash
# Builds the engine image from the Maven build's jar, on the locally made JRE base (build-base.sh) or on the base
# given in ATELIER_IMAGE_BASE (for example docker.io/library/eclipse-temurin:17-jre where a registry is reachable).
#
#   ./mvnw -B -DskipTests package && deploy/image/build-image.sh [tag]     # default tag localhost/atelier:0.1.0-SNAPSHOT
#
# Environment: ATELIER_JAR (default target/atelier-0.1.0-SNAPSHOT.jar), ATELIER_IMAGE_BASE. Only the jar and the
# health check script are sent to the build, not the whole checkout.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TAG=${1:-localhost/atelier:0.1.0-SNAPSHOT}
JAR=${ATELIER_JAR:-$ROOT/target/atelier-0.1.0-SNAPSHOT.jar}
[ -f "$JAR" ] || { echo "build-image.sh: $JAR not found: run ./mvnw -B -DskipTests package first" >&2; exit 1; }
BASE=${ATELIER_IMAGE_BASE:-}
if [ -z "$BASE" ]; then
  BASE=$(bash "$ROOT/deploy/image/build-base.sh" | sed -n 's/^ATELIER_JRE_BASE=//p')
fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/target" "$ctx/deploy/image"
cp "$JAR" "$ctx/target/atelier.jar"
cp "$ROOT/deploy/image/healthcheck" "$ctx/deploy/image/healthcheck"
podman build -q --network host --format docker --build-arg "BASE=$BASE" --build-arg JAR=target/atelier.jar \
  -f "$ROOT/deploy/image/Containerfile" -t "$TAG" "$ctx" >/dev/null
echo "ATELIER_IMAGE=$TAG"
