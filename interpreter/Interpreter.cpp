//===- Interpreter.cpp - reference interpreter for tg functions -----------===//
//
// One plain loop nest per op. Values are computed in double and rounded to
// the result element type after each op (unless float64 mode), so f32
// results are what an exact f32 implementation of each op would give.
//
//===----------------------------------------------------------------------===//
#include "interpreter/Interpreter.h"
#include "ir/Dialect.h"
#include "ir/ShapeUtils.h"
#include "support/Random.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <new>

using namespace mlir;

namespace tg {

namespace {

std::string locStr(Location loc) {
  std::string s;
  llvm::raw_string_ostream os(s);
  loc.print(os);
  return s;
}

double roundHalf(double x, const llvm::fltSemantics &sem) {
  llvm::APFloat f(x);
  bool lost;
  f.convert(sem, llvm::APFloat::rmNearestTiesToEven, &lost);
  f.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven, &lost);
  return f.convertToDouble();
}

/// Rounds `x` to what `dtype` can hold (integers wrap like two's complement).
double roundTo(DType dtype, double x, bool float64) {
  switch (dtype) {
  case DType::f64:
    return x;
  case DType::f32:
    return float64 ? x : double(float(x));
  case DType::f16:
    return float64 ? x : roundHalf(x, llvm::APFloat::IEEEhalf());
  case DType::bf16:
    return float64 ? x : roundHalf(x, llvm::APFloat::BFloat());
  case DType::i1:
    return x != 0 ? 1 : 0;
  case DType::i32:
    return std::isfinite(x) ? double(int32_t(uint32_t(uint64_t(int64_t(x))))) : 0;
  case DType::i64:
    return std::isfinite(x) ? double(int64_t(x)) : 0;
  }
  return x;
}

/// Offsets of each operand for every element of a broadcast result.
class BroadcastIter {
public:
  BroadcastIter(ArrayRef<int64_t> result, ArrayRef<ArrayRef<int64_t>> operands)
      : shape(result), index(result.size(), 0), offsets(operands.size(), 0) {
    for (ArrayRef<int64_t> op : operands) {
      Shape st = rowMajorStrides(op);
      Shape aligned(result.size(), 0);
      size_t off = result.size() - op.size();
      for (size_t i = 0; i < op.size(); ++i)
        aligned[i + off] = op[i] == 1 ? 0 : st[i];
      strides.push_back(aligned);
    }
  }
  int64_t offset(size_t operand) const { return offsets[operand]; }
  void next() {
    for (int d = int(shape.size()) - 1; d >= 0; --d) {
      ++index[d];
      for (size_t o = 0; o < offsets.size(); ++o)
        offsets[o] += strides[o][d];
      if (index[d] < shape[d])
        return;
      for (size_t o = 0; o < offsets.size(); ++o)
        offsets[o] -= strides[o][d] * shape[d];
      index[d] = 0;
    }
  }

private:
  Shape shape, index, offsets;
  SmallVector<Shape> strides;
};

/// Splits a shape around `axis` into (outer, size, inner) for axis loops.
struct AxisSplit {
  int64_t outer = 1, size = 1, inner = 1;
  AxisSplit(ArrayRef<int64_t> shape, int64_t axis) {
    for (int64_t i = 0; i < int64_t(shape.size()); ++i)
      (i < axis ? outer : i > axis ? inner : size) *= shape[i];
  }
};

class Interpreter {
public:
  explicit Interpreter(const InterpretOptions &options) : options(options) {}

  absl::StatusOr<std::vector<Tensor>> run(func::FuncOp fn, const std::vector<Tensor> &args);

private:
  const InterpretOptions &options;
  llvm::DenseMap<Value, Tensor> env;

  const Tensor &in(Value v) { return env.find(v)->second; }
  /// A zero tensor shaped like `v`'s type.
  absl::StatusOr<Tensor> blank(Value v) {
    auto t = llvm::cast<RankedTensorType>(v.getType());
    auto dt = dtypeOf(t.getElementType());
    if (!dt.ok())
      return dt.status();
    return Tensor::full(*dt, std::vector<int64_t>(t.getShape().begin(), t.getShape().end()));
  }
  void finish(Tensor &t) {
    for (double &x : t.data)
      x = roundTo(t.dtype, x, options.float64);
  }
  absl::Status error(Operation *op, absl::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat(
        locStr(op->getLoc()), ": '", op->getName().getStringRef().str(), "': ", message));
  }

  absl::Status eval(Operation *op);
  /// Binds `op`'s one result to what `compute` gives, rounded.
  absl::Status bind(Operation *op, llvm::function_ref<absl::StatusOr<Tensor>()> compute);

public:
  /// How the interpreter runs each op it supports, by op name: eval()
  /// dispatches on this table and interpreterHandles() reads it, so the two
  /// cannot disagree.
  using Handler = std::function<absl::Status(Interpreter &, Operation *)>;
  static const llvm::StringMap<Handler> &handlers();

private:
  /// A handler computing the one result of an `OpT` (f(Interpreter &, OpT)).
  template <typename OpT, typename F> static std::pair<StringRef, Handler> value(F f);
  /// A handler that binds the results itself (f(Interpreter &, OpT)).
  template <typename OpT, typename F> static std::pair<StringRef, Handler> effect(F f);
  /// tg.scan: the body once per step, in order.
  absl::Status scan(ScanOp op);
  /// tg.reduce_scatter, tg.allgather, tg.local_shard in a world of one rank:
  /// the result is the operand (a mean or sum of one contribution is it).
  absl::Status oneRankShard(Operation *op);

  // Op families.
  absl::StatusOr<Tensor> constant(ConstantOp op);
  absl::StatusOr<Tensor> unary(Operation *op, double (*f)(double));
  absl::StatusOr<Tensor> binary(Operation *op, Value lhs, Value rhs,
                                const std::function<double(double, double)> &f);
  absl::StatusOr<Tensor> select(SelectOp op);
  template <typename MatmulLike> absl::StatusOr<Tensor> matmul(MatmulLike op);
  /// Adds bias[c] along `channelDim` and applies `activation` (fused ops).
  void epilogue(Tensor &t, const Tensor &bias, int64_t channelDim, llvm::StringRef activation);
  absl::StatusOr<Tensor> transpose(TransposeOp op);
  absl::StatusOr<Tensor> broadcastTo(BroadcastToOp op);
  absl::StatusOr<Tensor> reduce(ReduceOp op);
  absl::StatusOr<Tensor> argmax(ArgmaxOp op);
  absl::StatusOr<Tensor> softmax(Operation *op, Value x, int64_t axis, bool log);
  /// tg.attention (grad false) or tg.attention_grad: the plain definition.
  absl::Status attention(Operation *op, bool grad);
  absl::StatusOr<Tensor> conv(Operation *op, Value input, Value filter, Value output, int mode);
  absl::Status filterAndBiasGrad(Conv2DBackpropFilterBiasOp op);
  absl::StatusOr<Tensor> pool(Operation *op, Value input, Value gradOutput, Value result, bool max,
                              bool grad, bool countIncludePad);
  absl::StatusOr<Tensor> concat(ConcatOp op);
  absl::StatusOr<Tensor> slice(SliceOp op);
  absl::StatusOr<Tensor> pad(PadOp op);
  absl::StatusOr<Tensor> gather(Operation *op, Value params, Value indices, Value updates,
                                int64_t axis, bool scatter);
  absl::StatusOr<Tensor> oneHot(OneHotOp op);
  absl::StatusOr<Tensor> iota(IotaOp op);
  absl::StatusOr<Tensor> cast(CastOp op);
  absl::StatusOr<Tensor> random(Operation *op, Value seed, bool normal, double a, double b);
  absl::StatusOr<Tensor> crossEntropy(SoftmaxCrossEntropyOp op);
  absl::StatusOr<Tensor> mse(MeanSquaredErrorOp op);

