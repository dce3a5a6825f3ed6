//===- LowerToLoops.cpp - tg-lower-to-loops -------------------------------===//
#include "codegen/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

#define DEBUG_TYPE "tg-lower-to-loops"

namespace tg {
#define GEN_PASS_DEF_LOWERTOLOOPS
#include "codegen/cpu/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {
namespace {

/// Iteration points of a linalg op with static loop ranges (-1 if unknown).
int64_t iterationPoints(linalg::LinalgOp op) {
  int64_t n = 1;
  for (int64_t r : op.getStaticLoopRanges()) {
    if (ShapedType::isDynamic(r))
      return -1;
    n *= r;
  }
  return n;
}

struct LowerToLoopsPass : impl::LowerToLoopsBase<LowerToLoopsPass> {
  using LowerToLoopsBase::LowerToLoopsBase;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics())
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops) {
      rewriter.setInsertionPoint(op);
      bool parallel = iterationPoints(op) >= minParallelWork && op.getNumParallelLoops() > 0 &&
                      op.getIteratorTypesArray().front() == utils::IteratorType::parallel;
      FailureOr<linalg::LinalgLoops> loops = parallel
                                                 ? linalg::linalgOpToParallelLoops(rewriter, op)
                                                 : linalg::linalgOpToLoops(rewriter, op);
      if (failed(loops)) {
        op->emitError() << "tg-lower-to-loops: cannot lower this op to loops";
        return signalPassFailure();
      }
      rewriter.eraseOp(op);
    }
  }
};

} // namespace
} // namespace tg
