//===- Ops.cpp - tg op shape inference and verifiers ----------------------===//
//
// Shape rules live in inferReturnTypes (for ops whose result follows from
// their operands) or in verify() (for ops whose result type is given).
// Messages name the shapes involved, since users read them from the frontend.
//
//===----------------------------------------------------------------------===//
#include "ir/Dialect.h"
#include "ir/ShapeUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace tg {
namespace {

/// Emits "'tg.<op>' op <message>" when a location is available.
template <typename... Args>
LogicalResult fail(std::optional<Location> loc, StringRef op, Args &&...args) {
  return emitOptionalError(loc, "'tg.", op, "' op ", std::forward<Args>(args)...);
}

RankedTensorType tensorOf(Value v) { return llvm::cast<RankedTensorType>(v.getType()); }

std::string typeStr(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

bool isReduction(StringRef r) { return r == "mean" || r == "sum" || r == "none"; }

/// Shared rule for every broadcasting binary op.
LogicalResult inferBroadcast(std::optional<Location> loc, StringRef op, Value lhs, Value rhs,
                             Type resultElt, SmallVectorImpl<Type> &inferred) {
  auto a = tensorOf(lhs), b = tensorOf(rhs);
  if (a.getElementType() != b.getElementType())
    return fail(loc, op, "operand element types differ: ", typeStr(a.getElementType()), " vs ",
                typeStr(b.getElementType()));
  auto shape = broadcastShapes(a.getShape(), b.getShape());
  if (!shape)
    return fail(loc, op, "operand shapes ", shapeStr(a.getShape()), " and ", shapeStr(b.getShape()),
                " do not broadcast");
  inferred.push_back(RankedTensorType::get(*shape, resultElt ? resultElt : a.getElementType()));
  return success();
}

LogicalResult checkAxis(std::optional<Location> loc, StringRef op, int64_t axis, int64_t rank) {
  if (axis < 0 || axis >= rank)
    return fail(loc, op, "axis ", axis, " is out of range for rank ", rank);
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// Constant
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *, std::optional<Location>, Adaptor adaptor,
                                           SmallVectorImpl<Type> &inferred) {
  inferred.push_back(adaptor.getValueAttr().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise binary, compare, select
//===----------------------------------------------------------------------===//

#define TG_BINARY_INFER(OP, NAME)                                                                  \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,  \
                                     SmallVectorImpl<Type> &inferred) {                            \
    return inferBroadcast(loc, NAME, adaptor.getLhs(), adaptor.getRhs(), Type(), inferred);        \
  }
TG_BINARY_INFER(AddOp, "add")
TG_BINARY_INFER(SubOp, "sub")
TG_BINARY_INFER(MulOp, "mul")
TG_BINARY_INFER(DivOp, "div")
TG_BINARY_INFER(PowOp, "pow")
TG_BINARY_INFER(MaximumOp, "maximum")
TG_BINARY_INFER(MinimumOp, "minimum")
#undef TG_BINARY_INFER

LogicalResult CompareOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  StringRef p = adaptor.getPredicate();
  if (!llvm::is_contained({"eq", "ne", "lt", "le", "gt", "ge"}, p))
    return fail(loc, "compare", "predicate must be one of eq, ne, lt, le, gt, ge, got \"", p, "\"");
  return inferBroadcast(loc, "compare", adaptor.getLhs(), adaptor.getRhs(),
                        IntegerType::get(ctx, 1), inferred);
}

LogicalResult SelectOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  auto c = tensorOf(adaptor.getCond()), t = tensorOf(adaptor.getOnTrue()),
       f = tensorOf(adaptor.getOnFalse());
  if (t.getElementType() != f.getElementType())
    return fail(loc, "select",
                "on_true and on_false element types differ: ", typeStr(t.getElementType()), " vs ",
                typeStr(f.getElementType()));
  auto tf = broadcastShapes(t.getShape(), f.getShape());
  auto all = tf ? broadcastShapes(c.getShape(), *tf) : std::nullopt;
  if (!all)
    return fail(loc, "select", "shapes ", shapeStr(c.getShape()), ", ", shapeStr(t.getShape()),
                " and ", shapeStr(f.getShape()), " do not broadcast");
  inferred.push_back(RankedTensorType::get(*all, t.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Linear algebra and layout
//===----------------------------------------------------------------------===//

/// tg.attention's shape rule, shared with tg.attention_grad: the type of
/// the attention result `[..., Tq, Dv]`.
static FailureOr<RankedTensorType> attentionResult(std::optional<Location> loc, StringRef name,
                                                   Value query, Value key, Value value, Value mask,
                                                   double scale) {
  auto q = tensorOf(query), k = tensorOf(key), v = tensorOf(value);
  if (q.getRank() < 2 || k.getRank() != q.getRank() || v.getRank() != q.getRank()) {
    (void)fail(loc, name, "query, key and value must have the same rank >= 2, got ",
               shapeStr(q.getShape()), ", ", shapeStr(k.getShape()), " and ",
               shapeStr(v.getShape()));
    return failure();
  }
  if (k.getElementType() != q.getElementType() || v.getElementType() != q.getElementType()) {
    (void)fail(loc, name, "query, key and value element types differ: ", typeStr(q), ", ",
               typeStr(k), " and ", typeStr(v));
    return failure();
  }
  ArrayRef<int64_t> qs = q.getShape(), ks = k.getShape(), vs = v.getShape();
  int64_t r = q.getRank();
  if (qs.drop_back(2) != ks.drop_back(2) || qs.drop_back(2) != vs.drop_back(2) ||
      qs[r - 1] != ks[r - 1] || ks[r - 2] != vs[r - 2]) {
    (void)fail(loc, name, "expects query [..., Tq, D], key [..., Tk, D] and value [..., Tk, Dv] "
               "with the same leading dimensions, got ",
               shapeStr(qs), ", ", shapeStr(ks), " and ", shapeStr(vs));
    return failure();
  }
  if (!std::isfinite(scale)) {
    (void)fail(loc, name, "scale must be a finite f64, got ", scale);
    return failure();
  }
  Shape out(qs.drop_back(1));
  out.push_back(vs[r - 1]);
  if (mask) {
    auto m = tensorOf(mask);
    Shape scores(qs.drop_back(1));
    scores.push_back(ks[r - 2]);
    bool ok = m.getRank() == r;
    for (int64_t i = 0; ok && i < r; ++i)
      ok = m.getDimSize(i) == 1 || m.getDimSize(i) == scores[size_t(i)];
    if (!ok) {
      (void)fail(loc, name, "mask ", shapeStr(m.getShape()),
                 " must have rank ", r, " and each dimension 1 or that of the scores ",
                 shapeStr(scores));
      return failure();
    }
  }
  return RankedTensorType::get(out, q.getElementType());
}

/// A missing scale reads as NaN, which the shape rule reports.
static double scaleOf(FloatAttr scale) {
  // (ODS reports a missing scale first: "requires attribute 'scale'".)
  return scale ? scale.getValueAsDouble() : std::numeric_limits<double>::quiet_NaN();
}

LogicalResult AttentionOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  FailureOr<RankedTensorType> t =
      attentionResult(loc, "attention", adaptor.getQuery(), adaptor.getKey(), adaptor.getValue(),
                      adaptor.getMask(), scaleOf(adaptor.getScaleAttr()));
  if (failed(t))
    return failure();
  inferred.push_back(*t);
  return success();
}

LogicalResult AttentionGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  FailureOr<RankedTensorType> t = attentionResult(
      loc, "attention_grad", adaptor.getQuery(), adaptor.getKey(), adaptor.getValue(),
      adaptor.getMask(), scaleOf(adaptor.getScaleAttr()));
  if (failed(t))
    return failure();
  for (Value v : {adaptor.getResult(), adaptor.getGrad()})
    if (tensorOf(v) != *t)
      return fail(loc, "attention_grad", "result and grad must be ", typeStr(*t),
                  " (the attention result), got ", typeStr(tensorOf(v)));
  for (Value v : {adaptor.getQuery(), adaptor.getKey(), adaptor.getValue()})
    inferred.push_back(v.getType());
  return success();
}

template <typename Adaptor>
static LogicalResult inferMatmul(std::optional<Location> loc, Adaptor adaptor,
                                 SmallVectorImpl<Type> &inferred) {
  auto a = tensorOf(adaptor.getLhs()), b = tensorOf(adaptor.getRhs());
  if (a.getRank() < 2 || b.getRank() < 2)
    return fail(loc, "matmul", "operands must have rank >= 2, got ", shapeStr(a.getShape()),
                " and ", shapeStr(b.getShape()));
  if (a.getElementType() != b.getElementType())
    return fail(loc, "matmul", "operand element types differ: ", typeStr(a.getElementType()),
                " vs ", typeStr(b.getElementType()));
  ArrayRef<int64_t> as = a.getShape(), bs = b.getShape();
  bool ta = adaptor.getTransposeLhs(), tb = adaptor.getTransposeRhs();
  int64_t m = ta ? as.back() : as[as.size() - 2];
  int64_t ka = ta ? as[as.size() - 2] : as.back();
  int64_t kb = tb ? bs.back() : bs[bs.size() - 2];
  int64_t n = tb ? bs[bs.size() - 2] : bs.back();
  if (ka != kb)
    return fail(loc, "matmul", "contracting dimensions differ: lhs ", shapeStr(as),
                ta ? " (transposed)" : "", " has ", ka, ", rhs ", shapeStr(bs),
                tb ? " (transposed)" : "", " has ", kb);
  auto batch = broadcastShapes(as.drop_back(2), bs.drop_back(2));
  if (!batch)
    return fail(loc, "matmul", "batch dimensions ", shapeStr(as.drop_back(2)), " and ",
                shapeStr(bs.drop_back(2)), " do not broadcast");
  Shape out = *batch;
  out.push_back(m);
  out.push_back(n);
  inferred.push_back(RankedTensorType::get(out, a.getElementType()));
  return success();
}

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  return inferMatmul(loc, adaptor, inferred);
}

/// The bias and activation of a fused library op: bias [C] of the result's
/// element type, C being the result dimension `channelDim`.
static LogicalResult checkEpilogue(std::optional<Location> loc, StringRef name, Value bias,
                                   RankedTensorType result, int64_t channelDim,
                                   StringRef activation) {
  if (!llvm::is_contained({"none", "relu", "tanh", "sigmoid"}, activation))
    return fail(loc, name, "activation must be none, relu, tanh or sigmoid, got \"", activation,
                "\"");
  auto bt = tensorOf(bias);
  if (bt.getElementType() != result.getElementType() || bt.getRank() != 1 ||
      bt.getDimSize(0) != result.getDimSize(channelDim))
    return fail(
        loc, name, "bias must be ",
        typeStr(RankedTensorType::get({result.getDimSize(channelDim)}, result.getElementType())),
        " for a result of shape ", shapeStr(result.getShape()), ", got ", typeStr(bt));
  return success();
}

LogicalResult FusedMatmulOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                              Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  if (failed(inferMatmul(loc, adaptor, inferred)))
    return failure();
  auto rt = llvm::cast<RankedTensorType>(inferred.back());
  return checkEpilogue(loc, "fused_matmul", adaptor.getBias(), rt, rt.getRank() - 1,
                       adaptor.getActivation());
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  auto t = tensorOf(adaptor.getX());
  ArrayRef<int64_t> perm = adaptor.getPerm();
  llvm::SmallSet<int64_t, 8> seen;
  bool ok = int64_t(perm.size()) == t.getRank();
  for (int64_t p : perm)
    ok = ok && p >= 0 && p < t.getRank() && seen.insert(p).second;
  if (!ok)
    return fail(loc, "transpose", "perm ", shapeStr(perm), " is not a permutation of the ",
                t.getRank(), " dimensions of ", shapeStr(t.getShape()));
  Shape out;
  for (int64_t p : perm)
    out.push_back(t.getDimSize(p));
  inferred.push_back(RankedTensorType::get(out, t.getElementType()));
  return success();
}