  /// Reads an integer index tensor value, checking the range [0, n).
  absl::StatusOr<int64_t> index(Operation *op, const Tensor &t, int64_t i, int64_t n,
                                absl::string_view what) {
    double v = t.data[i];
    if (v < 0 || v >= double(n))
      return error(op, absl::StrCat(what, " ", int64_t(v), " at flat position ", i,
                                    " is out of range [0, ", n, ")"));
    return int64_t(v);
  }
};

absl::StatusOr<std::vector<Tensor>> Interpreter::run(func::FuncOp fn,
                                                     const std::vector<Tensor> &args) {
  if (fn.isExternal())
    return absl::InvalidArgumentError(
        absl::StrCat("function '", fn.getSymName().str(), "' has no body"));
  Block &body = fn.getBody().front();
  if (args.size() != body.getNumArguments())
    return absl::InvalidArgumentError(absl::StrCat("function '", fn.getSymName().str(), "' takes ",
                                                   body.getNumArguments(), " arguments, got ",
                                                   args.size()));
  for (auto [i, arg] : llvm::enumerate(body.getArguments())) {
    auto type = llvm::dyn_cast<RankedTensorType>(arg.getType());
    if (!type)
      return absl::InvalidArgumentError(absl::StrCat("argument #", i, " is not a ranked tensor"));
    auto dt = dtypeOf(type.getElementType());
    if (!dt.ok())
      return dt.status();
    std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
    const Tensor &given = args[i];
    if (given.dtype != *dt || given.shape != shape)
      return absl::InvalidArgumentError(absl::StrCat(
          "argument #", i, " of '", fn.getSymName().str(), "' expects ", dtypeName(*dt),
          shapeToString(shape), ", got ", dtypeName(given.dtype), shapeToString(given.shape)));
    if (int64_t(given.data.size()) != numElements(shape))
      return absl::InvalidArgumentError(absl::StrCat("argument #", i, " holds ", given.data.size(),
                                                     " values for shape ", shapeToString(shape)));
    env[arg] = given;
  }
  for (Operation &op : body) {
    if (auto ret = llvm::dyn_cast<func::ReturnOp>(op)) {
      std::vector<Tensor> results;
      for (Value v : ret.getOperands())
        results.push_back(in(v));
      return results;
    }
    if (absl::Status s = eval(&op); !s.ok())
      return s;
  }
  return absl::InvalidArgumentError("function body has no func.return");
}

absl::Status Interpreter::oneRankShard(Operation *op) {
  int64_t from = llvm::cast<RankedTensorType>(op->getOperand(0).getType()).getNumElements();
  int64_t to = llvm::cast<RankedTensorType>(op->getResult(0).getType()).getNumElements();
  if (from != to)
    return absl::FailedPreconditionError(absl::StrCat(
        op->getName().getStringRef().str(), ": compiled for a world of ",
        std::max(from, to) / std::max<int64_t>(1, std::min(from, to)),
        " ranks (--shard-optimizer-state); the interpreter runs one"));
  Tensor t = in(op->getOperand(0)); // copied before env[] inserts
  env[op->getResult(0)] = std::move(t);
  return absl::OkStatus();
}

/// tg.conv2d_backprop_filter_bias: the filter gradient, and grad_output
/// summed over N, H and W (in that order, as tg.reduce sums).
absl::Status Interpreter::filterAndBiasGrad(Conv2DBackpropFilterBiasOp op) {
  absl::StatusOr<Tensor> filter =
      conv(op, op.getInput(), op.getFilterGrad(), op.getGradOutput(), 2);
  if (!filter.ok())
    return filter.status();
  absl::StatusOr<Tensor> bias = blank(op.getBiasGrad());
  if (!bias.ok())
    return bias.status();
  Tensor dy = in(op.getGradOutput());
  int64_t n = dy.shape[0], c = dy.shape[1], hw = dy.shape[2] * dy.shape[3];
  for (int64_t k = 0; k < c; ++k) {
    double sum = 0;
    for (int64_t b = 0; b < n; ++b)
      for (int64_t i = 0; i < hw; ++i)
        sum += dy.data[size_t((b * c + k) * hw + i)];
    bias->data[size_t(k)] = sum;
  }
  finish(*filter);
  finish(*bias);
  env[op.getFilterGrad()] = std::move(*filter);
  env[op.getBiasGrad()] = std::move(*bias);
  return absl::OkStatus();
}

absl::Status Interpreter::eval(Operation *op) {
  const llvm::StringMap<Handler> &table = handlers();
  auto it = table.find(op->getName().getStringRef());
  if (it == table.end())
    return error(op, "the reference interpreter does not support this op");
  return it->second(*this, op);
}

absl::Status Interpreter::bind(Operation *op,
                               llvm::function_ref<absl::StatusOr<Tensor>()> compute) {
  // The interpreter holds every element as a double: a result the machine
  // cannot hold is an error naming the op and its type, not an abort.
  absl::StatusOr<Tensor> r = absl::UnknownError("");
  try {
    r = compute();
  } catch (const std::bad_alloc &) {
    std::string type;
    llvm::raw_string_ostream os(type);
    os << op->getResult(0).getType();
    return absl::ResourceExhaustedError(absl::StrCat(
        locStr(op->getLoc()), ": '", op->getName().getStringRef().str(),
        "': out of memory for its result ", type, " (the interpreter holds 8 bytes an element)"));
  }
  if (!r.ok())
    return r.status();
  finish(*r);
  env[op->getResult(0)] = std::move(*r);
  return absl::OkStatus();
}

