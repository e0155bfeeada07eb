#!/bin/sh
# Atelier workspace agent: reports open SSH/IDE connections to the engine so that idle workspaces can be stopped.
# Needs only sh and curl. Configuration comes from the environment the provider starts it with:
#   ATELIER_URL, ATELIER_WORKSPACE_ID, ATELIER_AGENT_TOKEN   where to report, for which workspace, as whom
#   ATELIER_HEARTBEAT_SECONDS                                 how often (default 30)
#   ATELIER_AGENT_PORTS                                       "source:port ..." to watch (default "ssh:22")
#   ATELIER_AGENT_SOCKET                                      a Unix socket to post to instead of ATELIER_URL's
#                                                             host (sandboxed local workspaces: the engine's relay)
#   ATELIER_AGENT_HOST_KEYS                                   files (a glob) of the machine's SSH host public keys
#                                                             to report once (set on VMs: /etc/ssh/ssh_host_*_key.pub)
# Every beat sends one heartbeat with each watched source's count of open connections (0 included, so that a
# closed connection is known at once) and "agent": 0, which tells the engine that the agent is alive:
#   {"sources": {"ssh": 1, "agent": 0}}
# A failed post is retried at the next beat; the agent never exits on its own.
# With ATELIER_AGENT_HOST_KEYS, it also reports the machine's SSH host keys (type and key, no comment) once per build,
# which is what the engine's SSH gateway checks the VM's sshd against:
#   PUT .../host-keys {"keys": ["ssh-ed25519 AAAA...", ...]}
# until the engine has answered it (2xx; 400 or 409: refused for good, retrying would not change that).

interval="${ATELIER_HEARTBEAT_SECONDS:-30}"
ports="${ATELIER_AGENT_PORTS:-ssh:22}"
endpoint="${ATELIER_URL%/}/api/v1/workspaces/${ATELIER_WORKSPACE_ID}/activity"
host_keys_endpoint="${ATELIER_URL%/}/api/v1/workspaces/${ATELIER_WORKSPACE_ID}/host-keys"
host_keys_reported=""
[ -n "${ATELIER_AGENT_HOST_KEYS:-}" ] || host_keys_reported=yes

# Established TCP connections (state 01) whose local port is $1, from /proc (IPv4 and IPv6).
count_established() {
  hex=$(printf '%04X' "$1")
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
    awk -v port=":$hex" '$4 == "01" && substr($2, length($2) - 4) == port { n++ } END { print n + 0 }'
}

post() {
  if [ -n "${ATELIER_AGENT_SOCKET:-}" ]; then
    set -- --unix-socket "$ATELIER_AGENT_SOCKET" -d "$1"
  else
    set -- -d "$1"
  fi
  curl -fsS -m 10 -o /dev/null -X POST "$endpoint" \
    -H "Authorization: Bearer ${ATELIER_AGENT_TOKEN}" -H 'Content-Type: application/json' \
    "$@" || true
}

# {"keys":[...]} of the readable host key files; nothing when there is none (yet: sshd makes them on first boot).
host_keys_json() {
  keys=""
  for f in $ATELIER_AGENT_HOST_KEYS; do
    [ -r "$f" ] || continue
    line=$(awk 'NF >= 2 { print $1 " " $2; exit }' "$f")
    printf '%s' "$line" | grep -qx '[a-z0-9-]* [A-Za-z0-9+/=]*' || continue
    keys="${keys:+$keys,}\"$line\""
  done
  [ -n "$keys" ] && printf '{"keys":[%s]}' "$keys"
}

report_host_keys() {
  body=$(host_keys_json) || return 0
  if [ -n "${ATELIER_AGENT_SOCKET:-}" ]; then
    set -- --unix-socket "$ATELIER_AGENT_SOCKET"
  else
    set --
  fi
  code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' -X PUT "$host_keys_endpoint" \
    -H "Authorization: Bearer ${ATELIER_AGENT_TOKEN}" -H 'Content-Type: application/json' \
    "$@" -d "$body") || code=000
  case "$code" in
    2??|400|409) host_keys_reported=yes ;;
  esac
}

while :; do
  [ -n "$host_keys_reported" ] || report_host_keys
  counts=""
  for entry in $ports; do
    source="${entry%%:*}"
    port="${entry##*:}"
    counts="${counts}\"${source}\":$(count_established "$port"),"
  done
  post "{\"sources\":{${counts}\"agent\":0}}"
  sleep "$interval"
done
