//===- Ops.cpp - tg::ops: one builder function per tg op ------------------===//
//
// Each function only packs operands and attributes; shape rules and error
// messages come from the dialect (inferReturnTypes / verify) through
// GraphImpl::create, so the frontend can never disagree with the verifier.
//
//===----------------------------------------------------------------------===//
#include "tg/Ops.h"
#include "frontend/GraphImpl.h"
#include "ir/Dialect.h"

#include "absl/strings/str_cat.h"

#include <cmath>

#include "mlir/IR/Verifier.h"

using namespace mlir;

namespace tg {
namespace ops {
namespace {

detail::GraphImpl *implOf(const Value &v) { return v.valid() ? &v.graph()->impl() : nullptr; }

NamedAttribute attr(detail::GraphImpl &g, StringRef name, Attribute value) {
  return NamedAttribute(StringAttr::get(g.ctx.get(), name), value);
}
Attribute i64s(detail::GraphImpl &g, ArrayRef<int64_t> v) {
  return DenseI64ArrayAttr::get(g.ctx.get(), v);
}
Attribute i64(detail::GraphImpl &g, int64_t v) {
  return IntegerAttr::get(IntegerType::get(g.ctx.get(), 64), v);
}
Attribute f64(detail::GraphImpl &g, double v) {
  return FloatAttr::get(Float64Type::get(g.ctx.get()), v);
}
Attribute str(detail::GraphImpl &g, StringRef v) { return StringAttr::get(g.ctx.get(), v); }
Attribute boolean(detail::GraphImpl &g, bool v) { return BoolAttr::get(g.ctx.get(), v); }

/// Negative axes count from the end; out-of-range ones are left for the
/// verifier to report as given.
int64_t normAxis(int64_t axis, int64_t rank) {
  return axis < 0 && axis >= -rank ? axis + rank : axis;
}
std::vector<int64_t> normAxes(std::vector<int64_t> axes, int64_t rank) {
  for (int64_t &a : axes)
    a = normAxis(a, rank);
  return axes;
}

template <typename OpTy> Value unaryOp(Value x, ArrayRef<NamedAttribute> attrs = {}) {
  auto *g = implOf(x);
  if (!g)
    return {};
  return g->createTyped<OpTy>({x}, g->unwrap(x).getType(), attrs);
}

template <typename OpTy>
Value inferred(std::initializer_list<Value> inputs, ArrayRef<NamedAttribute> attrs = {}) {
  for (const Value &v : inputs)
    if (!v.valid())
      return {};
  return inputs.begin()->graph()->impl().createInferred<OpTy>(inputs, attrs);
}

template <typename OpTy>
Value reduceOp(Value x, StringRef kind, std::vector<int64_t> axes, bool keepdims) {
  auto *g = implOf(x);
  if (!g)
    return {};
  return g->createInferred<OpTy>({x}, {attr(*g, "kind", str(*g, kind)),
                                       attr(*g, "axes", i64s(*g, normAxes(axes, x.rank()))),
                                       attr(*g, "keepdims", boolean(*g, keepdims))});
}

SmallVector<NamedAttribute> convAttrs(detail::GraphImpl &g, const Conv2DOptions &o) {
  return {attr(g, "strides", i64s(g, o.strides)), attr(g, "padding", i64s(g, o.padding)),
          attr(g, "dilations", i64s(g, o.dilations)), attr(g, "groups", i64(g, o.groups))};
}

SmallVector<NamedAttribute> poolAttrs(detail::GraphImpl &g, const Pool2DOptions &o, bool avg) {
  SmallVector<NamedAttribute> a{attr(g, "kernel", i64s(g, o.kernel)),
                                attr(g, "strides", i64s(g, o.strides)),
                                attr(g, "padding", i64s(g, o.padding))};
  if (avg)
    a.push_back(attr(g, "count_include_pad", boolean(g, o.countIncludePad)));
  return a;
}

} // namespace

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

Value constant(Graph &graph, const Tensor &value) {
  auto &g = graph.impl();
  if (int64_t(value.data.size()) != tg::numElements(value.shape)) {
    g.fail(absl::InvalidArgumentError(absl::StrCat(
        "tg.constant: ", value.data.size(), " values for shape ", shapeToString(value.shape))));
    return {};
  }
  auto type = g.tensorType(value.shape, value.dtype);
  DenseElementsAttr dense;
  if (isFloat(value.dtype)) {
    SmallVector<APFloat> vals;
    auto &sem = llvm::cast<FloatType>(type.getElementType()).getFloatSemantics();
    for (double d : value.data) {
      APFloat f(d);
      bool lost;
      f.convert(sem, APFloat::rmNearestTiesToEven, &lost);
      vals.push_back(f);
    }
    dense = DenseElementsAttr::get(type, vals);
  } else {
    unsigned width = type.getElementType().getIntOrFloatBitWidth();
    SmallVector<APInt> vals;
    for (double d : value.data)
      vals.push_back(APInt(width, uint64_t(int64_t(d)), /*isSigned=*/true));
    dense = DenseElementsAttr::get(type, vals);
  }
  return g.createTyped<ConstantOp>({}, type, {attr(g, "value", dense)});
}

Value scalar(Graph &g, double value, DType dtype) {
  return constant(g, Tensor::scalar(value, dtype));
}

Value fill(Graph &g, std::vector<int64_t> shape, double value, DType dtype) {
  for (int64_t d : shape)
    if (d < 0) {
      g.impl().fail(absl::InvalidArgumentError(
          absl::StrCat("tg.constant: negative dimension in shape ", shapeToString(shape))));
      return {};
    }
  return constant(g, Tensor::full(dtype, std::move(shape), value));
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

Value neg(Value x) { return unaryOp<NegOp>(x); }
Value abs(Value x) { return unaryOp<AbsOp>(x); }
Value sign(Value x) { return unaryOp<SignOp>(x); }
Value exp(Value x) { return unaryOp<ExpOp>(x); }
Value log(Value x) { return unaryOp<LogOp>(x); }
Value sqrt(Value x) { return unaryOp<SqrtOp>(x); }
Value rsqrt(Value x) { return unaryOp<RsqrtOp>(x); }
Value tanh(Value x) { return unaryOp<TanhOp>(x); }
Value sigmoid(Value x) { return unaryOp<SigmoidOp>(x); }
Value relu(Value x) { return unaryOp<ReluOp>(x); }
Value erf(Value x) { return unaryOp<ErfOp>(x); }
Value sin(Value x) { return unaryOp<SinOp>(x); }
Value cos(Value x) { return unaryOp<CosOp>(x); }
Value floor(Value x) { return unaryOp<FloorOp>(x); }
Value gelu(Value x, bool approximate) {
  auto *g = implOf(x);
  if (!g)
    return {};
  return unaryOp<GeluOp>(x, {attr(*g, "approximate", boolean(*g, approximate))});
}

Value add(Value a, Value b) { return inferred<AddOp>({a, b}); }
Value sub(Value a, Value b) { return inferred<SubOp>({a, b}); }
Value mul(Value a, Value b) { return inferred<MulOp>({a, b}); }
Value div(Value a, Value b) { return inferred<DivOp>({a, b}); }
Value pow(Value a, Value b) { return inferred<PowOp>({a, b}); }
Value maximum(Value a, Value b) { return inferred<MaximumOp>({a, b}); }
Value minimum(Value a, Value b) { return inferred<MinimumOp>({a, b}); }

Value compare(Value a, Value b, const std::string &predicate) {
  auto *g = implOf(a);
  if (!g || !b.valid())
    return {};
  return inferred<CompareOp>({a, b}, {attr(*g, "predicate", str(*g, predicate))});
}

Value select(Value cond, Value onTrue, Value onFalse) {
  return inferred<SelectOp>({cond, onTrue, onFalse});
}

//===----------------------------------------------------------------------===//
// Linear algebra and layout
//===----------------------------------------------------------------------===//

Value matmul(Value a, Value b, bool transposeA, bool transposeB) {
  auto *g = implOf(a);
  if (!g || !b.valid())
    return {};
  return inferred<MatmulOp>({a, b}, {attr(*g, "transpose_lhs", boolean(*g, transposeA)),
                                     attr(*g, "transpose_rhs", boolean(*g, transposeB))});
}

Value attention(Value query, Value key, Value value, const AttentionOptions &options) {
  auto *g = implOf(query);
  if (!g || !key.valid() || !value.valid())
    return {};
  double scale = options.scale;
  if (std::isnan(scale))
    scale = query.rank() >= 1 ? 1.0 / std::sqrt(double(query.dim(query.rank() - 1))) : 1.0;
  SmallVector<NamedAttribute> attrs = {attr(*g, "causal", boolean(*g, options.causal)),
                                       attr(*g, "scale", f64(*g, scale))};
  if (options.mask.valid())
    return g->createInferred<AttentionOp>({query, key, value, options.mask}, attrs);
  return g->createInferred<AttentionOp>({query, key, value}, attrs);
}

Value transpose(Value x, std::vector<int64_t> perm) {
  auto *g = implOf(x);
  if (!g)
    return {};
  return inferred<TransposeOp>({x}, {attr(*g, "perm", i64s(*g, normAxes(perm, x.rank())))});
}

Value reshape(Value x, std::vector<int64_t> shape) {
  auto *g = implOf(x);
  if (!g)
    return {};
  int64_t known = 1, inferredAt = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1 && inferredAt < 0) {
      inferredAt = int64_t(i);
      continue;
    }
    if (shape[i] < 0) {
      g->fail(absl::InvalidArgumentError(
          absl::StrCat("tg.reshape: invalid target shape ", shapeToString(shape),
                       " (one -1 at most, other dimensions >= 0), from ", x.typeString())));
      return {};
    }
    known *= shape[i];
  }
  if (inferredAt >= 0) {
    int64_t total = tg::numElements(x.shape());
    if (known == 0 || total % known != 0) {
      g->fail(absl::InvalidArgumentError(absl::StrCat("tg.reshape: cannot reshape ", x.typeString(),
                                                      " (", total, " elements) to ",
                                                      shapeToString(shape))));
      return {};
    }
    shape[size_t(inferredAt)] = total / known;
  }
  return g->createTyped<ReshapeOp>({x}, g->tensorType(shape, x.dtype()));
}

Value broadcastTo(Value x, std::vector<int64_t> shape) {
  auto *g = implOf(x);
  if (!g)
    return {};
  return g->createTyped<BroadcastToOp>({x}, g->tensorType(shape, x.dtype()));
}

Value reduceSum(Value x, std::vector<int64_t> axes, bool keepdims) {
  return reduceOp<ReduceOp>(x, "sum", std::move(axes), keepdims);
}
Value reduceMean(Value x, std::vector<int64_t> axes, bool keepdims) {
  return reduceOp<ReduceOp>(x, "mean", std::move(axes), keepdims);
}
Value reduceMax(Value x, std::vector<int64_t> axes, bool keepdims) {
  return reduceOp<ReduceOp>(x, "max", std::move(axes), keepdims);
}
Value reduceMin(Value x, std::vector<int64_t> axes, bool keepdims) {
  return reduceOp<ReduceOp>(x, "min", std::move(axes), keepdims);
}

Value argmax(Value x, int64_t axis, DType dtype) {
  auto *g = implOf(x);
  if (!g)
    return {};
  axis = normAxis(axis, x.rank());
  std::vector<int64_t> shape = x.shape();
  if (axis >= 0 && axis < int64_t(shape.size()))
    shape.erase(shape.begin() + axis);
  return g->createTyped<ArgmaxOp>({x}, g->tensorType(shape, dtype),
                                  {attr(*g, "axis", i64(*g, axis))});
}

Value softmax(Value x, int64_t axis) {
  auto *g = implOf(x);
  if (!g)
    return {};
  return unaryOp<SoftmaxOp>(x, {attr(*g, "axis", i64(*g, normAxis(axis, x.rank())))});
}

Value logSoftmax(Value x, int64_t axis) {
  auto *g = implOf(x);
  if (!g)
    return {};
  return unaryOp<LogSoftmaxOp>(x, {attr(*g, "axis", i64(*g, normAxis(axis, x.rank())))});
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

Value conv2d(Value input, Value filter, const Conv2DOptions &options) {
  auto *g = implOf(input);
  if (!g || !filter.valid())
    return {};
  return inferred<Conv2DOp>({input, filter}, convAttrs(*g, options));
}

Value conv2dBackpropInput(Value gradOutput, Value filter, std::vector<int64_t> inputShape,
                          const Conv2DOptions &options) {
  auto *g = implOf(gradOutput);
  if (!g || !filter.valid())
    return {};
  return g->createTyped<Conv2DBackpropInputOp>(
      {gradOutput, filter}, g->tensorType(inputShape, gradOutput.dtype()), convAttrs(*g, options));
}

Value conv2dBackpropFilter(Value input, Value gradOutput, std::vector<int64_t> filterShape,
                           const Conv2DOptions &options) {
  auto *g = implOf(input);
  if (!g || !gradOutput.valid())
    return {};
  return g->createTyped<Conv2DBackpropFilterOp>(
      {input, gradOutput}, g->tensorType(filterShape, input.dtype()), convAttrs(*g, options));
}

Value maxPool2d(Value input, const Pool2DOptions &options) {
  auto *g = implOf(input);
  if (!g)
    return {};
  return inferred<MaxPool2DOp>({input}, poolAttrs(*g, options, false));
}

Value avgPool2d(Value input, const Pool2DOptions &options) {
  auto *g = implOf(input);
  if (!g)
    return {};
  return inferred<AvgPool2DOp>({input}, poolAttrs(*g, options, true));
}

Value maxPool2dGrad(Value input, Value gradOutput, const Pool2DOptions &options) {
  auto *g = implOf(input);
  if (!g || !gradOutput.valid())
    return {};
  return g->createTyped<MaxPool2DGradOp>({input, gradOutput}, g->unwrap(input).getType(),
                                         poolAttrs(*g, options, false));
}

Value avgPool2dGrad(Value gradOutput, std::vector<int64_t> inputShape,
                    const Pool2DOptions &options) {
  auto *g = implOf(gradOutput);
  if (!g)
    return {};
  return g->createTyped<AvgPool2DGradOp>(
      {gradOutput}, g->tensorType(inputShape, gradOutput.dtype()), poolAttrs(*g, options, true));
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

Value concat(const std::vector<Value> &inputs, int64_t axis) {
  if (inputs.empty())
    return {};
  for (const Value &v : inputs)
    if (!v.valid())
      return {};
  auto &g = *implOf(inputs[0]);
  return g.createInferred<ConcatOp>(inputs,
                                    {attr(g, "axis", i64(g, normAxis(axis, inputs[0].rank())))});
}

Value slice(Value x, std::vector<int64_t> start, std::vector<int64_t> limit,
            std::vector<int64_t> strides) {
  auto *g = implOf(x);
  if (!g)
    return {};
  if (strides.empty())
    strides.assign(start.size(), 1);
  return inferred<SliceOp>({x},
                           {attr(*g, "start", i64s(*g, start)), attr(*g, "limit", i64s(*g, limit)),
                            attr(*g, "strides", i64s(*g, strides))});
}

std::vector<Value> split(Value x, const std::vector<int64_t> &sizes, int64_t axis) {
  auto *g = implOf(x);
  if (!g)
    return {};
  int64_t rank = x.rank();
  if (axis < -rank || axis >= rank) {
    g->fail(absl::InvalidArgumentError(absl::StrCat("split: axis ", axis,
                                                    " is out of range for a value of shape ",
                                                    shapeToString(x.shape()))));
    return {};
  }
  int64_t a = normAxis(axis, rank), total = 0;
  for (int64_t n : sizes) {
    if (n < 0) {
      g->fail(absl::InvalidArgumentError(
          absl::StrCat("split: a negative size ", n, " in ", shapeToString(sizes))));
      return {};
    }
    total += n;
  }
  if (total != x.shape()[size_t(a)]) {
    g->fail(absl::InvalidArgumentError(absl::StrCat(
        "split: sizes ", shapeToString(sizes), " add up to ", total, ", not dimension ", a,
        " of shape ", shapeToString(x.shape()))));
    return {};
  }
  std::vector<Value> out;
  std::vector<int64_t> start(size_t(rank), 0), limit = x.shape();
  for (int64_t n : sizes) {
    limit[size_t(a)] = start[size_t(a)] + n;
    out.push_back(slice(x, start, limit));
    start[size_t(a)] = limit[size_t(a)];
  }
  return out;
}

std::vector<Value> split(Value x, int64_t parts, int64_t axis) {
  auto *g = implOf(x);
  if (!g)
    return {};
  int64_t rank = x.rank();
  int64_t dim = axis >= -rank && axis < rank ? x.shape()[size_t(normAxis(axis, rank))] : -1;
  if (parts < 1 || dim < 0 || dim % parts != 0) {
    g->fail(absl::InvalidArgumentError(absl::StrCat(
        "split: cannot cut axis ", axis, " of shape ", shapeToString(x.shape()), " into ", parts,
        " equal parts")));
    return {};
  }
  return split(x, std::vector<int64_t>(size_t(parts), dim / parts), axis);
}

Value pad(Value x, std::vector<int64_t> low, std::vector<int64_t> high, double value) {
  auto *g = implOf(x);
  if (!g)
    return {};
  return inferred<PadOp>({x}, {attr(*g, "low", i64s(*g, low)), attr(*g, "high", i64s(*g, high)),
                               attr(*g, "value", f64(*g, value))});
}

Value gather(Value params, Value indices, int64_t axis) {
  auto *g = implOf(params);
  if (!g || !indices.valid())
    return {};
  return inferred<GatherOp>({params, indices},
                            {attr(*g, "axis", i64(*g, normAxis(axis, params.rank())))});
}

Value scatterAdd(Value base, Value indices, Value updates, int64_t axis) {
  auto *g = implOf(base);
  if (!g || !indices.valid() || !updates.valid())
    return {};
  return inferred<ScatterAddOp>({base, indices, updates},
                                {attr(*g, "axis", i64(*g, normAxis(axis, base.rank())))});
}

Value oneHot(Value indices, int64_t depth, DType dtype, double on, double off) {
  auto *g = implOf(indices);
  if (!g)
    return {};
  if (depth < 0) {
    g->fail(
        absl::InvalidArgumentError(absl::StrCat("tg.one_hot: depth must be >= 0, got ", depth)));
    return {};
  }
  std::vector<int64_t> shape = indices.shape();
  shape.push_back(depth);
  return g->createTyped<OneHotOp>(
      {indices}, g->tensorType(shape, dtype),
      {attr(*g, "on_value", f64(*g, on)), attr(*g, "off_value", f64(*g, off))});
}

Value iota(Graph &g, std::vector<int64_t> shape, int64_t dimension, DType dtype) {
  auto &impl = g.impl();
  for (int64_t d : shape)
    if (d < 0) {
      impl.fail(absl::InvalidArgumentError(
          absl::StrCat("tg.iota: negative dimension in shape ", shapeToString(shape))));
      return {};
    }
  if (dimension < 0 || dimension >= int64_t(shape.size())) {
    impl.fail(absl::InvalidArgumentError(absl::StrCat("tg.iota: dimension ", dimension,
                                                      " is out of range for shape ",
                                                      shapeToString(shape))));
    return {};
  }
  if (dtype == DType::i1) {
    impl.fail(absl::InvalidArgumentError("tg.iota: i1 cannot hold indices; use an integer or "
                                         "float dtype"));
    return {};
  }
  return impl.createTyped<IotaOp>({}, impl.tensorType(shape, dtype),
                                  {attr(impl, "dimension", i64(impl, dimension))});
}

Value triangularMask(Graph &g, int64_t rows, int64_t cols, int64_t offset) {
  Value r = iota(g, {rows, cols}, 0, DType::i64), c = iota(g, {rows, cols}, 1, DType::i64);
  if (offset != 0)
    r = add(r, scalar(g, double(offset), DType::i64));
  return compare(c, r, "le");
}

Value cast(Value x, DType dtype) {
  auto *g = implOf(x);
  if (!g)
    return {};
  return g->createTyped<CastOp>({x}, g->tensorType(x.shape(), dtype));
}

//===----------------------------------------------------------------------===//
// Random and losses
//===----------------------------------------------------------------------===//

Value randomUniform(Value seed, std::vector<int64_t> shape, double low, double high, DType dtype) {
  auto *g = implOf(seed);
  if (!g)
    return {};
  return g->createTyped<RandomUniformOp>(
      {seed}, g->tensorType(shape, dtype),
      {attr(*g, "low", f64(*g, low)), attr(*g, "high", f64(*g, high))});
}

Value randomNormal(Value seed, std::vector<int64_t> shape, double mean, double stddev,
                   DType dtype) {
  auto *g = implOf(seed);
  if (!g)
    return {};
  return g->createTyped<RandomNormalOp>(
      {seed}, g->tensorType(shape, dtype),
      {attr(*g, "mean", f64(*g, mean)), attr(*g, "stddev", f64(*g, stddev))});
}

Value softmaxCrossEntropy(Value logits, Value labels, const std::string &reduction) {
  auto *g = implOf(logits);
  if (!g || !labels.valid())
    return {};
  return inferred<SoftmaxCrossEntropyOp>({logits, labels},
                                         {attr(*g, "reduction", str(*g, reduction))});
}

Value meanSquaredError(Value predictions, Value targets, const std::string &reduction) {
  auto *g = implOf(predictions);
  if (!g || !targets.valid())
    return {};
  return inferred<MeanSquaredErrorOp>({predictions, targets},
                                      {attr(*g, "reduction", str(*g, reduction))});
}

ScanResult scan(const std::vector<Value> &sequences, const std::vector<Value> &inits,
                const ScanBody &body, const ScanOptions &options) {
  std::vector<Value> all(sequences);
  all.insert(all.end(), inits.begin(), inits.end());
  if (all.empty() || llvm::any_of(all, [](const Value &v) { return !v.valid(); }))
    return {};
  auto &g = all.front().graph()->impl();
  if (!g.checkInputs(all, ScanOp::getOperationName()))
    return {};
  auto fail = [&](const std::string &message) {
    std::string where = g.scopePath();
    g.fail(absl::InvalidArgumentError(
        absl::StrCat(where.empty() ? "" : where + ": ", "scan: ", message)));
    return ScanResult{};
  };
  for (size_t i = 0; i < sequences.size(); ++i)
    if (sequences[i].rank() < 1)
      return fail(absl::StrCat("sequence #", i, " is ", sequences[i].typeString(),
                               "; sequences need a leading step axis"));

  // The body is built into a block of its own, then moved into the op.
  Location loc = g.loc(ScanOp::getOperationName());
  auto block = std::make_unique<Block>();
  std::vector<Value> steps, carry;
  for (const Value &s : sequences) {
    steps.push_back(g.wrap(block->addArgument(ScanOp::stepType(g.unwrap(s).getType()), loc)));
  }
  for (const Value &c : inits)
    carry.push_back(g.wrap(block->addArgument(g.unwrap(c).getType(), loc)));
  OpBuilder::InsertPoint outside = g.builder->saveInsertionPoint();
  g.builder->setInsertionPointToEnd(block.get());
  ScanStep step = body(steps, carry);
  g.builder->restoreInsertionPoint(outside);
  if (!g.status.ok())
    return {};
  std::vector<Value> yielded(step.carry);
  yielded.insert(yielded.end(), step.outputs.begin(), step.outputs.end());
  if (step.carry.size() != inits.size())
    return fail(absl::StrCat("the body returns ", step.carry.size(), " carried values for ",
                             inits.size(), " inits"));
  if (llvm::any_of(yielded, [](const Value &v) { return !v.valid(); }))
    return fail("the body returned an invalid value");
  if (!g.checkInputs(yielded, ScanOp::getOperationName()))
    return {};

  SmallVector<mlir::Value> operands, results;
  for (const Value &v : yielded)
    results.push_back(g.unwrap(v));
  OpBuilder inner(g.ctx.get());
  inner.setInsertionPointToEnd(block.get());
  inner.create<YieldOp>(loc, results);
  SmallVector<Type> types;
  for (const Value &v : inits)
    types.push_back(g.unwrap(v).getType());
  int64_t length = sequences.empty() ? 1 : sequences.front().dim(0);
  for (const Value &v : step.outputs)
    types.push_back(ScanOp::stackedType(g.unwrap(v).getType(), length));
  SmallVector<mlir::Value> seqs, init;
  for (const Value &v : sequences)
    seqs.push_back(g.unwrap(v));
  for (const Value &v : inits)
    init.push_back(g.unwrap(v));
  Builder attrs(g.ctx.get());
  auto op = g.builder->create<ScanOp>(loc, types, seqs, init,
                                      options.reverse ? attrs.getUnitAttr() : UnitAttr(),
                                      options.recompute ? attrs.getUnitAttr() : UnitAttr());
  op.getBody().push_back(block.release());
  std::string diag;
  {
    ScopedDiagnosticHandler handler(g.ctx.get(), [&](Diagnostic &d) {
      if (diag.empty())
        diag = d.str();
      return success();
    });
    if (failed(mlir::verify(op))) {
      op->erase();
      return fail(diag);
    }
  }
  ScanResult r;
  for (mlir::Value v : op.getFinals())
    r.finals.push_back(g.wrap(v));
  for (mlir::Value v : op.getStacked())
    r.stacked.push_back(g.wrap(v));
  return r;
}

} // namespace ops

//===----------------------------------------------------------------------===//
// Operators
//===----------------------------------------------------------------------===//

namespace {
/// A scalar constant of `like`'s dtype in `like`'s graph.
Value scalarLike(Value like, double v) {
  if (!like.valid())
    return {};
  return ops::scalar(*like.graph(), v, like.dtype());
}
} // namespace

Value operator+(Value a, Value b) { return ops::add(a, b); }
Value operator-(Value a, Value b) { return ops::sub(a, b); }
Value operator*(Value a, Value b) { return ops::mul(a, b); }
Value operator/(Value a, Value b) { return ops::div(a, b); }
Value operator-(Value a) { return ops::neg(a); }
Value operator+(Value a, double b) { return ops::add(a, scalarLike(a, b)); }
Value operator-(Value a, double b) { return ops::sub(a, scalarLike(a, b)); }
Value operator*(Value a, double b) { return ops::mul(a, scalarLike(a, b)); }
Value operator/(Value a, double b) { return ops::div(a, scalarLike(a, b)); }
Value operator+(double a, Value b) { return ops::add(scalarLike(b, a), b); }
Value operator-(double a, Value b) { return ops::sub(scalarLike(b, a), b); }
Value operator*(double a, Value b) { return ops::mul(scalarLike(b, a), b); }
Value operator/(double a, Value b) { return ops::div(scalarLike(b, a), b); }

} // namespace tg
