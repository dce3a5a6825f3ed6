//===- Ops.h - graph ops (tg::ops) ------------------------------*- C++ -*-===//
//
// One function per tg op. Each checks shapes and dtypes as the op is added;
// on a mismatch the graph's status() names the op and the shapes, and the
// returned Value is invalid. Negative axes count from the end.
//
//===----------------------------------------------------------------------===//
/// \file
/// tg::ops, one builder function per `tg` op, and the arithmetic operators on
/// Value. Every function returns an invalid Value when fed one.

#ifndef TG_OPS_H
#define TG_OPS_H

#include "tg/Graph.h"

#include <array>
#include <functional>
#include <string>
#include <limits>
#include <vector>

namespace tg {
namespace ops {

// Constants.
/// A constant holding `value` (its dtype and shape); the values are rounded
/// to the dtype (to integers toward zero). A value count that does not fit
/// the shape is recorded as an error.
Value constant(Graph &g, const Tensor &value);
/// A rank-0 constant.
Value scalar(Graph &g, double value, DType dtype = DType::f32);
/// A constant of `shape` with every element `value`.
Value fill(Graph &g, std::vector<int64_t> shape, double value, DType dtype = DType::f32);

// Elementwise unary.
/// -x (float or integer).
Value neg(Value x);
/// |x| (float or integer).
Value abs(Value x);
/// -1, 0 or 1 by the sign of x (float or integer).
Value sign(Value x);
/// e^x.
Value exp(Value x);
/// The natural logarithm.
Value log(Value x);
/// The square root.
Value sqrt(Value x);
/// 1 / sqrt(x).
Value rsqrt(Value x);
/// The hyperbolic tangent.
Value tanh(Value x);
/// 1 / (1 + e^-x).
Value sigmoid(Value x);
/// max(x, 0).
Value relu(Value x);
/// The Gauss error function.
Value erf(Value x);
/// The sine (radians).
Value sin(Value x);
/// The cosine (radians).
Value cos(Value x);
/// The largest integer <= x (its gradient is zero).
Value floor(Value x);
/// GELU: 0.5 x (1 + erf(x / sqrt(2))), or with `approximate` the tanh form
/// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
Value gelu(Value x, bool approximate = false);

// Elementwise binary, NumPy broadcasting.
/// a + b; the operands share their dtype.
Value add(Value a, Value b);
/// a - b.
Value sub(Value a, Value b);
/// a * b.
Value mul(Value a, Value b);
/// a / b.
Value div(Value a, Value b);
/// a raised to the power b.
Value pow(Value a, Value b);
/// The larger of a and b.
Value maximum(Value a, Value b);
/// The smaller of a and b.
Value minimum(Value a, Value b);
/// predicate: "eq", "ne", "lt", "le", "gt", "ge". The result is an i1 mask
/// of the broadcast shape.
Value compare(Value a, Value b, const std::string &predicate);
/// cond ? onTrue : onFalse, elementwise: `cond` is an i1 mask, and all three
/// broadcast together.
Value select(Value cond, Value onTrue, Value onFalse);

// Linear algebra and layout.
/// Options of ops::attention.
struct AttentionOptions {
  /// Query i sees keys 0..i only (PyTorch's is_causal).
  bool causal = false;
  /// Multiplies the scores; NaN (the default) means 1 / sqrt(D).
  double scale = std::numeric_limits<double>::quiet_NaN();
  /// Optional i1 mask, true where a query may see a key (PyTorch's boolean
  /// attn_mask): the rank of the query, each dimension 1 or full, its last
  /// two broadcasting to [Tq, Tk].
  Value mask;
};

/// Fused scaled dot-product attention (tg.attention): softmax(scale q k^T,
/// masked) v for query [..., Tq, D], key [..., Tk, D] and value
/// [..., Tk, Dv] (the same leading dimensions), giving [..., Tq, Dv]. No
/// Tq x Tk matrix is held on the CPU: the keys are walked in blocks with an
/// online softmax, and the gradient recomputes them. A query row that sees no
/// key gives zeros.
Value attention(Value query, Value key, Value value, const AttentionOptions &options = {});

/// Matrix product over the last two dimensions, each operand transposed
/// there first when asked; leading (batch) dimensions broadcast. Both
/// operands have rank >= 2 and one dtype.
Value matmul(Value a, Value b, bool transposeA = false, bool transposeB = false);
/// Result dimension i is dimension perm[i] of `x`.
Value transpose(Value x, std::vector<int64_t> perm);
/// One dimension may be -1 (inferred).
Value reshape(Value x, std::vector<int64_t> shape);
/// Broadcasts `x` to `shape`, NumPy style: its dimensions align with the
/// trailing ones of `shape`, each equal or 1.
Value broadcastTo(Value x, std::vector<int64_t> shape);
/// The sum over `axes` (negative ones count from the end); empty axes reduce
/// every dimension. `keepdims` keeps the reduced dimensions with size 1.
Value reduceSum(Value x, std::vector<int64_t> axes = {}, bool keepdims = false);
/// The mean over `axes` (every dimension if empty).
Value reduceMean(Value x, std::vector<int64_t> axes = {}, bool keepdims = false);
/// The maximum over `axes` (every dimension if empty).
Value reduceMax(Value x, std::vector<int64_t> axes = {}, bool keepdims = false);
/// The minimum over `axes` (every dimension if empty).
Value reduceMin(Value x, std::vector<int64_t> axes = {}, bool keepdims = false);
/// Index of the largest element along `axis` (the first on ties), as the
/// integer `dtype`; the result drops that axis.
Value argmax(Value x, int64_t axis = -1, DType dtype = DType::i32);
/// exp(x_i) / sum_j exp(x_j) along `axis`, computed stably.
Value softmax(Value x, int64_t axis = -1);
/// x_i - log(sum_j exp(x_j)) along `axis`, computed stably.
Value logSoftmax(Value x, int64_t axis = -1);

// Convolution and pooling, NCHW.
/// Attributes of conv2d and its gradients.
struct Conv2DOptions {
  std::array<int64_t, 2> strides{1, 1};       ///< [h, w]
  std::array<int64_t, 4> padding{0, 0, 0, 0}; ///< top, bottom, left, right
  std::array<int64_t, 2> dilations{1, 1};     ///< [h, w]
  int64_t groups = 1;                         ///< channel groups; divides both C and O
};
/// Cross-correlation of `input` [N, C, H, W] with `filter`
/// [O, C/groups, KH, KW] -> [N, O, OH, OW], where
/// OH = (H + pad_top + pad_bottom - dilation_h * (KH - 1) - 1) / stride_h + 1
/// (likewise OW); padding is zeros.
Value conv2d(Value input, Value filter, const Conv2DOptions &options = {});
/// The gradient of conv2d (same options) with respect to its input, whose
/// shape `inputShape` cannot always be recovered from the output's.
Value conv2dBackpropInput(Value gradOutput, Value filter, std::vector<int64_t> inputShape,
                          const Conv2DOptions &options = {});
/// The gradient of conv2d (same options) with respect to its filter, of
/// shape `filterShape` [O, C/groups, KH, KW].
Value conv2dBackpropFilter(Value input, Value gradOutput, std::vector<int64_t> filterShape,
                           const Conv2DOptions &options = {});

/// Attributes of the pooling ops and their gradients. Unlike the layers,
/// strides do not follow the kernel.
struct Pool2DOptions {
  std::array<int64_t, 2> kernel{2, 2};        ///< window [kh, kw]
  std::array<int64_t, 2> strides{2, 2};       ///< [h, w]
  std::array<int64_t, 4> padding{0, 0, 0, 0}; ///< top, bottom, left, right
  bool countIncludePad = false;               ///< avg pooling only
};
/// The maximum of each window of `input` [N, C, H, W]; padded pixels never
/// win. OH = (H + top + bottom - kh) / stride_h + 1 (likewise OW).
Value maxPool2d(Value input, const Pool2DOptions &options = {});
/// The mean of each window; padded zeros count in the divisor only with
/// countIncludePad (default false here, unlike layers::AvgPool2D).
Value avgPool2d(Value input, const Pool2DOptions &options = {});
/// The gradient of maxPool2d: each element of `gradOutput` goes to the
/// (first) maximum of its window in `input`; the result is shaped like it.
Value maxPool2dGrad(Value input, Value gradOutput, const Pool2DOptions &options = {});
/// The gradient of avgPool2d: each element of `gradOutput` spread over its
/// window, in a result of shape `inputShape`.
Value avgPool2dGrad(Value gradOutput, std::vector<int64_t> inputShape,
                    const Pool2DOptions &options = {});

// Data movement.
/// Joins `inputs` (same rank and dtype, equal sizes off `axis`) along
/// `axis`. An empty `inputs` gives an invalid Value without an error.
Value concat(const std::vector<Value> &inputs, int64_t axis);
/// x[start:limit:strides] in every dimension (0 <= start <= limit <= dim).
/// Empty strides mean 1 everywhere.
Value slice(Value x, std::vector<int64_t> start, std::vector<int64_t> limit,
            std::vector<int64_t> strides = {});
/// Cuts `x` along `axis` into consecutive pieces of `sizes` (which must add
/// up to that dimension), as tg.slice ops.
std::vector<Value> split(Value x, const std::vector<int64_t> &sizes, int64_t axis);
/// Cuts `x` along `axis` into `parts` equal pieces (the dimension must
/// divide evenly).
std::vector<Value> split(Value x, int64_t parts, int64_t axis);
/// Adds low[i] elements before and high[i] after dimension i (each >= 0),
/// filled with `value`.
Value pad(Value x, std::vector<int64_t> low, std::vector<int64_t> high, double value = 0.0);
/// Slices of `params` at integer `indices` along `axis` (an embedding
/// lookup): the shape is params.shape[:axis] + indices.shape +
/// params.shape[axis+1:]. An index out of range is an error at run time.
Value gather(Value params, Value indices, int64_t axis = 0);

// Loops.
/// What a scan body returns for one step: the next carried values (typed
/// like the inits), then the step's outputs.
struct ScanStep {
  std::vector<Value> carry, outputs;
  /// \var carry
  /// The next carried values, one per init, typed like it.
  /// \var outputs
  /// The step's outputs, stacked into ScanResult::stacked.
};
/// The carried values after the last step, and each output stacked along a
/// new leading axis of the sequences' length.
struct ScanResult {
  std::vector<Value> finals, stacked;
  /// \var finals
  /// The carried values after the last step, typed like the inits.
  /// \var stacked
  /// Each output of the body, [length, ...] over the steps.
};
/// How scan() runs and differentiates its loop.
struct ScanOptions {
  bool reverse = false;   ///< steps from the last to the first
  bool recompute = false; ///< the gradient recomputes each step instead of saving it
};
/// A scan body: from step t of each sequence and the carried values, the
/// next carried values and the step's outputs.
using ScanBody =
    std::function<ScanStep(const std::vector<Value> &steps, const std::vector<Value> &carry)>;
/// tg.scan (like lax.scan): calls `body` once, with step t of each sequence
/// ([length, ...] -> [...]) and the carried values, to build a loop body
/// compiled once whatever the length. Values made inside `body` exist only
/// there. On error, the result's vectors are empty.
ScanResult scan(const std::vector<Value> &sequences, const std::vector<Value> &inits,
                const ScanBody &body, const ScanOptions &options = {});
/// `base` with `updates` added at `indices` along `axis`, the transpose of
/// gather(): `updates` has the shape gather(base, indices, axis) would, and
/// repeated indices accumulate.
Value scatterAdd(Value base, Value indices, Value updates, int64_t axis = 0);
/// indices.shape + [depth] of `dtype`: `on` at position indices[...] of the
/// last axis, `off` elsewhere (everywhere for an out-of-range index). A
/// negative depth is recorded as an error.
Value oneHot(Value indices, int64_t depth, DType dtype = DType::f32, double on = 1.0,
             double off = 0.0);
/// `x` converted to `dtype`: float to integer truncates toward zero, to i1
/// is x != 0, from i1 gives 0 or 1.
Value cast(Value x, DType dtype);
/// A tensor of `shape` whose every element is its index along `dimension`
/// (tg.iota); nothing of the size of `shape` is stored in the IR.
Value iota(Graph &g, std::vector<int64_t> shape, int64_t dimension, DType dtype = DType::i32);
/// The i1 [rows, cols] mask that is true where col <= row + offset (the
/// lower triangle, numpy's tril): with rows = cols = T and offset 0, the
/// causal mask of self-attention (a query sees itself and earlier keys).
/// Built from two tg.iota and a tg.compare.
Value triangularMask(Graph &g, int64_t rows, int64_t cols, int64_t offset = 0);

// Stateless random numbers; `seed` is an i64 scalar tensor.
/// Uniform samples in [low, high) of `shape`, depending only on `seed` and
/// each element's position (Philox): the same seed gives the same tensor.
Value randomUniform(Value seed, std::vector<int64_t> shape, double low = 0.0, double high = 1.0,
                    DType dtype = DType::f32);
/// Normal samples with `mean` and standard deviation `stddev`, seeded as
/// randomUniform().
Value randomNormal(Value seed, std::vector<int64_t> shape, double mean = 0.0, double stddev = 1.0,
                   DType dtype = DType::f32);

// Losses. reduction: "mean", "sum" or "none".
/// logsumexp(logits) - logits[label] per example, for logits [..., C] and
/// integer labels [...] in [0, C); "none" keeps the labels' shape.
Value softmaxCrossEntropy(Value logits, Value labels, const std::string &reduction = "mean");
/// (predictions - targets)^2 elementwise (one type, no broadcasting);
/// "mean" averages over all elements, "none" keeps the shape.
Value meanSquaredError(Value predictions, Value targets, const std::string &reduction = "mean");

} // namespace ops

// Operators, as in TensorFlow. A double operand becomes a scalar constant of
// the other operand's dtype.
/// ops::add(a, b).
Value operator+(Value a, Value b);
/// ops::sub(a, b).
Value operator-(Value a, Value b);
/// ops::mul(a, b).
Value operator*(Value a, Value b);
/// ops::div(a, b).
Value operator/(Value a, Value b);
/// ops::neg(a).
Value operator-(Value a);
/// a + b, b a scalar constant of a's dtype.
Value operator+(Value a, double b);
/// a - b, b a scalar constant of a's dtype.
Value operator-(Value a, double b);
/// a * b, b a scalar constant of a's dtype.
Value operator*(Value a, double b);
/// a / b, b a scalar constant of a's dtype.
Value operator/(Value a, double b);
/// a + b, a a scalar constant of b's dtype.
Value operator+(double a, Value b);
/// a - b, a a scalar constant of b's dtype.
Value operator-(double a, Value b);
/// a * b, a a scalar constant of b's dtype.
Value operator*(double a, Value b);
/// a / b, a a scalar constant of b's dtype.
Value operator/(double a, Value b);

} // namespace tg

#endif // TG_OPS_H
