//===- Device.cpp - the device side of a session (CUDA artifacts) ---------===//
#include "runtime/Device.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <dlfcn.h>

#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

namespace tg {
namespace rt {
namespace {

/// libtgrt's own directory (libtgrt_cuda is built and installed beside it).
std::string ownDirectory() {
  Dl_info info;
  if (!dladdr(reinterpret_cast<void *>(&loadCudaRuntime), &info) || !info.dli_fname)
    return "";
  std::string path = info.dli_fname;
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

} // namespace

absl::StatusOr<const TgCudaApi *> loadCudaRuntime() {
  static std::once_flag once;
  static absl::StatusOr<const TgCudaApi *> result = absl::UnknownError("");
  std::call_once(once, [] {
#ifndef TG_HAVE_CUDA_RUNTIME
    result = absl::FailedPreconditionError(
        "this tgc was built without the CUDA device runtime (no CUDA toolkit at build time; "
        "reconfigure with -DTG_ENABLE_CUDA=ON)");
#else
    std::string errors;
    for (std::string path : {ownDirectory() + "libtgrt_cuda.so", std::string("libtgrt_cuda.so")}) {
      void *lib = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
      if (!lib) {
        const char *e = dlerror();
        errors += absl::StrCat(errors.empty() ? "" : "; ", e ? e : path);
        continue;
      }
      auto get = reinterpret_cast<const TgCudaApi *(*)()>(dlsym(lib, "tgrt_cuda_api"));
      const TgCudaApi *api = get ? get() : nullptr;
      if (!api || api->version != kTgCudaApiVersion) {
        result = absl::FailedPreconditionError(
            absl::StrCat(path, " is not a matching CUDA device runtime (version ",
                         api ? api->version : -1, ", expected ", int(kTgCudaApiVersion), ")"));
        return;
      }
      // A null entry would crash at its first use, on a GPU machine only.
      const std::pair<const char *, bool> entries[] = {
          {"open", api->open != nullptr},         {"close", api->close != nullptr},
          {"activate", api->activate != nullptr}, {"alloc", api->alloc != nullptr},
          {"free", api->free != nullptr},         {"upload", api->upload != nullptr},
          {"download", api->download != nullptr}, {"finish", api->finish != nullptr},
          {"run", api->run != nullptr},           {"ncclId", api->ncclId != nullptr},
          {"ncclJoin", api->ncclJoin != nullptr}};
      for (auto [name, set] : entries)
        if (!set) {
          result = absl::FailedPreconditionError(
              absl::StrCat(path, " does not implement '", name, "' of the device API"));
          return;
        }
      result = api;
      return;
    }
    result = absl::FailedPreconditionError("cannot load the CUDA device runtime: " + errors);
#endif
  });
  return result;
}

absl::StatusOr<std::unique_ptr<DeviceSession>> DeviceSession::open(const Manifest &manifest,
                                                                   const void *fatbin,
                                                                   size_t fatbinBytes,
                                                                   const std::string &path) {
  std::string archs = manifest.cuda ? absl::StrJoin(manifest.cuda->archs, ", ") : "";
  auto context = [&](const std::string &why) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " was compiled for CUDA (", archs, "): ", why));
  };
  absl::StatusOr<const TgCudaApi *> api = loadCudaRuntime();
  if (!api.ok())
    return context(std::string(api.status().message()));
  if (!fatbin)
    return context("it has no embedded fatbin");
  std::vector<const char *> kernels;
  for (const CudaKernelSpec &k : manifest.cuda->kernels)
    kernels.push_back(k.name.c_str());
  std::vector<TgCudaCall> calls;
  for (const KernelCall &k : manifest.kernels)
    calls.push_back({k.symbol.c_str(), k.params.data(), k.params.size()});
  TgCudaModule module{fatbin,         fatbinBytes,  kernels.data(),
                      kernels.size(), calls.data(), calls.size()};
  char err[4096] = {0};
  void *handle = (*api)->open(&module, err, sizeof err);
  if (!handle)
    return context(err);
  return std::unique_ptr<DeviceSession>(new DeviceSession(*api, handle));
}

DeviceSession::~DeviceSession() { api->close(handle); }

absl::StatusOr<void *> DeviceSession::allocate(size_t bytes, const std::string &name) {
  char err[1024] = {0};
  void *p = api->alloc(handle, bytes, err, sizeof err);
  if (!p)
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate device buffer '", name, "' (", bytes, " bytes): ", err));
  return p;
}

void DeviceSession::release(void *device) { api->free(handle, device); }

absl::Status DeviceSession::upload(void *device, const void *host, size_t bytes) {
  char err[1024] = {0};
  if (api->upload(handle, device, host, bytes, err, sizeof err))
    return absl::InternalError(err);
  return absl::OkStatus();
}

absl::Status DeviceSession::download(void *host, const void *device, size_t bytes) {
  char err[1024] = {0};
  if (api->download(handle, host, device, bytes, err, sizeof err))
    return absl::InternalError(err);
  return absl::OkStatus();
}

void DeviceSession::activate() { api->activate(handle); }

absl::Status DeviceSession::joinCollectives(dist::Communicator &comm) {
  // Every rank takes part in the broadcast, also when rank 0 failed to make
  // the id: the message carries the failure.
  struct {
    int32_t failed = 0;
    char id[kTgNcclIdBytes] = {0};
  } message;
  char err[1024] = {0};
  if (comm.rank() == 0)
    message.failed = api->ncclId(handle, message.id, err, sizeof err);
  if (absl::Status s = comm.broadcast(&message, sizeof message, 0); !s.ok())
    return s;
  if (message.failed)
    return absl::FailedPreconditionError(
        comm.rank() == 0 ? absl::StrCat("NCCL for the GPU collectives: ", err)
                         : std::string("rank 0 could not start NCCL (see its error)"));
  if (api->ncclJoin(handle, message.id, comm.rank(), comm.size(), err, sizeof err))
    return absl::FailedPreconditionError(absl::StrCat("NCCL for the GPU collectives: ", err));
  return absl::OkStatus();
}

absl::Status DeviceSession::run(const std::string &entry, void (*fn)(void **),
                                std::vector<void *> &args, const std::vector<size_t> &words) {
  char err[4096] = {0};
  if (api->run(handle, entry.c_str(), fn, args.data(), words.data(), args.size(), err, sizeof err))
    return absl::InternalError(absl::StrCat("entry point '", entry, "' on the GPU: ", err));
  return absl::OkStatus();
}

absl::Status DeviceSession::finish(const std::string &entry) {
  char err[4096] = {0};
  if (api->finish(handle, err, sizeof err))
    return absl::InternalError(absl::StrCat("entry point '", entry, "' on the GPU: ", err));
  return absl::OkStatus();
}

} // namespace rt
} // namespace tg
