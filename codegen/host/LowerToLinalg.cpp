//===- LowerToLinalg.cpp - tg-lower-to-linalg -----------------------------===//
//
// The host backends' use of the shared tg -> linalg patterns
// (codegen/common/TgToLinalg.h): f32 matmul, conv2d and pooling ops (and
// their gradients, and the fused forms) stay tg ops and bufferize into
// library calls (LibraryBufferization.cpp) where the target's library runs
// them (Target.h); everything else becomes linalg, the window ops of other
// element types (f64) through WindowToLinalg.cpp.
//
//===----------------------------------------------------------------------===//
#include "codegen/common/TgToLinalg.h"
#include "codegen/host/Passes.h"
#include "support/KernelAbi.h"
#include "ir/Dialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#define DEBUG_TYPE "tg-lower-to-linalg"

namespace tg {
#define GEN_PASS_DEF_LOWERTOLINALG
#include "codegen/host/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {

namespace {
/// A list of op classes, asked by op (isa<>) or by name (hasLibraryKernel).
template <typename... Ops> struct OpList {
  static bool contains(Operation *op) { return llvm::isa<Ops...>(op); }
  static bool contains(llvm::StringRef name) { return ((name == Ops::getOperationName()) || ...); }
};
} // namespace

/// Ops that have a library kernel (whatever their element type).
using LibraryKernelOps =
    OpList<MatmulOp, FusedMatmulOp, Conv2DOp, FusedConv2DOp, Conv2DBackpropInputOp,
           Conv2DBackpropFilterOp, Conv2DBackpropFilterBiasOp, MaxPool2DOp, MaxPool2DGradOp,
           AvgPool2DOp, AvgPool2DGradOp, RelayoutOp>;

bool hasLibraryKernel(llvm::StringRef opName) { return LibraryKernelOps::contains(opName); }

bool isLibraryOp(Operation *op) {
  return LibraryKernelOps::contains(op) &&
         llvm::cast<RankedTensorType>(op->getResult(0).getType()).getElementType().isF32();
}

namespace {

struct LowerToLinalgPass : impl::LowerToLinalgBase<LowerToLinalgPass> {
  using LowerToLinalgBase::LowerToLinalgBase;
  void runOnOperation() override {
    const LibraryRules *rules = libraryRules(target);
    if (!rules) {
      getOperation().emitError() << "tg-lower-to-linalg: the " << targetName(target)
                                 << " target's codegen is not registered";
      return signalPassFailure();
    }
    // A library op stays a call where the target's library runs its form
    // (cuDNN: symmetric windows only); other windows become generated code
    // (WindowToLinalg.cpp).
    auto library = [rules](Operation *op) {
      if (!isLibraryOp(op))
        return false;
      auto padding = op->getAttrOfType<DenseI64ArrayAttr>("padding");
      return !padding || rules->windowPadding(padding.asArrayRef());
    };
    // Matmuls, convolutions and pooling of other element types lower to
    // linalg.generic ops; the fused forms are made for f32 only
    // (tg-fuse-epilogues) and have no linalg form.
    auto reason = [&](Operation *op) -> std::string {
      if (llvm::isa<FusedMatmulOp, FusedConv2DOp, Conv2DBackpropFilterBiasOp>(op) &&
          !isLibraryOp(op))
        return "is made for f32 only (tg-fuse-epilogues) and has no other lowering";
      if (llvm::isa<Conv2DBackpropFilterBiasOp>(op) && !library(op))
        return "is made for the CPU only (tg-fuse-epilogues) and has no other lowering";
      if (llvm::isa<FusedConv2DOp>(op) && !library(op))
        return "has asymmetric padding, which cuDNN cannot run, and no other lowering";
      return "";
    };
    if (failed(lowerTgToLinalg(getOperation(), library, reason)))
      signalPassFailure();
  }
};

} // namespace
} // namespace tg
