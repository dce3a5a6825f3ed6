//===- FuseEpilogues.cpp - tg-fuse-epilogues ------------------------------===//
#include "codegen/host/Passes.h"
#include "ir/Dialect.h"
#include "support/KernelAbi.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "tg-fuse-epilogues"

namespace tg {
#define GEN_PASS_DEF_FUSEEPILOGUES
#include "codegen/host/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {
namespace {

RankedTensorType typeOf(Value v) { return llvm::cast<RankedTensorType>(v.getType()); }

bool isZeroConstant(Value v) {
  DenseElementsAttr attr;
  return matchPattern(v, m_Constant(&attr)) && attr.isSplat() &&
         llvm::isa<FloatType>(attr.getElementType()) && attr.getSplatValue<APFloat>().isZero();
}

/// compare(x, 0, gt) with relu(x) in the block: compare(relu(x), 0, gt).
struct ReluMaskFromOutput : OpRewritePattern<CompareOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CompareOp op, PatternRewriter &rewriter) const override {
    if (op.getPredicate() != "gt" || !isZeroConstant(op.getRhs()))
      return failure();
    Value x = op.getLhs();
    if (x.getDefiningOp<ReluOp>())
      return failure();
    for (Operation *user : x.getUsers())
      if (auto relu = llvm::dyn_cast<ReluOp>(user)) {
        // The relu must dominate the compare: both in one block, relu first.
        if (relu->getBlock() != op->getBlock() || !relu->isBeforeInBlock(op))
          continue;
        rewriter.modifyOpInPlace(op, [&] { op->setOperand(0, relu.getResult()); });
        return success();
      }
    return failure();
  }
};

/// add(matmul, bias[N]) -> fused_matmul; add(conv2d, bias as [O,1,1]) -> fused_conv2d.
struct FuseBias : OpRewritePattern<AddOp> {
  FuseBias(MLIRContext *ctx, const LibraryRules &rules)
      : OpRewritePattern<AddOp>(ctx), rules(rules) {}
  const LibraryRules &rules;
  LogicalResult matchAndRewrite(AddOp op, PatternRewriter &rewriter) const override {
    for (int side = 0; side < 2; ++side) {
      Value main = op->getOperand(side), bias = op->getOperand(1 - side);
      auto rt = typeOf(op.getResult());
      if (typeOf(main) != rt || !rt.getElementType().isF32() || !main.hasOneUse())
        continue;
      if (auto mm = main.getDefiningOp<MatmulOp>()) {
        if (typeOf(bias).getShape() != ArrayRef<int64_t>{rt.getShape().back()})
          continue;
        auto fused =
            rewriter.create<FusedMatmulOp>(op.getLoc(), mm.getLhs(), mm.getRhs(), bias,
                                           mm.getTransposeLhs(), mm.getTransposeRhs(), "none");
        rewriter.replaceOp(op, fused.getResult());
        rewriter.eraseOp(mm);
        return success();
      }
      if (auto conv = main.getDefiningOp<Conv2DOp>()) {
        // A padding the library cannot run (cuDNN: one-sided) stays a
        // conv2d, for generated code.
        if (!rules.windowPadding(conv.getPadding()))
          continue;
        int64_t channels = rt.getDimSize(1);
        auto bt = typeOf(bias);
        // A per-channel bias broadcast as [O, 1, 1] or [1, O, 1, 1].
        bool perChannel = bt.getNumElements() == channels && bt.getRank() >= 3 &&
                          bt.getDimSize(bt.getRank() - 3) == channels &&
                          bt.getDimSize(bt.getRank() - 1) == 1 &&
                          bt.getDimSize(bt.getRank() - 2) == 1;
        if (!perChannel)
          continue;
        auto flatType = RankedTensorType::get({channels}, bt.getElementType());
        Value flat = rewriter.create<ReshapeOp>(op.getLoc(), flatType, bias);
        auto fused = rewriter.create<FusedConv2DOp>(
            op.getLoc(), conv.getInput(), conv.getFilter(), flat, conv.getStridesAttr(),
            conv.getPaddingAttr(), conv.getDilationsAttr(), conv.getGroupsAttr(),
            rewriter.getStringAttr("none"));
        rewriter.replaceOp(op, fused.getResult());
        rewriter.eraseOp(conv);
        return success();
      }
    }
    return failure();
  }
};

