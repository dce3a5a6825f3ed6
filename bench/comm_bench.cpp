//===- comm_bench.cpp - communicator allreduce vs raw MPI_Allreduce -------===//
//
// Run under mpirun (bench/run_comm.sh). For each message size, the median
// time of an in-place float sum allreduce through tg::dist::Communicator
// (rank-ordered and library reductions) and through MPI_Allreduce itself,
// all in the same processes, and the bus bandwidth 2 (n-1)/n * bytes / time
// (the NCCL-tests convention). Rank 0 prints a markdown table.
//
//===----------------------------------------------------------------------===//
#include "comm/Communicator.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

using namespace tg::dist;

namespace {

template <typename F> double medianSeconds(int reps, F &&f) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    MPI_Barrier(MPI_COMM_WORLD);
    auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  // Every rank must agree on the time: take the slowest rank's median.
  std::sort(t.begin(), t.end());
  double median = t[t.size() / 2], slowest = 0;
  MPI_Allreduce(&median, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return slowest;
}

} // namespace

int main(int argc, char **argv) {
  CommunicatorOptions ordered, library;
  library.reduction = Reduction::Library;
  auto a = createMpiCommunicator(ordered); // initializes MPI
  auto b = createMpiCommunicator(library);
  if (!a.ok() || !b.ok()) {
    std::fprintf(stderr, "comm_bench: %s\n",
                 std::string((a.ok() ? b : a).status().message()).c_str());
    return 1;
  }
  int rank = (*a)->rank(), n = (*a)->size();
  if (rank == 0) {
    std::printf("# %d ranks; median over repetitions of the slowest rank; busbw = 2(n-1)/n * bytes "
                "/ time\n",
                n);
    std::printf("| bytes | MPI_Allreduce ms | busbw GB/s | tgc library ms | ratio | tgc "
                "rank-ordered ms | ratio |\n");
    std::printf("|---:|---:|---:|---:|---:|---:|---:|\n");
  }
  for (size_t bytes = 4096; bytes <= (size_t(64) << 20); bytes *= 4) {
    size_t count = bytes / sizeof(float);
    std::vector<float> buf(count, 1.0f);
    int reps = bytes <= (size_t(1) << 20) ? 50 : 10;
    double raw = medianSeconds(reps, [&] {
      MPI_Allreduce(MPI_IN_PLACE, buf.data(), int(count), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    });
    double lib = medianSeconds(
        reps, [&] { (void)(*b)->allreduce(buf.data(), count, ReduceOp::Sum, "bench"); });
    double ord = medianSeconds(
        reps, [&] { (void)(*a)->allreduce(buf.data(), count, ReduceOp::Sum, "bench"); });
    double bus = 2.0 * (n - 1) / n * double(bytes) / raw / 1e9;
    if (rank == 0)
      std::printf("| %zu | %.3f | %.2f | %.3f | %.2f | %.3f | %.2f |\n", bytes, raw * 1e3, bus,
                  lib * 1e3, raw / lib, ord * 1e3, raw / ord);
  }
  return 0;
}
