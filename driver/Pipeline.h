//===- Pipeline.h - the one compiler pipeline, in phases --------*- C++ -*-===//
//
// Every entry point that compiles (tgc compile, tg::compile, tg-opt's
// --tg-pipeline, the artifact writer) builds its pass pipeline here:
//
//   tg -> trained -> distributed -> fused -> linalg -> bufferized -> llvm -> obj
//
//   trained      canonicalize, tg-build-train-step{if-needed}
//   distributed  (tg-distribute: the data-parallel issue's slot),
//                tg-strip-non-entry
//   fused        the backend's fusion (CPU: batch-matmul-sums, fuse-epilogues)
//   linalg       tg -> linalg/tensor (codegen/common patterns, the backend's
//                library ops kept), elementwise fusion, in-place ties
//   bufferized   one-shot bufferization, entry ABI, deallocation
//   gpu          (CUDA) every loop nest a gpu.launch (tg-cuda-map-to-gpu)
//   ptx          (CUDA) kernels outlined into one gpu.module, NVVM, PTX
//   fatbin       (CUDA) ptxas per arch + fatbinary (driver/Compiler.cpp)
//   llvm         loops (OpenMP), math, LLVM dialect; for CUDA the host code
//                (launches as libtgrt_cuda calls)
//   obj          LLVM IR, object, linked .tgx (driver/Compiler.cpp)
//
//===----------------------------------------------------------------------===//
#ifndef TG_DRIVER_PIPELINE_H
#define TG_DRIVER_PIPELINE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tg {

/// The phases of the pipeline, in order. Each names the state of the module
/// after it; a user can stop after any (tgc compile --emit=PHASE).
enum class Phase {
  Tg,
  Trained,
  Distributed,
  Fused,
  Linalg,
  Bufferized,
  Gpu,
  Ptx,
  Fatbin,
  Llvm,
  Obj
};

/// "tg", "trained", ... (the --emit spelling).
llvm::StringRef phaseName(Phase phase);
std::optional<Phase> parsePhase(llvm::StringRef name);
/// "tg, trained, distributed, fused, linalg, bufferized, llvm, obj".
std::string phaseList();
/// What a phase does, for --timing ("tg-build-train-step", "lower to LLVM dialect", ...).
llvm::StringRef phaseDescription(Phase phase);

struct PipelineOptions {
  /// The last pass-manager phase to run (Obj is past the pass manager: it
  /// means Llvm here).
  Phase stopAfter = Phase::Llvm;
  /// The backend's fusion passes (off: every op its own loop nest/call).
  bool fusion = true;
  /// CPU: tg-assign-layouts' channel block (16 or 8), 0 for plain layouts.
  int64_t layoutBlock = 0;
  /// CPU: tg-mixed-precision (matmuls and convolutions in bf16).
  bool bf16Mixed = false;
  /// CPU: tg-plan-memory (temporaries laid out in one arena).
  bool planMemory = true;
  /// tg-share-loop-nests (identical loop nests compiled once).
  bool shareLoopNests = true;
  /// tg-build-train-step's micro-batches per step (gradient accumulation).
  int64_t microbatches = 1;
  /// tg-pipeline-split's stages (1: none) and schedule.
  int64_t pipelineStages = 1;
  std::string schedule = "1f1b";
  /// tg-distribute's mode (none | allreduce | average:K), bucket cap and
  /// whether average:K averages the optimizer state.
  std::string dataParallel = "none";
  double bucketCapMb = 25.0;
  bool averageState = true;
  /// How the allreduce's gradients travel: none | bf16 | threshold:T.
  std::string compress = "none";
  int64_t shardOptimizerState = 0;
  /// Functions kept as entry points besides train_step & co. (tgc compile
  /// --keep; "f_grad" is built by tg-autodiff).
  std::vector<std::string> keepFunctions;
  /// The backend: "cpu" or "cuda". With `cudaEmulate` the CUDA kernels run as
  /// loops on the CPU (tg-cuda-emulate-launches; no ptx/fatbin phases).
  std::string target = "cpu";
  bool cudaEmulate = false;
  /// CUDA: the chip the PTX is written for and the toolkit (libdevice).
  std::string ptxChip = "sm_80";
  std::string cudaToolkit;
  /// Called with the module after each phase that ran; a failure stops the
  /// pipeline. The artifact writer reads the entry points after
  /// `distributed` and the library calls after `bufferized` through it.
  std::function<mlir::LogicalResult(Phase, mlir::ModuleOp)> onPhaseEnd;
};

/// Adds the passes from a tg module (with or without train_step) up to
/// `options.stopAfter`.
void buildPipeline(mlir::OpPassManager &pm, const PipelineOptions &options);

/// Dialects, interface models and translations every phase needs.
void registerPipelineDialects(mlir::DialectRegistry &registry);

/// Registers `--tg-pipeline` for tg-opt (options: stop-after=PHASE and every
/// compile option of Options.def, e.g. fusion=false, as tgc compile names
/// it), and `--tg-cpu-codegen` (the defaults, to the LLVM dialect).
void registerPipelines();

} // namespace tg

#endif // TG_DRIVER_PIPELINE_H
