//===- WindowToLinalg.cpp - conv2d, pooling and their gradients -> linalg -===//
//
// The window ops of element types no library kernel serves (oneDNN's and
// cuDNN's calls are f32; f64 models compile through here). Each becomes
// linalg.generic ops over its result: the windowed operand is read with
// tensor.extract at bounds-checked, clamped indices, so padding is never
// materialized. Gradients are gathers (each result element sums what its
// windows contributed), never scatters, so the loops stay parallel over the
// result; each sum adds its terms in the reference interpreter's order, so
// f64 results agree with it to the last bit or nearly.
//
//===----------------------------------------------------------------------===//
#include "codegen/common/TgToLinalg.h"
#include "ir/Dialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

#include <limits>

using namespace mlir;

namespace tg {
namespace {

RankedTensorType tensorOf(Value v) { return llvm::cast<RankedTensorType>(v.getType()); }

/// Index arithmetic inside a linalg.generic body.
struct Body {
  OpBuilder &b;
  Location loc;

  Value dim(unsigned d) { return b.create<linalg::IndexOp>(loc, d); }
  Value c(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }
  Value add(Value x, Value y) { return b.create<arith::AddIOp>(loc, x, y); }
  Value sub(Value x, Value y) { return b.create<arith::SubIOp>(loc, x, y); }
  Value mul(Value x, int64_t k) { return k == 1 ? x : b.create<arith::MulIOp>(loc, x, c(k)); }
  Value div(Value x, int64_t k) { return k == 1 ? x : b.create<arith::DivSIOp>(loc, x, c(k)); }
  Value rem(Value x, int64_t k) { return b.create<arith::RemSIOp>(loc, x, c(k)); }
  Value minI(Value x, Value y) { return b.create<arith::MinSIOp>(loc, x, y); }
  Value maxI(Value x, Value y) { return b.create<arith::MaxSIOp>(loc, x, y); }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return b.create<arith::CmpIOp>(loc, p, x, y);
  }
  Value both(Value x, Value y) { return b.create<arith::AndIOp>(loc, x, y); }
  Value either(Value x, Value y) { return b.create<arith::OrIOp>(loc, x, y); }
  Value select(Value cond, Value x, Value y) { return b.create<arith::SelectOp>(loc, cond, x, y); }
  /// 0 <= v < size.
  Value inRange(Value v, int64_t size) {
    return both(cmp(arith::CmpIPredicate::sge, v, c(0)),
                cmp(arith::CmpIPredicate::slt, v, c(size)));
  }
  /// v where `ok`, else 0: an index safe to read whatever `ok` says.
  Value clamp(Value ok, Value v) { return select(ok, v, c(0)); }
  /// The window start `start` (= out * stride) reached from position `pos`:
  /// valid when `start` is a multiple of `stride` whose quotient is < `outSize`.
  std::pair<Value, Value> windowAt(Value start, int64_t stride, int64_t outSize) {
    Value out = div(start, stride);
    Value ok = both(cmp(arith::CmpIPredicate::sge, start, c(0)),
                    cmp(arith::CmpIPredicate::slt, out, c(outSize)));
    if (stride != 1)
      ok = both(ok, cmp(arith::CmpIPredicate::eq, rem(start, stride), c(0)));
    return {ok, clamp(ok, out)};
  }
  Value read(Value tensor, ArrayRef<Value> at) {
    return b.create<tensor::ExtractOp>(loc, tensor, at);
  }
  Value fadd(Value x, Value y) { return b.create<arith::AddFOp>(loc, x, y); }
  Value fmul(Value x, Value y) { return b.create<arith::MulFOp>(loc, x, y); }
  Value fdiv(Value x, Value y) { return b.create<arith::DivFOp>(loc, x, y); }
  Value toFloat(Value index, Type t) {
    Value i = b.create<arith::IndexCastOp>(loc, b.getI64Type(), index);
    return b.create<arith::SIToFPOp>(loc, t, i);
  }
  /// The number of in-bounds positions of the window at `out` along one axis.
  Value validCount(Value out, int64_t stride, int64_t pad, int64_t kernel, int64_t size) {
    Value start = sub(mul(out, stride), c(pad));
    return sub(minI(add(start, c(kernel)), c(size)), maxI(start, c(0)));
  }
};

using BodyFn = function_ref<SmallVector<Value>(Body &, ValueRange inputs, ValueRange accs)>;

/// (d0, ..., d(numDims-1)) -> (d[targets[0]], d[targets[1]], ...).
AffineMap dimsMap(unsigned numDims, ArrayRef<unsigned> targets, MLIRContext *ctx) {
  return AffineMap::getMultiDimMapWithTargets(numDims, targets, ctx);
}

/// A linalg.generic over `parallel` dims (the results' dims, in order) then
/// `reduce` reduction dims. Their sizes come from `inputs` (read through
/// `maps`) or, when no input is indexed by them alone, from `extents`: a
/// tensor.empty of that shape read through the reduction dims, as linalg's
/// pooling ops do. `inits` are the results' initial values.
SmallVector<Value> windowGeneric(OpBuilder &b, Location loc, ValueRange inits, ValueRange inputs,
                                 ArrayRef<AffineMap> maps, unsigned parallel, unsigned reduce,
                                 ArrayRef<int64_t> extents, BodyFn body) {
  assert((extents.empty() || extents.size() == reduce) && "one extent per reduction dim");
  unsigned total = parallel + reduce;
  SmallVector<Value> operands(inputs);
  SmallVector<AffineMap> allMaps(maps);
  if (!extents.empty()) {
    operands.push_back(b.create<tensor::EmptyOp>(loc, extents, b.getF32Type()));
    allMaps.push_back(dimsMap(total, llvm::to_vector(llvm::seq(parallel, total)), b.getContext()));
  }
  AffineMap out = dimsMap(total, llvm::to_vector(llvm::seq(0u, parallel)), b.getContext());
  allMaps.append(inits.size(), out);
  SmallVector<utils::IteratorType> iters(parallel, utils::IteratorType::parallel);
  iters.append(reduce, utils::IteratorType::reduction);
  size_t numInputs = inputs.size(), numOperands = operands.size();
  auto op = b.create<linalg::GenericOp>(
      loc, inits.getTypes(), operands, inits, allMaps, iters,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Body body_{nb, l};
        nb.create<linalg::YieldOp>(
            l, body(body_, args.take_front(numInputs), args.drop_front(numOperands)));
      });
  return SmallVector<Value>(op.getResults());
}

