//===- LibraryRules.cpp - what cuBLASLt and cuDNN run ---------------------===//
#include "codegen/cuda/Passes.h"
#include "codegen/host/Target.h"

namespace tg {

void registerCudaLibraryRules() {
  LibraryRules rules;
  // cuDNN's 2-D descriptors pad both sides of a dimension alike: other
  // windows become generated code (WindowToLinalg.cpp).
  rules.windowPadding = [](llvm::ArrayRef<int64_t> p) {
    return abi::symmetricPadding(p.data(), p.size());
  };
  // cuBLASLt's epilogues are bias and bias+ReLU.
  rules.matmulEpilogue = [](abi::Activation a) {
    return a == abi::Activation::None || a == abi::Activation::Relu;
  };
  // cuDNN computes the bias gradient in a call of its own.
  rules.filterBiasGradient = false;
  registerLibraryRules(Target::Cuda, rules);
}

} // namespace tg