absl::Status Interpreter::scan(ScanOp op) {
  Block &body = op.getBody().front();
  size_t nSeq = op.getSequences().size(), nCarry = op.getInits().size();
  std::vector<Tensor> carry, stacked;
  for (Value v : op.getInits())
    carry.push_back(in(v));
  for (Value r : op.getStacked()) {
    absl::StatusOr<Tensor> t = blank(r);
    if (!t.ok())
      return t.status();
    stacked.push_back(std::move(*t));
  }
  auto yield = llvm::cast<YieldOp>(body.getTerminator());
  for (int64_t k = 0; k < op.getLength(); ++k) {
    int64_t t = op.getReverse() ? op.getLength() - 1 - k : k;
    for (size_t i = 0; i < nSeq; ++i) {
      const Tensor &seq = in(op.getSequences()[i]);
      Tensor step;
      step.dtype = seq.dtype;
      step.shape.assign(seq.shape.begin() + 1, seq.shape.end());
      size_t n = seq.data.size() / size_t(seq.shape[0]);
      step.data.assign(seq.data.begin() + int64_t(size_t(t) * n),
                       seq.data.begin() + int64_t(size_t(t + 1) * n));
      env[body.getArgument(unsigned(i))] = std::move(step);
    }
    for (size_t i = 0; i < nCarry; ++i)
      env[body.getArgument(unsigned(nSeq + i))] = carry[i];
    for (Operation &inner : body.without_terminator())
      if (absl::Status s = eval(&inner); !s.ok())
        return s;
    for (size_t i = 0; i < nCarry; ++i)
      carry[i] = in(yield.getValues()[i]);
    for (size_t j = 0; j < stacked.size(); ++j) {
      const Tensor &out = in(yield.getValues()[nCarry + j]);
      std::copy(out.data.begin(), out.data.end(),
                stacked[j].data.begin() + int64_t(size_t(t) * out.data.size()));
    }
  }
  for (size_t i = 0; i < nCarry; ++i)
    env[op.getFinals()[i]] = std::move(carry[i]);
  for (size_t j = 0; j < stacked.size(); ++j)
    env[op.getStacked()[j]] = std::move(stacked[j]);
  return absl::OkStatus();
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double relu(double x) { return x > 0 ? x : 0.0; }
double sign(double x) { return double((x > 0) - (x < 0)); }
double rsqrt(double x) { return 1.0 / std::sqrt(x); }
double neg(double x) { return -x; }
double gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }
double geluTanh(double x) {
  return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

template <typename OpT, typename F>
std::pair<StringRef, Interpreter::Handler> Interpreter::value(F f) {
  return {OpT::getOperationName(), [f](Interpreter &self, Operation *op) {
            return self.bind(op, [&] { return f(self, llvm::cast<OpT>(op)); });
          }};
}

template <typename OpT, typename F>
std::pair<StringRef, Interpreter::Handler> Interpreter::effect(F f) {
  return {OpT::getOperationName(),
          [f](Interpreter &self, Operation *op) { return f(self, llvm::cast<OpT>(op)); }};
}

const llvm::StringMap<Interpreter::Handler> &Interpreter::handlers() {
  using R = absl::StatusOr<Tensor>;
  using I = Interpreter;
  auto isInt = [](Value v) {
    return llvm::isa<IntegerType>(llvm::cast<RankedTensorType>(v.getType()).getElementType());
  };
  auto unaryOf = [](double (*f)(double)) {
    return [f](I &s, Operation *o) { return s.unary(o, f); };
  };
  static const llvm::StringMap<Handler> table = {
      // Collectives over the interpreter's one rank: a mean or sum over one
      // contribution is the contribution.
      effect<AllreduceStartOp>([](I &, AllreduceStartOp) { return absl::OkStatus(); }),
      // Copied before env[] inserts: an insert that grows the map would leave
      // in()'s reference dangling (the operand is read after the insert).
      effect<AllreduceWaitOp>([](I &s, AllreduceWaitOp o) {
        Tensor t = s.in(o.getBucket());
        s.env[o.getResult()] = std::move(t);
        return absl::OkStatus();
      }),
      // The sharded ops over the interpreter's one rank: a world of one (the
      // shard is the whole); a module compiled for more ranks needs them.
      effect<ReduceScatterOp>([](I &s, ReduceScatterOp o) { return s.oneRankShard(o); }),
      effect<AllgatherOp>([](I &s, AllgatherOp o) { return s.oneRankShard(o); }),
      effect<LocalShardOp>([](I &s, LocalShardOp o) { return s.oneRankShard(o); }),
      // Pipeline transfers: the send hands its tensor over at once, the
      // receive takes it at the wait.
      effect<SendStartOp>([](I &s, SendStartOp o) {
        if (!s.options.pipeline)
          return absl::FailedPreconditionError(
              "tg.send_start: this function is a pipeline stage (tgc compile "
              "--pipeline-stages); interpret each stage with a PipelineLink");
        return s.options.pipeline->send(o.getPeer(), o.getTag(), s.in(o.getValue()));
      }),
      effect<SendWaitOp>([](I &, SendWaitOp) { return absl::OkStatus(); }),
      effect<RecvStartOp>([](I &, RecvStartOp) { return absl::OkStatus(); }),
      effect<RecvWaitOp>([](I &s, RecvWaitOp o) -> absl::Status {
        if (!s.options.pipeline)
          return absl::FailedPreconditionError(
              "tg.recv_wait: this function is a pipeline stage (tgc compile "
              "--pipeline-stages); interpret each stage with a PipelineLink");
        absl::StatusOr<Tensor> t = s.options.pipeline->recv(o.getStart().getPeer(), o.getTag());
        if (!t.ok())
          return t.status();
        auto type = llvm::cast<RankedTensorType>(o.getResult().getType());
        if (t->numElements() != type.getNumElements())
          return absl::InvalidArgumentError(absl::StrCat(
              "tg.recv_wait (tag ", o.getTag(), "): received ", t->numElements(),
              " elements, expected ", type.getNumElements()));
        s.env[o.getResult()] = std::move(*t);
        return absl::OkStatus();
      }),
      effect<ParamGradOp>([](I &s, ParamGradOp o) {
        Tensor t = s.in(o.getGrad());
        s.env[o.getResult()] = std::move(t);
        return absl::OkStatus();
      }),
      effect<ScanOp>([](I &s, ScanOp o) { return s.scan(o); }),
      effect<AttentionOp>([](I &s, AttentionOp o) { return s.attention(o, false); }),
      effect<AttentionGradOp>([](I &s, AttentionGradOp o) { return s.attention(o, true); }),
      // Never run on its own: its tg.scan reads the yielded values.
      effect<YieldOp>([](I &, YieldOp) { return absl::OkStatus(); }),
      effect<Conv2DBackpropFilterBiasOp>(
          [](I &s, Conv2DBackpropFilterBiasOp o) { return s.filterAndBiasGrad(o); }),
      value<ConstantOp>([](I &s, ConstantOp o) { return s.constant(o); }),
      value<NegOp>(unaryOf(neg)),
      value<AbsOp>(unaryOf([](double x) { return std::fabs(x); })),
      value<SignOp>(unaryOf(sign)),
      value<ExpOp>(unaryOf([](double x) { return std::exp(x); })),
      value<LogOp>(unaryOf([](double x) { return std::log(x); })),
      value<SqrtOp>(unaryOf([](double x) { return std::sqrt(x); })),
      value<RsqrtOp>(unaryOf(rsqrt)),
      value<TanhOp>(unaryOf([](double x) { return std::tanh(x); })),
      value<SigmoidOp>(unaryOf(sigmoid)),
      value<ReluOp>(unaryOf(relu)),
      value<ErfOp>(unaryOf([](double x) { return std::erf(x); })),
      value<SinOp>(unaryOf([](double x) { return std::sin(x); })),
      value<CosOp>(unaryOf([](double x) { return std::cos(x); })),
      value<FloorOp>(unaryOf([](double x) { return std::floor(x); })),
      value<GeluOp>(
          [](I &s, GeluOp o) { return s.unary(o, o.getApproximate() ? geluTanh : gelu); }),
      value<AddOp>(
          [](I &s, AddOp o) { return s.binary(o, o.getLhs(), o.getRhs(), std::plus<double>()); }),
      value<SubOp>(
          [](I &s, SubOp o) { return s.binary(o, o.getLhs(), o.getRhs(), std::minus<double>()); }),
      value<MulOp>([](I &s, MulOp o) {
        return s.binary(o, o.getLhs(), o.getRhs(), std::multiplies<double>());
      }),
      value<DivOp>([isInt](I &s, DivOp o) -> R {
        if (!isInt(o.getLhs()))
          return s.binary(o, o.getLhs(), o.getRhs(), std::divides<double>());
        bool divByZero = false;
        R r = s.binary(o, o.getLhs(), o.getRhs(), [&](double a, double b) {
          if (b == 0) {
            divByZero = true;
            return 0.0;
          }
          return std::trunc(a / b);
        });
        if (divByZero)
          return s.error(o, "integer division by zero");
        return r;
      }),
      value<PowOp>([](I &s, PowOp o) {
        return s.binary(o, o.getLhs(), o.getRhs(),
                        [](double a, double b) { return std::pow(a, b); });
      }),
      value<MaximumOp>([](I &s, MaximumOp o) {
        return s.binary(o, o.getLhs(), o.getRhs(), [](double a, double b) {
          return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
        });
      }),
      value<MinimumOp>([](I &s, MinimumOp o) {
        return s.binary(o, o.getLhs(), o.getRhs(), [](double a, double b) {
          return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
        });
      }),
      value<CompareOp>([](I &s, CompareOp o) -> R {
        StringRef p = o.getPredicate();
        std::function<double(double, double)> f;
        if (p == "eq")
          f = [](double a, double b) { return double(a == b); };
        else if (p == "ne")
          f = [](double a, double b) { return double(a != b); };
        else if (p == "lt")
          f = [](double a, double b) { return double(a < b); };
        else if (p == "le")
          f = [](double a, double b) { return double(a <= b); };
        else if (p == "gt")
          f = [](double a, double b) { return double(a > b); };
        else
          f = [](double a, double b) { return double(a >= b); };
        return s.binary(o, o.getLhs(), o.getRhs(), f);
      }),
      value<SelectOp>([](I &s, SelectOp o) { return s.select(o); }),
      value<MatmulOp>([](I &s, MatmulOp o) { return s.matmul(o); }),
      value<FusedMatmulOp>([](I &s, FusedMatmulOp o) -> R {
        R r = s.matmul(o);
        if (r.ok())
          s.epilogue(*r, s.in(o.getBias()), r->rank() - 1, o.getActivation());
        return r;
      }),
      value<FusedConv2DOp>([](I &s, FusedConv2DOp o) -> R {
        R r = s.conv(o, o.getInput(), o.getFilter(), o.getResult(), 0);
        if (r.ok())
          s.epilogue(*r, s.in(o.getBias()), 1, o.getActivation());
        return r;
      }),
      value<TransposeOp>([](I &s, TransposeOp o) { return s.transpose(o); }),
      value<ReshapeOp>([](I &s, ReshapeOp o) -> R {
        R r = s.blank(o.getResult());
        if (r.ok())
          r->data = s.in(o.getX()).data;
        return r;
      }),
      value<BroadcastToOp>([](I &s, BroadcastToOp o) { return s.broadcastTo(o); }),
      value<ReduceOp>([](I &s, ReduceOp o) { return s.reduce(o); }),
      value<ArgmaxOp>([](I &s, ArgmaxOp o) { return s.argmax(o); }),
      value<SoftmaxOp>(
          [](I &s, SoftmaxOp o) { return s.softmax(o, o.getX(), o.getAxis(), false); }),
      value<LogSoftmaxOp>(
          [](I &s, LogSoftmaxOp o) { return s.softmax(o, o.getX(), o.getAxis(), true); }),
      value<Conv2DOp>([](I &s, Conv2DOp o) {
        return s.conv(o, o.getInput(), o.getFilter(), o.getResult(), 0);
      }),
      value<Conv2DBackpropInputOp>([](I &s, Conv2DBackpropInputOp o) {
        return s.conv(o, o.getResult(), o.getFilter(), o.getGradOutput(), 1);
      }),
      value<Conv2DBackpropFilterOp>([](I &s, Conv2DBackpropFilterOp o) {
        return s.conv(o, o.getInput(), o.getResult(), o.getGradOutput(), 2);
      }),
      value<MaxPool2DOp>([](I &s, MaxPool2DOp o) {
        return s.pool(o, o.getInput(), o.getResult(), o.getResult(), true, false, false);
      }),
      value<AvgPool2DOp>([](I &s, AvgPool2DOp o) {
        return s.pool(o, o.getInput(), o.getResult(), o.getResult(), false, false,
                      o.getCountIncludePad());
      }),
      value<MaxPool2DGradOp>([](I &s, MaxPool2DGradOp o) {
        return s.pool(o, o.getInput(), o.getGradOutput(), o.getResult(), true, true, false);
      }),
      value<AvgPool2DGradOp>([](I &s, AvgPool2DGradOp o) {
        return s.pool(o, o.getResult(), o.getGradOutput(), o.getResult(), false, true,
                      o.getCountIncludePad());
      }),
      value<ConcatOp>([](I &s, ConcatOp o) { return s.concat(o); }),
      value<SliceOp>([](I &s, SliceOp o) { return s.slice(o); }),
      value<PadOp>([](I &s, PadOp o) { return s.pad(o); }),
      value<GatherOp>([](I &s, GatherOp o) {
        return s.gather(o, o.getParams(), o.getIndices(), Value(), o.getAxis(), false);
      }),
      value<ScatterAddOp>([](I &s, ScatterAddOp o) {
        return s.gather(o, o.getBase(), o.getIndices(), o.getUpdates(), o.getAxis(), true);
      }),
      value<OneHotOp>([](I &s, OneHotOp o) { return s.oneHot(o); }),
      value<IotaOp>([](I &s, IotaOp o) { return s.iota(o); }),
      value<CastOp>([](I &s, CastOp o) { return s.cast(o); }),
      // Logical values: no change.
      value<RelayoutOp>([](I &s, RelayoutOp o) -> R { return s.in(o.getX()); }),
      value<RandomUniformOp>([](I &s, RandomUniformOp o) {
        return s.random(o, o.getSeed(), false, o.getLow().convertToDouble(),
                        o.getHigh().convertToDouble());
      }),
      value<RandomNormalOp>([](I &s, RandomNormalOp o) {
        return s.random(o, o.getSeed(), true, o.getMean().convertToDouble(),
                        o.getStddev().convertToDouble());
      }),
      value<SoftmaxCrossEntropyOp>([](I &s, SoftmaxCrossEntropyOp o) { return s.crossEntropy(o); }),
      value<MeanSquaredErrorOp>([](I &s, MeanSquaredErrorOp o) { return s.mse(o); }),
  };
  return table;
}

absl::StatusOr<Tensor> Interpreter::constant(ConstantOp op) {
  auto r = blank(op.getResult());
  if (!r.ok())
    return r;
  auto dense = llvm::dyn_cast<DenseElementsAttr>(op.getValue());
  if (!dense)
    return error(op, "only dense constants are supported");
  int64_t i = 0;
  if (llvm::isa<FloatType>(dense.getElementType())) {
    for (const llvm::APFloat &v : dense.getValues<llvm::APFloat>()) {
      llvm::APFloat d = v;
      bool lost;
      d.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven, &lost);
      r->data[i++] = d.convertToDouble();
    }
  } else {
    bool isBool = dense.getElementType().isInteger(1);
    for (const llvm::APInt &v : dense.getValues<llvm::APInt>())
      r->data[i++] = isBool ? double(v.getZExtValue()) : double(v.getSExtValue());
  }
  return r;
}

