//===- Artifact.cpp - the CPU artifact: LLVM IR, object, .tgx -------------===//
//
// The last steps of the CPU backend, after the pipeline (driver/Pipeline.cpp)
// has brought the module to the LLVM dialect: translation to LLVM IR, the
// packed entry points and the embedded manifest, optimization, the object
// file, linking into a shared object and the integrity trailer.
//
//===----------------------------------------------------------------------===//
#include "codegen/host/Artifact.h"
#include "support/KernelAbi.h"
#include "support/Trailer.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/Analysis/CFG.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Threading.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Transforms/IPO/DeadArgumentElimination.h"
#include "llvm/Transforms/IPO/SCCP.h"
#include "llvm/Transforms/Utils/Cloning.h"
#include "llvm/Transforms/Utils/SplitModule.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <chrono>
#include <atomic>
#include <set>
#include <system_error>
#include <thread>

#define DEBUG_TYPE "tg-artifact"

using namespace mlir;

namespace tg {
namespace {

/// The x86 features a runtime checks before loading (tg_runtime's list).
const char *const kCheckedFeatures[] = {
    "sse4.2",   "avx",      "avx2",     "fma",      "bmi",        "bmi2",      "avx512f",
    "avx512vl", "avx512bw", "avx512dq", "avx512cd", "avx512vnni", "avx512bf16"};

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

/// The operand of a kernel call: the memref cast to unranked, if its layout
/// is static.
std::optional<KernelOperand> staticOperand(Value v) {
  auto cast = v.getDefiningOp<memref::CastOp>();
  auto type = cast ? llvm::dyn_cast<MemRefType>(cast.getSource().getType()) : MemRefType();
  SmallVector<int64_t> strides;
  int64_t offset;
  if (!type || !type.hasStaticShape() || failed(getStridesAndOffset(type, strides, offset)) ||
      llvm::any_of(strides, ShapedType::isDynamic))
    return std::nullopt;
  return KernelOperand{{type.getShape().begin(), type.getShape().end()},
                       {strides.begin(), strides.end()}};
}

/// Runs LLVM's -O`optLevel` pipeline on `m`.
absl::Status optimize(llvm::Module &m, llvm::TargetMachine &tm, int optLevel) {
  if (optLevel < 3)
    tm.setOptLevel(optLevel == 0 ? llvm::CodeGenOptLevel::None : llvm::CodeGenOptLevel::Less);
  if (llvm::Error err = makeOptimizingTransformer(unsigned(optLevel), 0, &tm)(&m))
    return absl::InternalError(
        absl::StrCat("LLVM optimization failed: ", llvm::toString(std::move(err))));
  return absl::OkStatus();
}

/// Interprocedural constant propagation and dead argument elimination over
/// the whole module.
void removeDeadArguments(llvm::Module &m, llvm::TargetMachine &tm) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(&tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm;
  mpm.addPass(llvm::IPSCCPPass());
  mpm.addPass(llvm::DeadArgumentEliminationPass());
  mpm.run(m, mam);
}

/// Optimizes `m` and writes its object code to `objPath`.
absl::Status optimizeAndEmit(llvm::Module &m, llvm::TargetMachine &tm, int optLevel,
                             llvm::StringRef objPath) {
  if (absl::Status st = optimize(m, tm, optLevel); !st.ok())
    return st;
  std::error_code ec;
  llvm::raw_fd_ostream os(objPath, ec);
  if (ec)
    return absl::InternalError(absl::StrCat("cannot write '", objPath.str(), "': ", ec.message()));
  llvm::legacy::PassManager codegen;
  if (tm.addPassesToEmitFile(codegen, os, nullptr, llvm::CodeGenFileType::ObjectFile))
    return absl::InternalError("the target cannot emit object files");
  codegen.run(m);
  os.close();
  if (os.has_error()) { // e.g. no space left: an error, not a fatal one
    std::string message = os.error().message();
    os.clear_error();
    return absl::InternalError(absl::StrCat("cannot write '", objPath.str(), "': ", message));
  }
  return absl::OkStatus();
}

} // namespace

std::unique_ptr<llvm::TargetMachine> CpuTarget::create() const {
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
      triple, cpu, llvmFeatures, llvm::TargetOptions(), llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
}

absl::StatusOr<CpuTarget> selectCpuTarget(const std::string &targetCpu) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  CpuTarget t;
  t.triple = llvm::sys::getProcessTriple();
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(t.triple, error);
  if (!target)
    return absl::InternalError(absl::StrCat("no LLVM target for ", t.triple, ": ", error));
  t.cpu = targetCpu;
  std::string features;
  if (t.cpu == "native") {
    t.cpu = llvm::sys::getHostCPUName().str();
    for (auto &f : llvm::sys::getHostCPUFeatures())
      features +=
          (features.empty() ? "" : ",") + std::string(f.second ? "+" : "-") + f.first().str();
  }
  t.llvmFeatures = features;
  t.machine = t.create();
  if (!t.machine || !t.machine->getMCSubtargetInfo()->isCPUStringValid(t.cpu))
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown --target-cpu '", targetCpu,
        "' (use native, x86-64, x86-64-v2, x86-64-v3, x86-64-v4 or an LLVM CPU name such as "
        "skylake-avx512)"));
  for (const char *f : kCheckedFeatures)
    if (t.machine->getMCSubtargetInfo()->checkFeatures(std::string("+") + f))
      t.features.push_back(f);
  return t;
}

