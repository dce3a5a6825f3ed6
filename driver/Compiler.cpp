//===- Compiler.cpp - compiling a tg module, up to any phase --------------===//
#include "driver/Compiler.h"
#include "codegen/common/ManifestBuilder.h"
#include "codegen/cpu/Artifact.h"
#include "codegen/cuda/Target.h"
#include "ir/Diagnostics.h"
#include "ir/Dialect.h"
#include "support/KernelAbi.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"

#include <chrono>

using namespace mlir;

namespace tg {
namespace {

std::string moduleText(ModuleOp module) {
  std::string s;
  llvm::raw_string_ostream os(s);
  module.print(os);
  return s;
}

/// Wall time of each phase, as the pipeline reports their ends.
class PhaseClock {
public:
  explicit PhaseClock(std::vector<std::pair<std::string, double>> *timings) : timings(timings) {}
  void end(llvm::StringRef what) {
    auto now = std::chrono::steady_clock::now();
    if (timings)
      timings->push_back({what.str(), std::chrono::duration<double>(now - start).count()});
    start = now;
  }

private:
  std::vector<std::pair<std::string, double>> *timings;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};

/// The PTX of the kernel module (gpu-module-to-binary, format=isa). MLIR 19
/// ends the string with a NUL byte, which ptxas rejects.
absl::StatusOr<std::string> kernelPtx(ModuleOp module) {
  for (auto binary : module.getOps<gpu::BinaryOp>())
    for (Attribute a : binary.getObjects())
      if (auto object = dyn_cast<gpu::ObjectAttr>(a)) {
        std::string ptx = object.getObject().getValue().str();
        while (!ptx.empty() && ptx.back() == '\0')
          ptx.pop_back();
        return ptx;
      }
  return std::string(); // no kernels
}

/// Checks the --target options against the phase.
absl::Status checkTarget(const CompilerOptions &o) {
  if (o.target != "cpu" && o.target != "cuda")
    return absl::InvalidArgumentError("unknown --target '" + o.target + "' (cpu or cuda)");
  bool gpuPhase = o.emit == Phase::Gpu || o.emit == Phase::Ptx || o.emit == Phase::Fatbin;
  if (o.target != "cuda" && (gpuPhase || o.cudaEmulate || !o.cudaArch.empty()))
    return absl::InvalidArgumentError(
        "--emit=gpu|ptx|fatbin, --cuda-arch and --cuda-emulate need --target=cuda");
  if (o.cudaEmulate && (o.emit == Phase::Ptx || o.emit == Phase::Fatbin))
    return absl::InvalidArgumentError(
        "--cuda-emulate runs the kernels on the CPU: there is no ptx or fatbin to emit");
  return absl::OkStatus();
}

} // namespace

absl::StatusOr<std::string> compileModule(ModuleOp module, const CompilerOptions &options,
                                          const std::string &path) {
  if (absl::Status s = checkTarget(options); !s.ok())
    return s;
  if (options.emit == Phase::Tg)
    return moduleText(module);
  MLIRContext *ctx = module.getContext();
  {
    DialectRegistry registry;
    registerPipelineDialects(registry);
    ctx->appendDialectRegistry(registry);
    ctx->loadAllAvailableDialects();
  }
  DiagnosticCollector diagnostics(ctx, options.warnings);

  bool binary = options.emit >= Phase::Llvm;
  if (options.precision != "f32" && options.precision != "bf16-mixed")
    return absl::InvalidArgumentError("--precision must be f32 or bf16-mixed, got '" +
                                      options.precision + "'");
  bool bf16 = options.precision == "bf16-mixed";
  if (bf16 && options.target == "cuda")
    return absl::UnimplementedError(
        "--precision=bf16-mixed is for the CPU backend (oneDNN on AVX512_BF16); the CUDA "
        "backend computes in f32");
  // The CPU target: for the object code, and for the features the layout
  // block and bf16 depend on.
  bool cpuPasses = options.target != "cuda" && (options.blockedLayouts || bf16);
  absl::StatusOr<CpuTarget> target = absl::UnknownError("");
  if (binary || cpuPasses) {
    target = selectCpuTarget(options.targetCpu);
    if (!target.ok())
      return target.status();
  }
  bool cuda = options.target == "cuda" && !options.cudaEmulate;
  absl::StatusOr<CudaTarget> cudaTarget = absl::UnknownError("");
  if (auto archs = parseCudaArchs(options.cudaArch); !archs.ok())
    return archs.status(); // even when emulating or stopping early
  if (cuda && options.emit >= Phase::Ptx) {
    cudaTarget = selectCudaTarget(options.cudaArch, options.cudaToolkit);
    if (!cudaTarget.ok())
      return cudaTarget.status();
  }
  std::string ptx;
  absl::StatusOr<Fatbin> fatbin = absl::UnknownError("");
  std::vector<CudaKernelSpec> cudaKernels;
  // The manifest: entries once the module holds exactly what is compiled,
  // library calls once they are calls.
  absl::StatusOr<Manifest> manifest = Manifest();
  PhaseClock clock(options.timings);
  PipelineOptions pipeline;
  pipeline.stopAfter = options.emit;
  pipeline.fusion = options.fusion;
  pipeline.planMemory = options.planMemory;
  if (cpuPasses) {
    // The block oneDNN's direct kernels use on the target: 16 floats with
    // AVX-512, 8 with AVX2 (its jit kernels for older CPUs take plain NCHW).
    auto has = [&](const char *f) { return absl::c_linear_search(target->features, f); };
    if (options.blockedLayouts)
      pipeline.layoutBlock = has("avx512f") ? 16 : has("avx2") ? 8 : 0;
    if (bf16 && !has("avx512bf16"))
      return absl::FailedPreconditionError(
          "--precision=bf16-mixed needs a CPU with AVX512_BF16; the target CPU '" +
          options.targetCpu + "' has none (oneDNN would emulate bf16, slower than f32)");
    pipeline.bf16Mixed = bf16;
  }
  pipeline.dataParallel = options.dataParallel;
  pipeline.keepFunctions = options.keepFunctions;
  pipeline.bucketCapMb = options.bucketCapMb;
  pipeline.averageState = options.averageState;
  pipeline.target = options.target;
  pipeline.cudaEmulate = options.cudaEmulate;
  if (cudaTarget.ok()) {
    pipeline.ptxChip = cudaTarget->ptxChip;
    pipeline.cudaToolkit = cudaTarget->toolkit;
  }
  pipeline.onPhaseEnd = [&](Phase phase, ModuleOp m) -> LogicalResult {
    // The fatbin phase's work (ptxas, fatbinary) is done here, so it ends below.
    if (phase != Phase::Tg && phase != Phase::Fatbin)
      clock.end(phaseDescription(phase));
    if (binary && phase == Phase::Distributed) {
      manifest = describeEntries(m);
      if (!manifest.ok())
        return m.emitError() << manifest.status().message();
    }
    if (binary && phase == Phase::Bufferized) {
      manifest->kernels = collectKernelCalls(m);
      for (auto fn : m.getOps<func::FuncOp>())
        if (auto arena = fn->getAttrOfType<IntegerAttr>(TgDialect::kArenaBytesAttr))
          for (EntrySpec &e : manifest->entries)
            if (e.name == fn.getSymName()) {
              e.arenaBytes = arena.getInt();
              if (auto temp = fn->getAttrOfType<IntegerAttr>(TgDialect::kTempBytesAttr))
                e.tempBytes = temp.getInt();
            }
    }
    if (phase == Phase::Ptx) {
      auto text = kernelPtx(m);
      if (!text.ok())
        return m.emitError() << text.status().message();
      ptx = *text;
      if (auto table = m->getAttrOfType<ArrayAttr>("tg.cuda_kernels"))
        for (auto k : table.getAsRange<DictionaryAttr>()) {
          CudaKernelSpec spec;
          if (auto name = k.getAs<StringAttr>("name"))
            spec.name = name.str();
          if (auto block = k.getAs<IntegerAttr>("block_size"))
            spec.blockSize = block.getInt();
          if (auto params = k.getAs<IntegerAttr>("params"))
            spec.params = params.getInt();
          cudaKernels.push_back(spec);
        }
    }
    if (phase == Phase::Fatbin) {
      if (ptx.empty())
        return m.emitError() << "the module has no kernels to put in a fatbin";
      fatbin = buildFatbin(ptx, *cudaTarget);
      clock.end(phaseDescription(phase));
      if (!fatbin.ok())
        return m.emitError() << fatbin.status().message();
    }
    return success();
  };
  PassManager pm(ctx, ModuleOp::getOperationName());
  buildPipeline(pm, pipeline);
  if (failed(pm.run(module)))
    return absl::InvalidArgumentError(diagnostics.errorsOr("compilation failed"));
  if (options.emit == Phase::Ptx)
    return ptx;
  if (fatbin.ok() && options.warnings)
    for (const std::string &w : fatbin->warnings)
      options.warnings->push_back("ptxas: " + w);
  if (options.emit == Phase::Fatbin)
    return fatbin->bytes;
  if (!binary)
    return moduleText(module);

  manifest->compiler = "tgc 0.1 (MLIR/LLVM 19)";
  manifest->triple = target->triple;
  manifest->cpu = target->cpu;
  manifest->features = target->features;
  manifest->targetCpu = options.targetCpu;
  manifest->fusion = options.fusion;
  ArtifactOptions artifact;
  if (cuda) {
    CudaSpec spec;
    spec.archs = cudaTarget->archs;
    spec.ptxArch = cudaTarget->ptxChip;
    spec.toolkit = cudaTarget->toolkitVersion;
    if (fatbin.ok()) {
      spec.fatbinBytes = int64_t(fatbin->bytes.size());
      artifact.cudaFatbin = fatbin->bytes;
      for (CudaKernelSpec &k : cudaKernels) {
        auto it = fatbin->resources.find(k.name);
        if (it != fatbin->resources.end())
          for (const auto &[arch, r] : it->second)
            k.resources[arch] = {r.registers, r.sharedBytes, r.spillBytes, r.stackBytes};
      }
    }
    spec.kernels = std::move(cudaKernels);
    // Library calls run in libtgrt_cuda (tg-cuda-lower-launches renames
    // them), which checks them when a session opens.
    for (KernelCall &k : manifest->kernels) {
      k.symbol = abi::cudaSymbol(k.symbol);
      std::string why = abi::cudaUnsupportedCall(k.symbol, k.params.data(), k.params.size());
      if (!why.empty() && options.warnings &&
          std::find(spec.libraryCalls.begin(), spec.libraryCalls.end(), k.symbol) ==
              spec.libraryCalls.end())
        options.warnings->push_back("the CUDA device runtime cannot run this artifact yet: it "
                                    "calls " +
                                    why);
      if (std::find(spec.libraryCalls.begin(), spec.libraryCalls.end(), k.symbol) ==
          spec.libraryCalls.end())
        spec.libraryCalls.push_back(k.symbol);
    }
    // tg-distribute's collectives: NCCL in libtgrt_cuda.
    if (manifest->dataParallel.mode != "none")
      for (std::string_view c : {abi::kAllreduceStart, abi::kAllreduceWait})
        spec.libraryCalls.push_back(abi::cudaSymbol(c));
    manifest->cuda = std::move(spec);
  }
  artifact.optLevel = options.optLevel;
  artifact.llvmText = options.emit == Phase::Llvm;
  artifact.timings = options.timings;
  absl::StatusOr<std::string> manifestText = manifest->serialize();
  if (!manifestText.ok())
    return manifestText.status();
  return emitArtifact(module, *manifestText, *target, artifact, path);
}

} // namespace tg
