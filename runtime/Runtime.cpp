//===- Runtime.cpp - artifact loading, buffers, entry points --------------===//
#include "tg/tg_runtime.h"
#include "runtime/Init.h"
#include "runtime/KernelError.h"
#include "runtime/Trailer.h"

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include <nlohmann/json.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using json = nlohmann::json;

namespace tg {

static thread_local std::string kernelError;
void setKernelError(std::string message) {
  if (kernelError.empty())
    kernelError = std::move(message);
}
std::string takeKernelError() { return std::exchange(kernelError, std::string()); }

namespace {

constexpr int kFormatVersion = 1;

struct BufferSpec {
  std::string name, role, dtype;
  std::vector<int64_t> shape;
  std::optional<InitSpec> init;
  std::optional<double> dflt;
  int alias = -1; ///< results: argument index updated in place
};

struct Entry {
  std::string name, symbol;
  std::vector<BufferSpec> args, results;
  void (*fn)(void **) = nullptr;
};

size_t dtypeSize(const std::string &dtype) {
  if (dtype == "f32" || dtype == "i32")
    return 4;
  if (dtype == "f64" || dtype == "i64")
    return 8;
  if (dtype == "f16" || dtype == "bf16")
    return 2;
  if (dtype == "i1")
    return 1;
  return 0;
}

size_t byteSize(const BufferSpec &b) {
  size_t n = dtypeSize(b.dtype);
  for (int64_t d : b.shape)
    n *= size_t(d);
  return n;
}

/// Typed access to manifest fields with errors naming the path.
class Reader {
public:
  explicit Reader(std::string path) : path(std::move(path)) {}
  absl::Status error(const std::string &where, const std::string &what) const {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": manifest: ", where, ": ", what));
  }
  absl::StatusOr<std::string> str(const json &j, const char *key, const std::string &where) const {
    if (!j.is_object() || !j.contains(key) || !j[key].is_string())
      return error(where, absl::StrCat("missing string '", key, "'"));
    return j[key].get<std::string>();
  }
  absl::StatusOr<BufferSpec> buffer(const json &j, const std::string &where) const {
    BufferSpec b;
    auto name = str(j, "name", where);
    auto dtype = str(j, "dtype", where);
    if (!name.ok())
      return name.status();
    if (!dtype.ok())
      return dtype.status();
    b.name = *name;
    b.dtype = *dtype;
    if (dtypeSize(b.dtype) == 0)
      return error(where, absl::StrCat("'", b.name, "' has unknown dtype '", b.dtype, "'"));
    if (!j.contains("shape") || !j["shape"].is_array())
      return error(where, absl::StrCat("'", b.name, "' has no shape"));
    for (const json &d : j["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0)
        return error(where, absl::StrCat("'", b.name, "' has a bad dimension"));
      b.shape.push_back(d.get<int64_t>());
    }
    if (j.contains("role") && j["role"].is_string())
      b.role = j["role"].get<std::string>();
    if (j.contains("init") && j["init"].is_object()) {
      InitSpec spec;
      for (auto &[k, v] : j["init"].items()) {
        if (k == "kind" && v.is_string())
          spec.kind = v.get<std::string>();
        else if (v.is_number())
          spec.fields[k] = v.get<double>();
      }
      b.init = spec;
    }
    if (j.contains("default") && j["default"].is_number())
      b.dflt = j["default"].get<double>();
    if (j.contains("alias") && j["alias"].is_number_integer())
      b.alias = j["alias"].get<int>();
    return b;
  }

private:
  std::string path;
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

  static Buffer allocate(const BufferSpec &spec) {
    Buffer b;
    b.spec = spec;
    b.bytes = byteSize(spec);
    size_t rounded = ((b.bytes + 63) / 64) * 64;
    b.data.reset(static_cast<uint8_t *>(std::aligned_alloc(64, rounded ? rounded : 64)));
    std::memset(b.data.get(), 0, rounded ? rounded : 64);
    return b;
  }

  void fill(const std::vector<double> &values) {
    size_t n = values.size();
    uint8_t *p = data.get();
    for (size_t i = 0; i < n; ++i) {
      double v = values[i];
      const std::string &t = spec.dtype;
      if (t == "f32")
        reinterpret_cast<float *>(p)[i] = float(v);
      else if (t == "f64")
        reinterpret_cast<double *>(p)[i] = v;
      else if (t == "i32")
        reinterpret_cast<int32_t *>(p)[i] = int32_t(v);
      else if (t == "i64")
        reinterpret_cast<int64_t *>(p)[i] = int64_t(v);
      else if (t == "i1")
        p[i] = v != 0;
    }
  }
};

} // namespace
} // namespace tg

