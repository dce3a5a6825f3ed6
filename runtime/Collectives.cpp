//===- Collectives.cpp - tgrt_allreduce_start / tgrt_allreduce_wait -------===//
#include "runtime/Collectives.h"
#include "runtime/KernelStatus.h"
#include "support/KernelAbi.h"
#include "tg/tg_runtime.h"

#include "absl/strings/str_cat.h"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>

namespace tg::rt {
namespace {

/// A bucket between its start and its wait. Its collective starts at the
/// next library kernel (compute to overlap with; the same point on every
/// rank, which runs the same code), or, when none comes first, as a
/// blocking allreduce at the wait: Open MPI's blocking collectives are about
/// twice as fast as its non-blocking ones, which without asynchronous
/// progress gain nothing when nothing runs in between.
struct Started {
  bool inFlight = false;
  dist::Request request;
  float *data = nullptr;
  size_t count = 0;
  dist::ReduceOp op = dist::ReduceOp::Mean;
};

/// The running step's collectives (one step per thread at a time).
struct ThreadState {
  dist::Communicator *comm = nullptr;
  std::string entry;
  std::map<int64_t, Started> pending; ///< by bucket id
  bool active = false;
  int stageStride = 1;
  dist::Communicator *p2p = nullptr; ///< pipeline transfers (null: comm)
  std::map<int64_t, dist::Request> receives; ///< pipeline receives, by tag
};

thread_local ThreadState state;
/// Seconds this thread waited in tgrt_recv_wait (tg_pipeline_wait_seconds).
thread_local double pipelineWait = 0;

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

/// The communicator's reduction for a call's abi::CollectiveOp parameter.
dist::ReduceOp reduceOpOf(int64_t op) {
  return op == int64_t(abi::CollectiveOp::Sum)    ? dist::ReduceOp::Sum
         : op == int64_t(abi::CollectiveOp::Mean) ? dist::ReduceOp::Mean
                                                  : dist::ReduceOp::GradientMean;
}

std::string bucketName(int64_t id) {
  return absl::StrCat("bucket ", id, " of ", state.entry.empty() ? "a step" : state.entry);
}

} // namespace

CollectiveScope::CollectiveScope(dist::Communicator *comm, const std::string &entry,
                                 int stageStride, dist::Communicator *transfers) {
  state.comm = comm;
  state.p2p = transfers ? transfers : comm;
  state.entry = entry;
  state.pending.clear();
  state.receives.clear();
  state.stageStride = stageStride;
  state.active = true;
}

CollectiveScope::~CollectiveScope() {
  // After an error the run is over (the trainer aborts the job); waiting for
  // the rest could block for another timeout each.
  if (state.comm && !hasKernelError())
    for (auto &[id, s] : state.pending)
      if (s.inFlight)
        (void)state.comm->wait(s.request);
  state.pending.clear();
  // The step's sends are delivered before it returns: a step never leaves
  // a message behind for the next one to trip over.
  if (state.p2p && !hasKernelError())
    if (absl::Status s = state.p2p->flushSends(); !s.ok())
      setKernelError(std::string(s.message()));
  // Receives a failed step left posted target its freed buffers: withdraw them.
  if (state.p2p)
    for (auto &[tag, r] : state.receives)
      state.p2p->cancelRecv(r);
  state.receives.clear();
  state.comm = nullptr;
  state.p2p = nullptr;
  state.active = false;
}

bool noOverlap() {
  static const bool off = [] {
    const char *v = std::getenv("TG_COLLECTIVES_NO_OVERLAP");
    return v && *v && std::string(v) != "0";
  }();
  return off;
}

void progressCollectives() {
  if (!state.comm || state.pending.empty())
    return;
  if (!noOverlap())
    for (auto &[id, s] : state.pending) // in id order, the same on every rank
      if (!s.inFlight && !hasKernelError()) {
        auto request = state.comm->allreduceStart(s.data, s.count, s.op, bucketName(id));
        if (!request.ok()) {
          setKernelError(std::string(request.status().message()));
          return;
        }
        s.request = *request;
        s.inFlight = true;
      }
  state.comm->progress();
}

} // namespace tg::rt

