#!/bin/sh
# Atelier: the workspace's session leader (started with setsid by control.sh). Records its pid, reads the
# workspace's environment from the file "env" (written by the engine over SFTP, values quoted as data), starts
# the workspace agent (with its own variables from "agent.env") and then the template's start-up script, all in
# this process group so that stop ends them all. HOME is the workspace directory.
meta=$(cd "$(dirname "$0")" && pwd -P) || exit 2
cd "$(dirname "$meta")" || exit 2
echo "$$ $(cat /proc/sys/kernel/random/boot_id 2>/dev/null)" >"$meta/pid.tmp" && mv "$meta/pid.tmp" "$meta/pid"
set -a
. "$meta/env"
set +a
HOME=$PWD
export HOME
if [ -f "$meta/agent.sh" ] && [ -f "$meta/agent.env" ]; then
  (set -a; . "$meta/agent.env"; set +a; exec sh "$meta/agent.sh") >/dev/null 2>&1 </dev/null &
fi
sh "$meta/startup.sh"
code=$?
echo "$code" >"$meta/exit"
exit "$code"
