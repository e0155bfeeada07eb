#!/bin/sh
# Atelier workspace control. Written by the engine into <workspace>/.atelier/ on every start; do not edit.
#   control.sh start KEY   start the workspace (launch.sh in a session of its own) unless build KEY already runs
#   control.sh status      running PID | exited CODE | stopped
#   control.sh alive       whether any process of the workspace's process group runs: running | stopped
#   control.sh term        SIGTERM to the workspace's process group: stopping | stopped
#   control.sh kill        SIGKILL to the process group, then wait until it is gone: stopped
#   control.sh tail        the last lines of the start-up log
# Values reach this script only as arguments; the workspace's environment is in the file "env", never here.
set -u
meta=$(cd "$(dirname "$0")" && pwd -P) || exit 2
dir=$(dirname "$meta")

# The session leader's pid, which is also the process group id of the whole tree. The pid file also holds the boot
# id, so that a pid recorded before a reboot never makes us signal an unrelated process.
leader() {
  [ -f "$meta/pid" ] || return 1
  read -r pid boot <"$meta/pid" || return 1
  case "$pid" in '' | *[!0-9]*) return 1 ;; esac
  [ "$boot" = "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)" ] || return 1
  echo "$pid"
}
group_alive() { pid=$(leader) && kill -0 "-$pid" 2>/dev/null; }
startup_alive() {
  pid=$(leader) && kill -0 "$pid" 2>/dev/null && [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$dir" ]
}
wait_gone() {
  i=0
  while group_alive && [ "$i" -lt "$1" ]; do sleep 0.1; i=$((i + 1)); done
  ! group_alive
}

case "${1:-}" in
start)
  key=${2:?usage: control.sh start KEY}
  if startup_alive && [ "$(cat "$meta/build" 2>/dev/null)" = "$key" ]; then
    echo "already $(leader)"
    exit 0
  fi
  if group_alive; then
    kill -KILL "-$(leader)" 2>/dev/null
    wait_gone 50 || { echo "the previous process group did not end"; exit 3; }
  fi
  rm -f "$meta/pid" "$meta/exit"
  printf '%s\n' "$key" >"$meta/build"
  cd "$dir" || exit 2
  setsid sh "$meta/launch.sh" >>"$meta/startup.log" 2>&1 </dev/null &
  i=0
  while [ ! -s "$meta/pid" ] && [ "$i" -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  pid=$(leader) || { echo "the start-up process did not start; see $meta/startup.log"; exit 3; }
  echo "started $pid"
  ;;
status)
  if startup_alive; then
    echo "running $(leader)"
  elif [ -f "$meta/exit" ]; then
    echo "exited $(cat "$meta/exit")"
  else
    echo "stopped"
  fi
  ;;
alive)
  if group_alive; then echo "running"; else echo "stopped"; fi
  ;;
term)
  if group_alive; then
    kill -TERM "-$(leader)" 2>/dev/null
    echo "stopping"
  else
    echo "stopped"
  fi
  ;;
kill)
  if group_alive; then
    kill -KILL "-$(leader)" 2>/dev/null
    wait_gone 50 || { echo "the process group did not end after SIGKILL"; exit 3; }
  fi
  echo "stopped"
  ;;
tail)
  tail -n 20 "$meta/startup.log" 2>/dev/null | tail -c 2000
  ;;
*)
  echo "usage: control.sh start KEY | status | alive | term | kill | tail" >&2
  exit 2
  ;;
esac
