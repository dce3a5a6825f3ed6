//===- Libraries.cpp - the CUDA driver and libraries, dlopen'ed -----------===//
#include "runtime/cuda/Libraries.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

namespace tg {
namespace cuda {
namespace {

#define TG_STR2(x) #x
#define TG_STR(x) TG_STR2(x) // expands cuda.h's versioned names first

/// dlopens the first loadable of `paths`; `error` gathers why each failed.
void *openFirst(const std::vector<std::string> &paths, std::string &error) {
  for (const std::string &p : paths) {
    if (void *h = dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL))
      return h;
    const char *e = dlerror();
    error += (error.empty() ? "" : "; ") + std::string(e ? e : p);
  }
  return nullptr;
}

template <typename Table> std::vector<std::string> resolve(void *lib, Table &t, bool driver) {
  std::vector<std::string> missing;
  auto bind = [&](auto &slot, const char *name) {
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(dlsym(lib, name));
    if (!slot)
      missing.push_back(name);
  };
#define TG_BIND(name) bind(t.name, TG_STR(name));
  if constexpr (std::is_same_v<Table, Driver>) {
    TG_CUDA_DRIVER_FUNCTIONS(TG_BIND)
  } else if constexpr (std::is_same_v<Table, CublasLt>) {
    TG_CUBLASLT_FUNCTIONS(TG_BIND)
  } else if constexpr (std::is_same_v<Table, Cudnn>) {
    TG_CUDNN_FUNCTIONS(TG_BIND)
  } else {
    TG_NCCL_FUNCTIONS(TG_BIND)
  }
#undef TG_BIND
  (void)driver;
  return missing;
}

std::vector<std::string> candidates(const char *env, std::vector<std::string> defaults) {
  if (const char *v = std::getenv(env); v && *v)
    return {v};
  return defaults;
}

template <typename Table>
const Table *load(const char *env, std::vector<std::string> defaults, const char *what,
                  std::string &error) {
  static std::once_flag once;
  static Table table;
  static std::string loadError;
  static bool ok = false;
  std::call_once(once, [&] {
    std::string why;
    void *lib = openFirst(candidates(env, std::move(defaults)), why);
    if (!lib) {
      loadError = std::string("cannot load ") + what + " (" + why + ")";
      return;
    }
    std::vector<std::string> missing = resolve(lib, table, std::is_same_v<Table, Driver>);
    if (!missing.empty()) {
      loadError = std::string(what) + " lacks " + missing.front() + " (and " +
                  std::to_string(missing.size() - 1) + " more): too old?";
      return;
    }
    ok = true;
  });
  if (!ok)
    error = loadError;
  return ok ? &table : nullptr;
}

template <typename Table>
std::vector<std::string> missingSymbols(const std::string &path, std::string &error) {
  void *lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *e = dlerror();
    error = e ? e : path;
    return {};
  }
  Table t;
  // Not dlclose'd: CUDA libraries are loaded once per process anyway, and
  // unloading one leaks what its static initializers allocated.
  return resolve(lib, t, std::is_same_v<Table, Driver>);
}

} // namespace

const Driver *driver(std::string &error) {
  return load<Driver>("TGRT_CUDA_DRIVER", {"libcuda.so.1"},
                      "the NVIDIA driver library libcuda.so.1 (is there an NVIDIA GPU and driver?)",
                      error);
}

const CublasLt *cublasLt(std::string &error) {
  // 12: the functions used here kept their signatures (PyTorch's wheels
  // bring a CUDA 12 cuBLASLt to machines without a toolkit).
  return load<CublasLt>("TGRT_CUBLASLT", {"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"},
                        "cuBLASLt", error);
}

const Cudnn *cudnn(std::string &error) {
  return load<Cudnn>("TGRT_CUDNN", {"libcudnn.so.9", "libcudnn.so"}, "cuDNN", error);
}

const Nccl *nccl(std::string &error) {
  return load<Nccl>("TGRT_NCCL", {"libnccl.so.2", "libnccl.so"}, "NCCL", error);
}

std::vector<std::string> missingNcclSymbols(const std::string &path, std::string &error) {
  return missingSymbols<Nccl>(path, error);
}

std::vector<std::string> missingCudnnSymbols(const std::string &path, std::string &error) {
  return missingSymbols<Cudnn>(path, error);
}

std::vector<std::string> missingDriverSymbols(const std::string &path, std::string &error) {
  return missingSymbols<Driver>(path, error);
}

std::vector<std::string> missingCublasLtSymbols(const std::string &path, std::string &error) {
  return missingSymbols<CublasLt>(path, error);
}

std::string describe(const Driver &d, CUresult r) {
  const char *s = nullptr;
  if (d.cuGetErrorString && d.cuGetErrorString(r, &s) != CUDA_SUCCESS)
    s = nullptr;
  if (!s && r == CUDA_ERROR_STUB_LIBRARY)
    s = "the toolkit's link stub of libcuda was loaded, not a driver";
  if (!s && r == CUDA_ERROR_NO_DEVICE)
    s = "no CUDA-capable device";
  if (!s && r == CUDA_ERROR_SYSTEM_DRIVER_MISMATCH)
    s = "the driver is older than the CUDA runtime";
  return "CUDA error " + std::to_string(int(r)) + (s ? std::string(": ") + s : std::string());
}

} // namespace cuda
} // namespace tg