LogicalResult ReshapeOp::verify() {
  auto in = tensorOf(getX()), out = tensorOf(getResult());
  if (in.getElementType() != out.getElementType())
    return emitOpError() << "element type changes from " << in.getElementType() << " to "
                         << out.getElementType() << " (use tg.cast)";
  if (in.getNumElements() != out.getNumElements())
    return emitOpError() << "cannot reshape " << shapeStr(in.getShape()) << " ("
                         << in.getNumElements() << " elements) to " << shapeStr(out.getShape())
                         << " (" << out.getNumElements() << " elements)";
  return success();
}

LogicalResult BroadcastToOp::verify() {
  auto in = tensorOf(getX()), out = tensorOf(getResult());
  if (in.getElementType() != out.getElementType())
    return emitOpError() << "element type changes from " << in.getElementType() << " to "
                         << out.getElementType();
  if (!broadcastsTo(in.getShape(), out.getShape()))
    return emitOpError() << "cannot broadcast " << shapeStr(in.getShape()) << " to "
                         << shapeStr(out.getShape());
  return success();
}

LogicalResult ReduceOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  auto t = tensorOf(adaptor.getX());
  StringRef kind = adaptor.getKind();
  if (!llvm::is_contained({"sum", "mean", "max", "min"}, kind))
    return fail(loc, "reduce", "kind must be one of sum, mean, max, min, got \"", kind, "\"");
  ArrayRef<int64_t> axes = adaptor.getAxes();
  llvm::SmallVector<bool, 8> reduced(t.getRank(), axes.empty());
  for (int64_t a : axes) {
    if (a < 0 || a >= t.getRank())
      return fail(loc, "reduce", "axis ", a, " is out of range for shape ", shapeStr(t.getShape()));
    if (reduced[a])
      return fail(loc, "reduce", "axis ", a, " is listed twice in axes ", shapeStr(axes));
    reduced[a] = true;
  }
  Shape out;
  for (int64_t i = 0; i < t.getRank(); ++i) {
    if (reduced[i] && t.getDimSize(i) == 0 && (kind == "max" || kind == "min"))
      return fail(loc, "reduce", kind, " over the empty axis ", i, " of shape ",
                  shapeStr(t.getShape()), " has no identity");
    if (!reduced[i])
      out.push_back(t.getDimSize(i));
    else if (adaptor.getKeepdims())
      out.push_back(1);
  }
  inferred.push_back(RankedTensorType::get(out, t.getElementType()));
  return success();
}

