//===- Session.h - a CUDA session's device state ----------------*- C++ -*-===//
#ifndef TG_RUNTIME_CUDA_SESSION_H
#define TG_RUNTIME_CUDA_SESSION_H

#include "runtime/cuda/Libraries.h"

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace tg {
namespace cuda {

struct MatmulPlan; // Matmul.cpp

struct Session {
  const Driver *cu = nullptr;
  const CublasLt *lt = nullptr;
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUstream stream = nullptr;
  CUmodule module = nullptr;
  std::vector<CUfunction> kernels;
  cublasLtHandle_t blas = nullptr;
  const Cudnn *dnn = nullptr;
  cudnnHandle_t dnnHandle = nullptr;
  CUdeviceptr workspace = 0;
  size_t workspaceBytes = 0;
  /// Freed device blocks by size, reused before asking the driver: after
  /// the first step a step allocates nothing.
  std::multimap<size_t, CUdeviceptr> cache;
  std::unordered_map<CUdeviceptr, size_t> sizes;
  std::map<std::string, std::unique_ptr<MatmulPlan>> matmuls;
  /// The first error since the last finish (host code cannot return one).
  std::string error;
  /// Device copies of the host code's constants, by host address: uploaded
  /// once, then copied device to device (capturable in a CUDA graph).
  std::unordered_map<const void *, CUdeviceptr> constants;
  /// CUDA graphs of the entry points: the descriptors they were captured
  /// with, the executable graph, and the temporaries it uses (kept out of
  /// the cache while the graph lives, as replays reuse their addresses).
  struct Graph {
    std::vector<int64_t> descriptors;
    int runs = 0;
    CUgraphExec exec = nullptr;
    std::vector<CUdeviceptr> reserved;
    bool eager = false; ///< its capture failed: it runs without a graph
  };
  std::map<std::string, Graph> graphs;
  /// Page-locked staging for uploads (batches): the data is copied into a
  /// slot and sent with an asynchronous copy, so an upload returns without
  /// waiting for the device (the caller may reuse its buffer at once) and
  /// the transfer runs at full DMA speed. Two slots alternate; a slot waits
  /// for its previous copy (its event) before it is written again.
  struct Staging {
    void *host = nullptr;
    size_t bytes = 0;
    CUevent sent = nullptr;
    bool pending = false;
  };
  Staging staging[2];
  int nextStaging = 0;
  /// The next slot, holding at least `bytes`, free to write; null when
  /// page-locked memory cannot be had (the caller copies unstaged).
  Staging *stage(size_t bytes);
  bool graphsEnabled = true;
  Graph *capturing = nullptr;
  /// Destroys `g`'s executable graph and gives its blocks back to the cache.
  void dropGraph(Graph &g);

  /// Data-parallel artifacts (Collectives.cpp): the NCCL communicator and
  /// the stream its allreduces run on, so they overlap the backward pass;
  /// events order each bucket after its producers and before its readers.
  const Nccl *nccl = nullptr;
  ncclComm_t comm = nullptr;
  CUstream commStream = nullptr;
  struct Bucket {
    CUevent ready = nullptr, done = nullptr;
    CUdeviceptr data = 0;
    bool started = false;
  };
  std::map<int64_t, Bucket> buckets;
  /// Destroys the communicator, the stream and the events.
  void leaveCollectives();

  void fail(const std::string &message) {
    if (error.empty())
      error = message;
  }
  bool check(CUresult r, const char *what) {
    if (r == CUDA_SUCCESS)
      return true;
    fail(std::string(what) + ": " + describe(*cu, r));
    return false;
  }
  CUdeviceptr allocate(size_t bytes);
  /// TGRT_CUDA_POISON=1: blocks are handed out filled with NaN.
  bool poison = false;
  CUdeviceptr poisoned(CUdeviceptr p, size_t bytes);
  void release(CUdeviceptr p);
  /// `bytes` of scratch on the stream: the shared workspace when it is
  /// large enough, else a block freed with releaseScratch.
  CUdeviceptr scratch(size_t bytes);
  void releaseScratch(CUdeviceptr p);
  Session();
  ~Session();
};

/// The session the calling thread's host code runs on (TgCudaApi::activate).
Session *current();

/// TgCudaApi::ncclId and ncclJoin (Collectives.cpp).
int ncclId(void *session, char *id, char *err, size_t errBytes);
int ncclJoin(void *session, const char *id, int rank, int size, char *err, size_t errBytes);

} // namespace cuda
} // namespace tg

#endif // TG_RUNTIME_CUDA_SESSION_H