std::vector<KernelCall> collectKernelCalls(ModuleOp module) {
  std::vector<KernelCall> calls;
  std::set<std::string> seen;
  module.walk([&](func::CallOp call) {
    if (!call.getCallee().starts_with(
            llvm::StringRef(abi::kKernelPrefix.data(), abi::kKernelPrefix.size())) ||
        abi::isCollective(std::string_view(call.getCallee().data(), call.getCallee().size())))
      return;
    KernelCall k;
    k.symbol = call.getCallee().str();
    std::string key = k.symbol;
    for (Value v : call.getOperands()) {
      if (v.getDefiningOp<memref::CastOp>()) {
        std::optional<KernelOperand> op = staticOperand(v);
        if (!op) // dynamic strides: left to the first step
          return;
        for (int64_t d : op->sizes)
          absl::StrAppend(&key, ",", d);
        absl::StrAppend(&key, "/");
        for (int64_t d : op->strides)
          absl::StrAppend(&key, ",", d);
        k.operands.push_back(std::move(*op));
        continue;
      }
      APInt value;
      if (!matchPattern(v, m_ConstantInt(&value)))
        return;
      k.params.push_back(value.getSExtValue());
      absl::StrAppend(&key, ";", k.params.back());
    }
    if (seen.insert(key).second)
      calls.push_back(std::move(k));
  });
  return calls;
}

