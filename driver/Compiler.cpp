//===- Compiler.cpp - compiling a tg module, up to any phase --------------===//
#include "driver/Compiler.h"
#include "codegen/common/ManifestBuilder.h"
#include "codegen/cpu/Artifact.h"
#include "ir/Diagnostics.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

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

} // namespace

absl::StatusOr<std::string> compileModule(ModuleOp module, const CompilerOptions &options,
                                          const std::string &path) {
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
  absl::StatusOr<CpuTarget> target = absl::UnknownError("");
  if (binary) {
    target = selectCpuTarget(options.targetCpu);
    if (!target.ok())
      return target.status();
  }
  // The manifest: entries once the module holds exactly what is compiled,
  // library calls once they are calls.
  absl::StatusOr<Manifest> manifest = Manifest();
  PhaseClock clock(options.timings);
  PipelineOptions pipeline;
  pipeline.stopAfter = options.emit;
  pipeline.fusion = options.fusion;
  pipeline.dataParallel = options.dataParallel;
  pipeline.bucketCapMb = options.bucketCapMb;
  pipeline.averageState = options.averageState;
  pipeline.onPhaseEnd = [&](Phase phase, ModuleOp m) -> LogicalResult {
    if (phase != Phase::Tg)
      clock.end(phaseDescription(phase));
    if (binary && phase == Phase::Distributed) {
      manifest = describeEntries(m);
      if (!manifest.ok())
        return m.emitError() << manifest.status().message();
    }
    if (binary && phase == Phase::Bufferized)
      manifest->kernels = collectKernelCalls(m);
    return success();
  };
  PassManager pm(ctx, ModuleOp::getOperationName());
  buildPipeline(pm, pipeline);
  if (failed(pm.run(module)))
    return absl::InvalidArgumentError(diagnostics.errorsOr("compilation failed"));
  if (!binary)
    return moduleText(module);

  manifest->compiler = "tgc 0.1 (MLIR/LLVM 19)";
  manifest->triple = target->triple;
  manifest->cpu = target->cpu;
  manifest->features = target->features;
  manifest->targetCpu = options.targetCpu;
  manifest->fusion = options.fusion;
  ArtifactOptions artifact;
  artifact.optLevel = options.optLevel;
  artifact.llvmText = options.emit == Phase::Llvm;
  artifact.timings = options.timings;
  return emitArtifact(module, manifest->toJson(), *target, artifact, path);
}

} // namespace tg