absl::StatusOr<Tensor> Interpreter::unary(Operation *op, double (*f)(double)) {
  auto r = blank(op->getResult(0));
  if (!r.ok())
    return r;
  const Tensor &x = in(op->getOperand(0));
  for (size_t i = 0; i < x.data.size(); ++i)
    r->data[i] = f(x.data[i]);
  return r;
}

absl::StatusOr<Tensor> Interpreter::binary(Operation *op, Value lhs, Value rhs,
                                           const std::function<double(double, double)> &f) {
  auto r = blank(op->getResult(0));
  if (!r.ok())
    return r;
  const Tensor &a = in(lhs), &b = in(rhs);
  BroadcastIter it(r->shape, {a.shape, b.shape});
  for (double &out : r->data) {
    out = f(a.data[it.offset(0)], b.data[it.offset(1)]);
    it.next();
  }
  return r;
}

absl::StatusOr<Tensor> Interpreter::select(SelectOp op) {
  auto r = blank(op.getResult());
  if (!r.ok())
    return r;
  const Tensor &c = in(op.getCond()), &t = in(op.getOnTrue()), &f = in(op.getOnFalse());
  BroadcastIter it(r->shape, {c.shape, t.shape, f.shape});
  for (double &out : r->data) {
    out = c.data[it.offset(0)] != 0 ? t.data[it.offset(1)] : f.data[it.offset(2)];
    it.next();
  }
  return r;
}