using namespace tg;

struct tg_artifact {
  std::string path;
  void *handle = nullptr;
  std::string manifest;
  std::vector<Entry> entries;
  struct Kernel {
    std::string symbol;
    std::vector<KernelOperand> operands;
    std::vector<int64_t> params;
  };
  std::vector<Kernel> kernels; ///< oneDNN primitives to create per session
  ~tg_artifact() {
    if (handle)
      dlclose(handle);
  }
};

struct tg_session {
  tg_artifact *artifact = nullptr;
  std::map<std::string, Buffer> args, results;
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

static absl::Status parseManifest(tg_artifact &a) {
  Reader r(a.path);
  json m = json::parse(a.manifest, nullptr, /*allow_exceptions=*/false);
  if (m.is_discarded() || !m.is_object())
    return r.error("top level", "not a JSON object");
  if (!m.contains("format") || m["format"] != "tgx")
    return r.error("format", "not a tgx manifest");
  if (!m.contains("version") || !m["version"].is_number_integer())
    return r.error("version", "missing");
  if (m["version"].get<int>() != kFormatVersion)
    return absl::FailedPreconditionError(absl::StrCat(
        a.path, ": artifact format version ", m["version"].get<int>(),
        " is not supported by this runtime (version ", kFormatVersion, "); recompile it"));
  std::vector<std::string> missing;
  if (m.contains("target") && m["target"].contains("features"))
    for (const json &f : m["target"]["features"]) {
      if (!f.is_string())
        return r.error("target.features", "not a list of strings");
      auto it = hostFeatures().find(f.get<std::string>());
      if (it == hostFeatures().end() || !it->second)
        missing.push_back(f.get<std::string>());
    }
  if (!missing.empty())
    return absl::FailedPreconditionError(absl::StrCat(
        a.path, ": compiled for CPU features this machine lacks: ", absl::StrJoin(missing, ", "),
        " (recompile with tgc compile --target-cpu=native or an older level such as x86-64-v2)"));
  if (m.contains("kernels") && m["kernels"].is_array())
    for (const json &k : m["kernels"]) {
      tg_artifact::Kernel kernel;
      auto symbol = r.str(k, "symbol", "kernels");
      if (!symbol.ok())
        return symbol.status();
      kernel.symbol = *symbol;
      if (!k.contains("operands") || !k["operands"].is_array() || !k.contains("params") ||
          !k["params"].is_array())
        return r.error("kernels", absl::StrCat("'", kernel.symbol, "' lacks operands or params"));
      for (const json &o : k["operands"]) {
        KernelOperand op;
        if (!o.contains("sizes") || !o.contains("strides") || !o["sizes"].is_array() ||
            !o["strides"].is_array())
          return r.error("kernels", absl::StrCat("'", kernel.symbol, "' has a bad operand"));
        for (const json &d : o["sizes"])
          op.sizes.push_back(d.is_number_integer() ? d.get<int64_t>() : -1);
        for (const json &d : o["strides"])
          op.strides.push_back(d.is_number_integer() ? d.get<int64_t>() : -1);
        if (std::find(op.sizes.begin(), op.sizes.end(), -1) != op.sizes.end())
          return r.error("kernels", absl::StrCat("'", kernel.symbol, "' has a bad dimension"));
        kernel.operands.push_back(std::move(op));
      }
      for (const json &p : k["params"]) {
        if (!p.is_number_integer())
          return r.error("kernels", absl::StrCat("'", kernel.symbol, "' has a non-integer parameter"));
        kernel.params.push_back(p.get<int64_t>());
      }
      a.kernels.push_back(std::move(kernel));
    }
  if (!m.contains("entries") || !m["entries"].is_array())
    return r.error("entries", "missing");
  for (const json &e : m["entries"]) {
    Entry entry;
    auto name = r.str(e, "name", "entries");
    auto symbol = r.str(e, "symbol", "entries");
    if (!name.ok())
      return name.status();
    if (!symbol.ok())
      return symbol.status();
    entry.name = *name;
    entry.symbol = *symbol;
    for (const char *list : {"args", "results"}) {
      if (!e.contains(list) || !e[list].is_array())
        return r.error(entry.name, absl::StrCat("missing '", list, "'"));
      for (const json &b : e[list]) {
        auto spec = r.buffer(b, absl::StrCat(entry.name, ".", list));
        if (!spec.ok())
          return spec.status();
        (std::string(list) == "args" ? entry.args : entry.results).push_back(*spec);
      }
    }
    for (const BufferSpec &res : entry.results)
      if (res.alias >= int(entry.args.size()))
        return r.error(entry.name, absl::StrCat("result '", res.name, "' aliases argument #",
                                                res.alias, ", which does not exist"));
    dlerror();
    entry.fn = reinterpret_cast<void (*)(void **)>(dlsym(a.handle, entry.symbol.c_str()));
    if (!entry.fn)
      return absl::InvalidArgumentError(absl::StrCat(a.path, ": entry point '", entry.name,
                                                     "' has no symbol '", entry.symbol, "'"));
    a.entries.push_back(std::move(entry));
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
    return fail(TG_NOT_FOUND, absl::StrCat("cannot open artifact '", path, "': ", std::strerror(errno)));
  std::string bytes;
  char chunk[1 << 16];
  for (size_t n; (n = std::fread(chunk, 1, sizeof chunk, f)) > 0;)
    bytes.append(chunk, n);
  std::fclose(f);
  if (bytes.size() < 4 || std::memcmp(bytes.data(), "\x7f" "ELF", 4) != 0)
    return fail(TG_INVALID_ARGUMENT,
                absl::StrCat("'", path, "' is not a tgx artifact (not an ELF shared object)"));
  // Check the integrity trailer before the dynamic loader touches the file.
  if (bytes.size() < kTrailerSize ||
      std::memcmp(bytes.data() + bytes.size() - kTrailerSize, kTrailerMagic, 8) != 0)
    return fail(TG_INVALID_ARGUMENT,
                absl::StrCat("'", path, "' is truncated or not written by tgc compile (no "
                             "integrity trailer in its last ", kTrailerSize, " bytes)"));
  uint64_t fields[2];
  std::memcpy(fields, bytes.data() + bytes.size() - 16, 16);
  size_t elfSize = bytes.size() - kTrailerSize;
  if (fields[0] != elfSize)
    return fail(TG_INVALID_ARGUMENT,
                absl::StrCat("'", path, "' is truncated or padded: its trailer records ",
                             fields[0], " bytes of code, the file holds ", elfSize));
  if (fnv1a64(bytes.data(), elfSize) != fields[1])
    return fail(TG_INVALID_ARGUMENT, absl::StrCat("'", path, "' is corrupted (checksum mismatch)"));
  // A name without a slash would make dlopen search the library path.
  std::string loadPath = std::strchr(path, '/') ? std::string(path) : "./" + std::string(path);
  a->handle = dlopen(loadPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!a->handle)
    return fail(TG_INVALID_ARGUMENT,
                absl::StrCat("cannot load artifact '", path, "': ", dlerror()));
  auto *text = static_cast<const char *>(dlsym(a->handle, "tg_manifest"));
  auto *size = static_cast<const uint64_t *>(dlsym(a->handle, "tg_manifest_size"));
  if (!text || !size)
    return fail(TG_INVALID_ARGUMENT,
                absl::StrCat("'", path, "' has no tg manifest (not built by tgc compile)"));
  a->manifest.assign(text, size_t(*size));
  absl::Status s = parseManifest(*a);
  if (!s.ok())
    return fail(s);
  *out = a.release();
  return TG_OK;
}

extern "C" void tg_artifact_close(tg_artifact *artifact) { delete artifact; }

extern "C" const char *tg_artifact_manifest(const tg_artifact *artifact) {
  return artifact ? artifact->manifest.c_str() : "";
}

extern "C" tg_status tg_session_create(tg_artifact *artifact, uint64_t seed, tg_session **out) {
  if (!artifact || !out)
    return fail(TG_INVALID_ARGUMENT, "tg_session_create: null argument");
  *out = nullptr;
  auto s = std::make_unique<tg_session>();
  s->artifact = artifact;
  for (const Entry &e : artifact->entries)
    for (const BufferSpec &spec : e.args) {
      auto it = s->args.find(spec.name);
      if (it != s->args.end()) {
        if (it->second.spec.shape != spec.shape || it->second.spec.dtype != spec.dtype)
          return fail(TG_INVALID_ARGUMENT,
                      absl::StrCat(artifact->path, ": buffer '", spec.name, "' of '", e.name,
                                   "' disagrees in shape or dtype with another entry point"));
        continue;
      }
      Buffer b = Buffer::allocate(spec);
      if (spec.init) {
        auto values = initialValues(*spec.init, spec.shape, seed, spec.name);
        if (!values.ok())
          return fail(values.status());
        b.fill(*values);
      } else if (spec.dflt) {
        b.fill(std::vector<double>(byteSize(spec) / dtypeSize(spec.dtype), *spec.dflt));
      }
      s->args.emplace(spec.name, std::move(b));
    }
  flushDenormalsInWorkers();
  // Create the oneDNN primitives now rather than in the first step.
  for (const auto &k : artifact->kernels) {
    std::string error;
    if (!prepareKernel(k.symbol, k.operands, k.params, error))
      return fail(TG_INTERNAL, absl::StrCat(artifact->path, ": preparing ", error));
  }
  *out = s.release();
  return TG_OK;
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
                             it->second.spec.dtype, " [", absl::StrJoin(it->second.spec.shape, ", "),
                             "]), got ", bytes));
  std::memcpy(it->second.data.get(), data, bytes);
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
    return fail(TG_INVALID_ARGUMENT, absl::StrCat("buffer '", name, "' holds ", b->bytes,
                                                  " bytes, got ", bytes));
  std::memcpy(data, b->data.get(), bytes);
  return TG_OK;
}

