//===- Runtime.cpp - artifact loading, buffers, entry points --------------===//
#include "runtime/Collectives.h"
#include "runtime/Denormals.h"
#include "runtime/Device.h"
#include "runtime/KernelStatus.h"
#include "runtime/cpu/Kernels.h"
#include "support/Init.h"
#include "support/KernelAbi.h"
#include "support/Manifest.h"
#include "support/Trailer.h"
#include "tg/tg_runtime.h"

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tg {

namespace {

/// An entry point: its manifest description and its compiled function.
struct Entry {
  const EntrySpec *spec = nullptr;
  void (*fn)(void **) = nullptr;
};

const std::map<std::string, bool> &hostFeatures() {
  static const std::map<std::string, bool> features = {
      {"sse4.2", __builtin_cpu_supports("sse4.2")},
      {"avx", __builtin_cpu_supports("avx")},
      {"avx2", __builtin_cpu_supports("avx2")},
      {"fma", __builtin_cpu_supports("fma")},
      {"bmi", __builtin_cpu_supports("bmi")},
      {"bmi2", __builtin_cpu_supports("bmi2")},
      {"avx512f", __builtin_cpu_supports("avx512f")},
      {"avx512vl", __builtin_cpu_supports("avx512vl")},
      {"avx512bw", __builtin_cpu_supports("avx512bw")},
      {"avx512dq", __builtin_cpu_supports("avx512dq")},
      {"avx512cd", __builtin_cpu_supports("avx512cd")},
      {"avx512vnni", __builtin_cpu_supports("avx512vnni")},
      {"avx512bf16", __builtin_cpu_supports("avx512bf16")}};
  return features;
}

struct AlignedFree {
  void operator()(void *p) const { std::free(p); }
};

struct Buffer {
  BufferSpec spec;
  size_t bytes = 0;
  std::unique_ptr<uint8_t, AlignedFree> data;
  /// CUDA sessions: the buffer's device copy (what entry points see); `data`
  /// is its host staging area. Freed by the session.
  void *device = nullptr;

  /// A zeroed buffer for `spec`; an allocation failure is an error naming
  /// the buffer, its shape and size (sizes were bounded when the manifest
  /// was read, so the product does not overflow).
  static absl::StatusOr<Buffer> allocate(const BufferSpec &spec) {
    Buffer b;
    b.spec = spec;
    b.bytes = spec.byteSize();
    size_t rounded = ((b.bytes + 63) / 64) * 64;
    b.data.reset(static_cast<uint8_t *>(std::aligned_alloc(64, rounded ? rounded : 64)));
    if (!b.data)
      return absl::ResourceExhaustedError(absl::StrCat("cannot allocate buffer '", spec.name, "' (",
                                                       spec.typeString(), ", ", b.bytes,
                                                       " bytes): out of memory"));
    std::memset(b.data.get(), 0, rounded ? rounded : 64);
    return b;
  }

  void fill(const std::vector<double> &values) {
    size_t n = values.size();
    uint8_t *p = data.get();
    for (size_t i = 0; i < n; ++i) {
      double v = values[i];
      switch (spec.dtype) {
      case DType::f32:
        reinterpret_cast<float *>(p)[i] = float(v);
        break;
      case DType::f64:
        reinterpret_cast<double *>(p)[i] = v;
        break;
      case DType::i32:
        reinterpret_cast<int32_t *>(p)[i] = int32_t(v);
        break;
      case DType::i64:
        reinterpret_cast<int64_t *>(p)[i] = int64_t(v);
        break;
      case DType::i1:
        p[i] = v != 0;
        break;
      case DType::f16:
      case DType::bf16:
        break; // no initializers for half types (the interpreter rejects them too)
      }
    }
  }
};

} // namespace
} // namespace tg

using namespace tg;

