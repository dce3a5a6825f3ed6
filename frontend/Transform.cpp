//===- Transform.cpp - Module::transform: running tg passes ---------------===//
#include "frontend/ModuleImpl.h"
#include "ir/Diagnostics.h"
#include "passes/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

#include "absl/strings/str_cat.h"

#include <mutex>

using namespace mlir;

namespace tg {

static void registerPassesOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    registerTgPasses();
    registerCanonicalizerPass();
    registerCSEPass();
  });
}

absl::StatusOr<Module> Module::transform(absl::string_view pipeline,
                                         std::vector<std::string> *warnings) const {
  registerPassesOnce();
  // Work on a private copy so this module stays as it was. Printed with its
  // locations, so diagnostics still point into the user's file.
  std::string text;
  {
    llvm::raw_string_ostream os(text);
    impl_->module->print(os, OpPrintingFlags().enableDebugInfo());
  }
  absl::StatusOr<Module> copy = Module::parse(text, "module.tg.mlir");
  if (!copy.ok())
    return copy.status();
  MLIRContext *ctx = copy->impl_->context.get();
  DiagnosticCollector diagnostics(ctx, warnings);
  PassManager pm(ctx, ModuleOp::getOperationName());
  std::string parseErrors;
  llvm::raw_string_ostream os(parseErrors);
  if (failed(parsePassPipeline(llvm::StringRef(pipeline.data(), pipeline.size()), pm, os)))
    return absl::InvalidArgumentError(
        absl::StrCat("bad pass pipeline '", pipeline, "': ", parseErrors));
  if (failed(pm.run(*copy->impl_->module)))
    return absl::InvalidArgumentError(diagnostics.errorsOr("pass pipeline failed"));
  return copy;
}

} // namespace tg
