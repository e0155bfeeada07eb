#!/usr/bin/env bash
# The local provider's sandbox for its tests: bubblewrap, the tools the provider runs (setsid, setpriv, unshare from
# util-linux; kill from procps), curl for the workspace agent and psql for the hostile-workspace tests. Idempotent: installs only what is
# missing, then proves that a sandbox starts the way the engine starts one (as root: bwrap privileged, setpriv to an
# unprivileged uid; otherwise bwrap in a user namespace). Needs root on Debian 12 to install; a no-op when all is
# there.
#
#   deploy/test-infra/bubblewrap.sh      # prints ATELIER_TEST_BWRAP=<path to bwrap> when ready
#
# Environment: ATELIER_TEST_INFRA_DIR (state, default /var/tmp/atelier-test-infra).
set -euo pipefail

STATE=${ATELIER_TEST_INFRA_DIR:-/var/tmp/atelier-test-infra}
PROBE_UID=61000   # the local provider's default workspace uid

log() { echo "bubblewrap.sh: $*" >&2; }

mkdir -p "$STATE"
exec 9>"$STATE/bubblewrap.lock"
flock 9

need=()
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
{ command -v setsid && command -v setpriv && command -v unshare; } >/dev/null 2>&1 || need+=(util-linux)
[ -x /usr/bin/kill ] || [ -x /bin/kill ] || need+=(procps)   # the provider signals process groups with kill(1)
command -v curl >/dev/null 2>&1 || need+=(curl)
ls /usr/lib/postgresql/*/bin/psql >/dev/null 2>&1 || need+=(postgresql-client)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    log "missing ${need[*]} and not root: install them first"
    exit 1
  fi
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

probe() {
  local drop=()
  local ns=(--unshare-all --unshare-user --disable-userns)
  if [ "$(id -u)" = 0 ]; then
    drop=(setpriv --reuid "$PROBE_UID" --regid "$PROBE_UID" --clear-groups --inh-caps=-all --no-new-privs --)
    ns=(--unshare-ipc --unshare-pid --unshare-uts --unshare-cgroup-try --unshare-net --cap-add CAP_SETUID --cap-add CAP_SETGID)
  fi
  bwrap "${ns[@]}" --new-session --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib \
    --symlink usr/lib64 /lib64 --proc /proc --dev /dev -- "${drop[@]}" /bin/sh -c 'test "$(id -u)" != 0'
}

if ! out=$(probe 2>&1); then
  # Without root, bwrap needs unprivileged user namespaces; some kernels switch them off.
  if [ "$(id -u)" = 0 ] && [ -w /proc/sys/kernel/unprivileged_userns_clone ]; then
    echo 1 >/proc/sys/kernel/unprivileged_userns_clone
  fi
  out=$(probe 2>&1) || { log "bubblewrap does not start a sandbox here: $out"; exit 1; }
fi
echo "ATELIER_TEST_BWRAP=$(command -v bwrap)"
