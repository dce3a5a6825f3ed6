//===- Folders.cpp - tg folders and canonicalization patterns -------------===//
//
// Only cheap, always-profitable rewrites: identities (x+0, x*1, x/1, x-0,
// -(-x)), no-op layout ops, merging of reshape/transpose/concat chains, and
// sums of zero-padded pieces of disjoint ranges turned into one concat.
// x+0 -> x ignores the sign of zero (-0 + 0 is +0), as fast-math would.
//
//===----------------------------------------------------------------------===//
#include "ir/Dialect.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

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

namespace {
/// The one axis along which `pad` adds zeros (all others unpadded), or -1.
int64_t zeroPadAxis(PadOp pad) {
  if (pad.getValue().convertToDouble() != 0.0)
    return -1;
  int64_t axis = -1;
  for (size_t i = 0; i < pad.getLow().size(); ++i) {
    if (pad.getLow()[i] == 0 && pad.getHigh()[i] == 0)
      continue;
    if (axis >= 0 || pad.getLow()[i] < 0 || pad.getHigh()[i] < 0)
      return -1;
    axis = int64_t(i);
  }
  return axis;
}

/// add(pad(a), pad(b)) -> pad(concat(a, [zeros,] b)) when both pad with zeros
/// along the same axis and cover disjoint ranges. This is the gradient of a
/// tensor read through slices: an unrolled RNN reads its input projections
/// one time step at a time, and summing T full-size padded cotangents costs
/// O(T^2); the concat is O(T).
struct MergeDisjointPads : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp op, PatternRewriter &rewriter) const override {
    auto a = op.getLhs().getDefiningOp<PadOp>(), b = op.getRhs().getDefiningOp<PadOp>();
    auto type = llvm::cast<RankedTensorType>(op.getType());
    if (!a || !b || a == b || a.getType() != type || b.getType() != type || !a->hasOneUse() ||
        !b->hasOneUse())
      return failure();
    int64_t axis = zeroPadAxis(a);
    if (axis < 0 || zeroPadAxis(b) != axis)
      return failure();
    int64_t full = type.getDimSize(axis);
    if (b.getLow()[axis] < a.getLow()[axis])
      std::swap(a, b);
    int64_t aEnd = full - a.getHigh()[axis], bStart = b.getLow()[axis];
    if (aEnd > bStart)
      return failure(); // overlapping ranges
    SmallVector<Value> pieces = {a.getX()};
    SmallVector<int64_t> shape(type.getShape());
    if (bStart > aEnd) {
      shape[axis] = bStart - aEnd;
      auto gapType = RankedTensorType::get(shape, type.getElementType());
      pieces.push_back(rewriter.create<ConstantOp>(
          op.getLoc(), gapType,
          DenseElementsAttr::get(gapType, rewriter.getZeroAttr(type.getElementType()))));
    }
    pieces.push_back(b.getX());
    shape[axis] = full - b.getHigh()[axis] - a.getLow()[axis];
    Value joined =
        rewriter.create<ConcatOp>(op.getLoc(), RankedTensorType::get(shape, type.getElementType()),
                                  pieces, rewriter.getI64IntegerAttr(axis));
    SmallVector<int64_t> low(type.getRank(), 0), high(type.getRank(), 0);
    low[axis] = a.getLow()[axis];
    high[axis] = b.getHigh()[axis];
    rewriter.replaceOpWithNewOp<PadOp>(op, type, joined, rewriter.getDenseI64ArrayAttr(low),
                                       rewriter.getDenseI64ArrayAttr(high), a.getValueAttr());
    return success();
  }
};

/// concat(x, concat(y, z)) along one axis -> concat(x, y, z).
struct FlattenConcats : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConcatOp op, PatternRewriter &rewriter) const override {
    SmallVector<Value> inputs;
    bool changed = false;
    for (Value in : op.getInputs()) {
      auto inner = in.getDefiningOp<ConcatOp>();
      if (inner && inner.getAxis() == op.getAxis() && inner->hasOneUse()) {
        llvm::append_range(inputs, inner.getInputs());
        changed = true;
      } else {
        inputs.push_back(in);
      }
    }
    if (!changed)
      return failure();
    rewriter.replaceOpWithNewOp<ConcatOp>(op, op.getType(), inputs, op.getAxisAttr());
    return success();
  }
};
} // namespace

void AddOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *ctx) {
  results.add<MergeDisjointPads>(ctx);
}