Value filled(OpBuilder &b, Location loc, RankedTensorType t, Attribute value) {
  Value empty = b.create<tensor::EmptyOp>(loc, t.getShape(), t.getElementType());
  Value v = b.create<arith::ConstantOp>(loc, cast<TypedAttr>(value));
  return b.create<linalg::FillOp>(loc, v, empty).getResult(0);
}

Value zeros(OpBuilder &b, Location loc, RankedTensorType t) {
  return filled(b, loc, t, b.getFloatAttr(t.getElementType(), 0.0));
}

/// Window geometry of a conv or pooling op: strides, padding (top, bottom,
/// left, right) and dilations (1 for pooling).
struct Geometry {
  int64_t s0, s1, p0, p2, d0 = 1, d1 = 1;
};

template <typename ConvLike> Geometry convGeometry(ConvLike op) {
  auto s = op.getStrides(), p = op.getPadding(), d = op.getDilations();
  return {s[0], s[1], p[0], p[2], d[0], d[1]};
}
template <typename PoolLike> Geometry poolGeometry(PoolLike op) {
  auto s = op.getStrides(), p = op.getPadding();
  return {s[0], s[1], p[0], p[2]};
}

//===----------------------------------------------------------------------===//
// Convolution: y[n, o, oh, ow] = sum over c, kh, kw of x[n, g*CG + c, h, w]
// * w[o, c, kh, kw], h = oh*s0 - p0 + kh*d0 (w likewise), g = o / OG.
//===----------------------------------------------------------------------===//

/// The input pixel that filter tap (kh, kw) of output (n, o, oh, ow) reads
/// from channel c of o's group: whether it is inside the image (not
/// padding), and its value (read at a clamped index either way).
std::pair<Value, Value> inputTap(Body &e, Value x, Value n, Value o, Value c, Value oh, Value ow,
                                 Value kh, Value kw, Geometry g, int64_t groups, int64_t OG,
                                 int64_t CG, int64_t H, int64_t W) {
  Value ci = groups == 1 ? c : e.add(e.mul(e.div(o, OG), CG), c);
  Value h = e.add(e.sub(e.mul(oh, g.s0), e.c(g.p0)), e.mul(kh, g.d0));
  Value wc = e.add(e.sub(e.mul(ow, g.s1), e.c(g.p2)), e.mul(kw, g.d1));
  Value ok = e.both(e.inRange(h, H), e.inRange(wc, W));
  return {ok, e.read(x, {n, ci, e.clamp(ok, h), e.clamp(ok, wc)})};
}

