//===- Gradients.cpp - vector-Jacobian products of tg ops -----------------===//
//
// One buildVjp per differentiable op (GradientOpInterface). Each rule gets
// the cotangent `g` of the op's result and emits tg ops for the cotangents of
// the operands flagged in `needed`; broadcasting ops sum back to the operand
// shape. tg-autodiff only asks for float operands.
//
//===----------------------------------------------------------------------===//
#include "ir/Dialect.h"
#include "ir/GradientBuilder.h"

#include <cmath>

using namespace mlir;

namespace tg {
namespace {

using Grads = SmallVectorImpl<Value>;

/// Shared prologue: one null slot per operand, and a builder at the op.
GradientBuilder start(OpBuilder &b, Operation *op, Grads &grads) {
  grads.assign(op->getNumOperands(), Value());
  return GradientBuilder(b, op->getLoc());
}

Type eltOf(Value v) { return GradientBuilder::eltOf(v); }
RankedTensorType typeOf(Value v) { return GradientBuilder::typeOf(v); }

/// Elementwise unary op whose derivative is `dydx`: grad = g * dydx.
LogicalResult unaryChain(OpBuilder &b, Operation *op, Value g, ArrayRef<bool> needed, Grads &grads,
                         function_ref<Value(GradientBuilder &, Value x, Value y)> dydx) {
  GradientBuilder gb = start(b, op, grads);
  if (needed[0])
    grads[0] = gb.mul(g, dydx(gb, op->getOperand(0), op->getResult(0)));
  return success();
}

/// Shape of `v` with the reduced `axes` kept as size 1.
SmallVector<int64_t> keptShape(RankedTensorType t, ArrayRef<int64_t> axes) {
  SmallVector<int64_t> s(t.getShape());
  for (int64_t i = 0; i < t.getRank(); ++i)
    if (axes.empty() || llvm::is_contained(axes, i))
      s[i] = 1;
  return s;
}

} // namespace

//===----------------------------------------------------------------------===//
// Elementwise unary
//===----------------------------------------------------------------------===//

LogicalResult NegOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  GradientBuilder gb = start(b, *this, grads);
  if (needed[0])
    grads[0] = gb.neg(g);
  return success();
}

LogicalResult AbsOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  return unaryChain(b, *this, g, needed, grads, [](GradientBuilder &gb, Value x, Value) {
    return gb.create<SignOp>({x}, {}, x.getType());
  });
}

/// Piecewise constant ops: zero gradient almost everywhere.
template <typename OpTy>
static LogicalResult zeroVjp(OpTy op, OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  GradientBuilder gb = start(b, op, grads);
  if (needed[0])
    grads[0] = gb.zerosLike(op.getX());
  return success();
}
LogicalResult SignOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  return zeroVjp(*this, b, g, needed, grads);
}
LogicalResult FloorOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  return zeroVjp(*this, b, g, needed, grads);
}

LogicalResult ExpOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  return unaryChain(b, *this, g, needed, grads,
                    [](GradientBuilder &, Value, Value y) { return y; });
}

LogicalResult LogOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  GradientBuilder gb = start(b, *this, grads);
  if (needed[0])
    grads[0] = gb.div(g, getX());
  return success();
}

LogicalResult SqrtOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  GradientBuilder gb = start(b, *this, grads);
  if (needed[0]) // d sqrt(x) = 1 / (2 sqrt(x))
    grads[0] = gb.div(gb.mul(g, 0.5), getResult());
  return success();
}

LogicalResult RsqrtOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  // d x^-1/2 = -1/2 x^-3/2 = -1/2 y^3
  return unaryChain(b, *this, g, needed, grads, [](GradientBuilder &gb, Value, Value y) {
    return gb.mul(gb.mul(gb.mul(y, y), y), -0.5);
  });
}

LogicalResult TanhOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  return unaryChain(b, *this, g, needed, grads, [](GradientBuilder &gb, Value, Value y) {
    return gb.sub(gb.scalar(1.0, eltOf(y)), gb.mul(y, y));
  });
}

