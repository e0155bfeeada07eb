#!/bin/sh
# Atelier: how a workspace starts (control.sh runs "launch.sh outer KIND"). With KIND pidns this is pid 1 of the
# workspace's own pid namespace, root of a user namespace that maps only the host user: it opens what it needs from
# the engine's state, hides that state under an empty read-only mount, drops every capability (so the mount cannot
# be removed), and goes on as "launch.sh inner". Inner: the workspace's environment (file "env", values quoted as
# data), the agent (its own variables from "agent.env", closed to the start-up script), then the template's start-up
# script in the workspace directory, HOME being that directory. Its exit code goes to "exit"; pid 1 stays while any
# process of the workspace runs, reaping orphans, so that stop has one namespace to end.
set -u
case "${1:-}" in
outer)
  meta=$(cd "$(dirname "$0")" && pwd -P) || exit 2
  id=$(basename "$meta")
  dir=$(dirname "$(dirname "$meta")")/$id
  if [ -L "$meta/exit" ]; then rm -f -- "$meta/exit"; fi
  exec 3<"$meta/startup.sh" 4>"$meta/exit" 7<"$meta/launch.sh" || exit 2
  if [ -f "$meta/agent.sh" ] && [ -f "$meta/agent.env" ]; then
    exec 5<"$meta/agent.sh" 6<"$meta/agent.env" || exit 2
  fi
  set -a
  . "$meta/env"
  set +a
  HOME=$dir
  ATELIER_WORKSPACE_DIR=$dir
  export HOME ATELIER_WORKSPACE_DIR
  unset ATELIER_SANDBOX
  if [ "${2:-}" = pidns ]; then
    mount -t tmpfs -o ro,nosuid,nodev,noexec,size=16k,mode=000 atelier-state "$(dirname "$meta")" || exit 2
    exec setpriv --bounding-set=-all --inh-caps=-all --no-new-privs -- sh /proc/self/fd/7 inner
  fi
  exec sh /proc/self/fd/7 inner
  ;;
inner)
  exec 7<&-
  cd "$ATELIER_WORKSPACE_DIR" || exit 2
  unset ATELIER_WORKSPACE_DIR
  if [ -e /proc/self/fd/5 ]; then
    (exec 3<&- 4>&-; set -a; . /proc/self/fd/6; set +a; exec 6<&-; exec sh /proc/self/fd/5) >/dev/null 2>&1 </dev/null &
  fi
  sh /proc/self/fd/3 4>&- 5<&- 6<&- &
  startup=$!
  exec 5<&- 6<&-
  wait "$startup"
  code=$?
  echo "$code" >&4
  exec 3<&- 4>&-
  if [ "$$" = 1 ]; then
    while kill -0 -1 2>/dev/null; do sleep 1; done
  fi
  exit "$code"
  ;;
*)
  echo "usage: launch.sh outer pidns|none" >&2
  exit 2
  ;;
esac