Value lowerConv(OpBuilder &b, Location loc, Value x, Value w, RankedTensorType yType, Geometry g,
                int64_t groups) {
  auto xs = tensorOf(x).getShape(), ws = tensorOf(w).getShape();
  int64_t H = xs[2], W = xs[3], CG = ws[1], OG = ws[0] / groups;
  // Dims: n, o, oh, ow | c, kh, kw; the filter, read through (o, c, kh, kw),
  // gives the reduction extents.
  AffineMap wMap = dimsMap(7, {1, 4, 5, 6}, b.getContext());
  return windowGeneric(
      b, loc, zeros(b, loc, yType), {w}, {wMap}, 4, 3, {},
      [&](Body &e, ValueRange in, ValueRange accs) -> SmallVector<Value> {
        auto [ok, xv] = inputTap(e, x, e.dim(0), e.dim(1), e.dim(4), e.dim(2), e.dim(3),
                                 e.dim(5), e.dim(6), g, groups, OG, CG, H, W);
        return {e.select(ok, e.fadd(accs[0], e.fmul(xv, in[0])), accs[0])};
      })[0];
}

/// dx[n, ci, h, w] = sum over o (of ci's group), kh, kw of dy[n, o, oh, ow] *
/// w[o, ci % CG, kh, kw] where h = oh*s0 - p0 + kh*d0. The kernel is walked
/// backwards so that oh (and ow) rise, as in the interpreter's scatter.
Value lowerConvBackpropInput(OpBuilder &b, Location loc, Value dy, Value w,
                             RankedTensorType dxType, Geometry g, int64_t groups) {
  auto ys = tensorOf(dy).getShape(), ws = tensorOf(w).getShape();
  int64_t OH = ys[2], OW = ys[3], CG = ws[1], KH = ws[2], KW = ws[3], OG = ws[0] / groups;
  return windowGeneric(
      b, loc, zeros(b, loc, dxType), {}, {}, 4, 3, {OG, KH, KW},
      [&](Body &e, ValueRange, ValueRange accs) -> SmallVector<Value> {
        Value n = e.dim(0), ci = e.dim(1), h = e.dim(2), wc = e.dim(3);
        Value o = e.dim(4), kh = e.sub(e.c(KH - 1), e.dim(5)), kw = e.sub(e.c(KW - 1), e.dim(6));
        Value cg = ci;
        if (groups != 1) {
          o = e.add(e.mul(e.div(ci, CG), OG), o);
          cg = e.rem(ci, CG);
        }
        auto [okH, oh] = e.windowAt(e.sub(e.add(h, e.c(g.p0)), e.mul(kh, g.d0)), g.s0, OH);
        auto [okW, ow] = e.windowAt(e.sub(e.add(wc, e.c(g.p2)), e.mul(kw, g.d1)), g.s1, OW);
        Value ok = e.both(okH, okW);
        Value dyv = e.read(dy, {n, o, oh, ow});
        Value term = e.fmul(dyv, e.read(w, {o, cg, kh, kw}));
        return {e.select(ok, e.fadd(accs[0], term), accs[0])};
      })[0];
}