namespace {

/// A scan of one step is its body, once: step 0 of each sequence is a
/// reshape dropping the step axis, each output a reshape adding it back.
struct InlineSingleStepScan : OpRewritePattern<ScanOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScanOp op, PatternRewriter &rewriter) const override {
    if (op.getLength() != 1)
      return failure();
    Block &body = op.getBody().front();
    IRMapping map;
    size_t nSeq = op.getSequences().size();
    for (auto [i, seq] : llvm::enumerate(op.getSequences()))
      map.map(
          body.getArgument(unsigned(i)),
          rewriter.create<ReshapeOp>(op.getLoc(), body.getArgument(unsigned(i)).getType(), seq));
    for (auto [i, init] : llvm::enumerate(op.getInits()))
      map.map(body.getArgument(unsigned(nSeq + i)), init);
    for (Operation &inner : body.without_terminator())
      rewriter.clone(inner, map);
    auto yield = llvm::cast<YieldOp>(body.getTerminator());
    SmallVector<Value> results;
    for (auto [i, v] : llvm::enumerate(yield.getValues())) {
      Value mapped = map.lookupOrDefault(v);
      if (i >= op.getInits().size())
        mapped =
            rewriter.create<ReshapeOp>(op.getLoc(), op.getResult(unsigned(i)).getType(), mapped);
      results.push_back(mapped);
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// Pure ops of the body that use nothing defined in it run once, before the
/// scan (e.g. a weight transpose of a recurrent cell).
struct HoistScanInvariants : OpRewritePattern<ScanOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScanOp op, PatternRewriter &rewriter) const override {
    Region &region = op.getBody();
    SmallVector<Operation *> invariant;
    for (Operation &inner : region.front().without_terminator()) {
      if (!isPure(&inner) || inner.getNumRegions() != 0)
        continue;
      bool outside = llvm::all_of(inner.getOperands(), [&](Value v) {
        return !region.isAncestor(v.getParentRegion()) ||
               llvm::any_of(invariant, [&](Operation *h) { return v.getDefiningOp() == h; });
      });
      if (outside)
        invariant.push_back(&inner);
    }
    if (invariant.empty())
      return failure();
    rewriter.modifyOpInPlace(op, [&] {
      for (Operation *h : invariant)
        h->moveBefore(op);
    });
    return success();
  }
};

/// A product in the body with a transposed operand from outside the loop
/// (dz U^T in a recurrent cell's gradient) reads that operand transposed at
/// every step; transposing it once before the loop gives the library a plain
/// layout, which it multiplies faster.
struct HoistScanTransposedOperand : OpRewritePattern<ScanOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScanOp op, PatternRewriter &rewriter) const override {
    if (op.getLength() < 2)
      return failure();
    Region &region = op.getBody();
    for (Operation &inner : region.front()) {
      auto mm = llvm::dyn_cast<MatmulOp>(&inner);
      if (!mm)
        continue;
      for (int side = 0; side < 2; ++side) {
        Value v = side ? mm.getRhs() : mm.getLhs();
        bool transposed = side ? mm.getTransposeRhs() : mm.getTransposeLhs();
        auto t = llvm::cast<RankedTensorType>(v.getType());
        if (!transposed || t.getRank() != 2 || region.isAncestor(v.getParentRegion()))
          continue;
        rewriter.setInsertionPoint(op);
        auto tt = RankedTensorType::get({t.getDimSize(1), t.getDimSize(0)}, t.getElementType());
        Value plain =
            rewriter.create<TransposeOp>(op.getLoc(), tt, v, rewriter.getDenseI64ArrayAttr({1, 0}));
        rewriter.modifyOpInPlace(mm, [&] {
          if (side) {
            mm.getRhsMutable().assign(plain);
            mm.setTransposeRhs(false);
          } else {
            mm.getLhsMutable().assign(plain);
            mm.setTransposeLhs(false);
          }
        });
        return success();
      }
    }
    return failure();
  }
};

