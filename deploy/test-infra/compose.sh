#!/usr/bin/env bash
# podman-compose for the test of deploy/compose (ComposeIT): podman as deploy/test-infra/podman.sh sets it up, plus
# Debian's podman-compose. Idempotent; prints PODMAN_COMPOSE=<path> when ready. Needs root on Debian 12.
set -euo pipefail
bash "$(dirname "$0")/podman.sh" >/dev/null
if ! command -v podman-compose >/dev/null 2>&1; then
  echo "compose.sh: installing podman-compose" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman-compose >/dev/null
fi
echo "PODMAN_COMPOSE=$(command -v podman-compose)"
