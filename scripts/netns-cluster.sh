#!/usr/bin/env bash
# A two-"host" cluster on one machine: network namespaces tgc-h0 and tgc-h1
# joined by a veth pair (10.213.77.1 and .2), Open MPI over TCP between them.
# Needs root (ip netns).
#
#   scripts/netns-cluster.sh up               create the namespaces and the link
#   scripts/netns-cluster.sh down             remove them
#   scripts/netns-cluster.sh mpirun ARGS...   mpirun in tgc-h0 with one rank per host
#                                             (TG_NETNS_RANKS_PER_HOST=K: K per host)
#   scripts/netns-cluster.sh link up|down     bring the link between the hosts up or down
#   scripts/netns-cluster.sh shape RATE DELAY shape the link both ways (tc netem: e.g.
#                                             1gbit 100us; "none" removes it)
#   scripts/netns-cluster.sh test BUILD_DIR   the test suite's check (exit 77: cannot run here)
#
# mpirun starts its daemon on the other host through this script (as
# plm_rsh_agent, in place of ssh), which enters that host's namespace (and
# its own UTS namespace, so each host has its own hostname).
set -euo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
hosts=(10.213.77.1 10.213.77.2)
names=(tgc-h0 tgc-h1)

down() {
  for n in "${names[@]}"; do ip netns del "$n" 2>/dev/null || true; done
}

up() {
  down
  for n in "${names[@]}"; do ip netns add "$n"; done
  ip link add tgc-veth0 type veth peer name tgc-veth1
  for i in 0 1; do
    ip link set "tgc-veth$i" netns "${names[$i]}"
    ip -n "${names[$i]}" addr add "${hosts[$i]}/24" dev "tgc-veth$i"
    ip -n "${names[$i]}" link set "tgc-veth$i" up
    ip -n "${names[$i]}" link set lo up
  done
}

# The rsh agent: [ssh options] HOST COMMAND...
agent() {
  while [[ ${1:-} == -* ]]; do shift; done
  local host=$1 ns=""
  shift
  for i in 0 1; do [[ $host == "${hosts[$i]}" ]] && ns=${names[$i]}; done
  [[ -n $ns ]] || { echo "netns-cluster: unknown host '$host'" >&2; exit 1; }
  exec ip netns exec "$ns" unshare --uts sh -c "hostname $ns; $*"
}

run_mpirun() {
  local hostfile
  hostfile=$(mktemp)
  local slots=${TG_NETNS_RANKS_PER_HOST:-1}
  printf "%s slots=$slots\n" "${hosts[@]}" >"$hostfile"
  # TCP only (no shared memory between "hosts"), on the veth subnet; TCP
  # keepalives of 1 s so mpirun notices a lost host within seconds.
  ip netns exec "${names[0]}" unshare --uts sh -c "hostname ${names[0]}; exec \"\$@\"" sh \
    mpirun --hostfile "$hostfile" -np $((2 * slots)) --bind-to none \
    --mca plm_rsh_agent "$self agent" --mca btl self,tcp \
    --mca btl_tcp_if_include 10.213.77.0/24 --mca oob_tcp_if_include 10.213.77.0/24 \
    --mca oob_tcp_keepalive_time 1 --mca oob_tcp_keepalive_intvl 1 \
    --mca oob_tcp_keepalive_probes 3 -x OMP_NUM_THREADS=1 "$@"
  local rc=$?
  rm -f "$hostfile"
  return $rc
}

link() {
  ip -n "${names[1]}" link set tgc-veth1 "$1"
}

