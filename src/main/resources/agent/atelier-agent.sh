#!/bin/sh
# Atelier workspace agent: reports open SSH/IDE connections to the engine so that idle workspaces can be stopped.
# Needs only sh and curl. Configuration comes from the environment the provider starts it with:
#   ATELIER_URL, ATELIER_WORKSPACE_ID, ATELIER_AGENT_TOKEN   where to report, for which workspace, as whom
#   ATELIER_HEARTBEAT_SECONDS                                 how often (default 30)
#   ATELIER_AGENT_PORTS                                       "source:port ..." to watch (default "ssh:22")
#   ATELIER_AGENT_SOCKET                                      a Unix socket to post to instead of ATELIER_URL's
#                                                             host (sandboxed local workspaces: the engine's relay)
# Every beat sends one heartbeat with each watched source's count of open connections (0 included, so that a
# closed connection is known at once) and "agent": 0, which tells the engine that the agent is alive:
#   {"sources": {"ssh": 1, "agent": 0}}
# A failed post is retried at the next beat; the agent never exits on its own.

interval="${ATELIER_HEARTBEAT_SECONDS:-30}"
ports="${ATELIER_AGENT_PORTS:-ssh:22}"
endpoint="${ATELIER_URL%/}/api/v1/workspaces/${ATELIER_WORKSPACE_ID}/activity"

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

while :; do
  counts=""
  for entry in $ports; do
    source="${entry%%:*}"
    port="${entry##*:}"
    counts="${counts}\"${source}\":$(count_established "$port"),"
  done
  post "{\"sources\":{${counts}\"agent\":0}}"
  sleep "$interval"
done
