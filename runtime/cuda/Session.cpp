//===- Session.cpp - libtgrt_cuda: sessions and the host code's calls -----===//
//
// One CUDA session per tg_session: the device's primary context, one
// non-blocking stream on which every launch, copy and cuBLASLt call of the
// host code is queued, the fatbin loaded once (cuModuleLoadDataEx, the JIT
// log kept for errors), and a caching allocator.
//
//===----------------------------------------------------------------------===//
#include "runtime/cuda/Session.h"
#include "runtime/DeviceApi.h"
#include "support/KernelAbi.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace tg {
namespace cuda {
namespace {

thread_local Session *currentSession = nullptr;

void copyError(const std::string &message, char *err, size_t errBytes) {
  if (!err || !errBytes)
    return;
  std::snprintf(err, errBytes, "%s", message.c_str());
}

void *open(const TgCudaModule *m, char *err, size_t errBytes) {
  std::string error;
  auto s = std::make_unique<Session>();
  if (const char *v = std::getenv("TGRT_CUDA_GRAPHS"); v && std::string(v) == "0")
    s->graphsEnabled = false;
  // A check aid: every block the allocator hands out starts as NaN, so a
  // kernel that leaves part of its output unwritten shows in the results.
  if (const char *v = std::getenv("TGRT_CUDA_POISON"); v && std::string(v) == "1")
    s->poison = true;
  s->cu = driver(error);
  if (!s->cu) {
    copyError(error, err, errBytes);
    return nullptr;
  }
  const Driver &cu = *s->cu;
  auto fail = [&](const std::string &what, CUresult r) -> void * {
    copyError(what + ": " + describe(cu, r), err, errBytes);
    return nullptr;
  };
  if (CUresult r = cu.cuInit(0); r != CUDA_SUCCESS)
    return fail("cuInit failed (no usable NVIDIA GPU or driver?)", r);
  int count = 0;
  if (CUresult r = cu.cuDeviceGetCount(&count); r != CUDA_SUCCESS || count == 0) {
    copyError("no CUDA device found", err, errBytes);
    return nullptr;
  }
  // One process per GPU under a launcher: the node-local rank picks it.
  int ordinal = 0;
  for (const char *local : {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID"})
    if (const char *v = std::getenv(local); v && *v) {
      ordinal = std::atoi(v) % count;
      break;
    }
  if (const char *v = std::getenv("TGRT_CUDA_DEVICE"); v && *v)
    ordinal = std::atoi(v);
  if (ordinal < 0 || ordinal >= count) {
    copyError("TGRT_CUDA_DEVICE=" + std::to_string(ordinal) + " but there are " +
                  std::to_string(count) + " devices",
              err, errBytes);
    return nullptr;
  }
  if (CUresult r = cu.cuDeviceGet(&s->device, ordinal); r != CUDA_SUCCESS)
    return fail("cuDeviceGet", r);
  // After the driver: on a machine without a GPU that is the first thing to
  // hear (tgc compile already warned about these).
  for (size_t i = 0; i < m->numCalls; ++i) {
    const TgCudaCall &c = m->calls[i];
    if (std::string why =
            tg::abi::cudaUnsupportedCall(c.symbol ? c.symbol : "", c.params, c.numParams);
        !why.empty()) {
      copyError("this artifact calls " + why, err, errBytes);
      return nullptr;
    }
  }
  if (CUresult r = cu.cuDevicePrimaryCtxRetain(&s->context, s->device); r != CUDA_SUCCESS)
    return fail("cuDevicePrimaryCtxRetain", r);
  if (CUresult r = cu.cuCtxSetCurrent(s->context); r != CUDA_SUCCESS)
    return fail("cuCtxSetCurrent", r);
  if (CUresult r = cu.cuStreamCreate(&s->stream, CU_STREAM_NON_BLOCKING); r != CUDA_SUCCESS)
    return fail("cuStreamCreate", r);
  if (m->numKernels) {
    char log[8192] = {0};
    CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void *values[] = {log, reinterpret_cast<void *>(uintptr_t(sizeof log))};
    if (CUresult r = cu.cuModuleLoadDataEx(&s->module, m->fatbin, 2, options, values);
        r != CUDA_SUCCESS) {
      int major = 0, minor = 0;
      cu.cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, s->device);
      cu.cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, s->device);
      return fail("loading the artifact's fatbin on a sm_" + std::to_string(major * 10 + minor) +
                      " device (recompile with --cuda-arch=sm_" +
                      std::to_string(major * 10 + minor) + "?)" + (log[0] ? ": " : "") + log,
                  r);
    }
    for (size_t i = 0; i < m->numKernels; ++i) {
      CUfunction f = nullptr;
      if (CUresult r = cu.cuModuleGetFunction(&f, s->module, m->kernels[i]); r != CUDA_SUCCESS)
        return fail(std::string("kernel '") + m->kernels[i] + "' is not in the fatbin", r);
      s->kernels.push_back(f);
    }
  }
  bool dnnCalls = false;
  for (size_t i = 0; i < m->numCalls; ++i) {
    std::string symbol = m->calls[i].symbol ? m->calls[i].symbol : "";
    dnnCalls |=
        symbol.find("conv2d") != std::string::npos || symbol.find("pool2d") != std::string::npos;
  }
  if (dnnCalls) {
    s->dnn = cudnn(error);
    if (!s->dnn) {
      copyError(error, err, errBytes);
      return nullptr;
    }
    if (cudnnStatus_t st = s->dnn->cudnnCreate(&s->dnnHandle); st != CUDNN_STATUS_SUCCESS) {
      copyError(std::string("cudnnCreate failed: ") + s->dnn->cudnnGetErrorString(st), err,
                errBytes);
      return nullptr;
    }
    s->dnn->cudnnSetStream(s->dnnHandle, reinterpret_cast<cudaStream_t>(s->stream));
  }
  if (m->numCalls) {
    s->lt = cublasLt(error);
    if (!s->lt) {
      copyError(error, err, errBytes);
      return nullptr;
    }
    if (cublasStatus_t st = s->lt->cublasLtCreate(&s->blas); st != CUBLAS_STATUS_SUCCESS) {
      copyError("cublasLtCreate failed (status " + std::to_string(int(st)) + ")", err, errBytes);
      return nullptr;
    }
    s->workspaceBytes = 32u << 20;
    if (CUresult r = cu.cuMemAlloc(&s->workspace, s->workspaceBytes); r != CUDA_SUCCESS)
      return fail("allocating the cuBLASLt workspace", r);
  }
  return s.release();
}

void close(void *session) { delete static_cast<Session *>(session); }

void activate(void *session) {
  currentSession = static_cast<Session *>(session);
  if (currentSession)
    currentSession->cu->cuCtxSetCurrent(currentSession->context);
}

void *alloc(void *session, size_t bytes, char *err, size_t errBytes) {
  auto *s = static_cast<Session *>(session);
  s->error.clear();
  CUdeviceptr p = s->allocate(bytes);
  if (!p) {
    copyError(s->error, err, errBytes);
    s->error.clear();
    return nullptr;
  }
  CUresult r = s->cu->cuMemsetD8Async(p, 0, bytes, s->stream);
  if (r != CUDA_SUCCESS) {
    copyError("zeroing a device buffer: " + describe(*s->cu, r), err, errBytes);
    return nullptr;
  }
  return reinterpret_cast<void *>(p);
}

void freeBuffer(void *session, void *device) {
  static_cast<Session *>(session)->release(reinterpret_cast<CUdeviceptr>(device));
}

/// Uploads up to this size go through the pinned staging slots; larger ones
/// (parameters at start, once) copy from pageable memory and wait.
constexpr size_t kMaxStagedBytes = size_t(64) << 20;

int upload(void *session, void *device, const void *host, size_t bytes, char *err,
           size_t errBytes) {
  auto *s = static_cast<Session *>(session);
  const Driver &cu = *s->cu;
  auto to = reinterpret_cast<CUdeviceptr>(device);
  CUresult r = CUDA_SUCCESS;
  if (Session::Staging *slot = bytes <= kMaxStagedBytes ? s->stage(bytes) : nullptr) {
    // Stream order puts the copy before the next step's kernels.
    std::memcpy(slot->host, host, bytes);
    r = cu.cuMemcpyHtoDAsync(to, slot->host, bytes, s->stream);
    if (r == CUDA_SUCCESS)
      r = cu.cuEventRecord(slot->sent, s->stream);
    slot->pending = r == CUDA_SUCCESS;
  } else {
    r = cu.cuMemcpyHtoDAsync(to, host, bytes, s->stream);
    if (r == CUDA_SUCCESS)
      r = cu.cuStreamSynchronize(s->stream); // the host buffer may change next
  }
  if (r != CUDA_SUCCESS)
    copyError("copying to the device: " + describe(cu, r), err, errBytes);
  return r != CUDA_SUCCESS;
}

int download(void *session, void *host, const void *device, size_t bytes, char *err,
             size_t errBytes) {
  auto *s = static_cast<Session *>(session);
  CUresult r =
      s->cu->cuMemcpyDtoHAsync(host, reinterpret_cast<CUdeviceptr>(device), bytes, s->stream);
  if (r == CUDA_SUCCESS)
    r = s->cu->cuStreamSynchronize(s->stream);
  if (r != CUDA_SUCCESS)
    copyError("copying from the device: " + describe(*s->cu, r), err, errBytes);
  return r != CUDA_SUCCESS;
}

int finish(void *session, char *err, size_t errBytes) {
  auto *s = static_cast<Session *>(session);
  s->check(s->cu->cuStreamSynchronize(s->stream), "running the step");
  if (s->error.empty())
    return 0;
  copyError(s->error, err, errBytes);
  s->error.clear();
  return 1;
}

/// Stream capture of the host code's calls into `g` (CUDA graph); false
/// when the driver refused it (nothing of the step ran then).
bool capture(Session *s, Session::Graph &g, void (*fn)(void **), void **args) {
  const Driver &cu = *s->cu;
  // Relaxed: the host code may allocate (cuMemAlloc) while it is captured.
  if (cu.cuStreamBeginCapture(s->stream, CU_STREAM_CAPTURE_MODE_RELAXED) != CUDA_SUCCESS)
    return false;
  s->capturing = &g;
  fn(args);
  s->capturing = nullptr;
  CUgraph graph = nullptr;
  CUresult r = cu.cuStreamEndCapture(s->stream, &graph);
  if (r == CUDA_SUCCESS && s->error.empty())
    r = cu.cuGraphInstantiate(&g.exec, graph, 0);
  if (graph)
    cu.cuGraphDestroy(graph);
  if (r == CUDA_SUCCESS && s->error.empty() && g.exec)
    return true;
  s->dropGraph(g);
  g.eager = true;
  s->error.clear(); // a call that cannot be captured; the eager run reports real errors
  return false;
}

/// The first run of an entry point with given buffers runs eagerly (it
/// uploads the constants and plans the library calls), the second is
/// captured into a CUDA graph, later ones replay it: one launch per step.
int run(void *session, const char *name, void (*fn)(void **), void **args, const size_t *words,
        size_t numArgs, char *err, size_t errBytes) {
  auto *s = static_cast<Session *>(session);
  activate(s);
  std::vector<int64_t> key;
  for (size_t i = 0; i < numArgs; ++i) {
    auto *d = static_cast<const int64_t *>(args[i]);
    key.insert(key.end(), d, d + words[i]);
  }
  Session::Graph &g = s->graphs[name];
  if (g.descriptors != key) { // other buffers: the captured addresses are stale
    s->dropGraph(g);
    g.descriptors = std::move(key);
  }
  ++g.runs;
  if (!s->graphsEnabled || g.eager || g.runs < 2 || (!g.exec && !capture(s, g, fn, args)))
    fn(args);
  else
    s->check(s->cu->cuGraphLaunch(g.exec, s->stream), "cuGraphLaunch");
  return finish(s, err, errBytes);
}

const TgCudaApi kApi = {kTgCudaApiVersion, open,     close,  activate, alloc,  freeBuffer,
                        upload,            download, finish, run,      ncclId, ncclJoin};

} // namespace

Session *current() { return currentSession; }

CUdeviceptr Session::allocate(size_t bytes) {
  bytes = std::max<size_t>(256, (bytes + 255) / 256 * 256);
  auto it = cache.find(bytes);
  if (it != cache.end()) {
    CUdeviceptr p = it->second;
    cache.erase(it);
    return poisoned(p, bytes);
  }
  CUdeviceptr p = 0;
  CUresult r = cu->cuMemAlloc(&p, bytes);
  if (r == CUDA_ERROR_OUT_OF_MEMORY && !cache.empty()) {
    // Give the cached blocks back and try once more.
    cu->cuStreamSynchronize(stream);
    for (auto &[size, block] : cache) {
      cu->cuMemFree(block);
      sizes.erase(block);
    }
    cache.clear();
    r = cu->cuMemAlloc(&p, bytes);
  }
  if (!check(r, ("allocating " + std::to_string(bytes) + " bytes of device memory").c_str()))
    return 0;
  sizes[p] = bytes;
  return poisoned(p, bytes);
}

Session::Staging *Session::stage(size_t bytes) {
  Staging &slot = staging[nextStaging];
  if (slot.pending && cu->cuEventSynchronize(slot.sent) != CUDA_SUCCESS)
    return nullptr;
  slot.pending = false;
  if (!slot.sent && cu->cuEventCreate(&slot.sent, CU_EVENT_DISABLE_TIMING) != CUDA_SUCCESS)
    return nullptr;
  if (slot.bytes < bytes) {
    if (slot.host)
      cu->cuMemFreeHost(slot.host);
    slot.host = nullptr;
    slot.bytes = 0;
    size_t size = std::max<size_t>(bytes, size_t(1) << 20);
    if (cu->cuMemAllocHost(&slot.host, size) != CUDA_SUCCESS)
      return nullptr;
    slot.bytes = size;
  }
  nextStaging ^= 1;
  return &slot;
}

CUdeviceptr Session::poisoned(CUdeviceptr p, size_t bytes) {
  if (poison) // a quiet NaN in every 32-bit word (bytes is a multiple of 256)
    check(cu->cuMemsetD32Async(p, 0x7fc00000u, bytes / 4, stream), "filling a block with NaN");
  return p;
}

CUdeviceptr Session::scratch(size_t bytes) {
  if (bytes <= workspaceBytes)
    return workspace;
  return allocate(bytes);
}

void Session::releaseScratch(CUdeviceptr p) {
  if (p != workspace)
    release(p);
}

void Session::dropGraph(Graph &g) {
  if (g.exec) {
    cu->cuStreamSynchronize(stream);
    cu->cuGraphExecDestroy(g.exec);
    g.exec = nullptr;
  }
  for (CUdeviceptr p : g.reserved)
    cache.emplace(sizes[p], p);
  g.reserved.clear();
  g.runs = 0;
}

void Session::release(CUdeviceptr p) {
  auto it = sizes.find(p);
  if (it == sizes.end()) {
    if (p)
      fail("freeing a device pointer this session did not allocate");
    return;
  }
  if (capturing) { // the graph's replays use this block again
    capturing->reserved.push_back(p);
    return;
  }
  cache.emplace(it->second, p); // stream order keeps reuse after pending kernels safe
}

} // namespace cuda
} // namespace tg

