#!/usr/bin/env bash
# A two-node Slurm cluster on one machine, from Debian's slurm-wlm packages
# (installed on demand): munged and slurmctld in the root network namespace
# (10.213.78.254 on bridge tgcsl-br), one slurmd per "node" in its own network
# and UTS namespace (n0 = 10.213.78.1, n1 = 10.213.78.2), 2 CPUs each. Open MPI
# between the nodes goes over TCP on the bridge. Needs root.
#
#   scripts/slurm-cluster.sh up              install what is missing, start the cluster
#   scripts/slurm-cluster.sh down            stop it, remove the namespaces
#   scripts/slurm-cluster.sh env             the environment srun/sbatch need (eval it)
#   scripts/slurm-cluster.sh test BUILD_DIR  the test suite's checks (exit 77: cannot run here)
#
# Everything lives under /run/tgc-slurm (config, spool, logs); the cluster's
# slurm.conf is there, so commands need SLURM_CONF=/run/tgc-slurm/slurm.conf
# (`eval "$(scripts/slurm-cluster.sh env)"`).
set -euo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
root=/run/tgc-slurm
ctl=10.213.78.254
addrs=(10.213.78.1 10.213.78.2)
nodes=(n0 n1)

env_lines() {
  cat <<EOF
export SLURM_CONF=$root/slurm.conf
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=10.213.78.0/24
export OMPI_MCA_oob_tcp_if_include=10.213.78.0/24
export PMIX_MCA_ptl_tcp_if_include=10.213.78.0/24
EOF
}

install() {
  local missing=()
  for b in slurmctld slurmd srun munged; do command -v "$b" >/dev/null || missing+=("$b"); done
  ((${#missing[@]} == 0)) && return 0
  echo "slurm-cluster: installing slurmctld slurmd slurm-client munge (missing: ${missing[*]})" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    slurmctld slurmd slurm-client munge >/dev/null
}

down() {
  for n in "${nodes[@]}"; do
    [[ -f $root/slurmd-$n.pid ]] && kill "$(cat "$root/slurmd-$n.pid")" 2>/dev/null || true
  done
  [[ -f $root/slurmctld.pid ]] && kill "$(cat "$root/slurmctld.pid")" 2>/dev/null || true
  [[ -f $root/munged.pid ]] && kill "$(cat "$root/munged.pid")" 2>/dev/null || true
  sleep 0.5
  pkill -f "slurmd -f $root" 2>/dev/null || true
  pkill -f "slurmctld -f $root" 2>/dev/null || true
  for n in "${nodes[@]}"; do ip netns del "tgcsl-$n" 2>/dev/null || true; done
  ip link del tgcsl-br 2>/dev/null || true
  rm -rf "$root"
}

config() {
  local cpus
  cpus=$(nproc)
  mkdir -p "$root/ctld" "$root/log"
  cat >"$root/slurm.conf" <<EOF
ClusterName=tgc
SlurmctldHost=ctl($ctl)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$root/munge.socket
CryptoType=crypto/munge
StateSaveLocation=$root/ctld
SlurmdSpoolDir=$root/spool-%n
SlurmctldPidFile=$root/slurmctld.pid
SlurmdPidFile=$root/slurmd-%n.pid
SlurmctldLogFile=$root/log/slurmctld.log
SlurmdLogFile=$root/log/slurmd-%n.log
SlurmctldPort=6917
SlurmdPort=6918
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SlurmdTimeout=30
KillWait=5
InactiveLimit=0
MinJobAge=5
SlurmdParameters=config_overrides
NodeName=n0 NodeAddr=${addrs[0]} NodeHostname=n0 CPUs=$cpus State=UNKNOWN
NodeName=n1 NodeAddr=${addrs[1]} NodeHostname=n1 CPUs=$cpus State=UNKNOWN
PartitionName=tgc Nodes=n0,n1 Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
  echo "PMIxCliTmpDirBase=$root/pmix" >"$root/mpi.conf"
}

up() {
  [[ $(id -u) == 0 ]] || { echo "slurm-cluster: needs root" >&2; exit 1; }
  install
  down
  config
  # munge: its own key and socket (the host's munged, if any, is left alone).
  dd if=/dev/urandom of="$root/munge.key" bs=1024 count=1 status=none
  chmod 400 "$root/munge.key"
  munged --force --key-file="$root/munge.key" --socket="$root/munge.socket" \
    --pid-file="$root/munged.pid" --log-file="$root/log/munged.log" \
    --seed-file="$root/munge.seed"
  # The network: a bridge with the controller's address, a veth into each node.
  ip link add tgcsl-br type bridge
  ip addr add "$ctl/24" dev tgcsl-br
  ip link set tgcsl-br up
  for i in 0 1; do
    local ns=tgcsl-${nodes[$i]}
    ip netns add "$ns"
    ip link add "tgcsl-v$i" type veth peer name "tgcsl-p$i"
    ip link set "tgcsl-p$i" master tgcsl-br up
    ip link set "tgcsl-v$i" netns "$ns"
    ip -n "$ns" addr add "${addrs[$i]}/24" dev "tgcsl-v$i"
    ip -n "$ns" link set "tgcsl-v$i" up
    ip -n "$ns" link set lo up
  done
  # slurmctld knows itself by its host name: "ctl", in a UTS namespace.
  unshare --uts sh -c "hostname ctl; exec slurmctld -f $root/slurm.conf"
  for i in 0 1; do
    mkdir -p "$root/spool-${nodes[$i]}"
    # nsenter, not ip netns exec: that remounts /sys, hiding the cgroup
    # mounts slurmd needs.
    # The PMIx plugin's directories are named by job and step only: each
    # node gets its own (a bind mount in its own mount namespace).
    mkdir -p "$root/pmix" "$root/pmix-${nodes[$i]}"
    nsenter --net="/run/netns/tgcsl-${nodes[$i]}" unshare --uts --mount --propagation private \
      sh -c "hostname ${nodes[$i]}; mount --bind $root/pmix-${nodes[$i]} $root/pmix;
             exec slurmd -f $root/slurm.conf -N ${nodes[$i]}"
  done
  export SLURM_CONF=$root/slurm.conf
  for _ in $(seq 100); do
    [[ $(sinfo -h -N -o '%T' 2>/dev/null | grep -c idle) == 2 ]] && return 0
    sleep 0.2
  done
  sinfo -N >&2 || true
  tail -5 "$root"/log/*.log >&2
  echo "slurm-cluster: the nodes did not come up" >&2
  exit 1
}

case ${1:-} in
up) up ;;
down) down ;;
env) env_lines ;;
test) shift; exec bash "$(dirname "$self")/../tests/dist/slurm.sh" "$self" "$@" ;;
*) sed -n '2,16p' "$0" >&2; exit 2 ;;
esac
