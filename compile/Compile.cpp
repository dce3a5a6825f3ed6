//===- Compile.cpp - tg::compile: the CPU pipeline in process -------------===//
#include "tg/Compile.h"
#include "driver/Compiler.h"
#include "frontend/ModuleImpl.h"
#include "support/Manifest.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/FileSystem.h"

#include "absl/strings/str_cat.h"

#include <cstring>

using namespace mlir;

namespace tg {

Executable::Executable(rt::Artifact artifact, rt::Session session)
    : artifact_(std::move(artifact)), session_(std::move(session)),
      manifest_(artifact_.manifest()) {
  // Artifact::open has validated the manifest already; a failure here leaves
  // no buffers to set or get.
  auto m = parseManifest(manifest_, "compiled artifact");
  if (!m.ok())
    return;
  for (const EntrySpec &e : m->entries)
    for (const auto *list : {&e.args, &e.results})
      for (const BufferSpec &b : *list)
        specs_[b.name] = {b.dtype, b.shape};
}

absl::Status Executable::set(const std::string &name, const Tensor &value) {
  auto it = specs_.find(name);
  if (it == specs_.end())
    return absl::NotFoundError(absl::StrCat("no buffer named '", name, "'"));
  if (it->second.dtype != value.dtype || it->second.shape != value.shape)
    return absl::InvalidArgumentError(
        absl::StrCat("buffer '", name, "' is ", dtypeName(it->second.dtype), " ",
                     shapeToString(it->second.shape), ", got ", value.typeString()));
  std::vector<uint8_t> bytes(size_t(value.numElements()) * dtypeSize(value.dtype));
  for (size_t i = 0; i < value.data.size(); ++i) {
    double v = value.data[i];
    switch (value.dtype) {
    case DType::f32: {
      float f = float(v);
      std::memcpy(&bytes[i * 4], &f, 4);
      break;
    }
    case DType::f64:
      std::memcpy(&bytes[i * 8], &v, 8);
      break;
    case DType::i32: {
      int32_t x = int32_t(v);
      std::memcpy(&bytes[i * 4], &x, 4);
      break;
    }
    case DType::i64: {
      int64_t x = int64_t(v);
      std::memcpy(&bytes[i * 8], &x, 8);
      break;
    }
    case DType::i1:
      bytes[i] = v != 0;
      break;
    default:
      return absl::UnimplementedError(absl::StrCat("set: dtype ", dtypeName(value.dtype)));
    }
  }
  return session_.write(name, bytes.data(), bytes.size());
}

absl::StatusOr<Tensor> Executable::get(const std::string &name) const {
  auto it = specs_.find(name);
  if (it == specs_.end())
    return absl::NotFoundError(absl::StrCat("no buffer named '", name, "'"));
  Tensor t = Tensor::full(it->second.dtype, it->second.shape);
  std::vector<uint8_t> bytes(size_t(t.numElements()) * dtypeSize(t.dtype));
  if (absl::Status s = session_.read(name, bytes.data(), bytes.size()); !s.ok())
    return s;
  for (size_t i = 0; i < t.data.size(); ++i) {
    switch (t.dtype) {
    case DType::f32: {
      float f;
      std::memcpy(&f, &bytes[i * 4], 4);
      t.data[i] = f;
      break;
    }
    case DType::f64:
      std::memcpy(&t.data[i], &bytes[i * 8], 8);
      break;
    case DType::i32: {
      int32_t x;
      std::memcpy(&x, &bytes[i * 4], 4);
      t.data[i] = x;
      break;
    }
    case DType::i64: {
      int64_t x;
      std::memcpy(&x, &bytes[i * 8], 8);
      t.data[i] = double(x);
      break;
    }
    case DType::i1:
      t.data[i] = bytes[i];
      break;
    default:
      return absl::UnimplementedError(absl::StrCat("get: dtype ", dtypeName(t.dtype)));
    }
  }
  return t;
}

absl::Status Executable::run(const std::string &entry) { return session_.run(entry); }

absl::StatusOr<int> Executable::load(const Checkpoint &checkpoint) {
  // Every tensor is checked before any is copied: a mismatch leaves the
  // session as it was.
  std::vector<const NamedTensor *> matched;
  for (const NamedTensor &t : checkpoint.tensors) {
    auto it = specs_.find(t.name);
    if (it == specs_.end())
      continue;
    const Spec &spec = it->second;
    // (A checkpoint built in memory may not hold as many bytes as its shape.)
    if (t.dtype != dtypeName(spec.dtype) || t.shape != spec.shape ||
        t.bytes.size() != size_t(numElements(spec.shape)) * dtypeSize(spec.dtype))
      return absl::InvalidArgumentError(absl::StrCat(
          "checkpoint tensor '", t.name, "' is ", t.dtype, " ", shapeToString(t.shape),
          ", the executable's buffer is ", dtypeName(spec.dtype), " ", shapeToString(spec.shape)));
    matched.push_back(&t);
  }
  for (const NamedTensor *t : matched)
    if (absl::Status s = session_.write(t->name, t->bytes.data(), t->bytes.size()); !s.ok())
      return s;
  return int(matched.size());
}

absl::StatusOr<Executable> compile(const Module &module, const CompileOptions &options) {
  absl::StatusOr<Module> work = module.transform(""); // a private copy to lower in place
  if (!work.ok())
    return work.status();
  std::string path = options.outputPath;
  bool temporary = path.empty();
  if (temporary) {
    llvm::SmallString<128> p;
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile("tg-compile", "tgx", p))
      return absl::InternalError(absl::StrCat("cannot create a temporary file: ", ec.message()));
    path = std::string(p);
  }
  // The public options, onto the table's (driver/Options.def); compileModule
  // validates them as it does tgc compile's flags.
  CompilerOptions co;
  co.targetCpu = options.targetCpu;
  co.fusion = options.fusion;
  co.layouts = options.blockedLayouts ? "blocked" : "plain";
  co.precision = options.precision;
  co.dataParallel = options.dataParallel;
  co.keepFunctions = options.keepFunctions;
  co.bucketCapMb = options.bucketCapMb;
  co.target = options.target;
  co.cudaEmulate = options.cudaEmulate;
  co.cudaArch = options.cudaArch;
  co.optLevel = options.optLevel;
  co.shareLoopNests = options.shareLoopNests;
  co.microbatches = options.microbatches;
  co.pipelineStages = options.pipelineStages;
  co.schedule = options.schedule;
  absl::StatusOr<std::string> compiled = compileModule(*work->impl().module, co, path);
  if (!compiled.ok()) {
    if (temporary)
      llvm::sys::fs::remove(path);
    return compiled.status();
  }
  auto artifact = rt::Artifact::open(path);
  if (temporary)
    llvm::sys::fs::remove(path); // the mapping stays valid after unlink
  if (!artifact.ok())
    return artifact.status();
  auto session = rt::Session::create(*artifact, options.seed);
  if (!session.ok())
    return session.status();
  return Executable(std::move(*artifact), std::move(*session));
}

absl::StatusOr<Executable> compile(const Graph &graph, const CompileOptions &options) {
  auto m = graph.build();
  if (!m.ok())
    return m.status();
  return compile(*m, options);
}

} // namespace tg
