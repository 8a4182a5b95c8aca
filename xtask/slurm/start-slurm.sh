#!/usr/bin/env bash
# From the team's research notes (design/slurm-local, tested on Debian 12); used by
# `cargo xtask slurm-test`.
# Idempotent single-node Slurm on localhost, from Debian 12's packages
# (slurm-wlm 22.05.8, munge 0.5.15). No systemd, no cgroups, no accounting DB.
# Every runtime file lives under $SLURM_LOCAL_DIR (default /tmp/slurm-local);
# clients find the cluster through SLURM_CONF (printed at the end).
#
#   start-slurm.sh            install if needed, start what is not running
#   start-slurm.sh --fresh    same, but wipe controller state (job ids restart at 1)
#   eval "$(start-slurm.sh --env)"   only print the export line
#
# Requires root (slurmd must be root to launch jobs; we also run slurmctld as root
# to keep permissions in /tmp trivial). Stop with stop-slurm.sh (kills by pid file).
set -euo pipefail
B=${SLURM_LOCAL_DIR:-/tmp/slurm-local}
CONF=$B/etc/slurm.conf
SOCK=$B/run/munge.socket.2
CTLD_PORT=${SLURM_LOCAL_CTLD_PORT:-6817}
SLURMD_PORT=${SLURM_LOCAL_SLURMD_PORT:-6818}

if [ "${1:-}" = "--env" ]; then echo "export SLURM_CONF=$CONF"; exit 0; fi
T0=$(date +%s%N)
log() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf '[start-slurm %d.%03ds] %s\n' $((ms/1000)) $((ms%1000)) "$*"; }

# 1. packages ---------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
   || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  log "installing packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # the package scripts try to start services via invoke-rc.d; with no init system
  # that is denied harmlessly ("policy-rc.d denied execution of start").
  apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi
log "packages ok: $(slurmctld -V)"

# 2. directories, munge key, config -------------------------------------------
if [ "${1:-}" = "--fresh" ]; then
  "$(dirname "$0")/stop-slurm.sh" >/dev/null || true
  rm -rf "$B/state" "$B/log"
fi
mkdir -p "$B"/{etc,run,log,state/ctld,state/d,munge}
chmod 700 "$B/munge"            # munged refuses a key dir/file readable by others
[ -s "$B/munge/munge.key" ] || mungekey --create --keyfile="$B/munge/munge.key"
chmod 600 "$B/munge/munge.key"

NCPU=$(nproc)
MEM_MB=$(awk '/MemTotal/ {printf "%d", $2/1024*0.9}' /proc/meminfo)
cat > "$CONF.tmp" <<EOF
ClusterName=localcluster
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$SOCK
CredType=cred/munge
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
StateSaveLocation=$B/state/ctld
SlurmdSpoolDir=$B/state/d
SlurmctldPidFile=$B/run/slurmctld.pid
SlurmdPidFile=$B/run/slurmd.pid
SlurmctldLogFile=$B/log/slurmctld.log
SlurmdLogFile=$B/log/slurmd.log
MailProg=/bin/true
# no cgroups: track job processes through /proc, do no task binding
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# default batch_sched_delay is 3 s: jobs would start in 3-s waves; 0 makes local tests fast
SchedulerParameters=batch_sched_delay=0
# a reduce job whose afterok can never be met is cancelled instead of pending forever
DependencyParameters=kill_invalid_depend
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
MinJobAge=600
NodeName=localhost CPUs=$NCPU RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
mv "$CONF.tmp" "$CONF"
export SLURM_CONF=$CONF

# 3. daemons (each started only if its pid file does not name a live process) --
alive() {  # comm pidfile
  [ -s "$2" ] && [ -d "/proc/$(cat "$2")" ] && [ "$(cat "/proc/$(cat "$2")/comm" 2>/dev/null)" = "$1" ]
}

if alive munged "$B/run/munged.pid"; then log "munged already running ($(cat "$B/run/munged.pid"))"
else
  munged --socket="$SOCK" --key-file="$B/munge/munge.key" --log-file="$B/log/munged.log" \
         --pid-file="$B/run/munged.pid" --seed-file="$B/munge/munged.seed"
  log "munged started ($(cat "$B/run/munged.pid"))"
fi
munge -S "$SOCK" -n | unmunge -S "$SOCK" >/dev/null || { echo "munge self-test failed" >&2; exit 1; }

if alive slurmctld "$B/run/slurmctld.pid"; then log "slurmctld already running ($(cat "$B/run/slurmctld.pid"))"
else
  slurmctld -f "$CONF"
  for _ in $(seq 1 100); do alive slurmctld "$B/run/slurmctld.pid" && break; sleep 0.1; done
  log "slurmctld started ($(cat "$B/run/slurmctld.pid"))"
fi

if alive slurmd "$B/run/slurmd.pid"; then log "slurmd already running ($(cat "$B/run/slurmd.pid"))"
else
  # -N: our node is called localhost whatever hostname(1) says
  slurmd -f "$CONF" -N localhost
  for _ in $(seq 1 100); do alive slurmd "$B/run/slurmd.pid" && break; sleep 0.1; done
  log "slurmd started ($(cat "$B/run/slurmd.pid"))"
fi

# 4. wait until the node is usable ------------------------------------------
state=""
for _ in $(seq 1 120); do
  state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
  case "$state" in idle|mixed|allocated) break;; esac
  sleep 0.25
done
case "$state" in
  idle|mixed|allocated) ;;
  drain*|down*) scontrol update NodeName=localhost State=RESUME || true; sleep 1
                state=$(sinfo -h -n localhost -o %T);;
esac
case "$state" in idle|mixed|allocated) ;; *)
  echo "node not ready (state='$state'); see $B/log/" >&2; exit 1;; esac
log "cluster ready: node localhost $state, $NCPU CPUs"
echo "export SLURM_CONF=$CONF"