struct tg_artifact {
  std::string path;
  void *handle = nullptr;
  std::string manifestText;
  Manifest manifest;
  std::vector<Entry> entries; ///< in manifest order, each with its function
  /// CUDA artifacts: the embedded fatbin, and why sessions cannot run when
  /// the device runtime is missing (the artifact still opens, for inspect).
  const void *fatbin = nullptr;
  size_t fatbinBytes = 0;
  std::string cudaUnavailable;
  /// Set when a call of the artifact has no libtgrt_cuda function (it is
  /// open lazily): sessions are refused, after the device runtime's own
  /// check of the library calls has named the call.
  std::string cudaUnbound;
  ~tg_artifact() {
    if (handle)
      dlclose(handle);
  }
};

struct tg_session {
  tg_artifact *artifact = nullptr;
  tg::dist::Communicator *communicator = nullptr; ///< not owned; null: one rank
  /// A pipeline stage with data-parallel replicas: the replicas' group, for
  /// the compiled allreduces (the transfers use `communicator`).
  tg::dist::Communicator *dataCommunicator = nullptr;
  std::map<std::string, Buffer> args, results;
  std::unique_ptr<tg::rt::DeviceSession> device; ///< CUDA artifacts
  bool joinedCollectives = false;                ///< device: NCCL (once)
  int stage = -1; ///< a pipeline stage's session: only its entry points; -1: all
  bool runs(const EntrySpec &e) const { return stage < 0 || e.stage < 0 || e.stage == stage; }
  ~tg_session() {
    if (!device)
      return;
    for (auto *buffers : {&args, &results})
      for (auto &[name, b] : *buffers)
        device->release(b.device);
  }
};

static thread_local std::string lastError;

static tg_status fail(tg_status code, std::string message) {
  lastError = std::move(message);
  return code;
}

static tg_status fail(const absl::Status &s) {
  tg_status code = s.code() == absl::StatusCode::kNotFound             ? TG_NOT_FOUND
                   : s.code() == absl::StatusCode::kFailedPrecondition ? TG_FAILED_PRECONDITION
                   : s.code() == absl::StatusCode::kInternal           ? TG_INTERNAL
                                                                       : TG_INVALID_ARGUMENT;
  return fail(code, std::string(s.message()));
}

extern "C" const char *tg_last_error(void) { return lastError.c_str(); }

/// Reads the manifest (support/Manifest.h), checks the CPU features and binds
/// every entry point to its symbol.
static absl::Status loadManifest(tg_artifact &a) {
  auto m = parseManifest(a.manifestText, a.path);
  if (!m.ok())
    return m.status();
  a.manifest = std::move(*m);
  std::vector<std::string> missing;
  for (const std::string &f : a.manifest.features) {
    auto it = hostFeatures().find(f);
    if (it == hostFeatures().end() || !it->second)
      missing.push_back(f);
  }
  if (!missing.empty())
    return absl::FailedPreconditionError(absl::StrCat(
        a.path, ": compiled for CPU features this machine lacks: ", absl::StrJoin(missing, ", "),
        " (recompile with tgc compile --target-cpu=native or an older level such as x86-64-v2)"));
  for (const EntrySpec &spec : a.manifest.entries) {
    Entry entry;
    entry.spec = &spec;
    dlerror();
    entry.fn = reinterpret_cast<void (*)(void **)>(dlsym(a.handle, spec.symbol.c_str()));
    if (!entry.fn)
      return absl::InvalidArgumentError(absl::StrCat(a.path, ": entry point '", spec.name,
                                                     "' has no symbol '", spec.symbol, "'"));
    a.entries.push_back(entry);
  }
  return absl::OkStatus();
}