/// dw[o, c, kh, kw] = sum over n, oh, ow of dy[n, o, oh, ow] * x[n, g*CG + c,
/// oh*s0 - p0 + kh*d0, ...].
Value lowerConvBackpropFilter(OpBuilder &b, Location loc, Value x, Value dy,
                              RankedTensorType dwType, Geometry g, int64_t groups) {
  auto xs = tensorOf(x).getShape(), ws = dwType.getShape();
  int64_t H = xs[2], W = xs[3], CG = ws[1], OG = ws[0] / groups;
  // Dims: o, c, kh, kw | n, oh, ow; dy is read through (n, o, oh, ow), which
  // also gives the reduction extents.
  AffineMap dyMap = dimsMap(7, {4, 0, 5, 6}, b.getContext());
  return windowGeneric(
      b, loc, zeros(b, loc, dwType), {dy}, {dyMap}, 4, 3, {},
      [&](Body &e, ValueRange in, ValueRange accs) -> SmallVector<Value> {
        auto [ok, xv] = inputTap(e, x, e.dim(4), e.dim(0), e.dim(1), e.dim(5), e.dim(6),
                                 e.dim(2), e.dim(3), g, groups, OG, CG, H, W);
        return {e.select(ok, e.fadd(accs[0], e.fmul(in[0], xv)), accs[0])};
      })[0];
}

//===----------------------------------------------------------------------===//
// Pooling over the in-bounds part of each window (padding never counts,
// except in the divisor of average pooling with count_include_pad).
//===----------------------------------------------------------------------===//

/// The interpreter's max: the first of the largest, or the first NaN.
Value takesMax(Body &e, Value x, Value best) {
  auto f = [&](arith::CmpFPredicate p, Value a, Value b) {
    return e.b.create<arith::CmpFOp>(e.loc, p, a, b).getResult();
  };
  Value isNan = f(arith::CmpFPredicate::UNO, x, x);
  Value bestNotNan = f(arith::CmpFPredicate::ORD, best, best);
  return e.either(f(arith::CmpFPredicate::OGT, x, best), e.both(isNan, bestNotNan));
}

/// Over dims (n, c, oh, ow | kh, kw): whether window tap (kh, kw) of output
/// (oh, ow) is in bounds, and the pixel of `x` there (read at a clamped
/// index either way).
std::pair<Value, Value> poolTap(Body &e, Value x, Geometry g) {
  auto xs = tensorOf(x).getShape();
  Value h = e.add(e.sub(e.mul(e.dim(2), g.s0), e.c(g.p0)), e.dim(4));
  Value w = e.add(e.sub(e.mul(e.dim(3), g.s1), e.c(g.p2)), e.dim(5));
  Value ok = e.both(e.inRange(h, xs[2]), e.inRange(w, xs[3]));
  return {ok, e.read(x, {e.dim(0), e.dim(1), e.clamp(ok, h), e.clamp(ok, w)})};
}

/// Over dims (n, c, h, w | kh', kw'), the kernel walked backwards (kh =
/// KH-1-kh', so oh rises as in the interpreter's scatter): the window (oh,
/// ow) whose tap (kh, kw) is input position (h, w), whether it exists among
/// the `outH` x `outW` outputs, and the tap.
struct Window {
  Value ok, oh, ow, kh, kw;
};
Window windowReaching(Body &e, ArrayRef<int64_t> kernel, Geometry g, int64_t outH,
                      int64_t outW) {
  Value kh = e.sub(e.c(kernel[0] - 1), e.dim(4)), kw = e.sub(e.c(kernel[1] - 1), e.dim(5));
  auto [okH, oh] = e.windowAt(e.sub(e.add(e.dim(2), e.c(g.p0)), kh), g.s0, outH);
  auto [okW, ow] = e.windowAt(e.sub(e.add(e.dim(3), e.c(g.p2)), kw), g.s1, outW);
  return {e.both(okH, okW), oh, ow, kh, kw};
}

Value lowerMaxPool(OpBuilder &b, Location loc, Value x, RankedTensorType yType,
                   ArrayRef<int64_t> kernel, Geometry g) {
  Attribute lowest = b.getFloatAttr(yType.getElementType(), -std::numeric_limits<double>::infinity());
  return windowGeneric(
      b, loc, filled(b, loc, yType, lowest), {}, {}, 4, 2, kernel,
      [&](Body &e, ValueRange, ValueRange accs) -> SmallVector<Value> {
        auto [ok, v] = poolTap(e, x, g);
        return {e.select(e.both(ok, takesMax(e, v, accs[0])), v, accs[0])};
      })[0];
}

