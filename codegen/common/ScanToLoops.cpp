//===- ScanToLoops.cpp - tg.scan -> scf.for on tensors --------------------===//
//
// The scan's body is compiled once, as the body of an scf.for over the steps.
// The carried values and the stacked outputs are the loop's iter_args: step
// t reads element t of each sequence (tensor.extract_slice, a view once
// bufferized) and writes its outputs into element t of the stacked results
// (tensor.insert_slice, in place), so one-shot bufferization reuses the same
// buffers in every iteration. The body's tg ops are lowered by the other
// patterns of the same conversion.
//
//===----------------------------------------------------------------------===//
#include "codegen/common/TgToLinalg.h"
#include "ir/Dialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;

namespace tg {
namespace {

/// Offsets [t, 0, ...], sizes [1, shape of a step...], strides 1: element t
/// of a `[length, ...]` tensor.
struct StepSlice {
  SmallVector<OpFoldResult> offsets, sizes, strides;
  StepSlice(OpBuilder &b, Value t, RankedTensorType stacked) {
    offsets.push_back(t);
    sizes.push_back(b.getIndexAttr(1));
    strides.push_back(b.getIndexAttr(1));
    for (int64_t d : stacked.getShape().drop_front()) {
      offsets.push_back(b.getIndexAttr(0));
      sizes.push_back(b.getIndexAttr(d));
      strides.push_back(b.getIndexAttr(1));
    }
  }
};

struct ScanLowering : OpConversionPattern<ScanOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult matchAndRewrite(ScanOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    size_t nSeq = op.getSequences().size(), nCarry = op.getInits().size();
    int64_t length = op.getLength();
    // The loop carries its own copy of each init: one-shot bufferization
    // cannot tie a loop result back into the buffer its init came from (a
    // state argument updated in place).
    SmallVector<Value> iterInits;
    for (Value init : adaptor.getInits())
      iterInits.push_back(rewriter.create<bufferization::AllocTensorOp>(
          loc, llvm::cast<RankedTensorType>(init.getType()), ValueRange{}, init));
    for (Value r : op.getStacked()) {
      auto t = llvm::cast<RankedTensorType>(r.getType());
      iterInits.push_back(rewriter.create<tensor::EmptyOp>(loc, t.getShape(), t.getElementType()));
    }
    Value lb = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value ub = rewriter.create<arith::ConstantIndexOp>(loc, length);
    Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    auto loop = rewriter.create<scf::ForOp>(loc, lb, ub, one, iterInits,
                                            [](OpBuilder &, Location, Value, ValueRange) {});
    Block *loopBody = loop.getBody();
    rewriter.setInsertionPointToStart(loopBody);
    Value t = loop.getInductionVar();
    if (op.getReverse()) {
      Value last = rewriter.create<arith::ConstantIndexOp>(loc, length - 1);
      t = rewriter.create<arith::SubIOp>(loc, last, t);
    }
    SmallVector<Value> bodyArgs;
    for (size_t i = 0; i < nSeq; ++i) {
      Value seq = adaptor.getSequences()[i];
      auto seqType = llvm::cast<RankedTensorType>(seq.getType());
      auto stepType = llvm::cast<RankedTensorType>(op.getBody().getArgument(unsigned(i)).getType());
      StepSlice s(rewriter, t, seqType);
      bodyArgs.push_back(rewriter.create<tensor::ExtractSliceOp>(loc, stepType, seq, s.offsets,
                                                                 s.sizes, s.strides));
    }
    for (size_t i = 0; i < nCarry; ++i)
      bodyArgs.push_back(loop.getRegionIterArgs()[i]);
    rewriter.mergeBlocks(&op.getBody().front(), loopBody, bodyArgs);

    auto yield = llvm::cast<YieldOp>(loopBody->getTerminator());
    rewriter.setInsertionPoint(yield);
    SmallVector<Value> next(yield.getValues().take_front(nCarry));
    for (auto [j, out] : llvm::enumerate(yield.getValues().drop_front(nCarry))) {
      Value dest = loop.getRegionIterArgs()[nCarry + j];
      StepSlice s(rewriter, t, llvm::cast<RankedTensorType>(dest.getType()));
      next.push_back(
          rewriter.create<tensor::InsertSliceOp>(loc, out, dest, s.offsets, s.sizes, s.strides));
    }
    rewriter.create<scf::YieldOp>(loc, next);
    rewriter.eraseOp(yield);
    rewriter.replaceOp(op, loop.getResults());
    return success();
  }
};

} // namespace

void populateScanLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<ScanLowering>(patterns.getContext());
}

} // namespace tg