using tg::rt::pipelineWait;
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
  tg::dist::ReduceOp reduce = tg::rt::reduceOpOf(op);
  tg::rt::Started started;
  started.data = data;
  started.count = count;
  started.op = reduce;
  state.pending[id] = started; // the collective starts at the next kernel or the wait
}

extern "C" void _mlir_ciface_tgrt_allreduce_wait(tg::rt::UnrankedMemRef *bucket, int64_t id) {
  size_t count = 0;
  float *data = tg::rt::bucketData(bucket, count);
  if (!state.comm)
    return;
  auto it = state.pending.find(id);
  if (it == state.pending.end()) {
    if (!tg::hasKernelError())
      tg::setKernelError(
          absl::StrCat("wait for ", tg::rt::bucketName(id), ", which was not started"));
    return;
  }
  tg::rt::Started started = it->second;
  state.pending.erase(it);
  if (tg::hasKernelError())
    return; // an earlier bucket failed: the step is lost, do not wait again
  if (started.data != data) {
    tg::setKernelError(absl::StrCat(tg::rt::bucketName(id), ": waited on another buffer"));
    return;
  }
  absl::Status s = started.inFlight
                       ? state.comm->wait(started.request)
                       : state.comm->allreduce(data, count, started.op, tg::rt::bucketName(id));
  if (!s.ok())
    tg::setKernelError(std::string(s.message()));
}

namespace {

/// A sharded op's call: its full and shard buffers, checked against the
/// world (full = size() * shard); `ok` false when the step already failed or
/// the sizes disagree (then the step fails naming both).
struct ShardCall {
  float *full = nullptr, *shard = nullptr;
  size_t fullCount = 0, shardCount = 0;
  int world = 1, rank = 0;
  bool ok = false;
};

ShardCall shardCall(const char *op, tg::rt::UnrankedMemRef *full, tg::rt::UnrankedMemRef *shard) {
  ShardCall c;
  c.full = tg::rt::bucketData(full, c.fullCount);
  c.shard = tg::rt::bucketData(shard, c.shardCount);
  if (tg::hasKernelError())
    return c;
  c.world = state.comm ? state.comm->size() : 1;
  c.rank = state.comm ? state.comm->rank() : 0;
  if (c.fullCount != size_t(c.world) * c.shardCount) {
    tg::setKernelError(absl::StrCat(
        op, ": compiled for a world of ", c.shardCount ? c.fullCount / c.shardCount : 0,
        " ranks (tgc compile --shard-optimizer-state), running ", c.world));
    return c;
  }
  c.ok = true;
  return c;
}

void failOn(const absl::Status &s) {
  if (!s.ok())
    tg::setKernelError(std::string(s.message()));
}

} // namespace

extern "C" void _mlir_ciface_tgrt_reduce_scatter(tg::rt::UnrankedMemRef *in,
                                                 tg::rt::UnrankedMemRef *out, int64_t op) {
  ShardCall c = shardCall("tg.reduce_scatter", in, out);
  if (!c.ok)
    return;
  if (!state.comm) { // a world of one
    std::memmove(c.shard, c.full, c.shardCount * sizeof(float));
    return;
  }
  tg::dist::ReduceOp reduce = tg::rt::reduceOpOf(op);
  failOn(state.comm->reduceScatter(
      c.full, c.shardCount, c.shard, reduce,
      absl::StrCat("the gradients' reduce-scatter of ",
                   state.entry.empty() ? "a step" : state.entry)));
}

extern "C" void _mlir_ciface_tgrt_allgather(tg::rt::UnrankedMemRef *in,
                                            tg::rt::UnrankedMemRef *out) {
  ShardCall c = shardCall("tg.allgather", out, in);
  if (!c.ok)
    return;
  if (!state.comm)
    std::memmove(c.full, c.shard, c.shardCount * sizeof(float));
  else
    failOn(state.comm->allgather(c.shard, c.shardCount * sizeof(float), c.full));
}

