//===- Compiler.cpp - compiling a tg module, up to any phase --------------===//
#include "driver/Compiler.h"
#include "codegen/common/ManifestBuilder.h"
#include "codegen/host/Artifact.h"
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

#include <algorithm>
#include <chrono>
#include <optional>

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

/// The machines compiled for: the CPU (for the object code, and for the
/// features the layout block and bf16 depend on) and, once there is PTX to
/// write, the CUDA archs and toolkit. Each is absent when nothing needs it.
struct Targets {
  std::optional<CpuTarget> cpu;
  std::optional<CudaTarget> cuda;
};

bool isBinary(const CompilerOptions &o) { return o.emit >= Phase::Llvm; }

bool isBf16(const CompilerOptions &o) { return o.precision == "bf16-mixed"; }

/// Whether CPU passes depend on the target CPU's features.
bool needsCpuFeatures(const CompilerOptions &o) {
  return o.targetKind() != Target::Cuda && (o.layouts == "blocked" || isBf16(o));
}

/// Whether the CUDA kernels are compiled for a GPU (not emulated on the CPU).
bool isCudaDevice(const CompilerOptions &o) {
  return o.targetKind() == Target::Cuda && !o.cudaEmulate;
}

/// The CPU target when the phases need it, the CUDA toolkit once there is PTX.
absl::StatusOr<Targets> selectTargets(const CompilerOptions &o) {
  Targets t;
  if (isBinary(o) || needsCpuFeatures(o)) {
    absl::StatusOr<CpuTarget> cpu = selectCpuTarget(o.targetCpu);
    if (!cpu.ok())
      return cpu.status();
    t.cpu = std::move(*cpu);
  }
  if (isCudaDevice(o) && o.emit >= Phase::Ptx) {
    absl::StatusOr<CudaTarget> cuda = selectCudaTarget(o.cudaArch, o.cudaToolkit);
    if (!cuda.ok())
      return cuda.status();
    t.cuda = std::move(*cuda);
  }
  return t;
}

/// The pipeline's options: the compile options, plus what the targets decide
/// (the layout block, whether bf16 is possible, the PTX chip).
absl::StatusOr<PipelineOptions> pipelineOptions(const CompilerOptions &o, const Targets &t) {
  PipelineOptions p;
  p.stopAfter = o.emit;
  p.fusion = o.fusion;
  p.planMemory = o.planMemory;
  p.shareLoopNests = o.shareLoopNests;
  p.microbatches = o.microbatches;
  p.pipelineStages = o.pipelineStages;
  p.schedule = o.schedule;
  if (needsCpuFeatures(o)) {
    // The block oneDNN's direct kernels use on the target: 16 floats with
    // AVX-512, 8 with AVX2 (its jit kernels for older CPUs take plain NCHW).
    auto has = [&](const char *f) { return absl::c_linear_search(t.cpu->features, f); };
    if (o.layouts == "blocked")
      p.layoutBlock = has("avx512f") ? 16 : has("avx2") ? 8 : 0;
    if (isBf16(o) && !has("avx512bf16"))
      return absl::FailedPreconditionError(
          "--precision=bf16-mixed needs a CPU with AVX512_BF16; the target CPU '" + o.targetCpu +
          "' has none (oneDNN would emulate bf16, slower than f32)");
    p.bf16Mixed = isBf16(o);
  }
  p.dataParallel = o.dataParallel;
  p.keepFunctions = o.keepFunctions;
  p.bucketCapMb = o.bucketCapMb;
  p.averageState = o.averageState;
  p.compress = o.compress;
  p.shardOptimizerState = o.shardOptimizerState;
  p.target = targetName(o.targetKind()).str();
  p.cudaEmulate = o.cudaEmulate;
  if (t.cuda) {
    p.ptxChip = t.cuda->ptxChip;
    p.cudaToolkit = t.cuda->toolkit;
  }
  return p;
}

/// What the phases leave for the result: the manifest (entries once the
/// module holds exactly what is compiled, library calls once they are
/// calls), the PTX and its kernels, the fatbin.
struct PhaseOutputs {
  Manifest manifest;
  std::string ptx;
  std::vector<CudaKernelSpec> cudaKernels;
  std::optional<Fatbin> fatbin;
};

/// Each entry point's arena and temporaries (tg-plan-memory) into the
/// manifest.
void recordArenas(ModuleOp m, Manifest &manifest) {
  for (auto fn : m.getOps<func::FuncOp>())
    if (auto arena = fn->getAttrOfType<IntegerAttr>(TgDialect::kArenaBytesAttr))
      for (EntrySpec &e : manifest.entries)
        if (e.name == fn.getSymName()) {
          e.arenaBytes = arena.getInt();
          if (auto temp = fn->getAttrOfType<IntegerAttr>(TgDialect::kTempBytesAttr))
            e.tempBytes = temp.getInt();
        }
}