LogicalResult ArgmaxOp::verify() {
  auto in = tensorOf(getX()), out = tensorOf(getResult());
  if (failed(checkAxis(getLoc(), "argmax", getAxis(), in.getRank())))
    return failure();
  if (in.getDimSize(getAxis()) == 0)
    return emitOpError() << "cannot take argmax along the empty axis " << getAxis() << " of "
                         << shapeStr(in.getShape());
  Shape expected(in.getShape());
  expected.erase(expected.begin() + getAxis());
  if (ArrayRef<int64_t>(expected) != out.getShape())
    return emitOpError() << "result shape " << shapeStr(out.getShape()) << " should be "
                         << shapeStr(expected);
  return success();
}

template <typename SoftmaxLike>
static LogicalResult verifySoftmaxLike(SoftmaxLike op, StringRef name) {
  return checkAxis(op.getLoc(), name, op.getAxis(), tensorOf(op.getX()).getRank());
}
LogicalResult SoftmaxOp::verify() { return verifySoftmaxLike(*this, "softmax"); }
LogicalResult LogSoftmaxOp::verify() { return verifySoftmaxLike(*this, "log_softmax"); }

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

template <typename ConvLike> static Conv2DGeometry geometryOf(ConvLike op) {
  return {op.getStrides(), op.getPadding(), op.getDilations(), int64_t(op.getGroups())};
}

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  auto in = tensorOf(adaptor.getInput()), w = tensorOf(adaptor.getFilter());
  if (in.getElementType() != w.getElementType())
    return fail(loc, "conv2d",
                "input and filter element types differ: ", typeStr(in.getElementType()), " vs ",
                typeStr(w.getElementType()));
  std::string error;
  auto out = conv2dOutputShape(in.getShape(), w.getShape(), geometryOf(adaptor), error);
  if (!out)
    return fail(loc, "conv2d", error);
  inferred.push_back(RankedTensorType::get(*out, in.getElementType()));
  return success();
}

