//===- Artifact.cpp - compiling a tg module into a .tgx artifact ----------===//
#include "codegen/cpu/Artifact.h"
#include "codegen/cpu/Passes.h"
#include "ir/Dialect.h"
#include "ir/TrainSpec.h"
#include "runtime/Trailer.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

#include "absl/strings/str_cat.h"
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <set>

using namespace mlir;
using json = nlohmann::json;

namespace tg {
namespace {

/// The x86 features a runtime checks before loading (tg_runtime's list).
const char *const kCheckedFeatures[] = {"sse4.2",   "avx",      "avx2",     "fma",
                                        "bmi",      "bmi2",     "avx512f",  "avx512vl",
                                        "avx512bw", "avx512dq", "avx512cd", "avx512vnni",
                                        "avx512bf16"};

std::string dtypeName(Type t) {
  if (t.isF32())
    return "f32";
  if (t.isF64())
    return "f64";
  if (t.isF16())
    return "f16";
  if (t.isBF16())
    return "bf16";
  if (t.isInteger(1))
    return "i1";
  if (t.isInteger(32))
    return "i32";
  if (t.isInteger(64))
    return "i64";
  return "";
}

json attrToJson(Attribute a) {
  if (auto d = llvm::dyn_cast<DictionaryAttr>(a)) {
    json j = json::object();
    for (NamedAttribute n : d)
      j[n.getName().str()] = attrToJson(n.getValue());
    return j;
  }
  if (auto s = llvm::dyn_cast<StringAttr>(a))
    return s.getValue().str();
  if (auto f = llvm::dyn_cast<FloatAttr>(a))
    return f.getValueAsDouble();
  if (auto i = llvm::dyn_cast<IntegerAttr>(a))
    return i.getInt();
  if (auto b = llvm::dyn_cast<BoolAttr>(a))
    return b.getValue();
  std::string s;
  llvm::raw_string_ostream os(s);
  os << a;
  return s;
}

absl::StatusOr<json> bufferJson(Type type, DictionaryAttr attrs, const std::string &fallback,
                                const std::string &where) {
  auto t = llvm::dyn_cast<RankedTensorType>(type);
  std::string dtype = t ? dtypeName(t.getElementType()) : "";
  if (dtype.empty())
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": unsupported type for an entry-point buffer"));
  json b;
  auto name = attrs ? attrs.getAs<StringAttr>(TgDialect::kNameAttr) : StringAttr();
  b["name"] = name ? name.getValue().str() : fallback;
  b["dtype"] = dtype;
  b["shape"] = json::array();
  for (int64_t d : t.getShape())
    b["shape"].push_back(d);
  if (!attrs)
    return b;
  if (auto role = attrs.getAs<StringAttr>(TgDialect::kRoleAttr))
    b["role"] = role.getValue().str();
  if (auto init = attrs.get(TgDialect::kInitAttr))
    b["init"] = attrToJson(init);
  if (auto dflt = attrs.get(TgDialect::kDefaultAttr))
    b["default"] = attrToJson(dflt);
  if (auto alias = attrs.getAs<IntegerAttr>(TgDialect::kAliasAttr))
    b["alias"] = alias.getInt();
  return b;
}

/// Every distinct runtime kernel call of the bufferized module: symbol,
/// operand shapes and strides, integer parameters. Calls on buffers with
/// dynamic strides are left to the first step.
json libraryKernels(ModuleOp module) {
  json kernels = json::array();
  std::set<std::string> seen;
  module.walk([&](func::CallOp call) {
    if (!call.getCallee().starts_with("tgrt_"))
      return;
    json k;
    k["symbol"] = call.getCallee().str();
    k["operands"] = json::array();
    k["params"] = json::array();
    for (Value v : call.getOperands()) {
      if (auto cast = v.getDefiningOp<memref::CastOp>()) {
        auto type = llvm::dyn_cast<MemRefType>(cast.getSource().getType());
        SmallVector<int64_t> strides;
        int64_t offset;
        if (!type || !type.hasStaticShape() || failed(getStridesAndOffset(type, strides, offset)) ||
            llvm::any_of(strides, ShapedType::isDynamic))
          return;
        k["operands"].push_back({{"sizes", type.getShape()}, {"strides", strides}});
        continue;
      }
      APInt value;
      if (!matchPattern(v, m_ConstantInt(&value)))
        return;
      k["params"].push_back(value.getSExtValue());
    }
    if (seen.insert(k.dump()).second)
      kernels.push_back(k);
  });
  return kernels;
}

class Timer {
public:
  explicit Timer(const ArtifactOptions &o) : options(o) {}
  void phase(const std::string &name) {
    auto now = std::chrono::steady_clock::now();
    if (options.timings && !current.empty())
      options.timings->push_back({current, std::chrono::duration<double>(now - start).count()});
    current = name;
    start = now;
  }

private:
  const ArtifactOptions &options;
  std::string current;
  std::chrono::steady_clock::time_point start;
};

} // namespace

