//===- BatchMatmulSums.cpp - tg-batch-matmul-sums -------------------------===//
#include "codegen/host/Passes.h"
#include "ir/Dialect.h"
#include "ir/TrainSpec.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "tg-batch-matmul-sums"

namespace tg {
#define GEN_PASS_DEF_BATCHMATMULSUMS
#include "codegen/host/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {
namespace {

/// A leaf A^T B that can join the batched matmul.
bool isTransposedLhsMatmul(Value v, Type resultType) {
  auto mm = v.getDefiningOp<MatmulOp>();
  return mm && v.hasOneUse() && mm.getType() == resultType && mm.getTransposeLhs() &&
         !mm.getTransposeRhs() &&
         llvm::cast<RankedTensorType>(mm.getLhs().getType()).getRank() == 2 &&
         llvm::cast<RankedTensorType>(mm.getRhs().getType()).getRank() == 2;
}

/// Collects the leaves of the tree of single-use adds rooted at `root`.
void collectLeaves(AddOp add, SmallVectorImpl<Value> &leaves, SmallVectorImpl<Operation *> &adds) {
  adds.push_back(add);
  for (Value v : add->getOperands()) {
    auto inner = v.getDefiningOp<AddOp>();
    if (inner && v.hasOneUse() && inner.getType() == add.getType() &&
        !inner->hasAttr(kMicrobatchSumAttr))
      collectLeaves(inner, leaves, adds);
    else
      leaves.push_back(v);
  }
}

struct BatchSum : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp root, PatternRewriter &rewriter) const override {
    // Micro-batches' sums stay apart (kMicrobatchSumAttr).
    if (root->hasAttr(kMicrobatchSumAttr))
      return failure();
    // Start from the top of a tree only.
    if (root->hasOneUse())
      if (auto user = llvm::dyn_cast<AddOp>(*root->getUsers().begin()))
        if (user.getType() == root.getType())
          return failure();
    SmallVector<Value> leaves;
    SmallVector<Operation *> adds;
    collectLeaves(root, leaves, adds);
    SmallVector<MatmulOp> matmuls;
    SmallVector<Value> others;
    for (Value v : leaves) {
      if (isTransposedLhsMatmul(v, root.getType()))
        matmuls.push_back(v.getDefiningOp<MatmulOp>());
      else
        others.push_back(v);
    }
    if (matmuls.size() < 2)
      return failure();
    SmallVector<Value> lhs, rhs;
    for (MatmulOp mm : matmuls) {
      lhs.push_back(mm.getLhs());
      rhs.push_back(mm.getRhs());
    }
    Location loc = root.getLoc();
    IntegerAttr axis0 = rewriter.getI64IntegerAttr(0);
    Value a = rewriter.create<ConcatOp>(loc, lhs, axis0);
    Value b = rewriter.create<ConcatOp>(loc, rhs, axis0);
    Value sum =
        rewriter.create<MatmulOp>(loc, a, b, /*transpose_lhs=*/true, /*transpose_rhs=*/false);
    for (Value v : others)
      sum = rewriter.create<AddOp>(loc, sum, v);
    rewriter.replaceOp(root, sum);
    return success();
  }
};

struct BatchMatmulSumsPass : impl::BatchMatmulSumsBase<BatchMatmulSumsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<BatchSum>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace tg
