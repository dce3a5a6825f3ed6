//===- Collectives.cpp - libtgrt_cuda: NCCL for data-parallel artifacts ---===//
//
// A data-parallel artifact's host code calls tgrt_cuda_allreduce_start and
// _wait around each gradient bucket (tg-distribute). They run the bucket's
// ncclAllReduce on the session's communication stream: start records an
// event on the compute stream and makes the communication stream wait for
// it, wait makes the compute stream wait for the allreduce. So the reduction
// overlaps the rest of the backward pass, nothing blocks the host, and the
// whole step, collectives included, is captured into the CUDA graph.
//
// Ranks join one NCCL communicator per session (one process per GPU): rank 0
// makes the id, the host's communicator (MPI) sends it to the others.
//
//===----------------------------------------------------------------------===//
#include "runtime/DeviceApi.h"
#include "runtime/cuda/Session.h"
#include "runtime/cuda/Views.h"
#include "support/KernelAbi.h"

#include <cstdio>
#include <cstring>
#include <string>

namespace tg {
namespace cuda {
namespace {

void copyError(const std::string &message, char *err, size_t errBytes) {
  if (err && errBytes)
    std::snprintf(err, errBytes, "%s", message.c_str());
}

std::string ncclError(const Nccl &n, ncclResult_t r) {
  return std::string(n.ncclGetErrorString(r)) + " (NCCL error " + std::to_string(int(r)) + ")";
}

static_assert(sizeof(ncclUniqueId) == kTgNcclIdBytes, "NCCL's id size changed");

/// Loads NCCL for the session; false with the reason in `err`.
bool loadNccl(Session *s, char *err, size_t errBytes) {
  std::string error;
  s->nccl = nccl(error);
  if (!s->nccl)
    copyError(error, err, errBytes);
  return s->nccl != nullptr;
}

} // namespace

int ncclId(void *session, char *id, char *err, size_t errBytes) {
  auto *s = static_cast<Session *>(session);
  if (!loadNccl(s, err, errBytes))
    return 1;
  ncclUniqueId uid;
  if (ncclResult_t r = s->nccl->ncclGetUniqueId(&uid); r != ncclSuccess) {
    copyError("ncclGetUniqueId: " + ncclError(*s->nccl, r), err, errBytes);
    return 1;
  }
  std::memcpy(id, &uid, sizeof uid);
  return 0;
}

int ncclJoin(void *session, const char *id, int rank, int size, char *err, size_t errBytes) {
  auto *s = static_cast<Session *>(session);
  if (!loadNccl(s, err, errBytes))
    return 1;
  if (s->comm) {
    copyError("this session already joined an NCCL communicator", err, errBytes);
    return 1;
  }
  s->cu->cuCtxSetCurrent(s->context);
  if (CUresult r = s->cu->cuStreamCreate(&s->commStream, CU_STREAM_NON_BLOCKING);
      r != CUDA_SUCCESS) {
    copyError("creating the communication stream: " + describe(*s->cu, r), err, errBytes);
    return 1;
  }
  ncclUniqueId uid;
  std::memcpy(&uid, id, sizeof uid);
  if (ncclResult_t r = s->nccl->ncclCommInitRank(&s->comm, size, uid, rank); r != ncclSuccess) {
    s->comm = nullptr;
    copyError("ncclCommInitRank (rank " + std::to_string(rank) + " of " + std::to_string(size) +
                  "): " + ncclError(*s->nccl, r),
              err, errBytes);
    return 1;
  }
  return 0;
}

void Session::leaveCollectives() {
  if (comm) {
    cu->cuStreamSynchronize(commStream);
    nccl->ncclCommDestroy(comm);
    comm = nullptr;
  }
  for (auto &[id, b] : buckets) {
    if (b.ready)
      cu->cuEventDestroy(b.ready);
    if (b.done)
      cu->cuEventDestroy(b.done);
  }
  buckets.clear();
  if (commStream)
    cu->cuStreamDestroy(commStream);
  commStream = nullptr;
}

} // namespace cuda
} // namespace tg

using tg::cuda::Session;
using tg::cuda::UnrankedMemRef;

namespace {

/// The bucket's device data and element count (a 1-D f32 memref).
CUdeviceptr bucketData(const UnrankedMemRef *m, size_t &count) {
  tg::cuda::View v = tg::cuda::viewOf(m);
  count = v.sizes.size() == 1 ? size_t(v.sizes[0]) : 0;
  return reinterpret_cast<CUdeviceptr>(v.data);
}

std::string bucketName(int64_t id) { return "bucket " + std::to_string(id); }

} // namespace

extern "C" void _mlir_ciface_tgrt_cuda_allreduce_start(UnrankedMemRef *bucket, int64_t id,
                                                       int64_t op) {
  Session *s = tg::cuda::current();
  if (!s || !s->comm || !s->error.empty())
    return; // no communicator: one rank, where sum and mean are the identity
  size_t count = 0;
  CUdeviceptr data = bucketData(bucket, count);
  Session::Bucket &b = s->buckets[id];
  if (b.started) {
    s->fail(bucketName(id) + " started twice");
    return;
  }
  const tg::cuda::Driver &cu = *s->cu;
  if ((!b.ready && !s->check(cu.cuEventCreate(&b.ready, CU_EVENT_DISABLE_TIMING), "cuEventCreate")) ||
      (!b.done && !s->check(cu.cuEventCreate(&b.done, CU_EVENT_DISABLE_TIMING), "cuEventCreate")))
    return;
  if (!s->check(cu.cuEventRecord(b.ready, s->stream), "cuEventRecord") ||
      !s->check(cu.cuStreamWaitEvent(s->commStream, b.ready, 0), "cuStreamWaitEvent"))
    return;
  ncclRedOp_t reduce = op == int64_t(tg::abi::CollectiveOp::Sum) ? ncclSum : ncclAvg;
  void *p = reinterpret_cast<void *>(data);
  if (ncclResult_t r = s->nccl->ncclAllReduce(p, p, count, ncclFloat32, reduce, s->comm,
                                              reinterpret_cast<cudaStream_t>(s->commStream));
      r != ncclSuccess) {
    s->fail("ncclAllReduce of " + bucketName(id) + ": " +
            std::string(s->nccl->ncclGetErrorString(r)));
    return;
  }
  if (!s->check(cu.cuEventRecord(b.done, s->commStream), "cuEventRecord"))
    return;
  b.data = data;
  b.started = true;
}

extern "C" void _mlir_ciface_tgrt_cuda_allreduce_wait(UnrankedMemRef *bucket, int64_t id) {
  Session *s = tg::cuda::current();
  if (!s || !s->comm)
    return;
  size_t count = 0;
  CUdeviceptr data = bucketData(bucket, count);
  auto it = s->buckets.find(id);
  if (it == s->buckets.end() || !it->second.started) {
    if (s->error.empty())
      s->fail("wait for " + bucketName(id) + ", which was not started");
    return;
  }
  Session::Bucket &b = it->second;
  b.started = false;
  if (b.data != data) {
    s->fail(bucketName(id) + ": waited on another buffer");
    return;
  }
  s->check(s->cu->cuStreamWaitEvent(s->stream, b.done, 0), "cuStreamWaitEvent");
}
