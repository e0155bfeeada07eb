#!/bin/sh
# Atelier workspace control. Written by the engine on every start into <host dir>/.atelier/<workspace id>/, the
# engine's state for the workspace, outside the workspace's directory <host dir>/<workspace id>; do not edit.
#   control.sh start KEY   start the workspace unless build KEY already runs
#   control.sh status      running PID | exited CODE | stopped
#   control.sh alive       whether any process of the workspace runs: running | stopped
#   control.sh term        SIGTERM to every process of the workspace: stopping | stopped
#   control.sh kill        SIGKILL to all of them, then wait until they are gone: stopped
#   control.sh tail        the last lines of the start-up log
#   control.sh sandbox     pidns | none: what the next start isolates the workspace with
# Values reach this script only as arguments; the workspace's environment is in the file "env", never here.
#
# Where unprivileged user namespaces work, a workspace is a pid namespace (unshare --kill-child): it cannot leave it,
# so stop ends everything it started, setsid or not, by ending the namespace. Inside, the engine's state directory
# is hidden under an empty read-only mount the workspace cannot remove. Otherwise it is a process group (setsid),
# which a process can leave; the engine's connection info then says sandbox: none.
set -u
meta=$(cd "$(dirname "$0")" && pwd -P) || exit 2
id=$(basename "$meta")
dir=$(dirname "$(dirname "$meta")")/$id
boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)

# A state file the engine reads or appends to: a link in its place is removed, never followed.
nolink() { if [ -L "$1" ]; then rm -f -- "$1"; fi; }
for f in pid pid.tmp exit build stopped startup.log labels; do nolink "$meta/$f"; done

marked() { { tr '\0' '\n' <"/proc/$1/environ"; } 2>/dev/null | grep -qx "ATELIER_SANDBOX=$id"; }

# The process that holds the workspace (unshare, or the session leader without namespaces), from "pid". unshare is
# believed only while it carries the mark it was started with (ATELIER_SANDBOX=<id> in its environment, fixed at
# exec); the boot id keeps a pid recorded before a reboot from naming an unrelated process.
holder() {
  nolink "$meta/pid"
  [ -f "$meta/pid" ] || return 1
  read -r hpid hboot hkind hns <"$meta/pid" || return 1
  case "$hpid" in '' | *[!0-9]*) return 1 ;; esac
  [ "$hboot" = "$boot" ] || return 1
  if [ "$hkind" = pidns ]; then marked "$hpid" || zombie "$hpid" || return 1; fi
  return 0
}

# An ended process its parent has not reaped yet: its pid cannot have been reused, and its environment is gone.
zombie() {
  read -r zstat 2>/dev/null <"/proc/$1/stat" || return 1
  case "${zstat##*) }" in Z*) return 0 ;; *) return 1 ;; esac
}

# Processes of the pid namespace whose pid 1 is $1 (every process in it: orphans, setsid or not, stay in it).
members() {
  for p in /proc/[0-9]*; do
    if [ "$p/ns/pid" -ef "/proc/$1/ns/pid" ]; then echo "${p#/proc/}"; fi
  done
}

# The first child of process $1 (from the kernel's list when it keeps one, else from every process's parent).
child_of() {
  parent=$1
  if [ -r "/proc/$parent/task/$parent/children" ]; then
    read -r first rest 2>/dev/null <"/proc/$parent/task/$parent/children"
    echo "${first:-}"
    return
  fi
  for p in /proc/[0-9]*; do
    read -r stat 2>/dev/null <"$p/stat" || continue
    set -- ${stat##*) }
    if [ "${2:-}" = "$parent" ]; then echo "${p#/proc/}"; return; fi
  done
}

# A start-up process group an older engine started (state in <dir>/.atelier/pid): only if it still runs in <dir>.
legacy() {
  f="$dir/.atelier/pid"
  [ -f "$f" ] && [ ! -L "$f" ] || return 1
  read -r lpid lboot <"$f" || return 1
  case "$lpid" in '' | *[!0-9]*) return 1 ;; esac
  [ "$lboot" = "$boot" ] && kill -0 "$lpid" 2>/dev/null && [ "$(readlink "/proc/$lpid/cwd" 2>/dev/null)" = "$dir" ]
}

# unshare lives exactly as long as its pid namespace: it waits for its child, pid 1, whose end ends the namespace,
# and its own end kills that child (--kill-child).
alive() {
  if holder; then
    if [ "$hkind" = pidns ]; then
      kill -0 "$hpid" 2>/dev/null && return 0
    else
      kill -0 "-$hpid" 2>/dev/null && return 0
    fi
  fi
  legacy && kill -0 "-$lpid" 2>/dev/null
}

