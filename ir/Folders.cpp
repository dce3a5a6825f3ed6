//===- Folders.cpp - tg folders and canonicalization patterns -------------===//
//
// Only cheap, always-profitable rewrites: identities (x+0, x*1, x/1, x-0,
// -(-x)), no-op layout ops, and merging of reshape/transpose chains.
// x+0 -> x ignores the sign of zero (-0 + 0 is +0), as fast-math would.
//
//===----------------------------------------------------------------------===//
#include "ir/Dialect.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace tg {

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

/// True if `v` is a splat constant equal to `expected` (0 or 1).
static bool isSplatOf(Value v, int64_t expected) {
  DenseElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)) || !attr.isSplat())
    return false;
  Type elt = attr.getElementType();
  if (llvm::isa<FloatType>(elt))
    return attr.getSplatValue<APFloat>().convertToDouble() == double(expected);
  if (llvm::isa<IntegerType>(elt))
    return attr.getSplatValue<APInt>().getSExtValue() == expected;
  return false;
}

/// Returns `x` if folding `x op identity` keeps the result type.
static OpFoldResult foldIdentity(Value result, Value x, Value other, int64_t identity) {
  if (x.getType() == result.getType() && isSplatOf(other, identity))
    return x;
  return {};
}

OpFoldResult AddOp::fold(FoldAdaptor) {
  if (auto r = foldIdentity(getResult(), getLhs(), getRhs(), 0))
    return r;
  return foldIdentity(getResult(), getRhs(), getLhs(), 0);
}

OpFoldResult SubOp::fold(FoldAdaptor) { return foldIdentity(getResult(), getLhs(), getRhs(), 0); }

OpFoldResult MulOp::fold(FoldAdaptor) {
  if (auto r = foldIdentity(getResult(), getLhs(), getRhs(), 1))
    return r;
  return foldIdentity(getResult(), getRhs(), getLhs(), 1);
}

OpFoldResult DivOp::fold(FoldAdaptor) { return foldIdentity(getResult(), getLhs(), getRhs(), 1); }

OpFoldResult NegOp::fold(FoldAdaptor) {
  if (auto inner = getX().getDefiningOp<NegOp>())
    return inner.getX();
  return {};
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  for (auto [i, p] : llvm::enumerate(getPerm()))
    if (int64_t(i) != p)
      return {};
  return getX();
}

namespace {
/// transpose(transpose(x, p1), p2) -> transpose(x, p1[p2[i]]).
struct MergeTransposes : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op, PatternRewriter &rewriter) const override {
    auto inner = op.getX().getDefiningOp<TransposeOp>();
    if (!inner)
      return failure();
    SmallVector<int64_t> perm;
    for (int64_t p : op.getPerm())
      perm.push_back(inner.getPerm()[p]);
    rewriter.replaceOpWithNewOp<TransposeOp>(op, op.getType(), inner.getX(),
                                             rewriter.getDenseI64ArrayAttr(perm));
    return success();
  }
};

/// reshape(reshape(x)) -> reshape(x).
struct MergeReshapes : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op, PatternRewriter &rewriter) const override {
    auto inner = op.getX().getDefiningOp<ReshapeOp>();
    if (!inner)
      return failure();
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), inner.getX());
    return success();
  }
};
} // namespace

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *ctx) {
  results.add<MergeTransposes>(ctx);
}

void ReshapeOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *ctx) {
  results.add<MergeReshapes>(ctx);
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getX().getType() == getType())
    return getX();
  if (auto dense = llvm::dyn_cast_or_null<DenseElementsAttr>(adaptor.getX()))
    return dense.reshape(llvm::cast<ShapedType>(getType()));
  return {};
}

OpFoldResult BroadcastToOp::fold(FoldAdaptor) {
  return getX().getType() == getType() ? OpFoldResult(getX()) : OpFoldResult();
}

OpFoldResult CastOp::fold(FoldAdaptor) {
  return getX().getType() == getType() ? OpFoldResult(getX()) : OpFoldResult();
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  return getX().getType() == getType() ? OpFoldResult(getX()) : OpFoldResult();
}

} // namespace tg
