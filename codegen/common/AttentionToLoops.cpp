//===- AttentionToLoops.cpp - tg.attention -> key-block loops -------------===//
//
// Flash-attention style: the keys are walked in blocks of kKeyBlock, so no
// [..., Tq, Tk] score matrix exists, only [..., Tq, block] tiles.
//
// Forward: an scf.for over key blocks carries the running row maximum m, the
// row sum l of exp(s - m) and the unnormalized output acc; each block rescales
// them by exp(m_old - m_new) (the online softmax). out = acc / l.
// Gradient: one loop recomputes the row log-sum-exp, a second recomputes
// each block's probabilities P and gives dV_block = P^T dO, dS = P (dO V^T -
// rowsum(dO out)), dQ += dS K_block, dK_block = dS^T Q.
//
// The loop bodies are tg ops (matmul, reduce, exp, select, ...) that the
// other patterns of the same conversion lower: an f32 matmul stays a library
// call (oneDNN on strided views of the key/value blocks), anything else
// becomes generated loops. A row whose keys are all masked keeps m = -inf;
// its exponentials use 0 in place of m, so it gives zeros instead of NaN.
//
//===----------------------------------------------------------------------===//
#include "codegen/common/TgToLinalg.h"
#include "ir/Dialect.h"
#include "ir/GradientBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

#include <limits>

using namespace mlir;

namespace tg {
namespace {

/// Keys per block: a [Tq, 64] tile of scores per head, and GEMMs of 64
/// columns, large enough for oneDNN's kernels.
constexpr int64_t kKeyBlock = 64;

RankedTensorType typeOf(Value v) { return llvm::cast<RankedTensorType>(v.getType()); }

/// What every block of either loop needs: the operands and how to mask.
struct AttentionParts {
  Value q, k, v, mask; // q already scaled
  bool causal;
  int64_t rank, tq, tk;
};

class Blocks {
public:
  Blocks(ConversionPatternRewriter &rw, Location loc, AttentionParts parts)
      : rw(rw), loc(loc), gb(rw, loc), a(parts) {}

  GradientBuilder &builder() { return gb; }

  /// `t` with dimension `axis` cut to [start, start + n) (a view once
  /// bufferized); a dimension of size 1 is kept whole (a broadcast mask).
  Value slice(Value t, int64_t axis, OpFoldResult start, int64_t n) {
    auto type = typeOf(t);
    if (type.getDimSize(axis) == 1)
      return t;
    if (auto attr = llvm::dyn_cast_if_present<Attribute>(start))
      if (type.getDimSize(axis) == n && llvm::cast<IntegerAttr>(attr).getInt() == 0)
        return t;
    SmallVector<OpFoldResult> offsets, sizes, strides;
    SmallVector<int64_t> shape(type.getShape());
    for (int64_t i = 0; i < type.getRank(); ++i) {
      offsets.push_back(i == axis ? start : rw.getIndexAttr(0));
      sizes.push_back(rw.getIndexAttr(i == axis ? n : type.getDimSize(i)));
      strides.push_back(rw.getIndexAttr(1));
    }
    shape[size_t(axis)] = n;
    return rw.create<tensor::ExtractSliceOp>(
        loc, RankedTensorType::get(shape, type.getElementType()), t, offsets, sizes, strides);
  }

  Value matmul(Value lhs, Value rhs, bool transposeLhs, bool transposeRhs) {
    Value r = gb.create<MatmulOp>({lhs, rhs}, {gb.attr("transpose_lhs", rw.getBoolAttr(transposeLhs)),
                                               gb.attr("transpose_rhs", rw.getBoolAttr(transposeRhs))});
    return r;
  }

  Value rowReduce(Value x, StringRef kind) { return gb.reduce(x, kind, {a.rank - 1}, true); }