LogicalResult SigmoidOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  return unaryChain(b, *this, g, needed, grads, [](GradientBuilder &gb, Value, Value y) {
    return gb.mul(y, gb.sub(gb.scalar(1.0, eltOf(y)), y));
  });
}

LogicalResult ReluOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  return unaryChain(b, *this, g, needed, grads, [](GradientBuilder &gb, Value x, Value) {
    return gb.mask(x, gb.scalar(0.0, eltOf(x)), "gt", eltOf(x));
  });
}

/// 2/sqrt(pi) * exp(-x^2)
static Value erfDerivative(GradientBuilder &gb, Value x) {
  return gb.mul(gb.create<ExpOp>({gb.neg(gb.mul(x, x))}, {}, x.getType()), 2.0 / std::sqrt(M_PI));
}

LogicalResult ErfOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  return unaryChain(b, *this, g, needed, grads,
                    [](GradientBuilder &gb, Value x, Value) { return erfDerivative(gb, x); });
}

LogicalResult SinOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  return unaryChain(b, *this, g, needed, grads, [](GradientBuilder &gb, Value x, Value) {
    return gb.create<CosOp>({x}, {}, x.getType());
  });
}

LogicalResult CosOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  return unaryChain(b, *this, g, needed, grads, [](GradientBuilder &gb, Value x, Value) {
    return gb.neg(gb.create<SinOp>({x}, {}, x.getType()));
  });
}

LogicalResult GeluOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  bool approximate = getApproximate();
  return unaryChain(b, *this, g, needed, grads, [&](GradientBuilder &gb, Value x, Value) {
    Type t = x.getType();
    if (!approximate) {
      // Phi(x) + x phi(x) = 0.5 (1 + erf(x/sqrt2)) + x exp(-x^2/2) / sqrt(2 pi)
      Value cdf = gb.mul(gb.add(gb.create<ErfOp>({gb.mul(x, M_SQRT1_2)}, {}, t), 1.0), 0.5);
      Value pdf = gb.mul(gb.create<ExpOp>({gb.mul(gb.mul(x, x), -0.5)}, {}, t),
                         1.0 / std::sqrt(2.0 * M_PI));
      return gb.add(cdf, gb.mul(x, pdf));
    }
    // y = 0.5 x (1 + tanh(u)), u = k (x + c x^3):
    // dy/dx = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) k (1 + 3 c x^2)
    const double k = std::sqrt(2.0 / M_PI), c = 0.044715;
    Value x2 = gb.mul(x, x);
    Value u = gb.mul(gb.add(x, gb.mul(gb.mul(x2, x), c)), k);
    Value th = gb.create<TanhOp>({u}, {}, t);
    Value left = gb.mul(gb.add(th, 1.0), 0.5);
    Value sech2 = gb.sub(gb.scalar(1.0, eltOf(x)), gb.mul(th, th));
    Value du = gb.mul(gb.add(gb.mul(x2, 3.0 * c), 1.0), k);
    return gb.add(left, gb.mul(gb.mul(gb.mul(x, 0.5), sech2), du));
  });
}

//===----------------------------------------------------------------------===//
// Elementwise binary (cotangents summed back over broadcast dimensions)
//===----------------------------------------------------------------------===//

/// grads[i] = unbroadcast(g * factor_i) for the needed operands; a null
/// factor means 1.
template <typename OpTy>
static LogicalResult binaryChain(OpTy op, OpBuilder &b, Value g, ArrayRef<bool> needed,
                                 Grads &grads,
                                 function_ref<Value(GradientBuilder &, unsigned)> factor) {
  GradientBuilder gb = start(b, op, grads);
  for (unsigned i = 0; i < 2; ++i) {
    if (!needed[i])
      continue;
    Value f = factor(gb, i);
    grads[i] = gb.unbroadcast(f ? gb.mul(g, f) : g, typeOf(op->getOperand(i)));
  }
  return success();
}

LogicalResult AddOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  return binaryChain(*this, b, g, needed, grads,
                     [](GradientBuilder &, unsigned) { return Value(); });
}

LogicalResult SubOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  GradientBuilder gb = start(b, *this, grads);
  if (needed[0])
    grads[0] = gb.unbroadcast(g, typeOf(getLhs()));
  if (needed[1])
    grads[1] = gb.unbroadcast(gb.neg(g), typeOf(getRhs()));
  return success();
}