# A realistic link: netem's rate and delay on each direction (a packet waits
# DELAY once per direction, so the round trip is 2 x DELAY). A kernel
# without netem (sch_netem) gets the rate alone, from a token bucket (tbf,
# bursts of 2 ms at the rate), and a note on stderr.
shape() {
  local rate=$1 delay=${2:-0us}
  for i in 0 1; do
    tc -n "${names[$i]}" qdisc del dev "tgc-veth$i" root 2>/dev/null || true
    [[ $rate == none ]] && continue
    if ! tc -n "${names[$i]}" qdisc add dev "tgc-veth$i" root netem rate "$rate" \
      delay "$delay" limit 100000 2>/dev/null; then
      local bits
      bits=$(awk -v r="$rate" 'BEGIN { n = r + 0; u = tolower(r); sub(/^[0-9.]+/, "", u)
        m = u == "gbit" ? 1e9 : u == "mbit" ? 1e6 : u == "kbit" ? 1e3 : 1; printf "%.0f", n * m }')
      tc -n "${names[$i]}" qdisc add dev "tgc-veth$i" root tbf rate "$rate" \
        burst $((bits / 8 / 500 > 65536 ? bits / 8 / 500 : 65536)) latency 100ms
      if [[ $i == 0 ]]; then
        echo "netns-cluster: no netem in this kernel: $rate by tbf, no added delay" >&2
      fi
    fi
  done
}

check() {
  local build
  build=$(cd "$1" && pwd)
  work=$(mktemp -d)
  if [[ $(id -u) != 0 ]] || ! ip netns add tgc-probe 2>/dev/null; then
    echo "SKIP: network namespaces need root (ip netns)"
    exit 77
  fi
  ip netns del tgc-probe
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
  trap 'down; rm -rf "$work"' EXIT
  up
  cd "$work"
  local tgc=$build/tools/tgc data=${TG_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
  "$build/examples/tg-example" fashion-mlp --batch 64 -o mlp.tg.mlir
  "$tgc" compile mlp.tg.mlir -o mlp.tgx --data-parallel=allreduce >/dev/null
  # Two hosts over TCP train like two ranks emulated in one process.
  set +e
  timeout 120 "$self" mpirun "$tgc" train "$work/mlp.tgx" --data "$data" --steps 200 \
    --progress=none --checkpoint-dir "$work/hosts" >/dev/null 2>log.txt
  local rc=$?
  set -e
  [[ $rc == 0 ]] || { cat log.txt; echo "FAIL: training across the hosts (exit $rc)"; exit 1; }
  grep -q "2 rank(s) (mpi)" log.txt || { cat log.txt; echo "FAIL: not 2 ranks"; exit 1; }
  "$tgc" train mlp.tgx --data "$data" --steps 200 --progress=none --emulate-world-size 2 \
    --checkpoint-dir emulated >/dev/null 2>&1
  python3 "$(dirname "$self")/../tests/dist/compare-checkpoints.py" \
    hosts/ckpt-0000000200.safetensors emulated/ckpt-0000000200.safetensors ||
    { echo "FAIL: the two hosts and the emulation differ"; exit 1; }
  echo "ok: 2 hosts over TCP = --emulate-world-size 2, bitwise"
  # Take the link down mid-run: the watchdog ends the job, naming the collective.
  (set +e; timeout 120 "$self" mpirun "$tgc" train "$work/mlp.tgx" --data "$data" --epochs 50 \
    --progress=none --checkpoint-dir "$work/cut" --checkpoint-every 100 \
    --collective-timeout 5 >/dev/null 2>cut.log; echo $? >cut.rc) &
  for _ in $(seq 150); do [[ -e cut/ckpt-0000000200.safetensors ]] && break; sleep 0.2; done
  local start end took
  start=$(date +%s.%N)
  link down
  wait
  end=$(date +%s.%N)
  took=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  [[ $(cat cut.rc) != 0 ]] || { echo "FAIL: the job survived a cut link"; exit 1; }
  grep -q "did not complete within 5 s" cut.log || { cat cut.log; echo "FAIL: no watchdog"; exit 1; }
  awk -v t="$took" 'BEGIN { exit !(t < 30) }' || { echo "FAIL: $took s to end"; exit 1; }
  echo "ok: link down -> the job ended in $took s: $(grep -o 'tgc: [^;]*' cut.log | head -1)"
  ls cut/ckpt-*.safetensors >/dev/null || { echo "FAIL: no checkpoint left"; exit 1; }
}

case ${1:-} in
up) up ;;
down) down ;;
agent) shift; agent "$@" ;;
mpirun) shift; run_mpirun "$@" ;;
link) link "$2" ;;
shape) shape "$2" "${3:-0us}" ;;
test) check "$2" ;;
*) sed -n '2,13p' "$0" >&2; exit 2 ;;
esac