/// The kernels' launch facts (tg.cuda_kernels, left by the ptx phase).
std::vector<CudaKernelSpec> cudaKernelSpecs(ModuleOp m) {
  std::vector<CudaKernelSpec> kernels;
  if (auto table = m->getAttrOfType<ArrayAttr>("tg.cuda_kernels"))
    for (auto k : table.getAsRange<DictionaryAttr>()) {
      CudaKernelSpec spec;
      if (auto name = k.getAs<StringAttr>("name"))
        spec.name = name.str();
      if (auto block = k.getAs<IntegerAttr>("block_size"))
        spec.blockSize = block.getInt();
      if (auto params = k.getAs<IntegerAttr>("params"))
        spec.params = params.getInt();
      kernels.push_back(spec);
    }
  return kernels;
}

/// Called at the end of each phase: times it and takes from the module what
/// the result needs.
LogicalResult endPhase(Phase phase, ModuleOp m, const CompilerOptions &options,
                       const Targets &targets, PhaseClock &clock, PhaseOutputs &out) {
  // The fatbin phase's work (ptxas, fatbinary) is done here, so it ends below.
  if (phase != Phase::Tg && phase != Phase::Fatbin)
    clock.end(phaseDescription(phase));
  if (isBinary(options) && phase == Phase::Distributed) {
    absl::StatusOr<Manifest> manifest = describeEntries(m);
    if (!manifest.ok())
      return m.emitError() << manifest.status().message();
    out.manifest = std::move(*manifest);
  }
  if (isBinary(options) && phase == Phase::Bufferized) {
    out.manifest.kernels = collectKernelCalls(m);
    recordArenas(m, out.manifest);
  }
  if (phase == Phase::Ptx) {
    absl::StatusOr<std::string> text = kernelPtx(m);
    if (!text.ok())
      return m.emitError() << text.status().message();
    out.ptx = *text;
    out.cudaKernels = cudaKernelSpecs(m);
  }
  if (phase == Phase::Fatbin) {
    if (out.ptx.empty())
      return m.emitError() << "the module has no kernels to put in a fatbin";
    absl::StatusOr<Fatbin> fatbin = buildFatbin(out.ptx, *targets.cuda);
    clock.end(phaseDescription(phase));
    if (!fatbin.ok())
      return m.emitError() << fatbin.status().message();
    out.fatbin = std::move(*fatbin);
  }
  return success();
}

/// The manifest's CUDA part: archs, the fatbin (moved into `artifact`) with
/// each kernel's resources, and the library calls renamed to libtgrt_cuda's.
CudaSpec describeCuda(const CudaTarget &target, PhaseOutputs &out, ArtifactOptions &artifact,
                      std::vector<std::string> *warnings) {
  CudaSpec spec;
  spec.archs = target.archs;
  spec.ptxArch = target.ptxChip;
  spec.toolkit = target.toolkitVersion;
  if (out.fatbin) {
    spec.fatbinBytes = int64_t(out.fatbin->bytes.size());
    artifact.cudaFatbin = out.fatbin->bytes;
    for (CudaKernelSpec &k : out.cudaKernels) {
      auto it = out.fatbin->resources.find(k.name);
      if (it != out.fatbin->resources.end())
        for (const auto &[arch, r] : it->second)
          k.resources[arch] = {r.registers, r.sharedBytes, r.spillBytes, r.stackBytes};
    }
  }
  spec.kernels = std::move(out.cudaKernels);
  // Library calls run in libtgrt_cuda (tg-cuda-lower-launches renames
  // them), which checks them when a session opens.
  for (KernelCall &k : out.manifest.kernels) {
    k.symbol = abi::cudaSymbol(k.symbol);
    bool listed = std::find(spec.libraryCalls.begin(), spec.libraryCalls.end(), k.symbol) !=
                  spec.libraryCalls.end();
    std::string why = abi::cudaUnsupportedCall(k.symbol, k.params.data(), k.params.size());
    if (!why.empty() && warnings && !listed)
      warnings->push_back("the CUDA device runtime cannot run this artifact yet: it calls " + why);
    if (!listed)
      spec.libraryCalls.push_back(k.symbol);
  }
  // tg-distribute's collectives: NCCL in libtgrt_cuda.
  if (out.manifest.dataParallel.mode != "none")
    for (std::string_view c : {abi::kAllreduceStart, abi::kAllreduceWait})
      spec.libraryCalls.push_back(abi::cudaSymbol(c));
  return spec;
}

