//===- LibraryRules.cpp - what oneDNN runs: the CPU target's rules --------===//
#include "codegen/cpu/Passes.h"
#include "codegen/host/Passes.h"

namespace tg {

void registerCpuCodegen(mlir::DialectRegistry &registry) {
  registerHostCodegen(registry);
  // oneDNN runs any padding, every activation as a post-op, and the bias
  // gradient in the filter gradient's primitive (diff_bias).
  LibraryRules rules;
  rules.windowPadding = [](llvm::ArrayRef<int64_t>) { return true; };
  rules.matmulEpilogue = [](abi::Activation) { return true; };
  rules.filterBiasGradient = true;
  registerLibraryRules(Target::Cpu, rules);
}

} // namespace tg
