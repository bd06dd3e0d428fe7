#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, for launcher tests and for trying cluster sweeps on a laptop.
#
#   launch/slurm_local.sh install          # Debian packages: slurmctld slurmd slurm-client munge (needs root)
#   launch/slurm_local.sh start [DIR]      # config + state in DIR (default /tmp/genesys-slurm); prints SLURM_CONF
#   launch/slurm_local.sh stop  [DIR]
# GENESYS_SLURM_PORT (default 6817) picks the ports, so several clusters can live side by side.
#
# Then: export SLURM_CONF=DIR/slurm.conf; sinfo; sbatch ...  (or hydra/launcher=submitit_slurm)
set -euo pipefail
cmd=${1:-start}
dir=${2:-${GENESYS_SLURM_DIR:-/tmp/genesys-slurm}}
host=$(hostname)
port=${GENESYS_SLURM_PORT:-6817}   # slurmctld listens on port, slurmd on port + 1

install() {
  command -v slurmctld >/dev/null && command -v munged >/dev/null && return 0
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null
}

write_config() {
  mkdir -p "$dir/state" "$dir/spool"
  local cpus mem
  cpus=$(nproc)
  mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
  cat > "$dir/slurm.conf" <<CONF
ClusterName=genesys
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldPort=$port
SlurmdPort=$((port + 1))
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
}

start_munge() {
  if pgrep -x munged >/dev/null; then return 0; fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
  chmod 755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    chown munge:munge /etc/munge/munge.key 2>/dev/null || true
    chmod 400 /etc/munge/munge.key
  fi
  if id munge >/dev/null 2>&1; then
    su -s /bin/sh munge -c munged 2>/dev/null || munged --force
  else
    munged --force
  fi
}

start() {
  install
  write_config
  start_munge
  export SLURM_CONF="$dir/slurm.conf"
  pgrep -f "slurmctld.*$dir" >/dev/null || slurmctld -f "$SLURM_CONF"
  pgrep -f "slurmd.*$dir" >/dev/null || slurmd -f "$SLURM_CONF"
  for _ in $(seq 1 60); do
    if sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
      echo "export SLURM_CONF=$SLURM_CONF"
      return 0
    fi
    sleep 0.5
  done
  echo "slurm did not come up; logs in $dir" >&2
  tail -n 20 "$dir"/*.log >&2 || true
  return 1
}

stop() {
  pkill -f "slurmd -f $dir/slurm.conf" 2>/dev/null || true
  pkill -f "slurmctld -f $dir/slurm.conf" 2>/dev/null || true
}

case "$cmd" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop [DIR]" >&2; exit 2 ;;
esac