/// Completes the manifest (compiler, target, CUDA part) and writes the
/// artifact to `path`, or returns the LLVM IR for `--emit=llvm`.
absl::StatusOr<std::string> writeArtifact(ModuleOp module, const CompilerOptions &options,
                                          Targets &targets, PhaseOutputs &out,
                                          const std::string &path) {
  Manifest &manifest = out.manifest;
  manifest.compiler = "tgc 0.1 (MLIR/LLVM 19)";
  manifest.triple = targets.cpu->triple;
  manifest.cpu = targets.cpu->cpu;
  manifest.features = targets.cpu->features;
  manifest.targetCpu = options.targetCpu;
  manifest.fusion = options.fusion;
  ArtifactOptions artifact;
  if (isCudaDevice(options))
    manifest.cuda = describeCuda(*targets.cuda, out, artifact, options.warnings);
  artifact.optLevel = options.optLevel;
  artifact.llvmText = options.emit == Phase::Llvm;
  artifact.timings = options.timings;
  absl::StatusOr<std::string> manifestText = manifest.serialize();
  if (!manifestText.ok())
    return manifestText.status();
  return emitArtifact(module, *manifestText, *targets.cpu, artifact, path);
}

/// The result of the phase compiled to: the PTX, the fatbin, a text phase,
/// or the artifact.
absl::StatusOr<std::string> phaseResult(ModuleOp module, const CompilerOptions &options,
                                        Targets &targets, PhaseOutputs &out,
                                        const std::string &path) {
  if (options.emit == Phase::Ptx)
    return out.ptx;
  if (out.fatbin && options.warnings)
    for (const std::string &w : out.fatbin->warnings)
      options.warnings->push_back("ptxas: " + w);
  if (options.emit == Phase::Fatbin) {
    if (!out.fatbin) // the fatbin phase ran, or the pipeline failed
      return absl::InternalError("no fatbin was built");
    return out.fatbin->bytes;
  }
  if (!isBinary(options))
    return moduleText(module);
  return writeArtifact(module, options, targets, out, path);
}

void loadPipelineDialects(MLIRContext *ctx) {
  DialectRegistry registry;
  registerPipelineDialects(registry);
  ctx->appendDialectRegistry(registry);
  ctx->loadAllAvailableDialects();
}

} // namespace

namespace {

/// The targets and the pipeline options of validated `options`: what both
/// compileModule and buildCompilerPipeline build from.
struct Prepared {
  Targets targets;
  PipelineOptions pipeline;
};
absl::StatusOr<Prepared> prepare(const CompilerOptions &options) {
  absl::StatusOr<Targets> targets = selectTargets(options);
  if (!targets.ok())
    return targets.status();
  absl::StatusOr<PipelineOptions> pipeline = pipelineOptions(options, *targets);
  if (!pipeline.ok())
    return pipeline.status();
  return Prepared{std::move(*targets), std::move(*pipeline)};
}

} // namespace

absl::StatusOr<std::string> compileModule(ModuleOp module, const CompilerOptions &options,
                                          const std::string &path) {
  if (absl::Status s = validateCompilerOptions(options); !s.ok())
    return s;
  if (options.emit == Phase::Tg)
    return moduleText(module);
  MLIRContext *ctx = module.getContext();
  loadPipelineDialects(ctx);
  DiagnosticCollector diagnostics(ctx, options.warnings);
  absl::StatusOr<Prepared> prepared = prepare(options);
  if (!prepared.ok())
    return prepared.status();
  Targets &targets = prepared->targets;
  PhaseOutputs out;
  PhaseClock clock(options.timings);
  prepared->pipeline.onPhaseEnd = [&](Phase phase, ModuleOp m) {
    return endPhase(phase, m, options, targets, clock, out);
  };
  PassManager pm(ctx, ModuleOp::getOperationName());
  buildPipeline(pm, prepared->pipeline);
  if (failed(pm.run(module)))
    return absl::InvalidArgumentError(diagnostics.errorsOr("compilation failed"));
  return phaseResult(module, options, targets, out, path);
}

absl::Status buildCompilerPipeline(OpPassManager &pm, const CompilerOptions &options) {
  if (absl::Status s = validateCompilerOptions(options); !s.ok())
    return s;
  absl::StatusOr<Prepared> prepared = prepare(options);
  if (!prepared.ok())
    return prepared.status();
  buildPipeline(pm, prepared->pipeline);
  return absl::OkStatus();
}

} // namespace tg