namespace {

/// An MLIR memref descriptor {allocated, aligned, offset, sizes, strides}.
std::vector<int64_t> descriptor(const Buffer &b) {
  size_t r = b.spec.shape.size();
  std::vector<int64_t> d(3 + 2 * r);
  d[0] = d[1] = int64_t(reinterpret_cast<intptr_t>(b.data.get()));
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

extern "C" tg_status tg_session_run(tg_session *session, const char *entry) {
  if (!session || !entry)
    return fail(TG_INVALID_ARGUMENT, "tg_session_run: null argument");
  const Entry *e = nullptr;
  for (const Entry &x : session->artifact->entries)
    if (x.name == entry)
      e = &x;
  if (!e) {
    std::vector<std::string> names;
    for (const Entry &x : session->artifact->entries)
      names.push_back(x.name);
    return fail(TG_NOT_FOUND, absl::StrCat("no entry point '", entry, "' (the artifact has: ",
                                           absl::StrJoin(names, ", "), ")"));
  }
  // Call arguments: every argument buffer, then a buffer per result that is
  // not updated in place (buffer-results-to-out-params order).
  std::vector<std::vector<int64_t>> descs;
  for (const BufferSpec &a : e->args)
    descs.push_back(descriptor(session->args.at(a.name)));
  for (const BufferSpec &r : e->results) {
    if (r.alias >= 0)
      continue;
    auto it = session->results.find(r.name);
    if (it == session->results.end() || it->second.spec.shape != r.shape ||
        it->second.spec.dtype != r.dtype)
      it = session->results.insert_or_assign(r.name, Buffer::allocate(r)).first;
    descs.push_back(descriptor(it->second));
  }
  std::vector<void *> ptrs;
  for (auto &d : descs)
    ptrs.push_back(d.data());
  takeKernelError();
  unsigned mxcsr = enableFlushDenormals();
  e->fn(ptrs.data());
  restoreFloatMode(mxcsr);
  std::string error = takeKernelError();
  if (!error.empty())
    return fail(TG_INTERNAL, absl::StrCat("entry point '", entry, "': ", error));
  return TG_OK;
}
