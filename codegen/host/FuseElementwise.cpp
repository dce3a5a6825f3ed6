//===- FuseElementwise.cpp - tg-fuse-elementwise --------------------------===//
#include "codegen/host/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "tg-fuse-elementwise"

namespace tg {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "codegen/host/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {
namespace {

struct FuseElementwisePass : impl::FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::ControlFusionFn singleUse = [](OpOperand *operand) {
      Operation *producer = operand->get().getDefiningOp();
      bool fuse = producer && producer->hasOneUse();
      LLVM_DEBUG(if (fuse) llvm::dbgs() << "tg-fuse-elementwise: fusing " << *producer << "\n");
      return fuse;
    };
    linalg::populateElementwiseOpsFusionPatterns(patterns, singleUse);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace tg