LogicalResult FusedConv2DOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                              Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  auto in = tensorOf(adaptor.getInput()), w = tensorOf(adaptor.getFilter());
  if (in.getElementType() != w.getElementType())
    return fail(loc, "fused_conv2d",
                "input and filter element types differ: ", typeStr(in.getElementType()), " vs ",
                typeStr(w.getElementType()));
  std::string error;
  auto out = conv2dOutputShape(in.getShape(), w.getShape(), geometryOf(adaptor), error);
  if (!out)
    return fail(loc, "fused_conv2d", error);
  auto rt = RankedTensorType::get(*out, in.getElementType());
  inferred.push_back(rt);
  return checkEpilogue(loc, "fused_conv2d", adaptor.getBias(), rt, 1, adaptor.getActivation());
}

/// Checks that conv2d(input, filter) with `op`'s attributes yields `gradOutput`.
template <typename ConvGrad>
static LogicalResult verifyConvGrad(ConvGrad op, RankedTensorType input, RankedTensorType filter,
                                    RankedTensorType gradOutput) {
  if (input.getElementType() != filter.getElementType() ||
      input.getElementType() != gradOutput.getElementType())
    return op.emitOpError() << "operand and result element types must match";
  std::string error;
  auto out = conv2dOutputShape(input.getShape(), filter.getShape(), geometryOf(op), error);
  if (!out)
    return op.emitOpError() << error;
  if (ArrayRef<int64_t>(*out) != gradOutput.getShape())
    return op.emitOpError() << "grad_output shape " << shapeStr(gradOutput.getShape())
                            << " does not match the conv2d output " << shapeStr(*out)
                            << " of input " << shapeStr(input.getShape()) << " and filter "
                            << shapeStr(filter.getShape());
  return success();
}

LogicalResult Conv2DBackpropInputOp::verify() {
  return verifyConvGrad(*this, tensorOf(getResult()), tensorOf(getFilter()),
                        tensorOf(getGradOutput()));
}

LogicalResult Conv2DBackpropFilterOp::verify() {
  return verifyConvGrad(*this, tensorOf(getInput()), tensorOf(getResult()),
                        tensorOf(getGradOutput()));
}

LogicalResult Conv2DBackpropFilterBiasOp::verify() {
  if (failed(verifyConvGrad(*this, tensorOf(getInput()), tensorOf(getFilterGrad()),
                            tensorOf(getGradOutput()))))
    return failure();
  auto bias = tensorOf(getBiasGrad()), dy = tensorOf(getGradOutput());
  if (bias.getElementType() != dy.getElementType() || bias.getRank() != 1 ||
      bias.getDimSize(0) != dy.getDimSize(1))
    return emitOpError() << "bias_grad must be " << dy.getElementType() << " ["
                         << dy.getDimSize(1) << "] (grad_output's channels), got "
                         << shapeStr(bias.getShape());
  return success();
}

template <typename Adaptor>
static LogicalResult inferPool(std::optional<Location> loc, StringRef name, Adaptor adaptor,
                               SmallVectorImpl<Type> &inferred) {
  auto in = tensorOf(adaptor.getInput());
  std::string error;
  auto out = pool2dOutputShape(in.getShape(), adaptor.getKernel(), adaptor.getStrides(),
                               adaptor.getPadding(), error);
  if (!out)
    return fail(loc, name, error);
  inferred.push_back(RankedTensorType::get(*out, in.getElementType()));
  return success();
}

LogicalResult MaxPool2DOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  return inferPool(loc, "max_pool2d", adaptor, inferred);
}

LogicalResult AvgPool2DOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  return inferPool(loc, "avg_pool2d", adaptor, inferred);
}

template <typename PoolGrad>
static LogicalResult verifyPoolGrad(PoolGrad op, RankedTensorType input,
                                    RankedTensorType gradOutput) {
  if (input.getElementType() != gradOutput.getElementType())
    return op.emitOpError() << "operand and result element types must match";
  std::string error;
  auto out =
      pool2dOutputShape(input.getShape(), op.getKernel(), op.getStrides(), op.getPadding(), error);
  if (!out)
    return op.emitOpError() << error;
  if (ArrayRef<int64_t>(*out) != gradOutput.getShape())
    return op.emitOpError() << "grad_output shape " << shapeStr(gradOutput.getShape())
                            << " does not match the pooled shape " << shapeStr(*out) << " of input "
                            << shapeStr(input.getShape());
  return success();
}