LogicalResult MulOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  return binaryChain(*this, b, g, needed, grads,
                     [&](GradientBuilder &, unsigned i) { return getOperand(1 - i); });
}

LogicalResult DivOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  // d(a/b)/da = 1/b; d(a/b)/db = -(a/b)/b
  GradientBuilder gb = start(b, *this, grads);
  Value gOverB = gb.div(g, getRhs());
  if (needed[0])
    grads[0] = gb.unbroadcast(gOverB, typeOf(getLhs()));
  if (needed[1])
    grads[1] = gb.unbroadcast(gb.neg(gb.mul(gOverB, getResult())), typeOf(getRhs()));
  return success();
}

LogicalResult PowOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  // d(a^b)/da = b a^(b-1); d(a^b)/db = a^b ln a
  return binaryChain(*this, b, g, needed, grads, [&](GradientBuilder &gb, unsigned i) -> Value {
    if (i == 0)
      return gb.mul(getRhs(), gb.create<PowOp>({getLhs(), gb.add(getRhs(), -1.0)}));
    return gb.mul(getResult(), gb.create<LogOp>({getLhs()}, {}, getLhs().getType()));
  });
}

/// max/min route the cotangent to the winning side; ties go to the lhs.
template <typename OpTy>
static LogicalResult extremumVjp(OpTy op, OpBuilder &b, Value g, ArrayRef<bool> needed,
                                 Grads &grads, StringRef lhsWins) {
  return binaryChain(op, b, g, needed, grads, [&](GradientBuilder &gb, unsigned i) {
    Value lhsMask = gb.mask(op.getLhs(), op.getRhs(), lhsWins, eltOf(op.getLhs()));
    return i == 0 ? lhsMask : gb.sub(gb.scalar(1.0, eltOf(lhsMask)), lhsMask);
  });
}
LogicalResult MaximumOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  return extremumVjp(*this, b, g, needed, grads, "ge");
}
LogicalResult MinimumOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  return extremumVjp(*this, b, g, needed, grads, "le");
}

LogicalResult SelectOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  GradientBuilder gb = start(b, *this, grads);
  Value zero = gb.scalar(0.0, eltOf(g));
  if (needed[1])
    grads[1] = gb.unbroadcast(gb.create<SelectOp>({getCond(), g, zero}), typeOf(getOnTrue()));
  if (needed[2])
    grads[2] = gb.unbroadcast(gb.create<SelectOp>({getCond(), zero, g}), typeOf(getOnFalse()));
  return success();
}

//===----------------------------------------------------------------------===//
// Linear algebra and layout
//===----------------------------------------------------------------------===//

/// One tg.attention_grad gives all three cotangents: its lowering recomputes
/// the scores block by block, so asking for one costs as much as three.
LogicalResult AttentionOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  grads.assign(getNumOperands(), Value());
  SmallVector<Value> operands = {getQuery(), getKey(), getValue(), getResult(), g};
  if (getMask())
    operands.push_back(getMask());
  auto grad = b.create<AttentionGradOp>(
      getLoc(), TypeRange{getQuery().getType(), getKey().getType(), getValue().getType()},
      operands, (*this)->getAttrs());
  for (int i = 0; i < 3; ++i)
    if (needed[size_t(i)])
      grads[size_t(i)] = grad->getResult(unsigned(i));
  return success();
}

LogicalResult MatmulOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  GradientBuilder gb = start(b, *this, grads);
  bool ta = getTransposeLhs(), tb = getTransposeRhs();
  auto mm = [&](Value x, Value y, bool tx, bool ty) {
    return gb.create<MatmulOp>({x, y}, {gb.attr("transpose_lhs", b.getBoolAttr(tx)),
                                        gb.attr("transpose_rhs", b.getBoolAttr(ty))});
  };
  Value a = getLhs(), c = getRhs();
  // y = op(A) op(B); the four transpose cases of dA and dB.
  if (needed[0]) {
    Value da = !ta ? mm(g, c, false, !tb) : (tb ? mm(c, g, true, true) : mm(c, g, false, true));
    grads[0] = gb.unbroadcast(da, typeOf(a));
  }
  if (needed[1]) {
    Value db = !tb ? mm(a, g, !ta, false) : (ta ? mm(g, a, true, true) : mm(g, a, true, false));
    grads[1] = gb.unbroadcast(db, typeOf(c));
  }
  return success();
}

