//===- Pipeline.cpp - the one compiler pipeline, in phases ----------------===//
#include "driver/Pipeline.h"
#include "codegen/cpu/Passes.h"
#include "codegen/cuda/Passes.h"
#include "codegen/host/Passes.h"
#include "distributed/Passes.h"
#include "driver/Compiler.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/Debug.h"

#include <type_traits>

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
  // validateCompilerOptions has accepted the spelling.
  Target target = parseTarget(options.target).value_or(Target::Cpu);
  phase(Phase::Tg, [] {});
  phase(Phase::Trained, [&] {
    pm.addPass(createCanonicalizerPass());
    if (options.pipelineStages > 1) {
      PipelineSplitOptions split;
      split.stages = options.pipelineStages;
      split.microbatches = options.microbatches;
      split.schedule = options.schedule;
      pm.addPass(createPipelineSplit(split));
    }
    BuildTrainStepOptions trainStep;
    trainStep.ifNeeded = true;
    trainStep.microbatches = options.microbatches;
    pm.addPass(createBuildTrainStep(trainStep));
  });
  phase(Phase::Distributed, [&] {
    DistributeOptions distribute;
    distribute.mode = options.dataParallel;
    distribute.bucketCapMb = options.bucketCapMb;
    distribute.averageState = options.averageState;
    distribute.compress = options.compress;
    distribute.shardState = options.shardOptimizerState;
    pm.addPass(createDistribute(distribute));
    StripNonEntryOptions strip;
    strip.keep = options.keepFunctions;
    pm.addPass(createStripNonEntry(strip));
  });
  phase(Phase::Fused, [&] {
    addHostFusionPasses(pm, options.fusion, target);
    if (target != Target::Cuda && options.layoutBlock > 0)
      pm.addPass(createAssignLayouts(AssignLayoutsOptions{options.layoutBlock}));

  });
  phase(Phase::Linalg, [&] {
    addHostLinalgPasses(pm, options.fusion, target);
    // Last, on the library ops that stay: canonicalization rebuilds some
    // matmuls (a transpose folded in) without their discardable attributes.
    if (target != Target::Cuda && options.bf16Mixed)
      pm.addPass(createMixedPrecision());
  });
  phase(Phase::Bufferized, [&] {
    addHostBufferizationPasses(pm);
    // Both targets: on CUDA the arena is one device allocation per call.
    if (options.planMemory)
      pm.addPass(createPlanMemory());
  });
  if (target != Target::Cuda) {
    phase(Phase::Llvm, [&] { addHostLLVMPasses(pm, options.shareLoopNests); });
    return;
  }
  phase(Phase::Gpu, [&] { addCudaGpuPasses(pm); });
  if (options.cudaEmulate) {
    phase(Phase::Llvm, [&] {
      pm.addPass(createEmulateLaunches());
      addHostLLVMPasses(pm);
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
/// The pass option type of a table TYPE: a list is a ListOption.
template <typename T> struct CliOptionOf { using type = mlir::detail::PassOptions::Option<T>; };
template <> struct CliOptionOf<std::vector<std::string>> {
  using type = mlir::detail::PassOptions::ListOption<std::string>;
};

/// The table's defaults, as CompilerOptions holds them.
const CompilerOptions &defaults() {
  static const CompilerOptions options;
  return options;
}
template <typename T> auto cliDefault(const T &value) { return llvm::cl::init(value); }
auto cliDefault(const std::vector<std::string> &) {
  return llvm::cl::list_init(llvm::ArrayRef<std::string>());
}

template <typename T, typename CliOption> void assign(T &to, const CliOption &from) {
  if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    llvm::ArrayRef<std::string> items = from;
    to.assign(items.begin(), items.end());
  } else {
    to = from;
  }
}

/// --tg-pipeline's options: where to stop, and every compile option of
/// Options.def under its tgc name.
struct PipelineCliOptions : PassPipelineOptions<PipelineCliOptions> {
  Option<Phase> stopAfter{
      *this, "stop-after", llvm::cl::desc("The last phase (tgc compile --emit)"),
      llvm::cl::init(Phase::Llvm),
      llvm::cl::values(clEnumValN(Phase::Trained, "trained", "after tg-build-train-step"),
                       clEnumValN(Phase::Distributed, "distributed", "after tg-distribute"),
                       clEnumValN(Phase::Fused, "fused", "after the fusion passes"),
                       clEnumValN(Phase::Linalg, "linalg", "lowered to linalg on tensors"),
                       clEnumValN(Phase::Bufferized, "bufferized", "on buffers"),
                       clEnumValN(Phase::Gpu, "gpu", "loop nests as gpu.launch (cuda)"),
                       clEnumValN(Phase::Llvm, "llvm", "the LLVM dialect"))};
#define TG_COMPILE_OPTION(FIELD, TYPE, NAME, DEFAULT, META, HELP)                                  \
  CliOptionOf<TYPE>::type FIELD{*this, NAME, llvm::cl::desc(findCompileOption(NAME)->oneLineHelp), \
                                cliDefault(defaults().FIELD)};
#include "driver/Options.def"

  CompilerOptions compilerOptions() const {
    CompilerOptions o;
    o.emit = stopAfter;
#define TG_COMPILE_OPTION(FIELD, TYPE, NAME, DEFAULT, META, HELP) assign(o.FIELD, FIELD);
#include "driver/Options.def"
    return o;
  }
};
} // namespace

void registerPipelines() {
  // By hand: PassPipelineRegistration's builder cannot fail, and a bad option
  // value must be an error (validateCompilerOptions'), not a silent default.
  static bool once = [] {
    registerPassPipeline(
        "tg-pipeline", "The compiler pipeline from a tg module up to a phase (default: llvm)",
        [](OpPassManager &pm, StringRef text,
           function_ref<LogicalResult(const Twine &)> errorHandler) -> LogicalResult {
          PipelineCliOptions cli;
          if (failed(cli.parseFromString(text)))
            return failure();
          if (absl::Status s = buildCompilerPipeline(pm, cli.compilerOptions()); !s.ok())
            return errorHandler("tg-pipeline: " + std::string(s.message()));
          return success();
        },
        [](function_ref<void(const mlir::detail::PassOptions &)> optHandler) {
          optHandler(PipelineCliOptions());
        });
    return true;
  }();
  (void)once;
  static PassPipelineRegistration<> cpu(
      "tg-cpu-codegen", "The whole CPU pipeline: tg to the LLVM dialect",
      [](OpPassManager &pm) { buildPipeline(pm, PipelineOptions()); });
}

} // namespace tg