  /// Scaled scores of keys [start, start + n), masked ones -inf.
  Value scores(OpFoldResult start, int64_t n) {
    Value s = matmul(a.q, slice(a.k, a.rank - 2, start, n), false, true);
    Type elt = typeOf(s).getElementType();
    Value minusInf = gb.scalar(-std::numeric_limits<double>::infinity(), elt);
    if (a.causal)
      s = gb.create<SelectOp>({causalTile(start, n), s, minusInf});
    if (a.mask)
      s = gb.create<SelectOp>({slice(a.mask, a.rank - 1, start, n), s, minusInf});
    return s;
  }

  /// [Tq, n] i1: key start + j may be seen by query i (start + j <= i). A
  /// generic on the loop's index, so no host-side tensor is made.
  Value causalTile(OpFoldResult start, int64_t n) {
    Value offset = getValueOrCreateConstantIndexOp(rw, loc, start);
    auto type = RankedTensorType::get({a.tq, n}, rw.getI1Type());
    Value init = rw.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
    AffineMap id = rw.getMultiDimIdentityMap(2);
    SmallVector<utils::IteratorType> iters(2, utils::IteratorType::parallel);
    return rw
        .create<linalg::GenericOp>(
            loc, TypeRange{type}, ValueRange{}, ValueRange{init}, ArrayRef<AffineMap>{id}, iters,
            [&](OpBuilder &b, Location l, ValueRange) {
              Value i = b.create<linalg::IndexOp>(l, 0), j = b.create<linalg::IndexOp>(l, 1);
              Value key = b.create<arith::AddIOp>(l, j, offset);
              b.create<linalg::YieldOp>(
                  l, ValueRange{b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ule, key, i)});
            })
        .getResult(0);
  }

  /// m, or 0 where m is -inf (a row with nothing allowed yet).
  Value safeMax(Value m) {
    Type elt = typeOf(m).getElementType();
    Value none = gb.create<CompareOp>(
        {m, gb.scalar(-std::numeric_limits<double>::infinity(), elt)},
        {gb.attr("predicate", rw.getStringAttr("eq"))});
    return gb.create<SelectOp>({none, gb.scalar(0.0, elt), m});
  }

  /// Calls `body(start, n, carried)` for every key block, in an scf.for over
  /// the whole blocks and once more for a shorter last block.
  SmallVector<Value>
  forEachBlock(SmallVector<Value> carried,
               function_ref<SmallVector<Value>(OpFoldResult, int64_t, ValueRange)> body) {
    int64_t whole = a.tk / kKeyBlock, rest = a.tk % kKeyBlock;
    if (whole == 1)
      carried = body(rw.getIndexAttr(0), kKeyBlock, carried);
    else if (whole > 1) {
      Value lb = rw.create<arith::ConstantIndexOp>(loc, 0);
      Value ub = rw.create<arith::ConstantIndexOp>(loc, whole * kKeyBlock);
      Value step = rw.create<arith::ConstantIndexOp>(loc, kKeyBlock);
      auto loop = rw.create<scf::ForOp>(loc, lb, ub, step, carried,
                                        [](OpBuilder &, Location, Value, ValueRange) {});
      OpBuilder::InsertionGuard guard(rw);
      rw.setInsertionPointToStart(loop.getBody());
      SmallVector<Value> next =
          body(loop.getInductionVar(), kKeyBlock, loop.getRegionIterArgs());
      rw.create<scf::YieldOp>(loc, next);
      carried = SmallVector<Value>(loop.getResults());
    }
    if (rest)
      carried = body(rw.getIndexAttr(whole * kKeyBlock), rest, carried);
    return carried;
  }

  /// One block's exp(s - row max) (unnormalized probabilities) and its row sum.
  std::pair<Value, Value> probabilities(OpFoldResult start, int64_t n) {
    Value s = scores(start, n);
    Value e = gb.create<ExpOp>({gb.sub(s, safeMax(rowReduce(s, "max")))}, {}, s.getType());
    return {e, rowReduce(e, "sum")};
  }