LogicalResult MaxPool2DGradOp::verify() {
  if (getInput().getType() != getResult().getType())
    return emitOpError() << "result type " << getResult().getType() << " must equal the input type "
                         << getInput().getType();
  return verifyPoolGrad(*this, tensorOf(getInput()), tensorOf(getGradOutput()));
}

LogicalResult AvgPool2DGradOp::verify() {
  return verifyPoolGrad(*this, tensorOf(getResult()), tensorOf(getGradOutput()));
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  ValueRange inputs = adaptor.getInputs();
  if (inputs.empty())
    return fail(loc, "concat", "needs at least one input");
  auto first = tensorOf(inputs[0]);
  int64_t axis = adaptor.getAxis();
  if (failed(checkAxis(loc, "concat", axis, first.getRank())))
    return failure();
  Shape out(first.getShape());
  for (auto [i, v] : llvm::enumerate(inputs.drop_front())) {
    auto t = tensorOf(v);
    if (t.getElementType() != first.getElementType())
      return fail(loc, "concat", "input #", i + 1, " has element type ",
                  typeStr(t.getElementType()), ", input #0 has ", typeStr(first.getElementType()));
    bool ok = t.getRank() == first.getRank();
    for (int64_t d = 0; ok && d < t.getRank(); ++d)
      ok = d == axis || t.getDimSize(d) == first.getDimSize(d);
    if (!ok)
      return fail(loc, "concat", "input #", i + 1, " of shape ", shapeStr(t.getShape()),
                  " does not match input #0 of shape ", shapeStr(first.getShape()),
                  " outside axis ", axis);
    out[axis] += t.getDimSize(axis);
  }
  inferred.push_back(RankedTensorType::get(out, first.getElementType()));
  return success();
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  auto t = tensorOf(adaptor.getX());
  ArrayRef<int64_t> start = adaptor.getStart(), limit = adaptor.getLimit(),
                    strides = adaptor.getStrides();
  size_t rank = t.getRank();
  if (start.size() != rank || limit.size() != rank || strides.size() != rank)
    return fail(loc, "slice", "start, limit and strides need ", rank, " entries for shape ",
                shapeStr(t.getShape()));
  Shape out;
  for (size_t i = 0; i < rank; ++i) {
    if (start[i] < 0 || start[i] > limit[i] || limit[i] > t.getDimSize(i) || strides[i] < 1)
      return fail(loc, "slice", "dimension ", i, ": [", start[i], ":", limit[i], ":", strides[i],
                  "] is not a valid slice of size ", t.getDimSize(i));
    out.push_back((limit[i] - start[i] + strides[i] - 1) / strides[i]);
  }
  inferred.push_back(RankedTensorType::get(out, t.getElementType()));
  return success();
}

LogicalResult PadOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                      SmallVectorImpl<Type> &inferred) {
  auto t = tensorOf(adaptor.getX());
  ArrayRef<int64_t> low = adaptor.getLow(), high = adaptor.getHigh();
  if (int64_t(low.size()) != t.getRank() || int64_t(high.size()) != t.getRank())
    return fail(loc, "pad", "low and high need ", t.getRank(), " entries for shape ",
                shapeStr(t.getShape()));
  Shape out;
  for (int64_t i = 0; i < t.getRank(); ++i) {
    if (low[i] < 0 || high[i] < 0)
      return fail(loc, "pad", "padding must be non-negative, got low ", shapeStr(low), " high ",
                  shapeStr(high));
    out.push_back(t.getDimSize(i) + low[i] + high[i]);
  }
  inferred.push_back(RankedTensorType::get(out, t.getElementType()));
  return success();
}

/// params.shape[:axis] + indices.shape + params.shape[axis+1:]
static FailureOr<Shape> gatherShape(std::optional<Location> loc, StringRef name,
                                    RankedTensorType params, RankedTensorType indices,
                                    int64_t axis) {
  if (failed(checkAxis(loc, name, axis, params.getRank())))
    return failure();
  Shape out(params.getShape().take_front(axis));
  out.append(indices.getShape().begin(), indices.getShape().end());
  out.append(params.getShape().begin() + axis + 1, params.getShape().end());
  return out;
}

LogicalResult GatherOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  auto p = tensorOf(adaptor.getParams());
  auto out = gatherShape(loc, "gather", p, tensorOf(adaptor.getIndices()), adaptor.getAxis());
  if (failed(out))
    return failure();
  inferred.push_back(RankedTensorType::get(*out, p.getElementType()));
  return success();
}

LogicalResult ScatterAddOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                             Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  auto base = tensorOf(adaptor.getBase()), upd = tensorOf(adaptor.getUpdates());
  auto expected =
      gatherShape(loc, "scatter_add", base, tensorOf(adaptor.getIndices()), adaptor.getAxis());
  if (failed(expected))
    return failure();
  if (base.getElementType() != upd.getElementType())
    return fail(loc, "scatter_add", "updates element type ", typeStr(upd.getElementType()),
                " differs from base ", typeStr(base.getElementType()));
  if (ArrayRef<int64_t>(*expected) != upd.getShape())
    return fail(loc, "scatter_add", "updates shape ", shapeStr(upd.getShape()), " should be ",
                shapeStr(*expected), " for base ", shapeStr(base.getShape()), " and indices ",
                shapeStr(tensorOf(adaptor.getIndices()).getShape()));
  inferred.push_back(base);
  return success();
}