extern "C" tg_status tg_artifact_open(const char *path, tg_artifact **out) {
  if (!path || !out)
    return fail(TG_INVALID_ARGUMENT, "tg_artifact_open: null argument");
  *out = nullptr;
  auto a = std::make_unique<tg_artifact>();
  a->path = path;
  FILE *f = std::fopen(path, "rb");
  if (!f)
    return fail(TG_NOT_FOUND,
                absl::StrCat("cannot open artifact '", path, "': ", std::strerror(errno)));
  std::string bytes;
  char chunk[1 << 16];
  for (size_t n; (n = std::fread(chunk, 1, sizeof chunk, f)) > 0;)
    bytes.append(chunk, n);
  std::fclose(f);
  if (bytes.size() < 4 || std::memcmp(bytes.data(),
                                      "\x7f"
                                      "ELF",
                                      4) != 0)
    return fail(TG_INVALID_ARGUMENT,
                absl::StrCat("'", path, "' is not a tgx artifact (not an ELF shared object)"));
  // Check the integrity trailer before the dynamic loader touches the file.
  if (bytes.size() < kTrailerSize ||
      std::memcmp(bytes.data() + bytes.size() - kTrailerSize, kTrailerMagic, 8) != 0)
    return fail(TG_INVALID_ARGUMENT,
                absl::StrCat("'", path,
                             "' is truncated or not written by tgc compile (no "
                             "integrity trailer in its last ",
                             kTrailerSize, " bytes)"));
  uint64_t fields[2];
  std::memcpy(fields, bytes.data() + bytes.size() - 16, 16);
  size_t elfSize = bytes.size() - kTrailerSize;
  if (fields[0] != elfSize)
    return fail(TG_INVALID_ARGUMENT,
                absl::StrCat("'", path, "' is truncated or padded: its trailer records ", fields[0],
                             " bytes of code, the file holds ", elfSize));
  if (fnv1a64(bytes.data(), elfSize) != fields[1])
    return fail(TG_INVALID_ARGUMENT, absl::StrCat("'", path, "' is corrupted (checksum mismatch)"));
  // A name without a slash would make dlopen search the library path.
  std::string loadPath = std::strchr(path, '/') ? std::string(path) : "./" + std::string(path);
  a->handle = dlopen(loadPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  bool lazy = false;
  if (!a->handle) {
    std::string why = dlerror();
    // A CUDA artifact calls libtgrt_cuda, loaded below once the manifest
    // says so; until then its functions are left unbound.
    if (why.find("tgrt_cuda_") != std::string::npos)
      a->handle = dlopen(loadPath.c_str(), RTLD_LAZY | RTLD_LOCAL);
    if (!a->handle)
      return fail(TG_INVALID_ARGUMENT, absl::StrCat("cannot load artifact '", path, "': ", why));
    lazy = true;
  }
  auto *text = static_cast<const char *>(dlsym(a->handle, tg::abi::kManifestSymbol));
  auto *size = static_cast<const uint64_t *>(dlsym(a->handle, tg::abi::kManifestSizeSymbol));
  if (!text || !size)
    return fail(TG_INVALID_ARGUMENT,
                absl::StrCat("'", path, "' has no tg manifest (not built by tgc compile)"));
  a->manifestText.assign(text, size_t(*size));
  absl::Status s = loadManifest(*a);
  if (!s.ok())
    return fail(s);
  if (a->manifest.cuda) {
    absl::StatusOr<const TgCudaApi *> api = tg::rt::loadCudaRuntime();
    if (api.ok() && lazy) {
      // Bind every call now that libtgrt_cuda is loaded (RTLD_GLOBAL).
      dlclose(a->handle);
      a->entries.clear();
      a->handle = dlopen(loadPath.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!a->handle) {
        // A library call libtgrt_cuda does not serve yet: the artifact stays
        // open (inspect), sessions say which.
        const char *why = dlerror();
        a->cudaUnbound = absl::StrCat("the CUDA device runtime lacks a function it calls (",
                                      why ? why : "", ")");
        a->handle = dlopen(loadPath.c_str(), RTLD_LAZY | RTLD_LOCAL);
        if (!a->handle)
          return fail(TG_INVALID_ARGUMENT,
                      absl::StrCat("cannot load artifact '", path, "': ", dlerror()));
      }
      if (absl::Status bound = loadManifest(*a); !bound.ok())
        return fail(bound);
    }
    if (!api.ok())
      a->cudaUnavailable = std::string(api.status().message());
    auto *fatbinSize =
        static_cast<const uint64_t *>(dlsym(a->handle, tg::abi::kCudaFatbinSizeSymbol));
    a->fatbin = dlsym(a->handle, tg::abi::kCudaFatbinSymbol);
    a->fatbinBytes = fatbinSize ? size_t(*fatbinSize) : 0;
  } else if (lazy) {
    return fail(TG_INVALID_ARGUMENT,
                absl::StrCat("'", path,
                             "' calls the CUDA device runtime but its manifest has no "
                             "cuda section (not built by tgc compile --target=cuda)"));
  }
  *out = a.release();
  return TG_OK;
}

extern "C" void tg_artifact_close(tg_artifact *artifact) { delete artifact; }

extern "C" const char *tg_artifact_manifest(const tg_artifact *artifact) {
  return artifact ? artifact->manifestText.c_str() : "";
}

static tg_status createSession(tg_artifact *artifact, uint64_t seed, int stage,
                               tg_session **out) {
  if (!artifact || !out)
    return fail(TG_INVALID_ARGUMENT, "tg_session_create: null argument");
  *out = nullptr;
  const std::optional<PipelineSpec> &pipeline = artifact->manifest.pipeline;
  if (stage >= 0 && (!pipeline || stage >= pipeline->stages))
    return fail(TG_INVALID_ARGUMENT,
                absl::StrCat(artifact->path, " has no pipeline stage ", stage,
                             pipeline ? absl::StrCat(" (it has ", pipeline->stages, ")")
                                      : std::string(" (not compiled with --pipeline-stages)")));
  auto s = std::make_unique<tg_session>();
  s->artifact = artifact;
  s->stage = stage;
  if (artifact->manifest.cuda) {
    if (!artifact->cudaUnavailable.empty())
      return fail(TG_FAILED_PRECONDITION, absl::StrCat(artifact->path, " was compiled for CUDA: ",
                                                       artifact->cudaUnavailable));
    auto device = tg::rt::DeviceSession::open(artifact->manifest, artifact->fatbin,
                                              artifact->fatbinBytes, artifact->path);
    if (!device.ok())
      return fail(device.status());
    if (!artifact->cudaUnbound.empty())
      return fail(TG_FAILED_PRECONDITION,
                  absl::StrCat(artifact->path, ": ", artifact->cudaUnbound));
    s->device = std::move(*device);
  }
  for (const EntrySpec &e : artifact->manifest.entries) {
    if (!s->runs(e))
      continue;
    for (const BufferSpec &spec : e.args) {
      auto it = s->args.find(spec.name);
      if (it != s->args.end()) {
        if (it->second.spec.shape != spec.shape || it->second.spec.dtype != spec.dtype)
          return fail(TG_INVALID_ARGUMENT,
                      absl::StrCat(artifact->path, ": buffer '", spec.name, "' of '", e.name,
                                   "' disagrees in shape or dtype with another entry point"));
        continue;
      }
      absl::StatusOr<Buffer> allocated = Buffer::allocate(spec);
      if (!allocated.ok())
        return fail(allocated.status());
      Buffer b = std::move(*allocated);
      if (spec.init) {
        auto values = initialValues(*spec.init, spec.shape, seed, spec.name);
        if (!values.ok())
          return fail(values.status());
        b.fill(*values);
      } else if (spec.defaultValue) {
        b.fill(std::vector<double>(size_t(spec.numElements()), *spec.defaultValue));
      }
      if (s->device) {
        auto device = s->device->allocate(b.bytes, spec.name);
        if (!device.ok())
          return fail(device.status());
        b.device = *device;
        absl::Status up = s->device->upload(b.device, b.data.get(), b.bytes);
        if (!up.ok()) {
          s->device->release(b.device);
          return fail(up);
        }
      }
      s->args.emplace(spec.name, std::move(b));
    }
  }
  flushDenormalsInWorkers();
  // Create the oneDNN primitives now rather than in the first step (a CUDA
  // artifact's library calls run in libtgrt_cuda).
  for (const KernelCall &k : artifact->manifest.kernels) {
    if (s->device)
      break;
    std::string error;
    if (!prepareKernel(k.symbol, k.operands, k.params, error))
      return fail(TG_INTERNAL, absl::StrCat(artifact->path, ": preparing ", error));
  }
  *out = s.release();
  return TG_OK;
}

extern "C" tg_status tg_session_create(tg_artifact *artifact, uint64_t seed, tg_session **out) {
  return createSession(artifact, seed, -1, out);
}

extern "C" tg_status tg_session_create_stage(tg_artifact *artifact, uint64_t seed, int stage,
                                             tg_session **out) {
  if (stage < 0)
    return fail(TG_INVALID_ARGUMENT,
                absl::StrCat("tg_session_create_stage: stage ", stage, " is negative"));
  return createSession(artifact, seed, stage, out);
}

extern "C" void tg_session_destroy(tg_session *session) { delete session; }

static const Buffer *findBuffer(const tg_session *s, const char *name) {
  auto r = s->results.find(name);
  if (r != s->results.end())
    return &r->second;
  auto a = s->args.find(name);
  return a != s->args.end() ? &a->second : nullptr;
}

extern "C" size_t tg_session_buffer_size(const tg_session *session, const char *name) {
  const Buffer *b = session && name ? findBuffer(session, name) : nullptr;
  return b ? b->bytes : 0;
}

extern "C" tg_status tg_session_write(tg_session *session, const char *name, const void *data,
                                      size_t bytes) {
  if (!session || !name || (!data && bytes))
    return fail(TG_INVALID_ARGUMENT, "tg_session_write: null argument");
  auto it = session->args.find(name);
  if (it == session->args.end())
    return fail(TG_NOT_FOUND, absl::StrCat("no input buffer named '", name, "'"));
  if (bytes != it->second.bytes)
    return fail(TG_INVALID_ARGUMENT,
                absl::StrCat("buffer '", name, "' holds ", it->second.bytes, " bytes (",
                             it->second.spec.typeString(), "), got ", bytes));
  std::memcpy(it->second.data.get(), data, bytes);
  if (session->device)
    if (absl::Status up = session->device->upload(it->second.device, data, bytes); !up.ok())
      return fail(up);
  return TG_OK;
}

extern "C" tg_status tg_session_read(const tg_session *session, const char *name, void *data,
                                     size_t bytes) {
  if (!session || !name || (!data && bytes))
    return fail(TG_INVALID_ARGUMENT, "tg_session_read: null argument");
  const Buffer *b = findBuffer(session, name);
  if (!b)
    return fail(TG_NOT_FOUND, absl::StrCat("no buffer named '", name, "'"));
  if (bytes != b->bytes)
    return fail(TG_INVALID_ARGUMENT,
                absl::StrCat("buffer '", name, "' holds ", b->bytes, " bytes, got ", bytes));
  if (session->device) {
    if (absl::Status down = session->device->download(data, b->device, bytes); !down.ok())
      return fail(down);
    return TG_OK;
  }
  std::memcpy(data, b->data.get(), bytes);
  return TG_OK;
}

namespace {

/// An MLIR memref descriptor {allocated, aligned, offset, sizes, strides}.
std::vector<int64_t> descriptor(const Buffer &b) {
  size_t r = b.spec.shape.size();
  std::vector<int64_t> d(3 + 2 * r);
  void *p = b.device ? b.device : b.data.get();
  d[0] = d[1] = int64_t(reinterpret_cast<intptr_t>(p));
  d[2] = 0;
  int64_t stride = 1;
  for (size_t i = r; i-- > 0;) {
    d[3 + i] = b.spec.shape[i];
    d[3 + r + i] = stride;
    stride *= b.spec.shape[i];
  }
  return d;
}

} // namespace

extern "C" tg_status tg_session_set_communicator(tg_session *session, void *communicator) {
  if (!session)
    return fail(TG_INVALID_ARGUMENT, "tg_session_set_communicator: null session");
  auto *comm = static_cast<tg::dist::Communicator *>(communicator);
  // A data-parallel CUDA artifact reduces on the GPUs with NCCL, for any
  // number of ranks (one rank: the same path, a single-GPU check of it).
  if (comm && session->device &&
      session->artifact->manifest.dataParallel.mode != "none") {
    if (comm->kind() == "thread-group" && comm->size() > 1)
      return fail(TG_FAILED_PRECONDITION,
                  "a CUDA artifact trains data-parallel with one process per GPU (mpirun -np N "
                  "tgc train ...); --emulate-world-size runs CPU artifacts");
    if (session->joinedCollectives)
      return fail(TG_FAILED_PRECONDITION,
                  "tg_session_set_communicator: this CUDA session already joined its GPU "
                  "collectives");
    if (absl::Status s = session->device->joinCollectives(*comm); !s.ok())
      return fail(s);
    session->joinedCollectives = true;
  }
  session->communicator = comm;
  return TG_OK;
}

extern "C" tg_status tg_session_set_data_communicator(tg_session *session,
                                                       void *communicator) {
  if (!session)
    return fail(TG_INVALID_ARGUMENT, "tg_session_set_data_communicator: null session");
  if (session->device)
    return fail(TG_FAILED_PRECONDITION,
                "tg_session_set_data_communicator: pipeline stages run on the CPU only");
  session->dataCommunicator = static_cast<tg::dist::Communicator *>(communicator);
  return TG_OK;
}

extern "C" tg_status tg_session_run(tg_session *session, const char *entry) {
  if (!session || !entry)
    return fail(TG_INVALID_ARGUMENT, "tg_session_run: null argument");
  const Entry *e = nullptr;
  for (const Entry &x : session->artifact->entries)
    if (x.spec->name == entry)
      e = &x;
  if (!e)
    return fail(TG_NOT_FOUND,
                absl::StrCat("no entry point '", entry, "' (the artifact has: ",
                             absl::StrJoin(session->artifact->manifest.entryNames(), ", "), ")"));
  if (!session->runs(*e->spec))
    return fail(TG_FAILED_PRECONDITION,
                absl::StrCat("entry point '", entry, "' belongs to pipeline stage ",
                             e->spec->stage, ", and this session runs stage ", session->stage));
  // A pipeline's peers are a stage apart: rank + offset * (ranks per stage).
  int stageStride = 1;
  if (const std::optional<PipelineSpec> &p = session->artifact->manifest.pipeline;
      p && session->communicator && session->communicator->size() % p->stages == 0)
    stageStride = session->communicator->size() / int(p->stages);
  // Call arguments: every argument buffer, then a buffer per result that is
  // not updated in place (buffer-results-to-out-params order).
  std::vector<std::vector<int64_t>> descs;
  for (const BufferSpec &a : e->spec->args)
    descs.push_back(descriptor(session->args.at(a.name)));
  for (const BufferSpec &r : e->spec->results) {
    if (r.alias >= 0)
      continue;
    auto it = session->results.find(r.name);
    if (it == session->results.end() || it->second.spec.shape != r.shape ||
        it->second.spec.dtype != r.dtype) {
      absl::StatusOr<Buffer> allocated = Buffer::allocate(r);
      if (!allocated.ok())
        return fail(allocated.status());
      if (session->device) {
        auto device = session->device->allocate(allocated->bytes, r.name);
        if (!device.ok())
          return fail(device.status());
        allocated->device = *device;
        if (it != session->results.end())
          session->device->release(it->second.device);
      }
      it = session->results.insert_or_assign(r.name, std::move(*allocated)).first;
    }
    descs.push_back(descriptor(it->second));
  }
  std::vector<void *> ptrs;
  for (auto &d : descs)
    ptrs.push_back(d.data());
  if (session->device) {
    std::vector<size_t> words;
    for (auto &d : descs)
      words.push_back(d.size());
    absl::Status done = session->device->run(entry, e->fn, ptrs, words);
    return done.ok() ? TG_OK : fail(done);
  }
  takeKernelError();
  unsigned mxcsr = enableFlushDenormals();
  {
    // A pipeline's allreduces run among the replicas of a stage, never over
    // the world (which holds the other stages): without their group, none.
    tg::dist::Communicator *reduce = session->dataCommunicator;
    if (!reduce && !session->artifact->manifest.pipeline)
      reduce = session->communicator;
    tg::rt::CollectiveScope collectives(reduce, e->spec->name, stageStride,
                                        session->communicator);
    e->fn(ptrs.data());
  }
  restoreFloatMode(mxcsr);
  std::string error = takeKernelError();
  if (!error.empty())
    return fail(TG_INTERNAL, absl::StrCat("entry point '", entry, "': ", error));
  return TG_OK;
}