signal() {
  if holder; then
    if [ "$hkind" = pidns ]; then
      init=$(child_of "$hpid")
      if [ -n "$init" ]; then
        for p in $(members "$init"); do
          if [ "$p" != "$init" ]; then kill "-$1" "$p" 2>/dev/null; fi
        done
      fi
      if [ "$1" = KILL ]; then kill -KILL "$hpid" 2>/dev/null; fi # --kill-child: pid 1 and the namespace go too
    else
      kill "-$1" "-$hpid" 2>/dev/null
    fi
  fi
  if legacy; then kill "-$1" "-$lpid" 2>/dev/null; fi
  return 0
}

wait_gone() {
  i=0
  while alive && [ "$i" -lt "$1" ]; do sleep 0.1; i=$((i + 1)); done
  ! alive
}

isolation() {
  if unshare --user --map-root-user --pid --fork --kill-child --mount --mount-proc true >/dev/null 2>&1; then
    echo pidns
  else
    echo none
  fi
}

case "${1:-}" in
start)
  key=${2:?usage: control.sh start KEY}
  if holder && [ -z "$(cat "$meta/exit" 2>/dev/null)" ] && [ "$(cat "$meta/build" 2>/dev/null)" = "$key" ] && alive; then
    echo "already $hpid"
    exit 0
  fi
  signal KILL
  wait_gone 50 || { echo "the previous processes did not end"; exit 3; }
  rm -f -- "$meta/pid" "$meta/exit" "$meta/build" "$meta/stopped" "$dir/.atelier/pid"
  nolink "$meta/build"
  printf '%s\n' "$key" >"$meta/build"
  nolink "$meta/startup.log"
  cd "$dir" || exit 2
  kind=$(isolation)
  if [ "$kind" = pidns ]; then
    ATELIER_SANDBOX=$id setsid unshare --user --map-root-user --pid --fork --kill-child --mount --mount-proc \
      --propagation private sh "$meta/launch.sh" outer pidns >>"$meta/startup.log" 2>&1 </dev/null &
  else
    ATELIER_SANDBOX=$id setsid sh "$meta/launch.sh" outer none >>"$meta/startup.log" 2>&1 </dev/null &
  fi
  pid=$!
  ns=-
  if [ "$kind" = pidns ]; then
    # The namespace is that of unshare's child (pid 1 inside). A workspace that is over before we look has none left.
    i=0
    while [ "$ns" = - ] && kill -0 "$pid" 2>/dev/null && [ "$i" -lt 250 ]; do
      child=$(child_of "$pid")
      if [ -n "$child" ]; then ns=$(readlink "/proc/$child/ns/pid" 2>/dev/null || echo -); fi
      if [ "$ns" = - ]; then sleep 0.02; i=$((i + 1)); fi
    done
    if [ "$ns" = - ] && kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null
      echo "the workspace's pid namespace did not appear; see $meta/startup.log"
      exit 3
    fi
  fi
  nolink "$meta/pid.tmp"
  echo "$pid $boot $kind $ns" >"$meta/pid.tmp" && mv -f -- "$meta/pid.tmp" "$meta/pid"
  echo "started $pid"
  ;;
status)
  code=$(cat "$meta/exit" 2>/dev/null)
  if [ -f "$meta/stopped" ] && ! alive; then
    echo "stopped" # a stop's SIGTERM is no failure of the start-up script
  elif [ -n "$code" ]; then
    echo "exited $code"
  elif holder && kill -0 "$hpid" 2>/dev/null; then
    echo "running $hpid $hkind"
  elif legacy; then
    echo "running $lpid legacy"
  else
    echo "stopped"
  fi
  ;;
alive)
  if alive; then echo "running"; else echo "stopped"; fi
  ;;
term)
  nolink "$meta/stopped"
  : >"$meta/stopped"
  if alive; then
    signal TERM
    echo "stopping"
  else
    echo "stopped"
  fi
  ;;
kill)
  nolink "$meta/stopped"
  : >"$meta/stopped"
  if alive; then
    signal KILL
    wait_gone 50 || { echo "the workspace's processes did not end after SIGKILL"; exit 3; }
  fi
  rm -f -- "$dir/.atelier/pid"
  echo "stopped"
  ;;
tail)
  nolink "$meta/startup.log"
  tail -n 20 "$meta/startup.log" 2>/dev/null | tail -c 2000
  ;;
sandbox)
  isolation
  ;;
*)
  echo "usage: control.sh start KEY | status | alive | term | kill | tail | sandbox" >&2
  exit 2
  ;;
esac