  /// One block of the online softmax: from the running row max `m` and sum
  /// `l` and the block's scores `s`, the new max and sum, the block's
  /// exp(s - max) and the factor exp(m_old - m_new) older sums take.
  struct Online {
    Value m, l, p, corr;
  };
  Online online(Value s, Value m, Value l) {
    Value next = gb.create<MaximumOp>({m, rowReduce(s, "max")});
    Value safe = safeMax(next);
    Value p = gb.create<ExpOp>({gb.sub(s, safe)}, {}, s.getType());
    Value corr = gb.create<ExpOp>({gb.sub(m, safe)}, {}, m.getType());
    return {next, gb.add(gb.mul(l, corr), rowReduce(p, "sum")), p, corr};
  }

  /// The running max and sum's start: -inf and 0 per row.
  SmallVector<Value> rowStart() {
    auto row = RankedTensorType::get(rowShape(), elt());
    return {gb.splat(row, -std::numeric_limits<double>::infinity()), gb.splat(row, 0.0)};
  }

  /// The row maximum and the row sum of exp(s - max) over all keys.
  std::pair<Value, Value> rowStatistics() {
    SmallVector<Value> out =
        forEachBlock(rowStart(), [&](OpFoldResult start, int64_t n, ValueRange c) {
          Online o = online(scores(start, n), c[0], c[1]);
          return SmallVector<Value>{o.m, o.l};
        });
    return {out[0], out[1]};
  }

  SmallVector<int64_t> rowShape() {
    SmallVector<int64_t> s(typeOf(a.q).getShape());
    s.back() = 1;
    return s;
  }
  Type elt() { return typeOf(a.q).getElementType(); }

  /// l, or 1 where it is 0 (a row with nothing allowed).
  Value safeSum(Value l) {
    Value none = gb.create<CompareOp>({l, gb.scalar(0.0, elt())},
                                      {gb.attr("predicate", rw.getStringAttr("eq"))});
    return gb.create<SelectOp>({none, gb.scalar(1.0, elt()), l});
  }

private:
  ConversionPatternRewriter &rw;
  Location loc;
  GradientBuilder gb;
  AttentionParts a;
};

template <typename OpTy>
AttentionParts partsOf(OpTy op, typename OpTy::Adaptor adaptor, GradientBuilder &gb) {
  auto q = typeOf(adaptor.getQuery());
  AttentionParts p;
  p.q = gb.mul(adaptor.getQuery(), op.getScale().convertToDouble());
  p.k = adaptor.getKey();
  p.v = adaptor.getValue();
  p.mask = adaptor.getMask();
  p.causal = op.getCausal();
  p.rank = q.getRank();
  p.tq = q.getDimSize(q.getRank() - 2);
  p.tk = typeOf(adaptor.getKey()).getDimSize(q.getRank() - 2);
  return p;
}

struct AttentionLowering : OpConversionPattern<AttentionOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult matchAndRewrite(AttentionOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    GradientBuilder init(rewriter, op.getLoc());
    AttentionParts parts = partsOf(op, adaptor, init);
    Blocks blocks(rewriter, op.getLoc(), parts);
    GradientBuilder &gb = blocks.builder();
    if (parts.tk <= kKeyBlock) { // one block: a plain softmax
      auto [p, l] = blocks.probabilities(rewriter.getIndexAttr(0), parts.tk);
      rewriter.replaceOp(op, gb.div(blocks.matmul(p, parts.v, false, false), blocks.safeSum(l)));
      return success();
    }
    SmallVector<Value> carried = blocks.rowStart();
    carried.push_back(gb.zerosLike(op.getResult()));
    SmallVector<Value> out = blocks.forEachBlock(
        carried, [&](OpFoldResult start, int64_t n, ValueRange c) -> SmallVector<Value> {
          auto o = blocks.online(blocks.scores(start, n), c[0], c[1]);
          Value pv = blocks.matmul(o.p, blocks.slice(parts.v, parts.rank - 2, start, n), false,
                                   false);
          return {o.m, o.l, gb.add(gb.mul(c[2], o.corr), pv)};
        });
    rewriter.replaceOp(op, gb.div(out[2], blocks.safeSum(out[1])));
    return success();
  }
};

