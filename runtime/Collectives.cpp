//===- Collectives.cpp - tgrt_allreduce_start / tgrt_allreduce_wait -------===//
#include "runtime/Collectives.h"
#include "runtime/KernelStatus.h"
#include "support/KernelAbi.h"

#include "absl/strings/str_cat.h"

#include <cstdint>
#include <cstdlib>
#include <map>

namespace tg::rt {
namespace {

struct Started {
  dist::Request request;
  float *data = nullptr;
};

/// The running step's collectives (one step per thread at a time).
struct ThreadState {
  dist::Communicator *comm = nullptr;
  std::string entry;
  std::map<int64_t, Started> pending; ///< by bucket id
  bool active = false;
};

thread_local ThreadState state;

struct UnrankedMemRef {
  int64_t rank;
  void *descriptor;
};

/// The data and element count of a 1-D f32 memref.
float *bucketData(const UnrankedMemRef *m, size_t &count) {
  auto *d = static_cast<char *>(m->descriptor);
  float *aligned = *reinterpret_cast<float **>(d + sizeof(void *));
  int64_t offset = *reinterpret_cast<int64_t *>(d + 2 * sizeof(void *));
  int64_t size = *reinterpret_cast<int64_t *>(d + 3 * sizeof(void *));
  count = m->rank == 1 ? size_t(size) : 0;
  return aligned + offset;
}

/// TG_COLLECTIVES_NO_OVERLAP=1 (a benchmark's baseline): every allreduce
/// completes at its start, so none overlaps compute.
bool noOverlap() {
  static const bool off = [] {
    const char *v = std::getenv("TG_COLLECTIVES_NO_OVERLAP");
    return v && *v && std::string(v) != "0";
  }();
  return off;
}

std::string bucketName(int64_t id) {
  return absl::StrCat("bucket ", id, " of ", state.entry.empty() ? "a step" : state.entry);
}

} // namespace

CollectiveScope::CollectiveScope(dist::Communicator *comm, const std::string &entry) {
  state.comm = comm;
  state.entry = entry;
  state.pending.clear();
  state.active = true;
}

CollectiveScope::~CollectiveScope() {
  // After an error the run is over (the trainer aborts the job); waiting for
  // the rest could block for another timeout each.
  if (state.comm && !hasKernelError())
    for (auto &[id, s] : state.pending)
      (void)state.comm->wait(s.request); // an error is already recorded
  state.pending.clear();
  state.comm = nullptr;
  state.active = false;
}

void progressCollectives() {
  if (state.comm && !state.pending.empty())
    state.comm->progress();
}

} // namespace tg::rt

using tg::rt::state;

extern "C" void _mlir_ciface_tgrt_allreduce_start(tg::rt::UnrankedMemRef *bucket, int64_t id,
                                                  int64_t op) {
  size_t count = 0;
  float *data = tg::rt::bucketData(bucket, count);
  if (!state.comm || tg::hasKernelError())
    return; // one rank (mean and sum are the identity), or the step already failed
  if (state.pending.count(id)) {
    tg::setKernelError(absl::StrCat(tg::rt::bucketName(id), " started twice"));
    return;
  }
  auto reduce = op == int64_t(tg::abi::CollectiveOp::Sum) ? tg::dist::ReduceOp::Sum
                                                          : tg::dist::ReduceOp::Mean;
  auto request = state.comm->allreduceStart(data, count, reduce, tg::rt::bucketName(id));
  if (!request.ok()) {
    tg::setKernelError(std::string(request.status().message()));
    return;
  }
  if (tg::rt::noOverlap()) { // bench/run_dp.sh's baseline: each bucket in turn
    if (absl::Status s = state.comm->wait(*request); !s.ok())
      tg::setKernelError(std::string(s.message()));
    state.pending[id] = {{-1}, data};
    return;
  }
  state.pending[id] = {*request, data};
}

extern "C" void _mlir_ciface_tgrt_allreduce_wait(tg::rt::UnrankedMemRef *bucket, int64_t id) {
  size_t count = 0;
  float *data = tg::rt::bucketData(bucket, count);
  if (!state.comm)
    return;
  auto it = state.pending.find(id);
  if (it == state.pending.end()) {
    if (!tg::hasKernelError())
      tg::setKernelError(absl::StrCat("wait for ", tg::rt::bucketName(id), ", which was not started"));
    return;
  }
  tg::rt::Started started = it->second;
  state.pending.erase(it);
  if (tg::hasKernelError() || started.request.id < 0)
    return; // an earlier bucket failed (the step is lost), or it completed at start
  if (started.data != data) {
    tg::setKernelError(absl::StrCat(tg::rt::bucketName(id), ": waited on another buffer"));
    return;
  }
  if (absl::Status s = state.comm->wait(started.request); !s.ok())
    tg::setKernelError(std::string(s.message()));
}