extern "C" void _mlir_ciface_tgrt_local_shard(tg::rt::UnrankedMemRef *in,
                                              tg::rt::UnrankedMemRef *out) {
  ShardCall c = shardCall("tg.local_shard", in, out);
  if (c.ok)
    std::memmove(c.shard, c.full + size_t(c.rank) * c.shardCount, c.shardCount * sizeof(float));
}

namespace {

/// A transfer's buffer: the data and bytes of a 1-D memref of
/// `elementBytes`-byte elements.
void *transferData(const tg::rt::UnrankedMemRef *m, int64_t elementBytes, size_t &bytes) {
  auto *d = static_cast<char *>(m->descriptor);
  char *aligned = *reinterpret_cast<char **>(d + sizeof(void *));
  int64_t offset = *reinterpret_cast<int64_t *>(d + 2 * sizeof(void *));
  int64_t size = *reinterpret_cast<int64_t *>(d + 3 * sizeof(void *));
  bytes = m->rank == 1 ? size_t(size) * size_t(elementBytes) : 0;
  return aligned + offset * elementBytes;
}

/// The rank of the stage `peer` stages away, or -1 after setting the
/// step's error (no communicator: one process runs no other stage).
int peerRank(int64_t peer, int64_t tag, const char *what) {
  if (!state.p2p) {
    tg::setKernelError(absl::StrCat(
        what, " (tag ", tag, ", ", state.entry.empty() ? "a step" : state.entry,
        "): this entry point is one stage of a pipeline (tgc compile --pipeline-stages) and "
        "needs a rank per stage: run it with tgc train under mpirun -np S, or "
        "--emulate-world-size=S"));
    return -1;
  }
  return state.p2p->rank() + int(peer) * state.stageStride;
}

std::string transferName(const char *what, int64_t tag) {
  return absl::StrCat(what, " ", tag, " of ", state.entry.empty() ? "a step" : state.entry);
}

} // namespace

extern "C" void _mlir_ciface_tgrt_send_start(tg::rt::UnrankedMemRef *buffer, int64_t peer,
                                             int64_t tag, int64_t elementBytes) {
  if (tg::hasKernelError())
    return;
  size_t bytes = 0;
  void *data = transferData(buffer, elementBytes, bytes);
  int to = peerRank(peer, tag, "tg.send_start");
  if (to >= 0)
    failOn(state.p2p->send(data, bytes, to, tag, transferName("send", tag)));
}

// The send copied its data: its buffer is free (delivery is checked when the
// step ends).
extern "C" void _mlir_ciface_tgrt_send_wait(tg::rt::UnrankedMemRef *, int64_t) {}

extern "C" void _mlir_ciface_tgrt_recv_start(tg::rt::UnrankedMemRef *buffer, int64_t peer,
                                             int64_t tag, int64_t elementBytes) {
  if (tg::hasKernelError())
    return;
  size_t bytes = 0;
  void *data = transferData(buffer, elementBytes, bytes);
  int from = peerRank(peer, tag, "tg.recv_start");
  if (from < 0)
    return;
  absl::StatusOr<tg::dist::Request> r =
      state.p2p->recvStart(data, bytes, from, tag, transferName("receive", tag));
  if (!r.ok()) {
    failOn(r.status());
    return;
  }
  state.receives[tag] = *r;
}

extern "C" void _mlir_ciface_tgrt_recv_wait(tg::rt::UnrankedMemRef *, int64_t tag) {
  if (tg::hasKernelError() || !state.p2p)
    return;
  auto it = state.receives.find(tag);
  if (it == state.receives.end()) {
    tg::setKernelError(absl::StrCat("wait for receive ", tag, ", which was not started"));
    return;
  }
  tg::dist::Request r = it->second;
  state.receives.erase(it);
  auto begin = std::chrono::steady_clock::now();
  failOn(state.p2p->recvWait(r));
  pipelineWait += std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
}

extern "C" double tg_pipeline_wait_seconds(void) { return pipelineWait; }