LogicalResult TransposeOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  GradientBuilder gb = start(b, *this, grads);
  if (!needed[0])
    return success();
  ArrayRef<int64_t> perm = getPerm();
  SmallVector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    inverse[size_t(perm[i])] = int64_t(i);
  grads[0] = gb.create<TransposeOp>({g}, {gb.arrayAttr("perm", inverse)});
  return success();
}

LogicalResult ReshapeOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  GradientBuilder gb = start(b, *this, grads);
  if (needed[0])
    grads[0] = gb.reshape(g, typeOf(getX()).getShape());
  return success();
}

LogicalResult BroadcastToOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  GradientBuilder gb = start(b, *this, grads);
  if (needed[0])
    grads[0] = gb.unbroadcast(g, typeOf(getX()));
  return success();
}

LogicalResult ReduceOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  GradientBuilder gb = start(b, *this, grads);
  if (!needed[0])
    return success();
  auto xt = typeOf(getX());
  ArrayRef<int64_t> axes = getAxes();
  SmallVector<int64_t> kept = keptShape(xt, axes);
  Value gb_ = gb.broadcastTo(gb.reshape(g, kept), xt.getShape());
  StringRef kind = getKind();
  if (kind == "sum") {
    grads[0] = gb_;
  } else if (kind == "mean") {
    int64_t count = 1;
    for (int64_t i = 0; i < xt.getRank(); ++i)
      if (kept[i] != xt.getDimSize(i))
        count *= xt.getDimSize(i);
    grads[0] = count > 1 ? gb.mul(gb_, 1.0 / double(count)) : gb_;
  } else {
    // max/min: split the cotangent evenly between the elements that tie for
    // the extremum, as TensorFlow does.
    Value y = gb.broadcastTo(gb.reshape(getResult(), kept), xt.getShape());
    Value hit = gb.mask(getX(), y, "eq", xt.getElementType());
    Value count = gb.broadcastTo(gb.reduce(hit, "sum", axes, /*keepdims=*/true), xt.getShape());
    grads[0] = gb.div(gb.mul(gb_, hit), count);
  }
  return success();
}

LogicalResult SoftmaxOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  // dx = y * (g - sum(g * y, axis))
  GradientBuilder gb = start(b, *this, grads);
  if (!needed[0])
    return success();
  Value y = getResult();
  Value s = gb.reduce(gb.mul(g, y), "sum", {int64_t(getAxis())}, /*keepdims=*/true);
  grads[0] = gb.mul(y, gb.sub(g, s));
  return success();
}

LogicalResult LogSoftmaxOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  // dx = g - exp(y) * sum(g, axis)
  GradientBuilder gb = start(b, *this, grads);
  if (!needed[0])
    return success();
  Value s = gb.reduce(g, "sum", {int64_t(getAxis())}, /*keepdims=*/true);
  Value p = gb.create<ExpOp>({getResult()}, {}, getResult().getType());
  grads[0] = gb.sub(g, gb.mul(p, s));
  return success();
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

/// The geometry attributes shared by conv2d and its gradient ops.
static SmallVector<NamedAttribute> convAttrs(Operation *op) {
  SmallVector<NamedAttribute> attrs;
  for (StringRef name : {"strides", "padding", "dilations", "groups"})
    if (Attribute a = op->getAttr(name))
      attrs.push_back(NamedAttribute(StringAttr::get(op->getContext(), name), a));
  return attrs;
}

LogicalResult Conv2DOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  GradientBuilder gb = start(b, *this, grads);
  auto attrs = convAttrs(*this);
  if (needed[0])
    grads[0] = gb.create<Conv2DBackpropInputOp>({g, getFilter()}, attrs, getInput().getType());
  if (needed[1])
    grads[1] = gb.create<Conv2DBackpropFilterOp>({getInput(), g}, attrs, getFilter().getType());
  return success();
}