/// Each window's maximum goes back to the first position holding it: the
/// argmax of every window (its tap kh*KW + kw), then a gather over the taps
/// that can reach each input position.
Value lowerMaxPoolGrad(OpBuilder &b, Location loc, Value x, Value dy, RankedTensorType dxType,
                       ArrayRef<int64_t> kernel, Geometry g) {
  auto ys = tensorOf(dy).getShape();
  int64_t KW = kernel[1];
  Type elt = dxType.getElementType();
  auto bestType = RankedTensorType::get(ys, elt), atType = RankedTensorType::get(ys, b.getI64Type());
  SmallVector<Value> argmax = windowGeneric(
      b, loc,
      {filled(b, loc, bestType, b.getFloatAttr(elt, -std::numeric_limits<double>::infinity())),
       filled(b, loc, atType, b.getI64IntegerAttr(-1))},
      {}, {}, 4, 2, kernel, [&](Body &e, ValueRange, ValueRange accs) -> SmallVector<Value> {
        auto [ok, v] = poolTap(e, x, g);
        Value first = e.b.create<arith::CmpIOp>(e.loc, arith::CmpIPredicate::slt, accs[1],
                                                e.b.create<arith::ConstantIntOp>(e.loc, 0, 64));
        Value take = e.both(ok, e.either(first, takesMax(e, v, accs[0])));
        Value tap = e.b.create<arith::IndexCastOp>(e.loc, e.b.getI64Type(),
                                                   e.add(e.mul(e.dim(4), KW), e.dim(5)));
        return {e.select(take, v, accs[0]), e.select(take, tap, accs[1])};
      });
  Value at = argmax[1];
  return windowGeneric(
      b, loc, zeros(b, loc, dxType), {}, {}, 4, 2, kernel,
      [&](Body &e, ValueRange, ValueRange accs) -> SmallVector<Value> {
        Window r = windowReaching(e, kernel, g, ys[2], ys[3]);
        Value tap = e.b.create<arith::IndexCastOp>(e.loc, e.b.getI64Type(),
                                                   e.add(e.mul(r.kh, KW), r.kw));
        Value hit = e.b.create<arith::CmpIOp>(e.loc, arith::CmpIPredicate::eq,
                                              e.read(at, {e.dim(0), e.dim(1), r.oh, r.ow}), tap);
        Value ok = e.both(r.ok, hit);
        Value term = e.read(dy, {e.dim(0), e.dim(1), r.oh, r.ow});
        return {e.select(ok, e.fadd(accs[0], term), accs[0])};
      })[0];
}

/// The divisor of window (oh, ow): KH*KW, or its in-bounds count.
Value poolCount(Body &e, Value oh, Value ow, ArrayRef<int64_t> kernel, Geometry g, int64_t H,
                int64_t W, bool includePad, Type elt) {
  if (includePad)
    return e.toFloat(e.c(kernel[0] * kernel[1]), elt);
  Value rows = e.validCount(oh, g.s0, g.p0, kernel[0], H);
  Value cols = e.validCount(ow, g.s1, g.p2, kernel[1], W);
  return e.toFloat(e.b.create<arith::MulIOp>(e.loc, rows, cols), elt);
}

Value lowerAvgPool(OpBuilder &b, Location loc, Value x, RankedTensorType yType,
                   ArrayRef<int64_t> kernel, Geometry g, bool includePad) {
  auto xs = tensorOf(x).getShape();
  Value sums = windowGeneric(
      b, loc, zeros(b, loc, yType), {}, {}, 4, 2, kernel,
      [&](Body &e, ValueRange, ValueRange accs) -> SmallVector<Value> {
        auto [ok, v] = poolTap(e, x, g);
        return {e.select(ok, e.fadd(accs[0], v), accs[0])};
      })[0];
  AffineMap id = AffineMap::getMultiDimIdentityMap(4, b.getContext());
  return windowGeneric(b, loc, Value(b.create<tensor::EmptyOp>(loc, yType.getShape(),
                                                               yType.getElementType())),
                       {sums}, {id}, 4, 0, {},
                       [&](Body &e, ValueRange in, ValueRange) -> SmallVector<Value> {
                         Value n = poolCount(e, e.dim(2), e.dim(3), kernel, g, xs[2], xs[3],
                                             includePad, yType.getElementType());
                         return {e.fdiv(in[0], n)};
                       })[0];
}