/// A carried sum of per-step matrix products, acc += a_t^T b_t (the weight
/// gradient of a recurrent cell), is one product over all steps: with a and
/// b stacked, sum_t a_t^T b_t = A^T B for A = [T*rows, m], B = [T*rows, n].
/// One large GEMM instead of T small ones of inner size `rows`.
struct HoistScanMatmulSum : OpRewritePattern<ScanOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ScanOp op, PatternRewriter &rewriter) const override {
    // Micro-batches accumulate in the loop: A and B stacked would be every
    // micro-batch's activations at once.
    if (op.getMicrobatches())
      return failure();
    Block &body = op.getBody().front();
    auto yield = llvm::cast<YieldOp>(body.getTerminator());
    size_t nSeq = op.getSequences().size(), nCarry = op.getInits().size();
    for (size_t k = 0; k < nCarry; ++k) {
      BlockArgument acc = body.getArgument(unsigned(nSeq + k));
      if (!acc.hasOneUse())
        continue;
      auto add = llvm::dyn_cast<AddOp>(*acc.user_begin());
      if (!add || !add->hasOneUse() || *add->user_begin() != yield.getOperation() ||
          yield.getValues()[k] != add.getResult() || add.getType() != acc.getType())
        continue;
      Value term = add.getLhs() == acc ? add.getRhs() : add.getLhs();
      auto mm = term.getDefiningOp<MatmulOp>();
      if (!mm || !mm->hasOneUse() || !mm.getTransposeLhs() || mm.getTransposeRhs() ||
          mm.getLhs() == acc || mm.getRhs() == acc)
        continue;
      auto at = llvm::cast<RankedTensorType>(mm.getLhs().getType());
      auto bt = llvm::cast<RankedTensorType>(mm.getRhs().getType());
      if (at.getRank() != 2 || bt.getRank() != 2)
        continue;
      return hoist(op, unsigned(k), add, mm, rewriter);
    }
    return failure();
  }

  LogicalResult hoist(ScanOp op, unsigned k, AddOp add, MatmulOp mm,
                      PatternRewriter &rewriter) const {
    Block &body = op.getBody().front();
    auto yield = llvm::cast<YieldOp>(body.getTerminator());
    size_t nSeq = op.getSequences().size(), nCarry = op.getInits().size();
    int64_t length = op.getLength();
    // Each factor, stacked over the steps: a sequence of the scan, an output
    // it stacks already, or a new output.
    SmallVector<Value> newYield(yield.getValues());
    SmallVector<Type> newTypes(op.getResultTypes());
    SmallVector<std::pair<Value, int>> stacked; // (sequence, -1) or (nullptr, result index)
    for (Value f : {mm.getLhs(), mm.getRhs()}) {
      auto arg = llvm::dyn_cast<BlockArgument>(f);
      if (arg && arg.getOwner() == &body && arg.getArgNumber() < nSeq) {
        stacked.push_back({op.getSequences()[arg.getArgNumber()], -1});
        continue;
      }
      auto outputs = ArrayRef<Value>(newYield).drop_front(nCarry);
      if (auto it = llvm::find(outputs, f); it != outputs.end()) {
        stacked.push_back({Value(), int(nCarry + size_t(it - outputs.begin()))});
        continue;
      }
      stacked.push_back({Value(), int(newYield.size())});
      newYield.push_back(f);
      newTypes.push_back(ScanOp::stackedType(f.getType(), length));
    }
    // Drop the carried sum from the loop.
    newYield.erase(newYield.begin() + k);
    newTypes.erase(newTypes.begin() + k);
    SmallVector<Value> inits(op.getInits());
    Value init = inits[k];
    inits.erase(inits.begin() + k);
    rewriter.setInsertionPoint(yield);
    rewriter.replaceOpWithNewOp<YieldOp>(yield, newYield);
    rewriter.eraseOp(add);
    rewriter.eraseOp(mm);
    body.eraseArgument(unsigned(nSeq + k));

    rewriter.setInsertionPoint(op);
    auto loop = rewriter.create<ScanOp>(op.getLoc(), newTypes, op.getSequences(), inits,
                                        op.getReverseAttr(), op.getRecomputeAttr(),
                                        op.getMicrobatchesAttr());
    rewriter.inlineRegionBefore(op.getBody(), loop.getBody(), loop.getBody().end());
    // Old result i < k and i > k map to new result i and i - 1.
    auto newResult = [&](int oldIndex) {
      return loop.getResult(unsigned(oldIndex > int(k) ? oldIndex - 1 : oldIndex));
    };
    SmallVector<Value> flat;
    for (auto [value, index] : stacked) {
      Value s = value ? value : newResult(index);
      auto t = llvm::cast<RankedTensorType>(s.getType());
      SmallVector<int64_t> shape = {t.getDimSize(0) * t.getDimSize(1)};
      shape.append(t.getShape().begin() + 2, t.getShape().end());
      flat.push_back(rewriter.create<ReshapeOp>(
          op.getLoc(), RankedTensorType::get(shape, t.getElementType()), s));
    }
    Value sum = rewriter.create<MatmulOp>(op.getLoc(), init.getType(), flat[0], flat[1],
                                          rewriter.getBoolAttr(true), rewriter.getBoolAttr(false));
    Value total = rewriter.create<AddOp>(op.getLoc(), init.getType(), init, sum);
    SmallVector<Value> results;
    for (unsigned i = 0; i < op.getNumResults(); ++i)
      results.push_back(i == k ? total : newResult(int(i)));
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void ScanOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *ctx) {
  results.add<InlineSingleStepScan, HoistScanInvariants, HoistScanMatmulSum,
              HoistScanTransposedOperand>(ctx);
}

void ConcatOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *ctx) {
  results.add<FlattenConcats>(ctx);
}

OpFoldResult ConcatOp::fold(FoldAdaptor) {
  return getInputs().size() == 1 && getInputs()[0].getType() == getType()
             ? OpFoldResult(getInputs()[0])
             : OpFoldResult();
}

OpFoldResult PadOp::fold(FoldAdaptor) {
  return getX().getType() == getType() ? OpFoldResult(getX()) : OpFoldResult();
}

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