// The gradient ops are bilinear, so their own gradients are convolutions again:
// bpi(g, W) = J_W^T g  =>  d g = conv2d(dz, W), d W = bpf(dz, g);
// bpf(x, g)            =>  d x = bpi(g, dz),    d g = conv2d(x, dz).
LogicalResult Conv2DBackpropInputOp::buildVjp(OpBuilder &b, Value dz, ArrayRef<bool> needed,
                                              Grads &grads) {
  GradientBuilder gb = start(b, *this, grads);
  auto attrs = convAttrs(*this);
  if (needed[0])
    grads[0] = gb.create<Conv2DOp>({dz, getFilter()}, attrs);
  if (needed[1])
    grads[1] =
        gb.create<Conv2DBackpropFilterOp>({dz, getGradOutput()}, attrs, getFilter().getType());
  return success();
}

LogicalResult Conv2DBackpropFilterOp::buildVjp(OpBuilder &b, Value dz, ArrayRef<bool> needed,
                                               Grads &grads) {
  GradientBuilder gb = start(b, *this, grads);
  auto attrs = convAttrs(*this);
  if (needed[0])
    grads[0] = gb.create<Conv2DBackpropInputOp>({getGradOutput(), dz}, attrs, getInput().getType());
  if (needed[1])
    grads[1] = gb.create<Conv2DOp>({getInput(), dz}, attrs);
  return success();
}

LogicalResult MaxPool2DOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  GradientBuilder gb = start(b, *this, grads);
  if (needed[0])
    grads[0] =
        gb.create<MaxPool2DGradOp>({getInput(), g}, (*this)->getAttrs(), getInput().getType());
  return success();
}

LogicalResult AvgPool2DOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  GradientBuilder gb = start(b, *this, grads);
  if (needed[0])
    grads[0] = gb.create<AvgPool2DGradOp>({g}, (*this)->getAttrs(), getInput().getType());
  return success();
}

// avg_pool2d_grad is the transpose of the (linear) average pooling.
LogicalResult AvgPool2DGradOp::buildVjp(OpBuilder &b, Value dz, ArrayRef<bool> needed,
                                        Grads &grads) {
  GradientBuilder gb = start(b, *this, grads);
  if (needed[0])
    grads[0] = gb.create<AvgPool2DOp>({dz}, (*this)->getAttrs());
  return success();
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  GradientBuilder gb = start(b, *this, grads);
  auto gt = typeOf(g);
  int64_t axis = getAxis(), offset = 0;
  for (auto [i, in] : llvm::enumerate(getInputs())) {
    int64_t size = typeOf(in).getDimSize(axis);
    if (needed[i]) {
      SmallVector<int64_t> start(gt.getRank(), 0), limit(gt.getShape()), strides(gt.getRank(), 1);
      start[axis] = offset;
      limit[axis] = offset + size;
      grads[i] =
          gb.create<SliceOp>({g}, {gb.arrayAttr("start", start), gb.arrayAttr("limit", limit),
                                   gb.arrayAttr("strides", strides)});
    }
    offset += size;
  }
  return success();
}

LogicalResult SliceOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  // Place g back where it came from, one axis at a time: zero padding for
  // unit strides, scatter_add at the strided positions otherwise.
  GradientBuilder gb = start(b, *this, grads);
  if (!needed[0])
    return success();
  auto xt = typeOf(getX());
  ArrayRef<int64_t> start = getStart(), strides = getStrides();
  Value cur = g;
  for (int64_t axis = 0; axis < xt.getRank(); ++axis) {
    auto ct = typeOf(cur);
    int64_t n = ct.getDimSize(axis), full = xt.getDimSize(axis);
    if (n == full)
      continue;
    if (strides[axis] == 1) {
      SmallVector<int64_t> low(ct.getRank(), 0), high(ct.getRank(), 0);
      low[axis] = start[axis];
      high[axis] = full - start[axis] - n;
      cur = gb.create<PadOp>({cur}, {gb.arrayAttr("low", low), gb.arrayAttr("high", high)});
      continue;
    }
    SmallVector<int32_t> idx;
    for (int64_t k = 0; k < n; ++k)
      idx.push_back(int32_t(start[axis] + k * strides[axis]));
    auto idxType = RankedTensorType::get({n}, b.getI32Type());
    Value indices = gb.create<ConstantOp>(
        {}, {gb.attr("value", DenseElementsAttr::get(idxType, ArrayRef<int32_t>(idx)))});
    SmallVector<int64_t> baseShape(ct.getShape());
    baseShape[axis] = full;
    Value base = gb.splat(RankedTensorType::get(baseShape, ct.getElementType()), 0.0);
    cur = gb.create<ScatterAddOp>({base, indices, cur}, {gb.i64Attr("axis", axis)});
  }
  grads[0] = cur;
  return success();
}

