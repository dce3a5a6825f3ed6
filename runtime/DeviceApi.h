//===- DeviceApi.h - libtgrt <-> libtgrt_cuda ---------------------*- C++ -*-===//
//
// libtgrt dlopens libtgrt_cuda (runtime/cuda/) only for an artifact compiled
// with --target=cuda, and drives a session's device side through this table
// (tgrt_cuda_api()). The artifact's host code itself calls libtgrt_cuda's
// tgrt_cuda_* functions (kernel launches, cuBLASLt, device allocations) on
// the session made current with `activate`. Every member is set (Device.cpp
// checks when it loads the library).
//
//===----------------------------------------------------------------------===//
#ifndef TG_RUNTIME_DEVICEAPI_H
#define TG_RUNTIME_DEVICEAPI_H

#include <cstddef>
#include <cstdint>

extern "C" {

/// One library call of the host code (the manifest's kernels): its symbol
/// (tgrt_cuda_*) and integer parameters, checked when a session opens.
struct TgCudaCall {
  const char *symbol;
  const int64_t *params;
  size_t numParams;
};

/// What a session loads: the fatbin and its kernels in index order.
struct TgCudaModule {
  const void *fatbin;
  size_t fatbinBytes;
  const char *const *kernels;
  size_t numKernels;
  const TgCudaCall *calls;
  size_t numCalls;
};

enum { kTgCudaApiVersion = 3 };

/// An NCCL unique id (NCCL_UNIQUE_ID_BYTES), passed between ranks as bytes.
enum { kTgNcclIdBytes = 128 };

/// Functions return 0 on success; otherwise the message is in `err`
/// (NUL-terminated, truncated to `errBytes`).
struct TgCudaApi {
  int version; ///< kTgCudaApiVersion
  /// Loads the driver and cuBLASLt, picks the device ($TGRT_CUDA_DEVICE or
  /// 0), loads the fatbin once and creates the session's stream.
  void *(*open)(const TgCudaModule *module, char *err, size_t errBytes);
  void (*close)(void *session);
  /// Makes `session` the one the calling thread's host code runs on.
  void (*activate)(void *session);
  void *(*alloc)(void *session, size_t bytes, char *err, size_t errBytes);
  void (*free)(void *session, void *device);
  int (*upload)(void *session, void *device, const void *host, size_t bytes, char *err,
                size_t errBytes);
  int (*download)(void *session, void *host, const void *device, size_t bytes, char *err,
                  size_t errBytes);
  /// Waits for the stream; reports the first error of the calls since the
  /// last finish (a failed launch, an unsupported library call).
  int (*finish)(void *session, char *err, size_t errBytes);
  /// Runs entry point `name` (its host code `fn` on the packed descriptors
  /// `args`, `numArgs` of them, each `words[i]` 64-bit words) on the session.
  /// The second run with the same descriptors is captured into a CUDA graph,
  /// and later runs replay it without running the host code. Then finish.
  int (*run)(void *session, const char *name, void (*fn)(void **), void **args, const size_t *words,
             size_t numArgs, char *err, size_t errBytes);
  /// Loads NCCL and makes a new unique id (rank 0 of a data-parallel run;
  /// the caller sends it to the other ranks) into `id` (kTgNcclIdBytes).
  int (*ncclId)(void *session, char *id, char *err, size_t errBytes);
  /// Joins the NCCL communicator `id` as `rank` of `size` (blocks until
  /// every rank has joined); the artifact's tgrt_cuda_allreduce_* calls then
  /// reduce across the ranks' GPUs.
  int (*ncclJoin)(void *session, const char *id, int rank, int size, char *err, size_t errBytes);
};

/// The entry point libtgrt looks up in libtgrt_cuda.
const TgCudaApi *tgrt_cuda_api(void);
}

#endif // TG_RUNTIME_DEVICEAPI_H
