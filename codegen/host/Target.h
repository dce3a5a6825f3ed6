//===- Target.h - the backends and what their libraries run -----*- C++ -*-===//
//
// The host passes (tg-lower-to-linalg, tg-fuse-epilogues) keep an op for a
// library call or fuse it only when the target's library runs that form. The
// rules are the targets' own: each target's codegen registers them
// (codegen/cpu/LibraryRules.cpp for oneDNN, codegen/cuda/LibraryRules.cpp for cuBLASLt
// and cuDNN) when its dialects are registered.
//
//===----------------------------------------------------------------------===//
#ifndef TG_CODEGEN_HOST_TARGET_H
#define TG_CODEGEN_HOST_TARGET_H

#include "support/KernelAbi.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>

namespace tg {

/// The backend a module is compiled for.
enum class Target { Cpu, Cuda };

/// "cpu" or "cuda": the spelling of `--target` and of the passes' option.
llvm::StringRef targetName(Target target);
/// The target spelled `name`, or nullopt.
std::optional<Target> parseTarget(llvm::StringRef name);

/// What a target's kernel libraries run, where targets differ.
struct LibraryRules {
  /// Whether a library convolution or pooling runs with these window
  /// paddings [top, bottom, left, right].
  bool (*windowPadding)(llvm::ArrayRef<int64_t> padding) = nullptr;
  /// Whether a fused matmul runs this activation as its epilogue.
  bool (*matmulEpilogue)(abi::Activation activation) = nullptr;
  /// Whether a convolution's filter and bias gradients come from one call
  /// (tg.conv2d_backprop_filter_bias).
  bool filterBiasGradient = false;
};

/// Registers `target`'s rules (idempotent; done by the target's codegen
/// registration, registerCpuCodegen / registerCudaCodegen).
void registerLibraryRules(Target target, const LibraryRules &rules);
/// `target`'s rules, or null when its codegen was not registered.
const LibraryRules *libraryRules(Target target);

} // namespace tg

#endif // TG_CODEGEN_HOST_TARGET_H