using tg::cuda::current;

extern "C" const TgCudaApi *tgrt_cuda_api(void) { return &tg::cuda::kApi; }

// The artifact's host code (tg-cuda-lower-launches, tg-cuda-device-allocations).

struct StridedMemRef1D {
  int64_t *allocated, *aligned;
  int64_t offset, size, stride;
};

extern "C" void *tgrt_cuda_alloc(size_t bytes) {
  tg::cuda::Session *s = current();
  if (!s)
    return nullptr;
  return reinterpret_cast<void *>(s->allocate(bytes));
}

extern "C" void *tgrt_cuda_aligned_alloc(size_t alignment, size_t bytes) {
  // Device blocks are 256-byte aligned (cuMemAlloc), more than MLIR asks.
  if (alignment > 256 && current())
    current()->fail("device allocation with alignment > 256");
  return tgrt_cuda_alloc(bytes);
}

extern "C" void tgrt_cuda_free(void *p) {
  if (tg::cuda::Session *s = current())
    s->release(reinterpret_cast<CUdeviceptr>(p));
}

extern "C" void _mlir_ciface_tgrt_cuda_launch(int64_t kernel, int64_t grid, int64_t block,
                                              int64_t words, StridedMemRef1D *args) {
  tg::cuda::Session *s = current();
  if (!s)
    return;
  if (kernel < 0 || size_t(kernel) >= s->kernels.size() || words > args->size) {
    s->fail("launch of kernel #" + std::to_string(kernel) + " that the fatbin lacks");
    return;
  }
  // The driver copies each parameter (its size from the kernel's signature)
  // from these addresses when the launch is queued.
  std::vector<void *> params(static_cast<size_t>(words));
  for (int64_t i = 0; i < words; ++i)
    params[size_t(i)] = args->aligned + args->offset + i * args->stride;
  s->check(s->cu->cuLaunchKernel(s->kernels[size_t(kernel)], unsigned(grid), 1, 1, unsigned(block),
                                 1, 1, 0, s->stream, params.data(), nullptr),
           "cuLaunchKernel");
}

extern "C" void tgrt_cuda_upload(int64_t device, int64_t host, int64_t bytes) {
  tg::cuda::Session *s = current();
  if (!s)
    return;
  // The first upload of a constant (never in a capture: the first run of an
  // entry point is not captured) keeps a device copy.
  auto *src = reinterpret_cast<const void *>(host);
  auto it = s->constants.find(src);
  if (it == s->constants.end()) {
    if (s->capturing) {
      s->fail("a constant first uploaded while capturing a CUDA graph");
      return;
    }
    CUdeviceptr copy = s->allocate(size_t(bytes));
    if (!copy || !s->check(s->cu->cuMemcpyHtoDAsync(copy, src, size_t(bytes), s->stream),
                           "uploading a constant"))
      return;
    s->sizes.erase(copy); // owned by the constants table, not the cache
    it = s->constants.emplace(src, copy).first;
  }
  s->check(s->cu->cuMemcpyDtoDAsync(CUdeviceptr(device), it->second, size_t(bytes), s->stream),
           "copying a constant");
}