LogicalResult OneHotOp::verify() {
  auto idx = tensorOf(getIndices()), out = tensorOf(getResult());
  if (out.getRank() != idx.getRank() + 1 || out.getShape().drop_back() != idx.getShape())
    return emitOpError() << "result shape " << shapeStr(out.getShape())
                         << " must be the indices shape " << shapeStr(idx.getShape())
                         << " plus a depth dimension";
  return success();
}

LogicalResult IotaOp::verify() {
  int64_t rank = tensorOf(getResult()).getRank(), d = getDimension();
  if (d < 0 || d >= rank)
    return emitOpError() << "dimension " << d << " is out of range for a result of rank " << rank;
  return success();
}

LogicalResult CastOp::verify() {
  auto in = tensorOf(getX()), out = tensorOf(getResult());
  if (in.getShape() != out.getShape())
    return emitOpError() << "changes the shape from " << shapeStr(in.getShape()) << " to "
                         << shapeStr(out.getShape()) << " (cast keeps the shape)";
  return success();
}

LogicalResult RelayoutOp::verify() {
  auto t = tensorOf(getX());
  if (getBlock() != 8 && getBlock() != 16)
    return emitOpError() << "block must be 8 or 16 (nChw8c, nChw16c), got " << getBlock();
  if (t.getRank() != 4 || t.getDimSize(1) % getBlock() != 0)
    return emitOpError() << "needs an NCHW tensor whose channels are a multiple of the block "
                         << getBlock() << ", got " << shapeStr(t.getShape());
  return success();
}

//===----------------------------------------------------------------------===//
// Random
//===----------------------------------------------------------------------===//

LogicalResult RandomUniformOp::verify() {
  if (!(getLow().convertToDouble() < getHigh().convertToDouble()))
    return emitOpError() << "needs low < high, got [" << getLow().convertToDouble() << ", "
                         << getHigh().convertToDouble() << ")";
  return success();
}

LogicalResult RandomNormalOp::verify() {
  if (!(getStddev().convertToDouble() >= 0)) // NaN fails too
    return emitOpError() << "needs stddev >= 0, got " << getStddev().convertToDouble();
  return success();
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxCrossEntropyOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                      Adaptor adaptor,
                                                      SmallVectorImpl<Type> &inferred) {
  auto logits = tensorOf(adaptor.getLogits()), labels = tensorOf(adaptor.getLabels());
  if (!isReduction(adaptor.getReduction()))
    return fail(loc, "softmax_cross_entropy", "reduction must be mean, sum or none, got \"",
                adaptor.getReduction(), "\"");
  if (logits.getRank() < 1 || logits.getShape().drop_back() != labels.getShape())
    return fail(loc, "softmax_cross_entropy", "labels shape ", shapeStr(labels.getShape()),
                " must be the logits shape ", shapeStr(logits.getShape()),
                " without its class dimension");
  if (logits.getShape().back() == 0)
    return fail(loc, "softmax_cross_entropy", "needs at least one class, got logits ",
                shapeStr(logits.getShape()));
  ArrayRef<int64_t> out;
  if (adaptor.getReduction() == "none")
    out = labels.getShape();
  inferred.push_back(RankedTensorType::get(out, logits.getElementType()));
  return success();
}

