#!/usr/bin/env bash
# From the team's research notes (design/slurm-local, tested on Debian 12); used by
# `cargo xtask slurm-test`.
# Stop the single-node Slurm started by start-slurm.sh.
# Kills only the PIDs recorded in our own pid files, after checking that each
# PID still belongs to the expected program (guards against PID reuse).
# Usage: stop-slurm.sh [--purge]   (--purge also deletes $SLURM_LOCAL_DIR)
set -u
B=${SLURM_LOCAL_DIR:-/tmp/slurm-local}

stop_one() {  # name pidfile
  local name=$1 pidfile=$2 pid i
  [ -s "$pidfile" ] || { echo "$name: no pid file"; return 0; }
  pid=$(cat "$pidfile")
  if [ -d "/proc/$pid" ] && [ "$(cat /proc/$pid/comm 2>/dev/null)" = "$name" ]; then
    kill -TERM "$pid"
    for i in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    if [ -d "/proc/$pid" ]; then echo "$name ($pid) still alive, sending KILL"; kill -KILL "$pid"; fi
    echo "$name ($pid) stopped"
  else
    echo "$name: pid $pid not running (stale pid file)"
  fi
  rm -f "$pidfile"
}

# Cancel our cluster's jobs first so no slurmstepd is left orphaned.
if [ -s "$B/run/slurmctld.pid" ] && [ -f "$B/etc/slurm.conf" ]; then
  ids=$(SLURM_CONF=$B/etc/slurm.conf squeue -h -o %A 2>/dev/null | sort -u || true)
  if [ -n "$ids" ]; then SLURM_CONF=$B/etc/slurm.conf scancel $ids 2>/dev/null || true; sleep 1; fi
fi

# Reverse order of start: compute node, controller, then auth daemon.
stop_one slurmd     "$B/run/slurmd.pid"
stop_one slurmctld  "$B/run/slurmctld.pid"
stop_one munged     "$B/run/munged.pid"

if [ "${1:-}" = "--purge" ]; then rm -rf "$B"; echo "removed $B"; fi
