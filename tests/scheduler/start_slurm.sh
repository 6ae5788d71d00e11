#!/usr/bin/env bash
# Start a real single-node SLURM 22.05 cluster on this machine (Debian packages slurmctld, slurmd,
# slurm-client, munge), for the scheduler tests. Idempotent: an idle cluster is reused.
# The node advertises two GPUs as a generic resource without devices, so jobs that request
# `--gpus=1` are accepted and scheduled exactly as on a GPU cluster (they run on the CPU here).
# Exit status: 0 = cluster idle and accepting jobs; 2 = cannot run here (SLURM or munge not
# installed, not root), the only status on which the scheduler tests may skip; 3 = failed to
# start (a daemon failed, or the cluster did not become idle): a real failure, never a skip.
# Every unexpected error exits 3 too (ERR trap), so no failure can masquerade as "cannot run".
set -euo pipefail
trap 'echo "start_slurm.sh: command failed (line $LINENO): $BASH_COMMAND" >&2; exit 3' ERR
for tool in slurmctld slurmd munged sinfo; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "missing $tool" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "needs root to start slurmctld/slurmd" >&2; exit 2; }
if sinfo -h -o %T 2>/dev/null | grep -qE "idle|mix|alloc"; then exit 0; fi

H=$(hostname)
CONF=${SLURM_CONF:-/etc/slurm/slurm.conf}  # slurmctld, slurmd and sinfo read SLURM_CONF too
mkdir -p "$(dirname "$CONF")"
CPUS=$(nproc)
cat > "$CONF" <<END_OF_CONF
ClusterName=local
SlurmctldHost=$H
AuthType=auth/munge
SlurmUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=300
ReturnToService=2
GresTypes=gpu
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurmctld.log
SlurmdLogFile=/var/log/slurmd.log
NodeName=$H CPUs=$CPUS RealMemory=16000 Gres=gpu:2 State=UNKNOWN
PartitionName=debug Nodes=$H Default=YES MaxTime=INFINITE State=UP
END_OF_CONF
# Two device-less "GPUs" (slurmd needs a device file per GPU; /dev/null and /dev/zero stand in).
printf 'Name=gpu File=/dev/null\nName=gpu File=/dev/zero\n' > "$(dirname "$CONF")/gres.conf"
mkdir -p /var/spool/slurmd /var/spool/slurmctld /run/munge
chown munge:munge /run/munge
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld
pgrep -x slurmd >/dev/null || /usr/sbin/slurmd
for _ in $(seq 60); do
  if sinfo -h -o %T 2>/dev/null | grep -qE "idle|mix|alloc"; then exit 0; fi
  scontrol update nodename="$H" state=resume >/dev/null 2>&1 || true
  sleep 1
done
echo "SLURM did not become idle within 60 s; slurmctld log tail:" >&2
tail -n 20 /var/log/slurmctld.log >&2 || true
exit 3
