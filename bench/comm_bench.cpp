//===- comm_bench.cpp - communicator allreduce vs raw MPI_Allreduce -------===//
//
// Run under mpirun (bench/run_comm.sh). For each message size, the median
// time of an in-place float sum allreduce through tg::dist::Communicator
// (rank-ordered and library reductions) and through MPI_Allreduce itself,
// all in the same processes, and the bus bandwidth 2 (n-1)/n * bytes / time
// (the NCCL-tests convention). Rank 0 prints a markdown table.
//
// With --elements=E1,E2,... it instead times what a training step's gradient
// buckets do (bench/scaling_model.py calibrates its link and codec costs from
// this): a GradientMean allreduce of E floats through the communicator as
// `tgc train` configures it (--compress=none|bf16|threshold:T,
// --reduction=ordered|library), started and then waited on as the compiled
// step does (--blocking: the blocking call, as with
// TG_COLLECTIVES_NO_OVERLAP=1), and prints one line per size:
// `elements E ms M`. For threshold, a fraction --density of each rank's
// elements (random positions, new each repetition) is one quantum +-T 2^k,
// the rest 0, so that fraction travels and the residual stays 0.
//
//===----------------------------------------------------------------------===//
#include "comm/Communicator.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
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

struct StepArgs {
  std::vector<size_t> elements;
  Compression compression = Compression::None;
  float threshold = 0;
  double density = 0.01;
  Reduction reduction = Reduction::RankOrdered;
  int reps = 30;
  bool blocking = false;
};

[[noreturn]] void usage(const char *why) {
  std::fprintf(stderr,
               "tg-bench-comm: %s\nusage: tg-bench-comm [--elements=E1,E2,... "
               "[--compress=none|bf16|threshold:T] [--density=P] [--reduction=ordered|library] "
               "[--reps=R] [--blocking]]\n",
               why);
  std::exit(2);
}

// Parses the step mode's flags; false when there are none (the table mode).
bool parseStepArgs(int argc, char **argv, StepArgs &a) {
  bool any = false;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    auto value = [&](const char *flag) -> const char * {
      size_t n = std::strlen(flag);
      return s.compare(0, n, flag) == 0 ? s.c_str() + n : nullptr;
    };
    char *end = nullptr;
    if (const char *v = value("--elements=")) {
      any = true;
      for (const char *p = v; *p;) {
        unsigned long long e = std::strtoull(p, &end, 10);
        if (end == p || e == 0 || (*end && *end != ','))
          usage(("--elements: expected a comma-separated list of positive counts, got '" +
                 std::string(v) + "'")
                    .c_str());
        a.elements.push_back(size_t(e));
        p = *end ? end + 1 : end;
      }
    } else if (const char *v = value("--compress=")) {
      std::string c = v;
      if (c == "none")
        a.compression = Compression::None;
      else if (c == "bf16")
        a.compression = Compression::Bf16;
      else if (c.rfind("threshold:", 0) == 0) {
        a.compression = Compression::Threshold;
        a.threshold = std::strtof(c.c_str() + 10, &end);
        if (*end || !(a.threshold > 0))
          usage(("--compress=threshold:T: T must be a positive number, got '" + c + "'").c_str());
      } else
        usage(("--compress: expected none, bf16 or threshold:T, got '" + c + "'").c_str());
    } else if (const char *v = value("--density=")) {
      a.density = std::strtod(v, &end);
      if (*end || !(a.density > 0 && a.density <= 1))
        usage(("--density: expected a fraction in (0, 1], got '" + std::string(v) + "'").c_str());
    } else if (const char *v = value("--reduction=")) {
      std::string r = v;
      if (r != "ordered" && r != "library")
        usage(("--reduction: expected ordered or library, got '" + r + "'").c_str());
      a.reduction = r == "library" ? Reduction::Library : Reduction::RankOrdered;
    } else if (const char *v = value("--reps=")) {
      a.reps = int(std::strtol(v, &end, 10));
      if (*end || a.reps < 1)
        usage(("--reps: expected a positive count, got '" + std::string(v) + "'").c_str());
    } else if (s == "--blocking") {
      a.blocking = true;
    } else {
      usage(("unknown argument '" + s + "'").c_str());
    }
  }
  if (!any && argc > 1)
    usage("--compress, --density, --reduction, --reps and --blocking need --elements");
  return any;
}

int runSteps(const StepArgs &a) {
  CommunicatorOptions o;
  o.reduction = a.reduction;
  auto c = createMpiCommunicator(o);
  if (!c.ok()) {
    std::fprintf(stderr, "tg-bench-comm: %s\n", std::string(c.status().message()).c_str());
    return 1;
  }
  Communicator &comm = **c;
  comm.setCompression(a.compression, a.threshold);
  int rank = comm.rank();
  std::mt19937 rng(1234 + rank);
  for (size_t count : a.elements) {
    std::vector<float> buf(count);
    std::normal_distribution<float> normal(0.f, 1e-3f);
    auto fill = [&] {
      if (a.compression != Compression::Threshold) {
        for (float &x : buf)
          x = normal(rng);
        return;
      }
      std::fill(buf.begin(), buf.end(), 0.f);
      // Real gradients send quanta of both signs and several sizes: T 2^k,
      // k geometric (half of them k = 0), so the codec's branches and
      // exponent handling see a realistic mix; each is exactly one quantum,
      // so the residual stays 0.
      std::bernoulli_distribution sent(a.density), negative(0.5);
      std::geometric_distribution<int> k(0.5);
      for (float &x : buf)
        if (sent(rng))
          x = std::ldexp(negative(rng) ? -a.threshold : a.threshold, std::min(k(rng), 15));
    };
    std::vector<double> t;
    for (int i = 0; i < a.reps + 2; ++i) { // two warm-up repetitions
      fill();
      MPI_Barrier(MPI_COMM_WORLD);
      auto t0 = std::chrono::steady_clock::now();
      absl::Status s;
      if (a.blocking) {
        s = comm.allreduce(buf.data(), count, ReduceOp::GradientMean, "bench");
      } else {
        absl::StatusOr<Request> r =
            comm.allreduceStart(buf.data(), count, ReduceOp::GradientMean, "bench");
        s = r.ok() ? comm.wait(*r) : r.status();
      }
      if (!s.ok()) {
        std::fprintf(stderr, "tg-bench-comm: %s\n", std::string(s.message()).c_str());
        return 1;
      }
      if (i >= 2)
        t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(t.begin(), t.end());
    double median = t[t.size() / 2], slowest = 0;
    MPI_Allreduce(&median, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0)
      std::printf("elements %zu ms %.4f\n", count, slowest * 1e3);
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  StepArgs step;
  if (parseStepArgs(argc, argv, step))
    return runSteps(step);
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