template <typename MatmulLike> absl::StatusOr<Tensor> Interpreter::matmul(MatmulLike op) {
  auto r = blank(op.getResult());
  if (!r.ok())
    return r;
  const Tensor &a = in(op.getLhs()), &b = in(op.getRhs());
  bool ta = op.getTransposeLhs(), tb = op.getTransposeRhs();
  int64_t ar = a.rank(), br = b.rank(), rr = r->rank();
  int64_t m = r->shape[rr - 2], n = r->shape[rr - 1];
  int64_t k = ta ? a.shape[ar - 2] : a.shape[ar - 1];
  // Batch offsets through broadcasting of the leading dimensions.
  std::vector<int64_t> batch(r->shape.begin(), r->shape.end() - 2);
  std::vector<int64_t> aBatch(a.shape.begin(), a.shape.end() - 2);
  std::vector<int64_t> bBatch(b.shape.begin(), b.shape.end() - 2);
  BroadcastIter it(batch, {aBatch, bBatch});
  int64_t nb = numElements(batch), aMat = a.shape[ar - 2] * a.shape[ar - 1],
          bMat = b.shape[br - 2] * b.shape[br - 1];
  int64_t aCols = a.shape[ar - 1], bCols = b.shape[br - 1];
  for (int64_t bi = 0; bi < nb; ++bi) {
    const double *pa = a.data.data() + it.offset(0) * aMat;
    const double *pb = b.data.data() + it.offset(1) * bMat;
    double *pr = r->data.data() + bi * m * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < k; ++p)
          acc += (ta ? pa[p * aCols + i] : pa[i * aCols + p]) *
                 (tb ? pb[j * bCols + p] : pb[p * bCols + j]);
        pr[i * n + j] = acc;
      }
    it.next();
  }
  return r;
}

void Interpreter::epilogue(Tensor &t, const Tensor &bias, int64_t channelDim,
                           llvm::StringRef activation) {
  int64_t inner = 1;
  for (int64_t d = channelDim + 1; d < t.rank(); ++d)
    inner *= t.shape[size_t(d)];
  int64_t channels = t.shape[size_t(channelDim)];
  for (int64_t i = 0; i < t.numElements(); ++i) {
    double v = t.data[size_t(i)] + bias.data[size_t((i / inner) % channels)];
    if (activation == "relu")
      v = relu(v);
    else if (activation == "tanh")
      v = std::tanh(v);
    else if (activation == "sigmoid")
      v = sigmoid(v);
    t.data[size_t(i)] = v;
  }
}

absl::StatusOr<Tensor> Interpreter::transpose(TransposeOp op) {
  auto r = blank(op.getResult());
  if (!r.ok())
    return r;
  const Tensor &x = in(op.getX());
  ArrayRef<int64_t> perm = op.getPerm();
  Shape xs = rowMajorStrides(x.shape);
  // Walk the result in order, with the matching input strides.
  Shape strides;
  for (int64_t p : perm)
    strides.push_back(xs[p]);
  Shape idx(r->rank(), 0);
  int64_t off = 0;
  for (double &out : r->data) {
    out = x.data[off];
    for (int d = int(r->rank()) - 1; d >= 0; --d) {
      off += strides[d];
      if (++idx[d] < r->shape[d])
        break;
      off -= strides[d] * r->shape[d];
      idx[d] = 0;
    }
  }
  return r;
}

absl::StatusOr<Tensor> Interpreter::broadcastTo(BroadcastToOp op) {
  auto r = blank(op.getResult());
  if (!r.ok())
    return r;
  const Tensor &x = in(op.getX());
  BroadcastIter it(r->shape, {x.shape});
  for (double &out : r->data) {
    out = x.data[it.offset(0)];
    it.next();
  }
  return r;
}