absl::StatusOr<std::string> emitArtifact(ModuleOp module, const std::string &manifestText,
                                         CpuTarget &target, const ArtifactOptions &options,
                                         const std::string &path) {
  Timer timer(options);
  llvm::TargetMachine *tm = target.machine.get();
  llvm::StringRef cInterfacePrefix(abi::kCInterfacePrefix.data(), abi::kCInterfacePrefix.size());
  llvm::StringRef entryPrefix(abi::kEntryPrefix.data(), abi::kEntryPrefix.size());
  timer.phase("translate to LLVM IR");
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule = translateModuleToLLVMIR(module, llvmContext, "tgx");
  if (!llvmModule)
    return absl::InternalError("translation to LLVM IR failed");
  llvmModule->setDataLayout(tm->createDataLayout());
  llvmModule->setTargetTriple(target.triple);

  // Packed entry points: tg_entry_<name>(void **descriptors).
  llvm::IRBuilder<> ir(llvmContext);
  auto *ptrTy = llvm::PointerType::getUnqual(llvmContext);
  for (auto fn : module.getOps<LLVM::LLVMFuncOp>()) {
    StringRef name = fn.getName();
    if (!name.starts_with(cInterfacePrefix) || fn.isExternal())
      continue;
    llvm::Function *callee = llvmModule->getFunction(name);
    std::string entry = (entryPrefix + name.drop_front(cInterfacePrefix.size())).str();
    auto *wrapper =
        llvm::Function::Create(llvm::FunctionType::get(ir.getVoidTy(), {ptrTy}, false),
                               llvm::Function::ExternalLinkage, entry, llvmModule.get());
    ir.SetInsertPoint(llvm::BasicBlock::Create(llvmContext, "entry", wrapper));
    std::vector<llvm::Value *> args;
    for (unsigned i = 0; i < callee->arg_size(); ++i) {
      llvm::Value *slot = ir.CreateConstGEP1_64(ptrTy, wrapper->getArg(0), i);
      args.push_back(ir.CreateLoad(ptrTy, slot));
    }
    ir.CreateCall(callee, args);
    ir.CreateRetVoid();
    // The C interface wrapper and the function it calls are inlined into
    // the packed entry point (before the module is split), so no call
    // passes an entry's thousands of unpacked descriptor fields: a 12-block
    // GPT's train_step has ~4000 arguments, and instruction selection of
    // that one call and of the callee's prologue took 1.5 s.
    for (llvm::Function *f :
         {llvmModule->getFunction(name.drop_front(cInterfacePrefix.size())), callee}) {
      if (!f || f->isDeclaration())
        continue;
      for (llvm::User *user : llvm::make_early_inc_range(f->users()))
        if (auto *call = llvm::dyn_cast<llvm::CallBase>(user)) {
          llvm::InlineFunctionInfo info;
          (void)llvm::InlineFunction(*call, info);
        }
      if (f->use_empty())
        f->eraseFromParent();
    }
    // An entry point without loops is a straight line of calls (the loop
    // nests are shared functions): optimizing it gains nothing measurable
    // and took a 12-block GPT's train_step 1.2 s of optimization and 0.7 s
    // of instruction selection, so it is compiled as is.
    llvm::SmallVector<std::pair<const llvm::BasicBlock *, const llvm::BasicBlock *>> backEdges;
    llvm::FindFunctionBackedges(*wrapper, backEdges);
    if (backEdges.empty()) {
      wrapper->addFnAttr(llvm::Attribute::OptimizeNone);
      wrapper->addFnAttr(llvm::Attribute::NoInline);
    }
  }
  auto *text = llvm::ConstantDataArray::getString(llvmContext, manifestText, /*AddNull=*/true);
  new llvm::GlobalVariable(*llvmModule, text->getType(), true, llvm::GlobalValue::ExternalLinkage,
                           text, abi::kManifestSymbol);
  new llvm::GlobalVariable(*llvmModule, ir.getInt64Ty(), true, llvm::GlobalValue::ExternalLinkage,
                           ir.getInt64(manifestText.size()), abi::kManifestSizeSymbol);
  if (!options.cudaFatbin.empty()) {
    auto *fatbin = llvm::ConstantDataArray::getString(llvmContext, options.cudaFatbin,
                                                      /*AddNull=*/false);
    auto *g = new llvm::GlobalVariable(*llvmModule, fatbin->getType(), true,
                                       llvm::GlobalValue::ExternalLinkage, fatbin,
                                       abi::kCudaFatbinSymbol);
    g->setAlignment(llvm::Align(8)); // cuModuleLoadData reads the header in place
    new llvm::GlobalVariable(*llvmModule, ir.getInt64Ty(), true, llvm::GlobalValue::ExternalLinkage,
                             ir.getInt64(options.cudaFatbin.size()), abi::kCudaFatbinSizeSymbol);
  }

  int optLevel = std::clamp(options.optLevel, 0, 3);
  if (options.llvmText) {
    timer.phase("optimize LLVM IR");
    if (absl::Status st = optimize(*llvmModule, *tm, optLevel); !st.ok())
      return st;
    std::string out;
    llvm::raw_string_ostream os(out);
    llvmModule->print(os, nullptr);
    timer.phase("");
    return out;
  }

  // The functions are split into modules that threads optimize and emit,
  // each in its own LLVMContext (contexts are not thread-safe); the linker
  // joins the objects. Shared loop nests are noinline functions, so little
  // is lost between modules.
  unsigned defined = 0;
  for (const llvm::Function &f : *llvmModule)
    defined += !f.isDeclaration();
  // The parts depend on the module only, so the artifact's bytes (and the
  // hash checkpoints are matched by) are the same on any machine; threads
  // take them in turn. 8 parts: RoundRobin spreads functions by size, but a
  // part of a few large loop nests lags the others, and more parts than
  // threads even that out.
  unsigned parts = std::min(defined, 8u);
  unsigned threads = std::clamp<unsigned>(llvm::hardware_concurrency().compute_thread_count(), 1,
                                          std::max(parts, 1u));
  timer.phase(threads == 1 ? "optimize and emit object"
                           : absl::StrCat("optimize and emit object (", threads, " threads)"));
  std::vector<llvm::SmallString<0>> bitcode;
  if (parts > 1) {
    // Whole-module first: the shared loop nests are internal, so dead
    // argument elimination drops the descriptor fields their static shapes
    // make unused (9 of a 3-D memref's 10) before the split externalizes
    // them; otherwise every call passes them all.
    removeDeadArguments(*llvmModule, *tm);
    // A linkonce definition (math-to-funcs' integer powers) placed in one
    // part and used from another would be dropped by its part's
    // optimizer as unused: each becomes one hidden definition.
    for (llvm::GlobalValue &gv : llvmModule->global_values())
      if (!gv.isDeclaration() && !gv.hasLocalLinkage() && gv.isDiscardableIfUnused()) {
        gv.setLinkage(llvm::GlobalValue::ExternalLinkage);
        gv.setVisibility(llvm::GlobalValue::HiddenVisibility);
      }
    llvm::SplitModule(
        *llvmModule, parts,
        [&](std::unique_ptr<llvm::Module> part) {
          llvm::raw_svector_ostream os(bitcode.emplace_back());
          llvm::WriteBitcodeToFile(*part, os);
        },
        /*PreserveLocals=*/false, /*RoundRobin=*/true);
    llvmModule.reset();
  }
  std::vector<llvm::SmallString<128>> objPaths(std::max<size_t>(bitcode.size(), 1));
  std::vector<absl::Status> results(objPaths.size());
  auto removeObjects = [&] {
    for (auto &p : objPaths)
      if (!p.empty())
        llvm::sys::fs::remove(p);
  };
  for (auto &p : objPaths) {
    int fd;
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile("tgx", "o", fd, p)) {
      removeObjects();
      return absl::InternalError(absl::StrCat("cannot create a temporary file: ", ec.message()));
    }
    llvm::sys::Process::SafelyCloseFileDescriptor(fd);
  }
  if (bitcode.empty()) {
    results[0] = optimizeAndEmit(*llvmModule, *tm, optLevel, objPaths[0]);
  } else {
    std::atomic<size_t> next{0};
    auto work = [&] {
      // One target machine per thread, used for each part it takes.
      std::unique_ptr<llvm::TargetMachine> machine = target.create();
      for (size_t i; (i = next++) < bitcode.size();) {
        llvm::LLVMContext context;
        llvm::Expected<std::unique_ptr<llvm::Module>> part = llvm::parseBitcodeFile(
            llvm::MemoryBufferRef(llvm::StringRef(bitcode[i].data(), bitcode[i].size()), "part"),
            context);
        if (!part) {
          results[i] = absl::InternalError(
              absl::StrCat("reading back a split module: ", llvm::toString(part.takeError())));
          continue;
        }
        if (!machine) {
          results[i] = absl::InternalError("cannot create an LLVM target machine");
          continue;
        }
        results[i] = optimizeAndEmit(**part, *machine, optLevel, objPaths[i]);
      }
    };
    std::vector<std::thread> pool;
    try {
      for (unsigned t = 1; t < threads; ++t)
        pool.emplace_back(work);
    } catch (const std::system_error &) {
      // No more threads (a process limit): this one and those started do it.
    }
    work();
    for (std::thread &t : pool)
      t.join();
  }
  for (const absl::Status &st : results)
    if (!st.ok()) {
      removeObjects();
      return st;
    }

  timer.phase("link");
  auto cc = llvm::sys::findProgramByName("cc");
  if (!cc) {
    removeObjects();
    return absl::FailedPreconditionError(
        "no C compiler driver 'cc' on PATH to link the artifact (apt-get install gcc)");
  }
  llvm::SmallString<128> logPath;
  llvm::sys::fs::createTemporaryFile("tgx-link", "log", logPath);
  std::string out = path;
  // Parallel loops call the LLVM OpenMP runtime (libomp).
  std::string ompDir = TG_LIBOMP_DIR, rpath = "-Wl,-rpath," + ompDir, libDir = "-L" + ompDir;
  std::vector<llvm::StringRef> argv = {*cc, "-shared", "-o", out};
  for (auto &p : objPaths)
    argv.push_back(p);
  for (llvm::StringRef a : {llvm::StringRef(libDir), llvm::StringRef("-lomp"),
                            llvm::StringRef(rpath), llvm::StringRef("-lm")})
    argv.push_back(a);
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef(logPath),
                                                llvm::StringRef(logPath)};
  std::string execError;
  int rc = llvm::sys::ExecuteAndWait(*cc, argv, std::nullopt, redirects, 0, 0, &execError);
  removeObjects();
  std::string log;
  if (auto buf = llvm::MemoryBuffer::getFile(logPath))
    log = (*buf)->getBuffer().str();
  llvm::sys::fs::remove(logPath);
  if (rc != 0)
    return absl::InternalError(absl::StrCat("linking '", path, "' failed",
                                            execError.empty() ? "" : ": " + execError, "\n", log));
  // Integrity trailer (support/Trailer.h).
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
  return std::string();
}

} // namespace tg
