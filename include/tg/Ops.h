//===- Ops.h - graph ops (tg::ops) ------------------------------*- C++ -*-===//
//
// One function per tg op. Each checks shapes and dtypes as the op is added;
// on a mismatch the graph's status() names the op and the shapes, and the
// returned Value is invalid. Negative axes count from the end.
//
//===----------------------------------------------------------------------===//
#ifndef TG_OPS_H
#define TG_OPS_H

#include "tg/Graph.h"

#include <array>
#include <functional>
#include <string>
#include <vector>

namespace tg {
namespace ops {

// Constants.
Value constant(Graph &g, const Tensor &value);
Value scalar(Graph &g, double value, DType dtype = DType::f32);
Value fill(Graph &g, std::vector<int64_t> shape, double value, DType dtype = DType::f32);

// Elementwise unary.
Value neg(Value x);
Value abs(Value x);
Value sign(Value x);
Value exp(Value x);
Value log(Value x);
Value sqrt(Value x);
Value rsqrt(Value x);
Value tanh(Value x);
Value sigmoid(Value x);
Value relu(Value x);
Value erf(Value x);
Value sin(Value x);
Value cos(Value x);
Value floor(Value x);
Value gelu(Value x, bool approximate = false);

// Elementwise binary, NumPy broadcasting.
Value add(Value a, Value b);
Value sub(Value a, Value b);
Value mul(Value a, Value b);
Value div(Value a, Value b);
Value pow(Value a, Value b);
Value maximum(Value a, Value b);
Value minimum(Value a, Value b);
/// predicate: "eq", "ne", "lt", "le", "gt", "ge".
Value compare(Value a, Value b, const std::string &predicate);
Value select(Value cond, Value onTrue, Value onFalse);

// Linear algebra and layout.
Value matmul(Value a, Value b, bool transposeA = false, bool transposeB = false);
Value transpose(Value x, std::vector<int64_t> perm);
/// One dimension may be -1 (inferred).
Value reshape(Value x, std::vector<int64_t> shape);
Value broadcastTo(Value x, std::vector<int64_t> shape);
/// Empty axes reduce every dimension.
Value reduceSum(Value x, std::vector<int64_t> axes = {}, bool keepdims = false);
Value reduceMean(Value x, std::vector<int64_t> axes = {}, bool keepdims = false);
Value reduceMax(Value x, std::vector<int64_t> axes = {}, bool keepdims = false);
Value reduceMin(Value x, std::vector<int64_t> axes = {}, bool keepdims = false);
Value argmax(Value x, int64_t axis = -1, DType dtype = DType::i32);
Value softmax(Value x, int64_t axis = -1);
Value logSoftmax(Value x, int64_t axis = -1);

// Convolution and pooling, NCHW.
struct Conv2DOptions {
  std::array<int64_t, 2> strides{1, 1};
  std::array<int64_t, 4> padding{0, 0, 0, 0}; ///< top, bottom, left, right
  std::array<int64_t, 2> dilations{1, 1};
  int64_t groups = 1;
};
Value conv2d(Value input, Value filter, const Conv2DOptions &options = {});
Value conv2dBackpropInput(Value gradOutput, Value filter, std::vector<int64_t> inputShape,
                          const Conv2DOptions &options = {});
Value conv2dBackpropFilter(Value input, Value gradOutput, std::vector<int64_t> filterShape,
                           const Conv2DOptions &options = {});

struct Pool2DOptions {
  std::array<int64_t, 2> kernel{2, 2};
  std::array<int64_t, 2> strides{2, 2};
  std::array<int64_t, 4> padding{0, 0, 0, 0};
  bool countIncludePad = false; ///< avg pooling only
};
Value maxPool2d(Value input, const Pool2DOptions &options = {});
Value avgPool2d(Value input, const Pool2DOptions &options = {});
Value maxPool2dGrad(Value input, Value gradOutput, const Pool2DOptions &options = {});
Value avgPool2dGrad(Value gradOutput, std::vector<int64_t> inputShape,
                    const Pool2DOptions &options = {});

// Data movement.
Value concat(const std::vector<Value> &inputs, int64_t axis);
/// Empty strides mean 1 everywhere.
Value slice(Value x, std::vector<int64_t> start, std::vector<int64_t> limit,
            std::vector<int64_t> strides = {});
Value pad(Value x, std::vector<int64_t> low, std::vector<int64_t> high, double value = 0.0);
Value gather(Value params, Value indices, int64_t axis = 0);

// Loops.
/// What a scan body returns for one step: the next carried values (typed
/// like the inits), then the step's outputs.
struct ScanStep {
  std::vector<Value> carry, outputs;
};
/// The carried values after the last step, and each output stacked along a
/// new leading axis of the sequences' length.
struct ScanResult {
  std::vector<Value> finals, stacked;
};
struct ScanOptions {
  bool reverse = false;   ///< steps from the last to the first
  bool recompute = false; ///< the gradient recomputes each step instead of saving it
};
using ScanBody =
    std::function<ScanStep(const std::vector<Value> &steps, const std::vector<Value> &carry)>;
/// tg.scan (like lax.scan): calls `body` once, with step t of each sequence
/// ([length, ...] -> [...]) and the carried values, to build a loop body
/// compiled once whatever the length. Values made inside `body` exist only
/// there. On error, the result's vectors are empty.
ScanResult scan(const std::vector<Value> &sequences, const std::vector<Value> &inits,
                const ScanBody &body, const ScanOptions &options = {});
Value scatterAdd(Value base, Value indices, Value updates, int64_t axis = 0);
Value oneHot(Value indices, int64_t depth, DType dtype = DType::f32, double on = 1.0,
             double off = 0.0);
Value cast(Value x, DType dtype);

// Stateless random numbers; `seed` is an i64 scalar tensor.
Value randomUniform(Value seed, std::vector<int64_t> shape, double low = 0.0, double high = 1.0,
                    DType dtype = DType::f32);
Value randomNormal(Value seed, std::vector<int64_t> shape, double mean = 0.0, double stddev = 1.0,
                   DType dtype = DType::f32);

// Losses. reduction: "mean", "sum" or "none".
Value softmaxCrossEntropy(Value logits, Value labels, const std::string &reduction = "mean");
Value meanSquaredError(Value predictions, Value targets, const std::string &reduction = "mean");

} // namespace ops

// Operators, as in TensorFlow. A double operand becomes a scalar constant of
// the other operand's dtype.
Value operator+(Value a, Value b);
Value operator-(Value a, Value b);
Value operator*(Value a, Value b);
Value operator/(Value a, Value b);
Value operator-(Value a);
Value operator+(Value a, double b);
Value operator-(Value a, double b);
Value operator*(Value a, double b);
Value operator/(Value a, double b);
Value operator+(double a, Value b);
Value operator-(double a, Value b);
Value operator*(double a, Value b);
Value operator/(double a, Value b);

} // namespace tg

#endif // TG_OPS_H
