#!/usr/bin/env bash
# A real Docker Engine API for the docker provider's tests: podman's compatible API on a Unix socket, with the test
# images built locally (no registry is needed). Idempotent: installs what is missing, starts the service only if it
# does not answer, builds only images that do not exist yet. Needs root on Debian 12.
#
#   deploy/test-infra/podman.sh            # prints DOCKER_HOST=unix:///... when ready
#
# Environment: ATELIER_TEST_INFRA_DIR (state, default /var/tmp/atelier-test-infra),
#              ATELIER_TEST_PODMAN_SOCKET (default $ATELIER_TEST_INFRA_DIR/podman.sock).
# Images: localhost/atelier-test-busybox:1 (busybox, /bin/sh, ~1 MB) and localhost/atelier-test-sshd:1 (Debian 12
# minbase with OpenSSH server; CMD starts sshd with the key given in $SSH_PUBLIC_KEY or
# $ATELIER_PARAM_SSH_PUBLIC_KEY for root).
set -euo pipefail

STATE=${ATELIER_TEST_INFRA_DIR:-/var/tmp/atelier-test-infra}
SOCKET=${ATELIER_TEST_PODMAN_SOCKET:-$STATE/podman.sock}
CONF=$STATE/containers.conf
BUSYBOX_IMAGE=localhost/atelier-test-busybox:1
SSHD_IMAGE=localhost/atelier-test-sshd:1
MINBASE_IMAGE=localhost/atelier-test-debian-minbase:12

log() { echo "podman.sh: $*" >&2; }

mkdir -p "$STATE"
exec 9>"$STATE/podman.lock"
flock 9   # one set-up at a time (parallel test JVMs, .ci/run)

need=()
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v runc >/dev/null 2>&1 || need+=(runc)
command -v newuidmap >/dev/null 2>&1 || need+=(uidmap)
# A static busybox: it is copied into the test image, which has no libraries.
{ [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } || need+=(busybox-static)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v curl >/dev/null 2>&1 || need+=(curl)
[ -x /usr/libexec/podman/catatonit ] || [ -x /usr/bin/catatonit ] || need+=(catatonit)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Without these two settings containers fail here (RLIMIT_NOFILE, cgroups in hybrid mode).
cat >"$CONF.tmp" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
EOF
mv "$CONF.tmp" "$CONF"
export CONTAINERS_CONF=$CONF

ping_api() { curl -fsS --max-time 2 --unix-socket "$SOCKET" http://d/_ping >/dev/null 2>&1; }

# A service that answers but whose working directory is gone (it was started from a checkout since deleted) cannot
# start containers any more: conmon fails with "Failed to get working directory". It is restarted like a dead one.
cwd_gone() {
  local pid
  pid=$(cat "$STATE/podman.pid" 2>/dev/null || true)
  [ -n "$pid" ] && [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == *"(deleted)" ]]
}

if ! ping_api || cwd_gone; then
  # A service of ours that no longer answers goes (only if the pid is still that service, not a reused pid).
  old_pid=$(cat "$STATE/podman.pid" 2>/dev/null || true)
  if [ -n "$old_pid" ] && tr '\0' ' ' <"/proc/$old_pid/cmdline" 2>/dev/null | grep -q "system service.*$SOCKET"; then
    kill "$old_pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$SOCKET"
  log "starting podman system service on $SOCKET"
  # Started from / so that deleting the checkout that happened to start it does not break it.
  (cd / && exec setsid nohup podman system service --time=0 "unix://$SOCKET" >"$STATE/podman-service.log" 2>&1 </dev/null 9>&-) &
  echo $! >"$STATE/podman.pid"
  for _ in $(seq 1 100); do ping_api && break; sleep 0.1; done
  ping_api || { log "podman service did not answer; see $STATE/podman-service.log"; tail -20 "$STATE/podman-service.log" >&2; exit 1; }
fi

if ! podman image exists "$BUSYBOX_IMAGE"; then
  log "building $BUSYBOX_IMAGE"
  dir=$(mktemp -d)
  mkdir -p "$dir/bin" "$dir/tmp" "$dir/root" "$dir/etc"
  cp /bin/busybox "$dir/bin/busybox"
  for tool in $(/bin/busybox --list); do [ "$tool" = busybox ] || ln -sf busybox "$dir/bin/$tool"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
  echo 'root:x:0:' >"$dir/etc/group"
  chmod 1777 "$dir/tmp"
  tar -C "$dir" -cf "$dir.tar" .
  podman import --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' "$dir.tar" "$BUSYBOX_IMAGE" >/dev/null 2>&1
  rm -rf "$dir" "$dir.tar"
fi

if ! podman image exists "$SSHD_IMAGE"; then
  if ! podman image exists "$MINBASE_IMAGE"; then
    mirror=$(sed -n 's/^URIs: *\([^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
    [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
    [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
    log "debootstrap Debian 12 minbase from $mirror (about a minute, once)"
    rootfs=$(mktemp -d)
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$STATE/debootstrap.log" 2>&1 \
      || { tail -20 "$STATE/debootstrap.log" >&2; exit 1; }
    tar -C "$rootfs" -c . | podman import - "$MINBASE_IMAGE" >/dev/null 2>&1
    rm -rf "$rootfs"
  fi
  log "building $SSHD_IMAGE"
  ctx=$(mktemp -d)
  cat >"$ctx/start-sshd" <<'EOF'
#!/bin/sh
# Test image entrypoint: authorise the key given as data, then run sshd in the foreground.
set -e
key="${SSH_PUBLIC_KEY:-${ATELIER_PARAM_SSH_PUBLIC_KEY:-}}"
mkdir -p /run/sshd /root/.ssh
chmod 700 /root/.ssh
if [ -n "$key" ]; then
  printf '%s\n' "$key" >/root/.ssh/authorized_keys
  chmod 600 /root/.ssh/authorized_keys
fi
exec /usr/sbin/sshd -D -e
EOF
  cat >"$ctx/Dockerfile" <<EOF
FROM $MINBASE_IMAGE
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server >/dev/null \\
 && rm -rf /var/lib/apt/lists/* \\
 && printf 'PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nPermitRootLogin prohibit-password\n' >/etc/ssh/sshd_config.d/atelier-test.conf
COPY start-sshd /usr/local/bin/start-sshd
RUN chmod 755 /usr/local/bin/start-sshd
EXPOSE 22
CMD ["/usr/local/bin/start-sshd"]
EOF
  podman build -q --network host -t "$SSHD_IMAGE" "$ctx" >"$STATE/build.log" 2>&1 \
    || { tail -20 "$STATE/build.log" >&2; exit 1; }
  rm -rf "$ctx"
fi

echo "DOCKER_HOST=unix://$SOCKET"