absl::StatusOr<Tensor> Interpreter::reduce(ReduceOp op) {
  auto r = blank(op.getResult());
  if (!r.ok())
    return r;
  const Tensor &x = in(op.getX());
  StringRef kind = op.getKind();
  ArrayRef<int64_t> axes = op.getAxes();
  SmallVector<bool> reduced(x.rank(), axes.empty());
  for (int64_t a : axes)
    reduced[a] = true;
  // Strides of the output indexed by input dimensions (0 for reduced ones).
  Shape outStrides(x.rank(), 0);
  int64_t stride = 1, count = 1;
  for (int64_t d = x.rank() - 1; d >= 0; --d) {
    if (reduced[d]) {
      count *= x.shape[d];
      continue;
    }
    outStrides[d] = stride;
    stride *= x.shape[d];
  }
  if ((kind == "max" || kind == "min") && count == 0 && r->numElements() > 0)
    return error(op, absl::StrCat("cannot take the ", kind.str(), " of an empty axis of shape ",
                                  shapeToString(x.shape)));
  double init = kind == "max" ? -INFINITY : kind == "min" ? INFINITY : 0.0;
  std::fill(r->data.begin(), r->data.end(), init);
  Shape idx(x.rank(), 0);
  int64_t off = 0;
  for (double v : x.data) {
    double &acc = r->data[off];
    if (kind == "max")
      acc = std::isnan(v) || std::isnan(acc) ? NAN : std::max(acc, v);
    else if (kind == "min")
      acc = std::isnan(v) || std::isnan(acc) ? NAN : std::min(acc, v);
    else
      acc += v;
    for (int d = int(x.rank()) - 1; d >= 0; --d) {
      off += outStrides[d];
      if (++idx[d] < x.shape[d])
        break;
      off -= outStrides[d] * x.shape[d];
      idx[d] = 0;
    }
  }
  if (kind == "mean") {
    bool isInt = !isFloat(r->dtype);
    for (double &v : r->data)
      v = isInt ? (count ? std::trunc(v / double(count)) : 0) : v / double(count);
  }
  return r;
}

absl::StatusOr<Tensor> Interpreter::argmax(ArgmaxOp op) {
  auto r = blank(op.getResult());
  if (!r.ok())
    return r;
  const Tensor &x = in(op.getX());
  AxisSplit s(x.shape, op.getAxis());
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t i = 0; i < s.inner; ++i) {
      int64_t best = 0;
      double bestV = x.data[o * s.size * s.inner + i];
      for (int64_t k = 1; k < s.size; ++k) {
        double v = x.data[(o * s.size + k) * s.inner + i];
        if (v > bestV || (std::isnan(v) && !std::isnan(bestV))) {
          best = k;
          bestV = v;
        }
      }
      r->data[o * s.inner + i] = double(best);
    }
  return r;
}

absl::StatusOr<Tensor> Interpreter::softmax(Operation *op, Value xv, int64_t axis, bool log) {
  auto r = blank(op->getResult(0));
  if (!r.ok())
    return r;
  const Tensor &x = in(xv);
  AxisSplit s(x.shape, axis);
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t i = 0; i < s.inner; ++i) {
      auto at = [&](int64_t k) { return (o * s.size + k) * s.inner + i; };
      double mx = -INFINITY;
      for (int64_t k = 0; k < s.size; ++k)
        mx = std::max(mx, x.data[at(k)]);
      double sum = 0;
      for (int64_t k = 0; k < s.size; ++k)
        sum += std::exp(x.data[at(k)] - mx);
      for (int64_t k = 0; k < s.size; ++k)
        r->data[at(k)] =
            log ? x.data[at(k)] - mx - std::log(sum) : std::exp(x.data[at(k)] - mx) / sum;
    }
  return r;
}

/// Every query row on its own: the allowed keys' softmax P of the scaled
/// scores, out = P v; the gradient from dP = dO v^T and D = rowsum(dO * out):
/// dS = P (dP - D), dq = scale dS k, dk = scale dS^T q, dv = P^T dO. A row
/// with no allowed key gives zeros.
absl::Status Interpreter::attention(Operation *op, bool grad) {
  auto shapeOf = [](Value v) { return llvm::cast<RankedTensorType>(v.getType()).getShape(); };
  Value qv = op->getOperand(0), kv = op->getOperand(1), vv = op->getOperand(2);
  Value maskV = grad ? llvm::cast<AttentionGradOp>(op).getMask() : llvm::cast<AttentionOp>(op).getMask();
  bool causal = op->getAttrOfType<BoolAttr>("causal").getValue();
  double scale = op->getAttrOfType<FloatAttr>("scale").getValueAsDouble();
  ArrayRef<int64_t> qs = shapeOf(qv), ks = shapeOf(kv), vs = shapeOf(vv);
  int64_t r = int64_t(qs.size()), Tq = qs[r - 2], D = qs[r - 1], Tk = ks[r - 2], Dv = vs[r - 1];
  int64_t batch = 1;
  for (int64_t i = 0; i < r - 2; ++i)
    batch *= qs[i];
  const Tensor &q = in(qv), &k = in(kv), &v = in(vv);
  const Tensor *mask = maskV ? &in(maskV) : nullptr;
  // The mask's strides, 0 along its broadcast (size-1) dimensions.
  std::vector<int64_t> maskStride(size_t(r), 0);
  if (mask) {
    ArrayRef<int64_t> ms = shapeOf(maskV);
    for (int64_t i = r - 1, st = 1; i >= 0; st *= ms[i], --i)
      maskStride[size_t(i)] = ms[i] == 1 ? 0 : st;
  }
  std::vector<Tensor> out;
  for (unsigned i = 0; i < op->getNumResults(); ++i) {
    absl::StatusOr<Tensor> t = blank(op->getResult(i));
    if (!t.ok())
      return t.status();
    out.push_back(std::move(*t));
  }
  const Tensor *o = grad ? &in(op->getOperand(3)) : nullptr, *dO = grad ? &in(op->getOperand(4)) : nullptr;
  std::vector<double> p(static_cast<size_t>(Tk));
  std::vector<char> allowed(static_cast<size_t>(Tk));
  for (int64_t b = 0; b < batch; ++b) {
    int64_t maskBase = 0;
    for (int64_t i = r - 3, rest = b; i >= 0; --i) {
      maskBase += (rest % qs[i]) * maskStride[size_t(i)];
      rest /= qs[i];
    }
    const double *qb = &q.data[size_t(b * Tq * D)], *kb = &k.data[size_t(b * Tk * D)],
                 *vb = &v.data[size_t(b * Tk * Dv)];
    for (int64_t i = 0; i < Tq; ++i) {
      double mx = -INFINITY;
      for (int64_t j = 0; j < Tk; ++j) {
        allowed[j] = (!causal || j <= i) &&
                     (!mask || mask->data[size_t(maskBase + i * maskStride[r - 2] +
                                                 j * maskStride[r - 1])] != 0);
        double sc = 0;
        for (int64_t d = 0; d < D; ++d)
          sc += qb[i * D + d] * kb[j * D + d];
        p[j] = scale * sc;
        if (allowed[j])
          mx = std::max(mx, p[j]);
      }
      if (mx == -INFINITY)
        continue; // no allowed key: zeros
      double sum = 0;
      for (int64_t j = 0; j < Tk; ++j)
        sum += p[j] = allowed[j] ? std::exp(p[j] - mx) : 0.0;
      for (int64_t j = 0; j < Tk; ++j)
        p[j] /= sum;
      if (!grad) {
        double *row = &out[0].data[size_t((b * Tq + i) * Dv)];
        for (int64_t j = 0; j < Tk; ++j)
          for (int64_t e = 0; e < Dv; ++e)
            row[e] += p[j] * vb[j * Dv + e];
        continue;
      }
      const double *dOi = &dO->data[size_t((b * Tq + i) * Dv)], *oi = &o->data[size_t((b * Tq + i) * Dv)];
      double rowDot = 0;
      for (int64_t e = 0; e < Dv; ++e)
        rowDot += dOi[e] * oi[e];
      double *dq = &out[0].data[size_t((b * Tq + i) * D)];
      double *dk = &out[1].data[size_t(b * Tk * D)], *dvb = &out[2].data[size_t(b * Tk * Dv)];
      for (int64_t j = 0; j < Tk; ++j) {
        if (!allowed[j])
          continue;
        double dpj = 0;
        for (int64_t e = 0; e < Dv; ++e) {
          dpj += dOi[e] * vb[j * Dv + e];
          dvb[j * Dv + e] += p[j] * dOi[e];
        }
        double ds = p[j] * (dpj - rowDot) * scale;
        for (int64_t d = 0; d < D; ++d) {
          dq[d] += ds * kb[j * D + d];
          dk[j * D + d] += ds * qb[i * D + d];
        }
      }
    }
  }
  for (unsigned i = 0; i < op->getNumResults(); ++i) {
    finish(out[i]);
    env[op->getResult(i)] = std::move(out[i]);
  }
  return absl::OkStatus();
}

