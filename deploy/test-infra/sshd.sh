#!/usr/bin/env bash
# A real OpenSSH server on loopback for the ssh provider's tests: a "bare-metal host" with a Unix user the engine
# logs in as, with a key pair for the engine and a host key whose fingerprint the tests register. Idempotent:
# installs what is missing, creates keys and the user once, starts sshd only if it does not answer. Needs root on
# Debian 12.
#
#   deploy/test-infra/sshd.sh        # writes $STATE/sshd/env (port, user, fingerprint, key dir) and prints it
#
# Environment: ATELIER_TEST_INFRA_DIR (default /var/tmp/atelier-test-infra), ATELIER_TEST_SSHD_PORT (default 2222).
set -euo pipefail

STATE=${ATELIER_TEST_INFRA_DIR:-/var/tmp/atelier-test-infra}
PORT=${ATELIER_TEST_SSHD_PORT:-2222}
DIR=$STATE/sshd
USER_NAME=atelier-ws
KEY_NAME=engine-key      # the engine's client key, as a key reference under $DIR/keys

log() { echo "sshd.sh: $*" >&2; }

mkdir -p "$DIR/keys"
chmod 700 "$DIR/keys"
exec 9>"$STATE/sshd.lock"
flock 9

need=()
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
command -v setsid >/dev/null 2>&1 || need+=(util-linux)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

[ -f "$DIR/host_key" ] || ssh-keygen -q -t ed25519 -N '' -C atelier-test-host -f "$DIR/host_key"
[ -f "$DIR/keys/$KEY_NAME" ] || ssh-keygen -q -t ed25519 -N '' -C atelier-engine -f "$DIR/keys/$KEY_NAME"
chmod 600 "$DIR/host_key" "$DIR/keys/$KEY_NAME"

if ! id "$USER_NAME" >/dev/null 2>&1; then
  useradd -m -s /bin/bash "$USER_NAME"
fi
usermod -p '*' "$USER_NAME"   # no password, but not locked: a locked account refuses key logins too
home=$(getent passwd "$USER_NAME" | cut -d: -f6)
install -d -m 700 -o "$USER_NAME" -g "$USER_NAME" "$home/.ssh"
install -m 600 -o "$USER_NAME" -g "$USER_NAME" "$DIR/keys/$KEY_NAME.pub" "$home/.ssh/authorized_keys"
mkdir -p /run/sshd

cat >"$DIR/sshd_config.tmp" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $DIR/host_key
PidFile $DIR/sshd.pid
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowUsers $USER_NAME
Subsystem sftp internal-sftp
MaxStartups 50:30:100
MaxSessions 50
EOF
mv "$DIR/sshd_config.tmp" "$DIR/sshd_config"
/usr/sbin/sshd -t -f "$DIR/sshd_config"

answers() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT && head -c 7 <&3" 2>/dev/null | grep -q '^SSH-2.0'; }
ours() { [ -f "$DIR/sshd.pid" ] && kill -0 "$(cat "$DIR/sshd.pid")" 2>/dev/null; }

if ! (ours && answers); then
  if answers; then
    log "port $PORT answers but not with our sshd (set ATELIER_TEST_SSHD_PORT to a free port)"
    exit 1
  fi
  log "starting sshd on 127.0.0.1:$PORT"
  (cd / && exec setsid nohup /usr/sbin/sshd -D -e -f "$DIR/sshd_config" >"$DIR/sshd.log" 2>&1 </dev/null 9>&-) &
  for _ in $(seq 1 50); do answers && break; sleep 0.1; done
  answers || { log "sshd did not answer; see $DIR/sshd.log"; tail -20 "$DIR/sshd.log" >&2; exit 1; }
fi

fingerprint=$(ssh-keygen -l -E sha256 -f "$DIR/host_key.pub" | awk '{ print $2 }')
cat >"$DIR/env.tmp" <<EOF
ATELIER_TEST_SSH_HOST=127.0.0.1
ATELIER_TEST_SSH_PORT=$PORT
ATELIER_TEST_SSH_USER=$USER_NAME
ATELIER_TEST_SSH_FINGERPRINT=$fingerprint
ATELIER_TEST_SSH_KEY_DIR=$DIR/keys
ATELIER_TEST_SSH_KEY_REF=$KEY_NAME
EOF
mv "$DIR/env.tmp" "$DIR/env"
cat "$DIR/env"