struct AttentionGradLowering : OpConversionPattern<AttentionGradOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult matchAndRewrite(AttentionGradOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    GradientBuilder init(rewriter, loc);
    AttentionParts parts = partsOf(op, adaptor, init);
    Blocks blocks(rewriter, loc, parts);
    GradientBuilder &gb = blocks.builder();
    Value dO = adaptor.getGrad();
    Value rowDot = blocks.rowReduce(gb.mul(dO, adaptor.getResult()), "sum");
    // One block's dq, dk and dv from its probabilities p.
    auto grads = [&](OpFoldResult start, int64_t n, Value p) -> SmallVector<Value> {
      Value dv = blocks.matmul(p, dO, true, false);
      Value dp = blocks.matmul(dO, blocks.slice(parts.v, parts.rank - 2, start, n), false, true);
      Value ds = gb.mul(p, gb.sub(dp, rowDot));
      return {blocks.matmul(ds, blocks.slice(parts.k, parts.rank - 2, start, n), false, false),
              blocks.matmul(ds, parts.q, true, false), dv};
    };
    SmallVector<Value> g;
    if (parts.tk <= kKeyBlock) { // one block: its scores once
      auto [e, l] = blocks.probabilities(rewriter.getIndexAttr(0), parts.tk);
      g = grads(rewriter.getIndexAttr(0), parts.tk, gb.div(e, blocks.safeSum(l)));
    } else {
      auto [m, l] = blocks.rowStatistics();
      // log-sum-exp of each row's scores (0 for a row with nothing allowed:
      // its scores are all -inf, so its P is 0 whatever this is).
      Value lse =
          gb.add(blocks.safeMax(m), gb.create<LogOp>({blocks.safeSum(l)}, {}, m.getType()));
      auto empty = [&](Value like) {
        auto t = typeOf(like);
        return rewriter.create<tensor::EmptyOp>(loc, t.getShape(), t.getElementType()).getResult();
      };
      g = blocks.forEachBlock(
          {gb.zerosLike(adaptor.getQuery()), empty(adaptor.getKey()), empty(adaptor.getValue())},
          [&](OpFoldResult start, int64_t n, ValueRange c) -> SmallVector<Value> {
            Value s = blocks.scores(start, n);
            SmallVector<Value> d = grads(start, n, gb.create<ExpOp>({gb.sub(s, lse)}, {}, s.getType()));
            return {gb.add(c[0], d[0]), insert(rewriter, loc, d[1], c[1], parts.rank - 2, start),
                    insert(rewriter, loc, d[2], c[2], parts.rank - 2, start)};
          });
    }
    // s = (scale q) k^T: dq carries the scale once, dk has it through q.
    rewriter.replaceOp(op, {gb.mul(g[0], op.getScale().convertToDouble()), g[1], g[2]});
    return success();
  }

  /// `part` written into `into` at `start` along `axis`.
  static Value insert(ConversionPatternRewriter &rw, Location loc, Value part, Value into,
                      int64_t axis, OpFoldResult start) {
    auto type = typeOf(part);
    SmallVector<OpFoldResult> offsets, sizes, strides;
    for (int64_t i = 0; i < type.getRank(); ++i) {
      offsets.push_back(i == axis ? start : rw.getIndexAttr(0));
      sizes.push_back(rw.getIndexAttr(type.getDimSize(i)));
      strides.push_back(rw.getIndexAttr(1));
    }
    return rw.create<tensor::InsertSliceOp>(loc, part, into, offsets, sizes, strides);
  }
};

} // namespace

void populateAttentionLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<AttentionLowering, AttentionGradLowering>(patterns.getContext());
}

} // namespace tg