namespace {

absl::StatusOr<json> manifestJson(ModuleOp module, const ArtifactOptions &options,
                                  const std::vector<std::string> &cpuFeatures,
                                  const std::string &cpuName) {
  json m;
  m["format"] = "tgx";
  m["version"] = kArtifactFormatVersion;
  m["compiler"] = "tgc 0.1 (MLIR/LLVM 19)";
  m["target"] = {{"triple", llvm::sys::getProcessTriple()}, {"cpu", cpuName},
                 {"features", cpuFeatures}};
  m["options"] = {{"target_cpu", options.targetCpu}, {"fusion", options.fusion}};
  if (Attribute train = module->getAttr(kTrainAttr))
    m["train"] = attrToJson(train);
  m["entries"] = json::array();
  for (auto fn : module.getOps<func::FuncOp>()) {
    if (fn.isExternal())
      continue;
    std::string name = fn.getSymName().str();
    json e;
    e["name"] = name;
    e["symbol"] = "tg_entry_" + name;
    auto kind = fn->getAttrOfType<StringAttr>(TgDialect::kEntryAttr);
    e["kind"] = kind ? kind.getValue().str() : "function";
    e["args"] = json::array();
    e["results"] = json::array();
    for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
      auto b = bufferJson(fn.getArgumentTypes()[i], fn.getArgAttrDict(i), "arg" + std::to_string(i),
                          absl::StrCat("@", name, " argument #", i));
      if (!b.ok())
        return b.status();
      e["args"].push_back(*b);
    }
    for (unsigned i = 0; i < fn.getNumResults(); ++i) {
      auto b = bufferJson(fn.getResultTypes()[i], fn.getResultAttrDict(i),
                          "result" + std::to_string(i), absl::StrCat("@", name, " result #", i));
      if (!b.ok())
        return b.status();
      e["results"].push_back(*b);
    }
    m["entries"].push_back(e);
  }
  return m;
}

} // namespace

absl::StatusOr<std::string> buildManifest(ModuleOp module, const ArtifactOptions &options,
                                          const std::vector<std::string> &cpuFeatures,
                                          const std::string &cpuName) {
  auto m = manifestJson(module, options, cpuFeatures, cpuName);
  if (!m.ok())
    return m.status();
  return m->dump(2);
}

