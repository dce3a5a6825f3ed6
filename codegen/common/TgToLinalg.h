//===- TgToLinalg.h - backend-neutral tg -> linalg lowering -----*- C++ -*-===//
//
// One conversion pattern per tg op (TgToLinalg.cpp), shared by every backend:
// the CPU backend keeps f32 matmul/conv/pool ops for oneDNN calls and lowers
// the rest with these patterns; a CUDA backend keeps its cuBLASLt/cuDNN ops.
//
//===----------------------------------------------------------------------===//
#ifndef TG_CODEGEN_COMMON_TGTOLINALG_H
#define TG_CODEGEN_COMMON_TGTOLINALG_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"

#include <functional>
#include <optional>
#include <string>

namespace tg {

/// True for the tg ops a backend keeps (they become its library calls, after
/// bufferization) instead of lowering them to linalg.
using LibraryOpFilter = std::function<bool(mlir::Operation *)>;

/// Why a backend cannot compile `op` (e.g. "is not supported by the CPU code
/// generator yet for element types other than f32"), or "" when it can.
using UnsupportedOpReason = std::function<std::string(mlir::Operation *)>;

/// What tg-lower-to-linalg does, in every backend, with a tg op that has no
/// pattern by design.
enum class NoPattern {
  Collective,    ///< kept: a call into the runtime's communicator
  WithParent,    ///< rewritten with its parent op
  RemovedBefore, ///< an earlier pass removes it; one still there is an error
};
struct NoPatternRule {
  NoPattern kind;
  /// WithParent: the parent op; RemovedBefore: the pass that removes it.
  llvm::StringLiteral by;
};
/// The rule for ops named `opName` (e.g. "tg.param_grad"), or nullopt for
/// ops that need a pattern (or a backend's library call).
std::optional<NoPatternRule> noPatternRule(llvm::StringRef opName);

/// Adds the pattern of every tg op; ops for which `keep` holds are left alone.
void populateTgToLinalgPatterns(mlir::RewritePatternSet &patterns, const LibraryOpFilter &keep);

/// tg.scan -> scf.for over the steps, carried values and stacked outputs
/// as iter_args (ScanToLoops.cpp); part of populateTgToLinalgPatterns.
void populateScanLoweringPatterns(mlir::RewritePatternSet &patterns);

/// tg.attention and tg.attention_grad as loops over key blocks of tg ops
/// (AttentionToLoops.cpp); part of populateTgToLinalgPatterns.
void populateAttentionLoweringPatterns(mlir::RewritePatternSet &patterns);

/// conv2d, its gradients, max/avg pooling and theirs -> linalg.generic
/// (WindowToLinalg.cpp), for the element types no library kernel takes;
/// part of populateTgToLinalgPatterns.
void populateWindowLoweringPatterns(mlir::RewritePatternSet &patterns,
                                    const LibraryOpFilter &keep);

/// Lowers every tg op of `module` but the kept ones. Each op that is neither
/// kept nor has a pattern (or that `reason` rejects) is a located error
/// naming the op; nothing is rewritten then.
mlir::LogicalResult lowerTgToLinalg(mlir::ModuleOp module, const LibraryOpFilter &keep,
                                    const UnsupportedOpReason &reason = {});

#define GEN_PASS_DECL
#include "codegen/common/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/common/Passes.h.inc"

} // namespace tg

#endif // TG_CODEGEN_COMMON_TGTOLINALG_H
