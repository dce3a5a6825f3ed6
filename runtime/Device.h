//===- Device.h - the device side of a session (CUDA artifacts) -*- C++ -*-===//
//
// libtgrt stays CPU-only: for an artifact with a `cuda` manifest section it
// dlopens libtgrt_cuda (next to libtgrt, RTLD_GLOBAL so the artifact's
// tgrt_cuda_* calls resolve) and keeps the session's buffers on the device
// through it. Without a GPU, a driver or libtgrt_cuda, opening a session is a
// FAILED_PRECONDITION error saying which.
//
//===----------------------------------------------------------------------===//
#ifndef TG_RUNTIME_DEVICE_H
#define TG_RUNTIME_DEVICE_H

#include "comm/Communicator.h"
#include "runtime/DeviceApi.h"
#include "support/Manifest.h"

#include "absl/status/statusor.h"

#include <memory>
#include <string>
#include <vector>

namespace tg {
namespace rt {

/// Loads libtgrt_cuda once; an error says why it is unavailable.
absl::StatusOr<const TgCudaApi *> loadCudaRuntime();

class DeviceSession {
public:
  /// Opens the device, loads `fatbin` and checks the library calls of
  /// `manifest` (its cuda section) against what libtgrt_cuda serves.
  static absl::StatusOr<std::unique_ptr<DeviceSession>>
  open(const Manifest &manifest, const void *fatbin, size_t fatbinBytes, const std::string &path);
  ~DeviceSession();

  /// A zeroed device buffer for `name`.
  absl::StatusOr<void *> allocate(size_t bytes, const std::string &name);
  void release(void *device);
  absl::Status upload(void *device, const void *host, size_t bytes);
  absl::Status download(void *host, const void *device, size_t bytes);
  /// Makes this the session the calling thread's host code runs on.
  void activate();
  /// Joins this rank's GPU to an NCCL communicator of `comm`'s ranks (one
  /// process per GPU; rank 0's id goes to the others through `comm`), which
  /// the artifact's allreduces then use. Collective: every rank calls it.
  absl::Status joinCollectives(dist::Communicator &comm);
  /// Waits for the step; its first device error, naming `entry`.
  absl::Status finish(const std::string &entry);
  /// Runs entry point `entry` (host code `fn` on memref descriptors `args`,
  /// `words[i]` 64-bit words each; replayed as a CUDA graph once its
  /// descriptors repeat) and finishes it.
  absl::Status run(const std::string &entry, void (*fn)(void **), std::vector<void *> &args,
                   const std::vector<size_t> &words);

private:
  DeviceSession(const TgCudaApi *api, void *handle) : api(api), handle(handle) {}
  const TgCudaApi *api;
  void *handle;
};

} // namespace rt
} // namespace tg

#endif // TG_RUNTIME_DEVICE_H