LogicalResult MeanSquaredErrorOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                   Adaptor adaptor,
                                                   SmallVectorImpl<Type> &inferred) {
  auto p = tensorOf(adaptor.getPredictions()), t = tensorOf(adaptor.getTargets());
  if (!isReduction(adaptor.getReduction()))
    return fail(loc, "mean_squared_error", "reduction must be mean, sum or none, got \"",
                adaptor.getReduction(), "\"");
  if (p != t)
    return fail(loc, "mean_squared_error", "predictions ", typeStr(p), " and targets ", typeStr(t),
                " must have the same type");
  ArrayRef<int64_t> out;
  if (adaptor.getReduction() == "none")
    out = p.getShape();
  inferred.push_back(RankedTensorType::get(out, p.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Collectives
//===----------------------------------------------------------------------===//

/// The sharded ops: `full` is a whole multiple of `shard`, both static.
static LogicalResult verifyShards(Operation *op, RankedTensorType full, RankedTensorType shard) {
  if (!full.hasStaticShape() || !shard.hasStaticShape())
    return op->emitOpError() << "needs static sizes, got " << full << " and " << shard;
  if (shard.getNumElements() == 0 || full.getNumElements() % shard.getNumElements() != 0)
    return op->emitOpError() << "the full size " << full.getNumElements()
                             << " must be a whole multiple (the world size) of the shard size "
                             << shard.getNumElements();
  return success();
}

LogicalResult ReduceScatterOp::verify() {
  if (getReduction() != "mean" && getReduction() != "sum" && getReduction() != "gradient_mean")
    return emitOpError() << "reduction must be \"mean\", \"gradient_mean\" or \"sum\", got \""
                         << getReduction() << "\"";
  return verifyShards(*this, getInput().getType(), getResult().getType());
}

LogicalResult AllgatherOp::verify() {
  return verifyShards(*this, getResult().getType(), getInput().getType());
}

LogicalResult LocalShardOp::verify() {
  return verifyShards(*this, getInput().getType(), getResult().getType());
}

LogicalResult AllreduceStartOp::verify() {
  if (getReduction() != "mean" && getReduction() != "sum" && getReduction() != "gradient_mean")
    return emitOpError() << "reduction must be \"mean\", \"gradient_mean\" or \"sum\", got \""
                         << getReduction() << "\"";
  if (getId() < 0)
    return emitOpError() << "bucket id must be >= 0, got " << getId();
  if (!getBucket().getType().hasStaticShape())
    return emitOpError() << "bucket must have a static size, got " << getBucket().getType();
  int uses = 0;
  for (Operation *user : getToken().getUsers()) {
    if (!llvm::isa<AllreduceWaitOp>(user))
      return emitOpError() << "token may only be used by tg.allreduce_wait, not by '"
                           << user->getName() << "'";
    ++uses;
  }
  if (uses > 1)
    return emitOpError() << "token is waited for " << uses << " times (exactly once expected)";
  return success();
}

LogicalResult AllreduceWaitOp::verify() {
  AllreduceStartOp start = getStart();
  if (!start)
    return emitOpError() << "token must come from tg.allreduce_start";
  if (start.getId() != getId())
    return emitOpError() << "id " << getId() << " differs from its tg.allreduce_start's id "
                         << start.getId();
  if (start.getBucket() != getBucket())
    return emitOpError() << "bucket must be the operand of its tg.allreduce_start (id "
                         << start.getId() << ")";
  if (start->getBlock() != (*this)->getBlock() || !start->isBeforeInBlock(*this))
    return emitOpError() << "must follow its tg.allreduce_start (id " << start.getId()
                         << ") in the same block";
  return success();
}

/// The checks shared by tg.send_start and tg.recv_start: a peer stage, a tag,
/// a static size, and a token waited for exactly once, by `WaitT`.
template <typename WaitT>
LogicalResult verifyTransferStart(Operation *op, int64_t peer, int64_t tag, ShapedType type,
                                  Value token) {
  auto err = [&] { return op->emitOpError(); };
  if (peer == 0)
    return err() << "peer must name another stage (a non-zero offset), got 0";
  if (tag < 0)
    return err() << "tag must be >= 0, got " << tag;
  if (!type.hasStaticShape())
    return err() << "must transfer a static size, got " << type;
  int uses = 0;
  for (Operation *user : token.getUsers()) {
    if (!llvm::isa<WaitT>(user))
      return err() << "token may only be used by " << WaitT::getOperationName() << ", not by '"
                   << user->getName() << "'";
    ++uses;
  }
  if (uses != 1)
    return err() << "token is waited for " << uses << " times (exactly once expected)";
  return success();
}

/// The checks shared by the waits: the token's start, its tag and operand,
/// and their order in one block.
template <typename StartT>
LogicalResult verifyTransferWait(Operation *op, StartT start, int64_t tag, Value operand,
                                 Value startOperand, StringRef what) {
  if (!start)
    return op->emitOpError() << "token must come from " << StartT::getOperationName();
  if (int64_t(start.getTag()) != tag)
    return op->emitOpError() << "tag " << tag << " differs from its "
                             << StartT::getOperationName() << "'s tag " << start.getTag();
  if (startOperand != operand)
    return op->emitOpError() << what << " must be the " << what << " of its "
                             << StartT::getOperationName() << " (tag " << start.getTag() << ")";
  if (start->getBlock() != op->getBlock() || !start->isBeforeInBlock(op))
    return op->emitOpError() << "must follow its " << StartT::getOperationName() << " (tag "
                             << start.getTag() << ") in the same block";
  return success();
}

LogicalResult SendStartOp::verify() {
  return verifyTransferStart<SendWaitOp>(*this, int64_t(getPeer()), int64_t(getTag()), getValue().getType(),
                                         getToken());
}

LogicalResult SendWaitOp::verify() {
  SendStartOp start = getStart();
  return verifyTransferWait(*this, start, int64_t(getTag()), getValue(),
                            start ? start.getValue() : Value(), "value");
}

LogicalResult RecvStartOp::verify() {
  if (failed(verifyTransferStart<RecvWaitOp>(*this, int64_t(getPeer()), int64_t(getTag()), getBuffer().getType(),
                                             getToken())))
    return failure();
  for (Operation *user : getBuffer().getUsers())
    if (!llvm::isa<RecvWaitOp>(user))
      return emitOpError() << "buffer may only be used by tg.recv_wait (it is filled there), "
                              "not by '"
                           << user->getName() << "'";
  return success();
}

LogicalResult RecvWaitOp::verify() {
  RecvStartOp start = getStart();
  return verifyTransferWait(*this, start, int64_t(getTag()), getBuffer(),
                            start ? start.getBuffer() : Value(), "buffer");
}

//===----------------------------------------------------------------------===//
// Tensor sizes
//===----------------------------------------------------------------------===//

LogicalResult verifyTensorSizes(Operation *op) {
  auto check = [&](Type type, StringRef what, unsigned index) -> LogicalResult {
    auto t = llvm::dyn_cast<RankedTensorType>(type);
    if (!t || !t.hasStaticShape())
      return success();
    unsigned bits = t.getElementType().isIntOrFloat() ? t.getElementTypeBitWidth() : 8;
    int64_t bytes = std::max<int64_t>(1, bits / 8);
    for (int64_t d : t.getShape())
      if (d != 0 && llvm::MulOverflow(bytes, d, bytes))
        return op->emitOpError() << what << " #" << index << " " << type
                                 << " has more elements than a 64-bit count holds";
    if (bytes > kMaxTensorBytes)
      return op->emitOpError() << what << " #" << index << " " << type << " needs " << bytes
                               << " bytes, over the limit of " << kMaxTensorBytes
                               << " bytes (1 TiB) per tensor";
    return success();
  };
  for (auto [i, v] : llvm::enumerate(op->getOperands()))
    if (failed(check(v.getType(), "operand", unsigned(i))))
      return failure();
  for (auto [i, v] : llvm::enumerate(op->getResults()))
    if (failed(check(v.getType(), "result", unsigned(i))))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Scan
//===----------------------------------------------------------------------===//

RankedTensorType ScanOp::stepType(Type sequence) {
  auto t = llvm::cast<RankedTensorType>(sequence);
  return RankedTensorType::get(t.getShape().drop_front(), t.getElementType());
}

RankedTensorType ScanOp::stackedType(Type step, int64_t length) {
  auto t = llvm::cast<RankedTensorType>(step);
  SmallVector<int64_t> shape = {length};
  shape.append(t.getShape().begin(), t.getShape().end());
  return RankedTensorType::get(shape, t.getElementType());
}

int64_t ScanOp::getLength() {
  for (Value s : getSequences())
    return llvm::cast<RankedTensorType>(s.getType()).getDimSize(0);
  return 1;
}

LogicalResult ScanOp::verify() {
  int64_t length = -1;
  for (auto [i, s] : llvm::enumerate(getSequences())) {
    auto t = llvm::cast<RankedTensorType>(s.getType());
    if (t.getRank() == 0)
      return emitOpError() << "sequence #" << i << " is a scalar " << t
                           << "; sequences need a leading step axis";
    if (length >= 0 && t.getDimSize(0) != length)
      return emitOpError() << "sequence #" << i << " has " << t.getDimSize(0)
                           << " steps, sequence #0 has " << length;
    length = t.getDimSize(0);
  }
  if (getNumResults() < getInits().size())
    return emitOpError() << "has " << getNumResults() << " results for " << getInits().size()
                         << " carried values (the carried results come first)";
  for (auto [i, pair] : llvm::enumerate(llvm::zip(getInits(), getFinals())))
    if (std::get<0>(pair).getType() != std::get<1>(pair).getType())
      return emitOpError() << "carried value #" << i << " is " << std::get<0>(pair).getType()
                           << " but its result is " << std::get<1>(pair).getType();
  return success();
}

LogicalResult ScanOp::verifyRegions() {
  Block &body = getBody().front();
  size_t nSeq = getSequences().size(), nCarry = getInits().size();
  if (body.getNumArguments() != nSeq + nCarry)
    return emitOpError() << "body takes " << body.getNumArguments() << " arguments; expected "
                         << nSeq << " sequence steps and " << nCarry << " carried values";
  for (size_t i = 0; i < nSeq; ++i) {
    auto step = stepType(getSequences()[i].getType());
    if (body.getArgument(unsigned(i)).getType() != step)
      return emitOpError() << "body argument #" << i << " is "
                           << body.getArgument(unsigned(i)).getType() << "; step t of sequence #"
                           << i << " is " << step;
  }
  for (size_t i = 0; i < nCarry; ++i)
    if (body.getArgument(unsigned(nSeq + i)).getType() != getInits()[i].getType())
      return emitOpError() << "body argument #" << nSeq + i << " is "
                           << body.getArgument(unsigned(nSeq + i)).getType() << "; carried value #"
                           << i << " is " << getInits()[i].getType();
  auto yield = llvm::cast<YieldOp>(body.getTerminator());
  size_t nOut = getStacked().size();
  if (yield.getValues().size() != nCarry + nOut)
    return yield.emitOpError() << "yields " << yield.getValues().size() << " values; expected "
                               << nCarry << " carried values and " << nOut << " step outputs";
  for (size_t i = 0; i < nCarry; ++i)
    if (yield.getValues()[i].getType() != getInits()[i].getType())
      return yield.emitOpError() << "carried value #" << i << " is yielded as "
                                 << yield.getValues()[i].getType() << ", carried as "
                                 << getInits()[i].getType();
  int64_t length = getLength();
  for (size_t i = 0; i < nOut; ++i) {
    Type t = yield.getValues()[nCarry + i].getType();
    auto want = stackedType(t, length);
    if (getStacked()[i].getType() != want)
      return emitOpError() << "stacked result #" << i << " is " << getStacked()[i].getType() << "; "
                           << length << " steps of " << t << " stack to " << want;
  }
  return success();
}

} // namespace tg

#define GET_OP_CLASSES
#include "ir/TgOps.cpp.inc"
