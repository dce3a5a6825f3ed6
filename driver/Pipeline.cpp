//===- Pipeline.cpp - the one compiler pipeline, in phases ----------------===//
#include "driver/Pipeline.h"
#include "codegen/cpu/Passes.h"
#include "codegen/cuda/Passes.h"
#include "distributed/Passes.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "tg-pipeline"

using namespace mlir;

namespace tg {
namespace {

struct PhaseInfo {
  Phase phase;
  llvm::StringLiteral name, description;
};

constexpr PhaseInfo kPhases[] = {
    {Phase::Tg, "tg", "parse and verify"},
    {Phase::Trained, "trained", "tg-build-train-step"},
    {Phase::Distributed, "distributed", "tg-distribute, strip non-entry functions"},
    {Phase::Fused, "fused", "fusion"},
    {Phase::Linalg, "linalg", "lower to linalg"},
    {Phase::Bufferized, "bufferized", "bufferize"},
    {Phase::Gpu, "gpu", "map loop nests to GPU kernels"},
    {Phase::Ptx, "ptx", "outline kernels, NVVM, PTX"},
    {Phase::Fatbin, "fatbin", "ptxas per arch, fatbinary"},
    {Phase::Llvm, "llvm", "lower to LLVM dialect"},
    {Phase::Obj, "obj", "emit object"},
};

/// Runs a callback on the module at a phase boundary. Not registered: the
/// pipeline builder adds it when a caller asks to observe the phases.
struct PhaseEndPass : PassWrapper<PhaseEndPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PhaseEndPass)

  PhaseEndPass(Phase phase, std::function<LogicalResult(Phase, ModuleOp)> fn)
      : phase(phase), fn(std::move(fn)) {}
  StringRef getArgument() const override { return "tg-phase-end"; }
  void runOnOperation() override {
    LLVM_DEBUG(llvm::dbgs() << "end of phase " << phaseName(phase) << "\n");
    if (failed(fn(phase, getOperation())))
      signalPassFailure();
  }

  Phase phase;
  std::function<LogicalResult(Phase, ModuleOp)> fn;
};

} // namespace

StringRef phaseName(Phase phase) {
  for (const PhaseInfo &p : kPhases)
    if (p.phase == phase)
      return p.name;
  return "";
}

StringRef phaseDescription(Phase phase) {
  for (const PhaseInfo &p : kPhases)
    if (p.phase == phase)
      return p.description;
  return "";
}

std::optional<Phase> parsePhase(StringRef name) {
  for (const PhaseInfo &p : kPhases)
    if (p.name == name)
      return p.phase;
  return std::nullopt;
}

std::string phaseList() {
  std::string s;
  for (const PhaseInfo &p : kPhases)
    s += (s.empty() ? "" : ", ") + p.name.str();
  return s;
}

