//===- LowerToLoops.cpp - tg-lower-to-loops -------------------------------===//
#include "codegen/host/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

#define DEBUG_TYPE "tg-lower-to-loops"

namespace tg {
#define GEN_PASS_DEF_LOWERTOLOOPS
#include "codegen/host/Passes.h.inc"
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

/// An elementwise op over whole contiguous buffers (every operand indexed
/// by the identity, or a scalar) visits memory in order: one flat loop does
/// the same, which the vectorizer and the thread split both like.
bool flattenable(linalg::LinalgOp op) {
  if (op.getNumLoops() < 2 || op.getNumParallelLoops() != op.getNumLoops() ||
      !llvm::isa<linalg::GenericOp, linalg::CopyOp>(op.getOperation()))
    return false;
  ReassociationIndices all = llvm::to_vector(llvm::seq<int64_t>(0, op.getNumLoops()));
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    if (map.getNumResults() == 0)
      continue;
    auto type = llvm::dyn_cast<MemRefType>(operand.get().getType());
    if (!map.isIdentity() || !type ||
        !memref::CollapseShapeOp::isGuaranteedCollapsible(type, {all}))
      return false;
  }
  return true;
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
      if (flattenable(op)) {
        ReassociationIndices all = llvm::to_vector(llvm::seq<int64_t>(0, op.getNumLoops()));
        FailureOr<linalg::CollapseResult> flat =
            linalg::collapseOpIterationDims(op, {all}, rewriter);
        if (succeeded(flat)) {
          rewriter.replaceOp(op, flat->results);
          op = flat->collapsedOp;
          rewriter.setInsertionPoint(op);
        }
      }
      bool parallel = iterationPoints(op) >= minParallelWork && op.getNumParallelLoops() > 0 &&
                      op.getIteratorTypesArray().front() == utils::IteratorType::parallel;
      FailureOr<linalg::LinalgLoops> loops = linalg::linalgOpToLoops(rewriter, op);
      if (failed(loops)) {
        op->emitError() << "tg-lower-to-loops: cannot lower this op to loops";
        return signalPassFailure();
      }
      rewriter.eraseOp(op);
      // Threads split the outermost loop only: the inner loops stay plain
      // loops the vectorizer sees whole (an OpenMP loop collapsed over every
      // dimension recomputes each point's indices with divisions instead).
      if (parallel && !loops->empty())
        if (auto outer = llvm::dyn_cast<scf::ForOp>(loops->front()))
          parallelize(rewriter, outer);
    }
  }

  static void parallelize(IRRewriter &rewriter, scf::ForOp loop) {
    rewriter.setInsertionPoint(loop);
    auto par = rewriter.create<scf::ParallelOp>(loop.getLoc(), loop.getLowerBound(),
                                                loop.getUpperBound(), loop.getStep());
    Block *body = par.getBody();
    rewriter.eraseOp(body->getTerminator()); // the for's yield becomes scf.reduce
    rewriter.inlineBlockBefore(loop.getBody(), body, body->end(), par.getInductionVars());
    Operation *yield = body->getTerminator();
    rewriter.setInsertionPoint(yield);
    rewriter.create<scf::ReduceOp>(yield->getLoc());
    rewriter.eraseOp(yield);
    rewriter.eraseOp(loop);
  }
};

} // namespace
} // namespace tg