/// mode 0: output = conv(input, filter); 1: d input from d output; 2: d filter.
absl::StatusOr<Tensor> Interpreter::conv(Operation *op, Value inputV, Value filterV, Value outputV,
                                         int mode) {
  auto r = blank(op->getResult(0));
  if (!r.ok())
    return r;
  auto shapeOf = [](Value v) { return llvm::cast<RankedTensorType>(v.getType()).getShape(); };
  ArrayRef<int64_t> is = shapeOf(inputV), ws = shapeOf(filterV), os = shapeOf(outputV);
  auto strides = op->getAttrOfType<DenseI64ArrayAttr>("strides").asArrayRef();
  auto padding = op->getAttrOfType<DenseI64ArrayAttr>("padding").asArrayRef();
  auto dilations = op->getAttrOfType<DenseI64ArrayAttr>("dilations").asArrayRef();
  int64_t groups = op->getAttrOfType<IntegerAttr>("groups").getInt();
  int64_t N = is[0], C = is[1], H = is[2], W = is[3];
  int64_t O = ws[0], CG = ws[1], KH = ws[2], KW = ws[3];
  int64_t OH = os[2], OW = os[3], OG = O / groups;
  const double *x = mode == 1 ? nullptr : in(inputV).data.data();
  const double *w = mode == 2 ? nullptr : in(filterV).data.data();
  const double *y = mode == 0 ? nullptr : in(outputV).data.data();
  double *out = r->data.data();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o) {
      int64_t g = o / OG;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          int64_t yi = ((n * O + o) * OH + oh) * OW + ow;
          double acc = 0;
          for (int64_t cg = 0; cg < CG; ++cg) {
            int64_t c = g * CG + cg;
            for (int64_t kh = 0; kh < KH; ++kh) {
              int64_t h = oh * strides[0] - padding[0] + kh * dilations[0];
              if (h < 0 || h >= H)
                continue;
              for (int64_t kw = 0; kw < KW; ++kw) {
                int64_t wc = ow * strides[1] - padding[2] + kw * dilations[1];
                if (wc < 0 || wc >= W)
                  continue;
                int64_t xi = ((n * C + c) * H + h) * W + wc;
                int64_t wi = ((o * CG + cg) * KH + kh) * KW + kw;
                if (mode == 0)
                  acc += x[xi] * w[wi];
                else if (mode == 1)
                  out[xi] += y[yi] * w[wi];
                else
                  out[wi] += y[yi] * x[xi];
              }
            }
          }
          if (mode == 0)
            out[yi] = acc;
        }
    }
  return r;
}

/// Pooling forward (grad = false) or backward. `pooled` is the forward output
/// (forward) or grad_output (backward); `result` is the op result.
absl::StatusOr<Tensor> Interpreter::pool(Operation *op, Value inputV, Value pooledV, Value result,
                                         bool max, bool grad, bool countIncludePad) {
  auto r = blank(result);
  if (!r.ok())
    return r;
  auto shapeOf = [](Value v) { return llvm::cast<RankedTensorType>(v.getType()).getShape(); };
  ArrayRef<int64_t> is = shapeOf(inputV), ps = shapeOf(pooledV);
  auto kernel = op->getAttrOfType<DenseI64ArrayAttr>("kernel").asArrayRef();
  auto strides = op->getAttrOfType<DenseI64ArrayAttr>("strides").asArrayRef();
  auto padding = op->getAttrOfType<DenseI64ArrayAttr>("padding").asArrayRef();
  int64_t NC = is[0] * is[1], H = is[2], W = is[3], OH = ps[2], OW = ps[3];
  const double *x = (max || !grad) ? in(inputV).data.data() : nullptr;
  const double *dy = grad ? in(pooledV).data.data() : nullptr;
  double *out = r->data.data();
  for (int64_t nc = 0; nc < NC; ++nc)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        int64_t h0 = oh * strides[0] - padding[0], w0 = ow * strides[1] - padding[2];
        int64_t yi = (nc * OH + oh) * OW + ow;
        double best = -INFINITY, sum = 0;
        int64_t bestAt = -1, valid = 0;
        for (int64_t h = std::max<int64_t>(h0, 0); h < std::min(h0 + kernel[0], H); ++h)
          for (int64_t w = std::max<int64_t>(w0, 0); w < std::min(w0 + kernel[1], W); ++w) {
            int64_t xi = (nc * H + h) * W + w;
            ++valid;
            if (max) {
              if (bestAt < 0 || x[xi] > best || (std::isnan(x[xi]) && !std::isnan(best))) {
                best = x[xi];
                bestAt = xi;
              }
            } else if (!grad) {
              sum += x[xi];
            }
          }
        int64_t count = countIncludePad ? kernel[0] * kernel[1] : valid;
        if (!grad) {
          out[yi] = max ? best : sum / double(count);
          continue;
        }
        if (max) {
          out[bestAt] += dy[yi];
          continue;
        }
        for (int64_t h = std::max<int64_t>(h0, 0); h < std::min(h0 + kernel[0], H); ++h)
          for (int64_t w = std::max<int64_t>(w0, 0); w < std::min(w0 + kernel[1], W); ++w)
            out[(nc * H + h) * W + w] += dy[yi] / double(count);
      }
  return r;
}

absl::StatusOr<Tensor> Interpreter::concat(ConcatOp op) {
  auto r = blank(op.getResult());
  if (!r.ok())
    return r;
  int64_t axis = op.getAxis();
  AxisSplit rs(r->shape, axis);
  int64_t base = 0;
  for (Value v : op.getInputs()) {
    const Tensor &x = in(v);
    AxisSplit s(x.shape, axis);
    for (int64_t o = 0; o < s.outer; ++o)
      for (int64_t k = 0; k < s.size; ++k)
        for (int64_t i = 0; i < s.inner; ++i)
          r->data[(o * rs.size + base + k) * rs.inner + i] = x.data[(o * s.size + k) * s.inner + i];
    base += s.size;
  }
  return r;
}