absl::Status writeArtifact(ModuleOp module, const ArtifactOptions &options,
                           const std::string &path) {
  Timer timer(options);
  timer.phase("target");
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  std::string triple = llvm::sys::getProcessTriple();
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return absl::InternalError(absl::StrCat("no LLVM target for ", triple, ": ", error));
  std::string cpu = options.targetCpu;
  std::string features;
  if (cpu == "native") {
    cpu = llvm::sys::getHostCPUName().str();
    for (auto &f : llvm::sys::getHostCPUFeatures())
        features += (features.empty() ? "" : ",") + std::string(f.second ? "+" : "-") +
                    f.first().str();
  }
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features, llvm::TargetOptions(), llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  if (!tm || !tm->getMCSubtargetInfo()->isCPUStringValid(cpu))
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown --target-cpu '", options.targetCpu,
        "' (use native, x86-64, x86-64-v2, x86-64-v3, x86-64-v4 or an LLVM CPU name such as "
        "skylake-avx512)"));
  std::vector<std::string> required;
  for (const char *f : kCheckedFeatures)
    if (tm->getMCSubtargetInfo()->checkFeatures(std::string("+") + f))
      required.push_back(f);

  // With entry points built (train_step, ...), the model function and any
  // gradient function are only their ingredients: not compiled on their own.
  bool hasEntries = llvm::any_of(module.getOps<func::FuncOp>(), [](func::FuncOp fn) {
    return fn->hasAttr(TgDialect::kEntryAttr);
  });
  if (hasEntries)
    for (auto fn : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
      if (!fn.isExternal() && !fn->hasAttr(TgDialect::kEntryAttr))
        fn.erase();

  absl::StatusOr<json> manifest = manifestJson(module, options, required, cpu);
  if (!manifest.ok())
    return manifest.status();

  timer.phase("lower to LLVM dialect");
  {
    PassManager pm(module.getContext(), ModuleOp::getOperationName());
    CpuPipelineOptions pipeline;
    pipeline.fusion = options.fusion;
    pipeline.stopAfter = "bufferized";
    buildCpuPipeline(pm, pipeline);
    if (failed(pm.run(module)))
      return absl::InvalidArgumentError("lowering failed (see the diagnostics above)");
  }
  // The oneDNN primitives the code will call, so the runtime creates them
  // when a session starts instead of in the first step.
  (*manifest)["kernels"] = libraryKernels(module);
  const std::string manifestText = manifest->dump(2);
  {
    PassManager pm(module.getContext(), ModuleOp::getOperationName());
    CpuPipelineOptions pipeline;
    pipeline.startAfter = "bufferized";
    buildCpuPipeline(pm, pipeline);
    if (failed(pm.run(module)))
      return absl::InvalidArgumentError("lowering failed (see the diagnostics above)");
  }

  timer.phase("translate to LLVM IR");
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule = translateModuleToLLVMIR(module, llvmContext, "tgx");
  if (!llvmModule)
    return absl::InternalError("translation to LLVM IR failed");
  llvmModule->setDataLayout(tm->createDataLayout());
  llvmModule->setTargetTriple(triple);

  // Packed entry points: tg_entry_<name>(void **descriptors).
  llvm::IRBuilder<> ir(llvmContext);
  auto *ptrTy = llvm::PointerType::getUnqual(llvmContext);
  for (auto fn : module.getOps<LLVM::LLVMFuncOp>()) {
    StringRef name = fn.getName();
    if (!name.starts_with("_mlir_ciface_") || fn.isExternal())
      continue;
    llvm::Function *callee = llvmModule->getFunction(name);
    std::string entry = ("tg_entry_" + name.drop_front(strlen("_mlir_ciface_"))).str();
    auto *wrapper = llvm::Function::Create(
        llvm::FunctionType::get(ir.getVoidTy(), {ptrTy}, false), llvm::Function::ExternalLinkage,
        entry, llvmModule.get());
    ir.SetInsertPoint(llvm::BasicBlock::Create(llvmContext, "entry", wrapper));
    std::vector<llvm::Value *> args;
    for (unsigned i = 0; i < callee->arg_size(); ++i) {
      llvm::Value *slot = ir.CreateConstGEP1_64(ptrTy, wrapper->getArg(0), i);
      args.push_back(ir.CreateLoad(ptrTy, slot));
    }
    ir.CreateCall(callee, args);
    ir.CreateRetVoid();
  }
  auto *text = llvm::ConstantDataArray::getString(llvmContext, manifestText, /*AddNull=*/true);
  new llvm::GlobalVariable(*llvmModule, text->getType(), true, llvm::GlobalValue::ExternalLinkage,
                           text, "tg_manifest");
  new llvm::GlobalVariable(*llvmModule, ir.getInt64Ty(), true, llvm::GlobalValue::ExternalLinkage,
                           ir.getInt64(manifestText.size()), "tg_manifest_size");

  timer.phase("optimize LLVM IR");
  int optLevel = std::clamp(options.optLevel, 0, 3);
  if (optLevel < 3)
    tm->setOptLevel(optLevel == 0 ? llvm::CodeGenOptLevel::None : llvm::CodeGenOptLevel::Less);
  if (llvm::Error err = makeOptimizingTransformer(unsigned(optLevel), 0, tm.get())(llvmModule.get()))
    return absl::InternalError(absl::StrCat("LLVM optimization failed: ",
                                            llvm::toString(std::move(err))));
  if (options.emit == "llvm") {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    if (ec)
      return absl::InvalidArgumentError(absl::StrCat("cannot write '", path, "': ", ec.message()));
    llvmModule->print(os, nullptr);
    timer.phase("");
    return absl::OkStatus();
  }

  timer.phase("emit object");
  llvm::SmallString<128> objPath;
  int fd;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile("tgx", "o", fd, objPath))
    return absl::InternalError(absl::StrCat("cannot create a temporary file: ", ec.message()));
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    llvm::legacy::PassManager codegen;
    if (tm->addPassesToEmitFile(codegen, os, nullptr, llvm::CodeGenFileType::ObjectFile))
      return absl::InternalError("the target cannot emit object files");
    codegen.run(*llvmModule);
  }

  timer.phase("link");
  auto cc = llvm::sys::findProgramByName("cc");
  if (!cc) {
    llvm::sys::fs::remove(objPath);
    return absl::FailedPreconditionError(
        "no C compiler driver 'cc' on PATH to link the artifact (apt-get install gcc)");
  }
  llvm::SmallString<128> logPath;
  llvm::sys::fs::createTemporaryFile("tgx-link", "log", logPath);
  std::string out = path;
  // Parallel loops call the LLVM OpenMP runtime (libomp).
  std::string ompDir = TG_LIBOMP_DIR, rpath = "-Wl,-rpath," + ompDir, libDir = "-L" + ompDir;
  std::vector<llvm::StringRef> argv = {*cc, "-shared", "-o", out, objPath, libDir, "-lomp", rpath, "-lm"};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef(logPath),
                                                llvm::StringRef(logPath)};
  std::string execError;
  int rc = llvm::sys::ExecuteAndWait(*cc, argv, std::nullopt, redirects, 0, 0, &execError);
  llvm::sys::fs::remove(objPath);
  std::string log;
  if (auto buf = llvm::MemoryBuffer::getFile(logPath))
    log = (*buf)->getBuffer().str();
  llvm::sys::fs::remove(logPath);
  if (rc != 0)
    return absl::InternalError(absl::StrCat("linking '", path, "' failed",
                                            execError.empty() ? "" : ": " + execError, "\n", log));
  // Integrity trailer (runtime/Trailer.h).
  auto elf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!elf)
    return absl::InternalError(absl::StrCat("cannot read back '", path, "'"));
  std::string trailer = makeTrailer((*elf)->getBuffer().str());
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_Append);
    if (ec)
      return absl::InternalError(absl::StrCat("cannot append to '", path, "': ", ec.message()));
    os << trailer;
  }
  timer.phase("");
  return absl::OkStatus();
}

} // namespace tg
