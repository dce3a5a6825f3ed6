#!/bin/sh
# The communicator's allreduce against raw MPI_Allreduce, 4 KB to 64 MB, in
# the same MPI processes. Usage: bench/run_comm.sh [RANKS] (default 2).
# Ratios are MPI time / tgc time: above 1, tgc is faster.
set -eu
cd "$(dirname "$0")/.."
N=${1:-2}
scripts/build.sh tg-bench-comm >/dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
BIND=core
[ "$N" -le "$(nproc)" ] || BIND=none # more ranks than cores: oversubscribed, unbound
exec mpirun -np "$N" --oversubscribe --bind-to $BIND build/bench/tg-bench-comm