/// relu/tanh/sigmoid(fused op without activation) -> the fused op with it.
template <typename ActOp> struct FuseActivation : OpRewritePattern<ActOp> {
  FuseActivation(MLIRContext *ctx, abi::Activation activation, const LibraryRules &rules)
      : OpRewritePattern<ActOp>(ctx), activation(activation), rules(rules) {}
  LogicalResult matchAndRewrite(ActOp op, PatternRewriter &rewriter) const override {
    Operation *producer = op->getOperand(0).getDefiningOp();
    if (!producer || !llvm::isa<FusedMatmulOp, FusedConv2DOp>(producer) ||
        !producer->getResult(0).hasOneUse())
      return failure();
    // The epilogues the library runs (cuBLASLt: bias and bias+ReLU).
    if (llvm::isa<FusedMatmulOp>(producer) && !rules.matmulEpilogue(activation))
      return failure();
    auto act = producer->getAttrOfType<StringAttr>("activation");
    if (act && act.getValue() != "none")
      return failure();
    rewriter.modifyOpInPlace(
        producer, [&] {
          producer->setAttr("activation",
                            rewriter.getStringAttr(llvm::StringRef(abi::activationName(activation))));
        });
    rewriter.replaceOp(op, producer->getResult(0));
    return success();
  }
  abi::Activation activation;
  const LibraryRules &rules;
};

/// conv2d_backprop_filter(x, dy) and reduce_sum(dy, [0, 2, 3]) -> one
/// conv2d_backprop_filter_bias: oneDNN's backward-weights primitive sums the
/// bias gradient while it reads dy, instead of a separate pass over dy.
struct FuseBiasGradient : OpRewritePattern<Conv2DBackpropFilterOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(Conv2DBackpropFilterOp op,
                                PatternRewriter &rewriter) const override {
    Value dy = op.getGradOutput();
    auto dyType = typeOf(dy);
    if (!dyType.getElementType().isF32() || dyType.getRank() != 4)
      return failure();
    ReduceOp sum;
    for (Operation *user : dy.getUsers()) {
      auto r = llvm::dyn_cast<ReduceOp>(user);
      if (r && r.getKind() == "sum" && !r.getKeepdims() &&
          r.getAxes() == ArrayRef<int64_t>{0, 2, 3} && r->getBlock() == op->getBlock()) {
        sum = r;
        break;
      }
    }
    if (!sum)
      return failure();
    // At the earlier of the two, before any use of either result; dy is
    // defined there (both read it), the input must be too.
    Operation *at = op->isBeforeInBlock(sum) ? op.getOperation() : sum.getOperation();
    if (Operation *def = op.getInput().getDefiningOp())
      if (def->getBlock() == at->getBlock() && !def->isBeforeInBlock(at))
        return failure();
    rewriter.setInsertionPoint(at);
    auto both = rewriter.create<Conv2DBackpropFilterBiasOp>(
        op.getLoc(), TypeRange{op.getResult().getType(), sum.getResult().getType()},
        op.getInput(), dy, op.getStridesAttr(), op.getPaddingAttr(), op.getDilationsAttr(),
        op.getGroupsAttr());
    rewriter.replaceOp(op, both.getFilterGrad());
    rewriter.replaceOp(sum, both.getBiasGrad());
    return success();
  }
};

struct FuseEpiloguesPass : impl::FuseEpiloguesBase<FuseEpiloguesPass> {
  using FuseEpiloguesBase::FuseEpiloguesBase;
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    const LibraryRules *rules = libraryRules(target);
    if (!rules) {
      getOperation().emitError() << "tg-fuse-epilogues: the " << targetName(target)
                                 << " target's codegen is not registered";
      return signalPassFailure();
    }
    patterns.add<ReluMaskFromOutput>(ctx);
    patterns.add<FuseBias>(ctx, *rules);
    if (rules->filterBiasGradient) // else the library computes it in a call of its own
      patterns.add<FuseBiasGradient>(ctx);
    patterns.add<FuseActivation<ReluOp>>(ctx, abi::Activation::Relu, *rules);
    patterns.add<FuseActivation<TanhOp>>(ctx, abi::Activation::Tanh, *rules);
    patterns.add<FuseActivation<SigmoidOp>>(ctx, abi::Activation::Sigmoid, *rules);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace tg