void buildPipeline(OpPassManager &pm, const PipelineOptions &options) {
  Phase last = options.stopAfter == Phase::Obj ? Phase::Llvm : options.stopAfter;
  // Adds the passes of `phase` and its observer; false once past `last`.
  auto phase = [&](Phase p, llvm::function_ref<void()> addPasses) {
    if (p > last)
      return false;
    addPasses();
    if (options.onPhaseEnd)
      pm.addPass(std::make_unique<PhaseEndPass>(p, options.onPhaseEnd));
    return true;
  };
  phase(Phase::Tg, [] {});
  phase(Phase::Trained, [&] {
    pm.addPass(createCanonicalizerPass());
    BuildTrainStepOptions trainStep;
    trainStep.ifNeeded = true;
    pm.addPass(createBuildTrainStep(trainStep));
  });
  phase(Phase::Distributed, [&] {
    DistributeOptions distribute;
    distribute.mode = options.dataParallel;
    distribute.bucketCapMb = options.bucketCapMb;
    distribute.averageState = options.averageState;
    pm.addPass(createDistribute(distribute));
    StripNonEntryOptions strip;
    strip.keep = options.keepFunctions;
    pm.addPass(createStripNonEntry(strip));
  });
  phase(Phase::Fused, [&] {
    addCpuFusionPasses(pm, options.fusion, options.target);
    if (options.target != "cuda" && options.layoutBlock > 0)
      pm.addPass(createAssignLayouts(AssignLayoutsOptions{options.layoutBlock}));

  });
  phase(Phase::Linalg, [&] {
    addCpuLinalgPasses(pm, options.fusion, options.target);
    // Last, on the library ops that stay: canonicalization rebuilds some
    // matmuls (a transpose folded in) without their discardable attributes.
    if (options.target != "cuda" && options.bf16Mixed)
      pm.addPass(createMixedPrecision());
  });
  phase(Phase::Bufferized, [&] {
    addCpuBufferizationPasses(pm);
    // Both targets: on CUDA the arena is one device allocation per call.
    if (options.planMemory)
      pm.addPass(createPlanMemory());
  });
  if (options.target != "cuda") {
    phase(Phase::Llvm, [&] { addCpuLLVMPasses(pm); });
    return;
  }
  phase(Phase::Gpu, [&] { addCudaGpuPasses(pm); });
  if (options.cudaEmulate) {
    phase(Phase::Llvm, [&] {
      pm.addPass(createEmulateLaunches());
      addCpuLLVMPasses(pm);
    });
    return;
  }
  phase(Phase::Ptx, [&] { addCudaPtxPasses(pm, options.ptxChip, options.cudaToolkit); });
  phase(Phase::Fatbin, [] {}); // the driver runs ptxas and fatbinary at its end
  phase(Phase::Llvm, [&] { addCudaHostPasses(pm); });
}

void registerPipelineDialects(DialectRegistry &registry) {
  registerCpuCodegen(registry);
  registerCudaCodegen(registry);
}

namespace {
struct PipelineCliOptions : PassPipelineOptions<PipelineCliOptions> {
  Option<Phase> stopAfter{
      *this, "stop-after", llvm::cl::desc("The last phase"), llvm::cl::init(Phase::Llvm),
      llvm::cl::values(clEnumValN(Phase::Trained, "trained", "after tg-build-train-step"),
                       clEnumValN(Phase::Distributed, "distributed", "after tg-distribute"),
                       clEnumValN(Phase::Fused, "fused", "after the fusion passes"),
                       clEnumValN(Phase::Linalg, "linalg", "lowered to linalg on tensors"),
                       clEnumValN(Phase::Bufferized, "bufferized", "on buffers"),
                       clEnumValN(Phase::Gpu, "gpu", "loop nests as gpu.launch (cuda)"),
                       clEnumValN(Phase::Llvm, "llvm", "the LLVM dialect"))};
  Option<bool> fusion{*this, "fusion", llvm::cl::desc("The backend's fusion passes"),
                      llvm::cl::init(true)};
  Option<std::string> dataParallel{*this, "data-parallel",
                                   llvm::cl::desc("tg-distribute's mode: none | allreduce | "
                                                  "average:K"),
                                   llvm::cl::init("none")};
  Option<double> bucketCapMb{*this, "bucket-cap-mb", llvm::cl::desc("tg-distribute's bucket cap"),
                             llvm::cl::init(25.0)};
  Option<std::string> target{*this, "target", llvm::cl::desc("cpu | cuda"), llvm::cl::init("cpu")};
  Option<bool> cudaEmulate{*this, "cuda-emulate",
                           llvm::cl::desc("cuda: kernels as CPU loops (no PTX)"),
                           llvm::cl::init(false)};
};
} // namespace

void registerPipelines() {
  static PassPipelineRegistration<PipelineCliOptions> pipeline(
      "tg-pipeline", "The compiler pipeline from a tg module up to a phase (default: llvm)",
      [](OpPassManager &pm, const PipelineCliOptions &cli) {
        PipelineOptions options;
        options.fusion = cli.fusion;
        options.stopAfter = cli.stopAfter;
        options.dataParallel = cli.dataParallel;
        options.bucketCapMb = cli.bucketCapMb;
        options.target = cli.target;
        options.cudaEmulate = cli.cudaEmulate;
        buildPipeline(pm, options);
      });
  static PassPipelineRegistration<> cpu(
      "tg-cpu-codegen", "The whole CPU pipeline: tg to the LLVM dialect",
      [](OpPassManager &pm) { buildPipeline(pm, PipelineOptions()); });
}

} // namespace tg