Value lowerAvgPoolGrad(OpBuilder &b, Location loc, Value dy, RankedTensorType dxType,
                       ArrayRef<int64_t> kernel, Geometry g, bool includePad) {
  auto xs = dxType.getShape(), ys = tensorOf(dy).getShape();
  return windowGeneric(
      b, loc, zeros(b, loc, dxType), {}, {}, 4, 2, kernel,
      [&](Body &e, ValueRange, ValueRange accs) -> SmallVector<Value> {
        Window r = windowReaching(e, kernel, g, ys[2], ys[3]);
        Value n = poolCount(e, r.oh, r.ow, kernel, g, xs[2], xs[3], includePad,
                            dxType.getElementType());
        Value term = e.fdiv(e.read(dy, {e.dim(0), e.dim(1), r.oh, r.ow}), n);
        return {e.select(r.ok, e.fadd(accs[0], term), accs[0])};
      })[0];
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

template <typename OpTy> struct WindowPattern : OpConversionPattern<OpTy> {
  WindowPattern(MLIRContext *ctx, const LibraryOpFilter &keep)
      : OpConversionPattern<OpTy>(ctx), keep(keep) {}

  LogicalResult matchAndRewrite(OpTy op, typename OpTy::Adaptor,
                                ConversionPatternRewriter &rewriter) const final {
    if (keep && keep(op))
      return rewriter.notifyMatchFailure(op, "left to the backend's library call");
    rewriter.replaceOp(op, lower(op, rewriter, op.getLoc(), tensorOf(op.getResult())));
    return success();
  }
  Value lower(OpTy op, OpBuilder &b, Location loc, RankedTensorType t) const;

private:
  LibraryOpFilter keep;
};

template <>
Value WindowPattern<Conv2DOp>::lower(Conv2DOp op, OpBuilder &b, Location loc,
                                     RankedTensorType t) const {
  return lowerConv(b, loc, op.getInput(), op.getFilter(), t, convGeometry(op), op.getGroups());
}
template <>
Value WindowPattern<Conv2DBackpropInputOp>::lower(Conv2DBackpropInputOp op, OpBuilder &b,
                                                  Location loc, RankedTensorType t) const {
  return lowerConvBackpropInput(b, loc, op.getGradOutput(), op.getFilter(), t, convGeometry(op),
                                op.getGroups());
}
template <>
Value WindowPattern<Conv2DBackpropFilterOp>::lower(Conv2DBackpropFilterOp op, OpBuilder &b,
                                                   Location loc, RankedTensorType t) const {
  return lowerConvBackpropFilter(b, loc, op.getInput(), op.getGradOutput(), t, convGeometry(op),
                                 op.getGroups());
}
template <>
Value WindowPattern<MaxPool2DOp>::lower(MaxPool2DOp op, OpBuilder &b, Location loc,
                                        RankedTensorType t) const {
  return lowerMaxPool(b, loc, op.getInput(), t, op.getKernel(), poolGeometry(op));
}
template <>
Value WindowPattern<MaxPool2DGradOp>::lower(MaxPool2DGradOp op, OpBuilder &b, Location loc,
                                            RankedTensorType t) const {
  return lowerMaxPoolGrad(b, loc, op.getInput(), op.getGradOutput(), t, op.getKernel(),
                          poolGeometry(op));
}
template <>
Value WindowPattern<AvgPool2DOp>::lower(AvgPool2DOp op, OpBuilder &b, Location loc,
                                        RankedTensorType t) const {
  return lowerAvgPool(b, loc, op.getInput(), t, op.getKernel(), poolGeometry(op),
                      op.getCountIncludePad());
}
template <>
Value WindowPattern<AvgPool2DGradOp>::lower(AvgPool2DGradOp op, OpBuilder &b, Location loc,
                                            RankedTensorType t) const {
  return lowerAvgPoolGrad(b, loc, op.getGradOutput(), t, op.getKernel(), poolGeometry(op),
                          op.getCountIncludePad());
}

} // namespace

void populateWindowLoweringPatterns(RewritePatternSet &patterns, const LibraryOpFilter &keep) {
  patterns.add<WindowPattern<Conv2DOp>, WindowPattern<Conv2DBackpropInputOp>,
               WindowPattern<Conv2DBackpropFilterOp>, WindowPattern<MaxPool2DOp>,
               WindowPattern<MaxPool2DGradOp>, WindowPattern<AvgPool2DOp>,
               WindowPattern<AvgPool2DGradOp>>(patterns.getContext(), keep);
}

} // namespace tg