absl::StatusOr<Tensor> Interpreter::slice(SliceOp op) {
  auto r = blank(op.getResult());
  if (!r.ok())
    return r;
  const Tensor &x = in(op.getX());
  ArrayRef<int64_t> start = op.getStart(), step = op.getStrides();
  Shape xs = rowMajorStrides(x.shape);
  Shape idx(r->rank(), 0);
  for (double &out : r->data) {
    int64_t off = 0;
    for (int64_t d = 0; d < r->rank(); ++d)
      off += (start[d] + idx[d] * step[d]) * xs[d];
    out = x.data[off];
    for (int d = int(r->rank()) - 1; d >= 0; --d) {
      if (++idx[d] < r->shape[d])
        break;
      idx[d] = 0;
    }
  }
  return r;
}

absl::StatusOr<Tensor> Interpreter::pad(PadOp op) {
  auto r = blank(op.getResult());
  if (!r.ok())
    return r;
  const Tensor &x = in(op.getX());
  std::fill(r->data.begin(), r->data.end(), op.getValue().convertToDouble());
  ArrayRef<int64_t> low = op.getLow();
  Shape rsStrides = rowMajorStrides(r->shape);
  Shape idx(x.rank(), 0);
  for (double v : x.data) {
    int64_t off = 0;
    for (int64_t d = 0; d < x.rank(); ++d)
      off += (idx[d] + low[d]) * rsStrides[d];
    r->data[off] = v;
    for (int d = int(x.rank()) - 1; d >= 0; --d) {
      if (++idx[d] < x.shape[d])
        break;
      idx[d] = 0;
    }
  }
  return r;
}

absl::StatusOr<Tensor> Interpreter::gather(Operation *op, Value paramsV, Value indicesV,
                                           Value updatesV, int64_t axis, bool scatter) {
  auto r = blank(op->getResult(0));
  if (!r.ok())
    return r;
  const Tensor &p = in(paramsV), &idx = in(indicesV);
  AxisSplit s(p.shape, axis);
  int64_t ni = idx.numElements();
  if (scatter)
    r->data = p.data;
  const double *upd = scatter ? in(updatesV).data.data() : nullptr;
  for (int64_t j = 0; j < ni; ++j) {
    auto k = index(op, idx, j, s.size, "index");
    if (!k.ok())
      return k.status();
    for (int64_t o = 0; o < s.outer; ++o)
      for (int64_t i = 0; i < s.inner; ++i) {
        int64_t pi = (o * s.size + *k) * s.inner + i, gi = (o * ni + j) * s.inner + i;
        if (scatter)
          r->data[pi] += upd[gi];
        else
          r->data[gi] = p.data[pi];
      }
  }
  return r;
}

absl::StatusOr<Tensor> Interpreter::oneHot(OneHotOp op) {
  auto r = blank(op.getResult());
  if (!r.ok())
    return r;
  const Tensor &idx = in(op.getIndices());
  int64_t depth = r->shape.back();
  double on = op.getOnValue().convertToDouble(), off = op.getOffValue().convertToDouble();
  for (int64_t j = 0; j < idx.numElements(); ++j)
    for (int64_t k = 0; k < depth; ++k)
      r->data[j * depth + k] = idx.data[j] == double(k) ? on : off;
  return r;
}

absl::StatusOr<Tensor> Interpreter::iota(IotaOp op) {
  auto r = blank(op.getResult());
  if (!r.ok())
    return r;
  size_t d = size_t(op.getDimension());
  int64_t stride = 1;
  for (size_t k = d + 1; k < r->shape.size(); ++k)
    stride *= r->shape[k];
  for (int64_t j = 0; j < r->numElements(); ++j)
    r->data[size_t(j)] = double((j / stride) % r->shape[d]);
  return r;
}

absl::StatusOr<Tensor> Interpreter::cast(CastOp op) {
  auto r = blank(op.getResult());
  if (!r.ok())
    return r;
  const Tensor &x = in(op.getX());
  bool toInt = !isFloat(r->dtype) && r->dtype != DType::i1;
  for (size_t i = 0; i < x.data.size(); ++i)
    r->data[i] = toInt ? std::trunc(x.data[i]) : x.data[i];
  return r;
}

absl::StatusOr<Tensor> Interpreter::random(Operation *op, Value seedV, bool normal, double a,
                                           double b) {
  auto r = blank(op->getResult(0));
  if (!r.ok())
    return r;
  uint64_t seed = uint64_t(int64_t(in(seedV).data[0]));
  for (int64_t i = 0; i < r->numElements(); ++i)
    r->data[i] = normal ? a + b * philoxNormal(seed, uint64_t(i))
                        : a + (b - a) * philoxUniform(seed, uint64_t(i));
  return r;
}

absl::StatusOr<Tensor> Interpreter::crossEntropy(SoftmaxCrossEntropyOp op) {
  auto r = blank(op.getResult());
  if (!r.ok())
    return r;
  const Tensor &logits = in(op.getLogits()), &labels = in(op.getLabels());
  int64_t C = logits.shape.back(), rows = labels.numElements();
  std::vector<double> losses(rows);
  for (int64_t j = 0; j < rows; ++j) {
    auto label = index(op, labels, j, C, "label");
    if (!label.ok())
      return label.status();
    const double *row = logits.data.data() + j * C;
    double mx = -INFINITY, sum = 0;
    for (int64_t k = 0; k < C; ++k)
      mx = std::max(mx, row[k]);
    for (int64_t k = 0; k < C; ++k)
      sum += std::exp(row[k] - mx);
    losses[j] = mx + std::log(sum) - row[*label];
  }
  StringRef red = op.getReduction();
  if (red == "none") {
    r->data = losses;
    return r;
  }
  double total = 0;
  for (double l : losses)
    total += l;
  r->data[0] = red == "sum" ? total : total / double(rows);
  return r;
}

absl::StatusOr<Tensor> Interpreter::mse(MeanSquaredErrorOp op) {
  auto r = blank(op.getResult());
  if (!r.ok())
    return r;
  const Tensor &p = in(op.getPredictions()), &t = in(op.getTargets());
  StringRef red = op.getReduction();
  double total = 0;
  for (size_t i = 0; i < p.data.size(); ++i) {
    double d = p.data[i] - t.data[i];
    if (red == "none")
      r->data[i] = d * d;
    total += d * d;
  }
  if (red != "none")
    r->data[0] = red == "sum" ? total : total / double(p.data.size());
  return r;
}

} // namespace

bool interpreterHandles(llvm::StringRef opName) { return Interpreter::handlers().contains(opName); }

absl::StatusOr<std::vector<Tensor>> interpretFunction(func::FuncOp fn,
                                                      const std::vector<Tensor> &args,
                                                      const InterpretOptions &options) {
  return Interpreter(options).run(fn, args);
}

} // namespace tg