LogicalResult PadOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  GradientBuilder gb = start(b, *this, grads);
  if (!needed[0])
    return success();
  auto xt = typeOf(getX());
  SmallVector<int64_t> start(getLow()), limit, strides(xt.getRank(), 1);
  for (int64_t i = 0; i < xt.getRank(); ++i)
    limit.push_back(start[i] + xt.getDimSize(i));
  grads[0] = gb.create<SliceOp>({g}, {gb.arrayAttr("start", start), gb.arrayAttr("limit", limit),
                                      gb.arrayAttr("strides", strides)});
  return success();
}

LogicalResult GatherOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  GradientBuilder gb = start(b, *this, grads);
  if (needed[0])
    grads[0] = gb.create<ScatterAddOp>({gb.zerosLike(getParams()), getIndices(), g},
                                       {gb.i64Attr("axis", getAxis())});
  return success();
}

LogicalResult ScatterAddOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  GradientBuilder gb = start(b, *this, grads);
  if (needed[0])
    grads[0] = g;
  if (needed[2])
    grads[2] = gb.create<GatherOp>({g, getIndices()}, {gb.i64Attr("axis", getAxis())});
  return success();
}

LogicalResult CastOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed, Grads &grads) {
  GradientBuilder gb = start(b, *this, grads);
  if (needed[0])
    grads[0] = gb.cast(g, eltOf(getX()));
  return success();
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// Scales the loss cotangent `g` for `reduction` over `count` elements and
/// shapes it to broadcast against per-element terms of shape `elementShape`.
static Value reductionScale(GradientBuilder &gb, Value g, StringRef reduction, int64_t count,
                            ArrayRef<int64_t> elementShape) {
  if (reduction == "mean")
    return count > 0 ? gb.mul(g, 1.0 / double(count)) : g;
  if (reduction == "sum")
    return g;
  return gb.reshape(g, elementShape); // none: one cotangent per element
}

LogicalResult SoftmaxCrossEntropyOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed,
                                              Grads &grads) {
  // d logits = (softmax(logits) - one_hot(labels)) * g [/ N]
  GradientBuilder gb = start(b, *this, grads);
  if (!needed[0])
    return success();
  auto lt = typeOf(getLogits());
  int64_t axis = lt.getRank() - 1;
  Value p = gb.create<SoftmaxOp>({getLogits()}, {gb.i64Attr("axis", axis)}, lt);
  Value onehot = gb.create<OneHotOp>({getLabels()}, {}, lt);
  SmallVector<int64_t> kept(lt.getShape());
  kept.back() = 1;
  int64_t n = typeOf(getLabels()).getNumElements();
  grads[0] = gb.mul(gb.sub(p, onehot), reductionScale(gb, g, getReduction(), n, kept));
  return success();
}

LogicalResult MeanSquaredErrorOp::buildVjp(OpBuilder &b, Value g, ArrayRef<bool> needed,
                                           Grads &grads) {
  // d p = 2 (p - t) g [/ N]; d t = -d p
  GradientBuilder gb = start(b, *this, grads);
  auto pt = typeOf(getPredictions());
  Value scale = reductionScale(gb, g, getReduction(), pt.getNumElements(), pt.getShape());
  Value dp = gb.mul(gb.mul(gb.sub(getPredictions(), getTargets()), scale), 2.0);
  if (needed[0])
    grads[0] = dp;
  if (needed[1])
    grads[1] = gb.neg(dp);
  return success();
}

} // namespace tg
