//===- Layers.cpp - tg::layers built from tg::ops -------------------------===//
//
// Layers use only the public graph API, so they are exactly what a user
// could write by hand.
//
//===----------------------------------------------------------------------===//
#include "tg/Layers.h"
#include "frontend/GraphImpl.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <tuple>

namespace tg {
namespace layers {
namespace {

/// Records a layer's own error in the graph and returns an invalid value.
Value layerError(Graph &g, const std::string &message) {
  g.recordError(absl::InvalidArgumentError(message));
  return {};
}

} // namespace

Value activate(Value x, Activation activation) {
  switch (activation) {
  case Activation::none:
    return x;
  case Activation::relu:
    return ops::relu(x);
  case Activation::tanh:
    return ops::tanh(x);
  case Activation::sigmoid:
    return ops::sigmoid(x);
  case Activation::gelu:
    return ops::gelu(x);
  case Activation::softmax:
    return ops::softmax(x, -1);
  }
  return x;
}

Dense::Dense(int64_t units, std::string name) : units_(units), name_(std::move(name)) {}

Value Dense::operator()(Value x) const {
  if (!x.valid())
    return {};
  Graph &g = *x.graph();
  Graph::NameScope scope(g, name_.empty() ? g.uniqueName("dense") : name_);
  if (x.rank() < 1)
    return layerError(g,
                      absl::StrCat("Dense: expects an input of rank >= 1, got ", x.typeString()));
  int64_t in = x.dim(-1);
  double bound = 1.0 / std::sqrt(double(std::max<int64_t>(in, 1)));
  Value kernel = g.param("kernel", {in, units_},
                         torchInit_ ? Init::uniform(-bound, bound) : kernelInit_, x.dtype());
  Value y = ops::matmul(x.rank() == 2 ? x : ops::reshape(x, {-1, in}), kernel);
  if (x.rank() != 2 && y.valid()) {
    std::vector<int64_t> shape = x.shape();
    shape.back() = units_;
    y = ops::reshape(y, shape);
  }
  if (useBias_)
    y = y + g.param("bias", {units_}, torchInit_ ? Init::uniform(-bound, bound) : biasInit_,
                    x.dtype());
  return activate(y, activation_);
}

Conv2D::Conv2D(int64_t filters, std::array<int64_t, 2> kernel, std::string name)
    : filters_(filters), kernel_(kernel), name_(std::move(name)) {}

Value Conv2D::operator()(Value x) const {
  if (!x.valid())
    return {};
  Graph &g = *x.graph();
  Graph::NameScope scope(g, name_.empty() ? g.uniqueName("conv2d") : name_);
  ops::Conv2DOptions options;
  options.strides = strides_;
  if (explicitPadding_) {
    for (int64_t p : *explicitPadding_)
      if (p < 0)
        return layerError(g, "Conv2D: padding must be >= 0");
    options.padding = *explicitPadding_;
  } else if (padding_ == "same") {
    // TensorFlow's SAME: output = ceil(input / stride), extra padding at the end.
    for (int d = 0; d < 2; ++d) {
      int64_t in = x.dim(2 + d), s = strides_[d];
      int64_t out = (in + s - 1) / s;
      int64_t total = std::max<int64_t>((out - 1) * s + kernel_[d] - in, 0);
      options.padding[2 * d] = total / 2;
      options.padding[2 * d + 1] = total - total / 2;
    }
  } else if (padding_ != "valid") {
    return layerError(
        g, absl::StrCat("Conv2D: padding must be \"valid\" or \"same\", got \"", padding_, "\""));
  }
  if (x.rank() != 4)
    return layerError(g, absl::StrCat("Conv2D: expects an NCHW input, got ", x.typeString()));
  Value filter =
      g.param("kernel", {filters_, x.dim(1), kernel_[0], kernel_[1]}, kernelInit_, x.dtype());
  Value y = ops::conv2d(x, filter, options);
  if (useBias_)
    y = y + ops::reshape(g.param("bias", {filters_}, biasInit_, x.dtype()), {filters_, 1, 1});
  return activate(y, activation_);
}

Value MaxPool2D::operator()(Value x) const {
  ops::Pool2DOptions options;
  options.kernel = pool_;
  options.strides = strides_;
  options.padding = padding_;
  return ops::maxPool2d(x, options);
}

Value AvgPool2D::operator()(Value x) const {
  ops::Pool2DOptions options;
  options.kernel = pool_;
  options.strides = strides_;
  options.padding = padding_;
  options.countIncludePad = countIncludePad_;
  return ops::avgPool2d(x, options);
}

Value GlobalAvgPool2D::operator()(Value x) const {
  if (!x.valid())
    return {};
  if (x.rank() != 4)
    return layerError(*x.graph(),
                      absl::StrCat("GlobalAvgPool2D: expects an NCHW input, got ", x.typeString()));
  return ops::reduceMean(x, {2, 3});
}

Value BatchNorm::operator()(Value x) const {
  if (!x.valid())
    return {};
  Graph &g = *x.graph();
  if (x.rank() != 2 && x.rank() != 4)
    return layerError(g, absl::StrCat("BatchNorm: expects [N, C] or NCHW, got ", x.typeString()));
  if (!(momentum_ >= 0 && momentum_ <= 1) || !(eps_ > 0))
    return layerError(g, "BatchNorm: momentum must be in [0, 1] and epsilon > 0");
  std::string scope = name_.empty() ? g.uniqueName("batch_norm") : name_;
  Value t = g.training();
  Graph::NameScope named(g, scope);
  int64_t C = x.dim(1), n = x.dim(0);
  std::vector<int64_t> axes = {0}, channel = {C};
  if (x.rank() == 4) {
    axes = {0, 2, 3};
    channel = {C, 1, 1};
    n *= x.dim(2) * x.dim(3);
  }
  DType dt = x.dtype();
  if (dt != DType::f32)
    t = ops::cast(t, dt);
  Value runningMean = g.state("running_mean", {C}, Init::zeros(), dt);
  Value runningVar = g.state("running_var", {C}, Init::ones(), dt);
  Value gamma = g.param("gamma", {C}, Init::ones(), dt);
  Value beta = g.param("beta", {C}, Init::zeros(), dt);
  Value batchMean = ops::reduceMean(x, axes);
  Value centered = x - ops::reshape(batchMean, channel);
  Value batchVar = ops::reduceMean(centered * centered, axes);
  // t is 1 or 0 (a constant once tg-build-train-step binds it): a blend
  // picks the batch's or the running statistics.
  Value mean = t * batchMean + (1.0 - t) * runningMean;
  Value var = t * batchVar + (1.0 - t) * runningVar;
  double unbias = n > 1 ? double(n) / double(n - 1) : 1.0;
  g.updateState(scope + ".running_mean_next",
                t * ((1.0 - momentum_) * runningMean + momentum_ * batchMean) +
                    (1.0 - t) * runningMean,
                runningMean);
  g.updateState(scope + ".running_var_next",
                t * ((1.0 - momentum_) * runningVar + momentum_ * unbias * batchVar) +
                    (1.0 - t) * runningVar,
                runningVar);
  // Only training moves them: eval_step and predict do not output them, so
  // they are neither stateful steps (the evaluator counts the last partial
  // batch) nor recurrent state (tgc train --reset-state leaves them alone).
  if (g.status().ok())
    for (auto &out : g.impl().outputs)
      if (out.name == scope + ".running_mean_next" || out.name == scope + ".running_var_next")
        out.trainOnly = true;
  Value scale = gamma * ops::rsqrt(var + eps_);
  return (x - ops::reshape(mean, channel)) * ops::reshape(scale, channel) +
         ops::reshape(beta, channel);
}

Value LayerNorm::operator()(Value x) const {
  if (!x.valid())
    return {};
  Graph &g = *x.graph();
  if (axes_ < 1 || axes_ > x.rank())
    return layerError(g, absl::StrCat("LayerNorm: normalizes 1..", x.rank(), " trailing axes of ",
                                      x.typeString(), ", got ", axes_));
  Graph::NameScope scope(g, name_.empty() ? g.uniqueName("layer_norm") : name_);
  std::vector<int64_t> axes, shape;
  for (int64_t a = x.rank() - axes_; a < x.rank(); ++a) {
    axes.push_back(a);
    shape.push_back(x.dim(a));
  }
  Value mean = ops::reduceMean(x, axes, /*keepdims=*/true);
  Value centered = x - mean;
  Value var = ops::reduceMean(centered * centered, axes, /*keepdims=*/true);
  Value normalized = centered * ops::rsqrt(var + eps_);
  Value gamma = g.param("gamma", shape, Init::ones(), x.dtype());
  Value beta = g.param("beta", shape, Init::zeros(), x.dtype());
  return normalized * gamma + beta;
}

Value Flatten::operator()(Value x) const {
  if (!x.valid())
    return {};
  return ops::reshape(x, {x.dim(0), -1});
}

Embedding::Embedding(int64_t vocab, int64_t dim, std::string name)
    : vocab_(vocab), dim_(dim), name_(std::move(name)) {}

Value Embedding::operator()(Value ids) const {
  if (!ids.valid())
    return {};
  Graph &g = *ids.graph();
  if (table_.valid() && table_.graph() != &g)
    return layerError(g, "Embedding: called on a value of another graph than its table's");
  if (!table_.valid()) {
    Graph::NameScope scope(g, name_.empty() ? g.uniqueName("embedding") : name_);
    table_ = g.param("table", {vocab_, dim_}, init_, dtype_);
  }
  return ops::gather(table_, ids, 0);
}

Value Embedding::attend(Value x) const {
  if (!x.valid())
    return {};
  Graph &g = *x.graph();
  if (!table_.valid() || table_.graph() != &g)
    return layerError(g, "Embedding::attend: call the embedding on this graph's ids first (it "
                         "creates the table the output layer shares)");
  if (x.rank() < 1 || x.dim(-1) != dim_)
    return layerError(g, absl::StrCat("Embedding::attend: expects [..., ", dim_, "], got ",
                                      x.typeString()));
  Value flat = x.rank() == 2 ? x : ops::reshape(x, {-1, dim_});
  Value y = ops::matmul(flat, table_, false, /*transposeB=*/true);
  if (x.rank() != 2 && y.valid()) {
    std::vector<int64_t> shape = x.shape();
    shape.back() = vocab_;
    y = ops::reshape(y, shape);
  }
  return y;
}

MultiHeadAttention::MultiHeadAttention(int64_t embedDim, int64_t numHeads, std::string name)
    : embedDim_(embedDim), numHeads_(numHeads), name_(std::move(name)) {}

Value MultiHeadAttention::operator()(Value x, Value keyPaddingMask) const {
  return attention(x, x, x, keyPaddingMask, /*self=*/true);
}

Value MultiHeadAttention::operator()(Value query, Value key, Value value,
                                     Value keyPaddingMask) const {
  return attention(query, key, value, keyPaddingMask, /*self=*/false);
}

Value MultiHeadAttention::attention(Value query, Value key, Value value, Value pad,
                                    bool self) const {
  if (!query.valid() || !key.valid() || !value.valid())
    return {};
  Graph &g = *query.graph();
  const int64_t E = embedDim_, H = numHeads_;
  if (E < 1 || H < 1 || E % H != 0)
    return layerError(g, absl::StrCat("MultiHeadAttention: numHeads must divide embedDim (both "
                                      "positive), got embedDim ",
                                      E, " and numHeads ", H));
  auto is = [&](Value v, int64_t b, int64_t t) {
    return v.rank() == 3 && (b < 0 || v.dim(0) == b) && (t < 0 || v.dim(1) == t) && v.dim(2) == E;
  };
  if (!is(query, -1, -1) || !is(key, query.dim(0), -1) ||
      !is(value, query.dim(0), key.rank() == 3 ? key.dim(1) : -1))
    return layerError(g, absl::StrCat("MultiHeadAttention: expects query [B, T, ", E,
                                      "] and key, value [B, S, ", E, "], got ",
                                      query.typeString(), ", ", key.typeString(), ", ",
                                      value.typeString()));
  const int64_t B = query.dim(0), T = query.dim(1), S = key.dim(1), D = E / H;
  if (pad.valid() && (pad.dtype() != DType::i1 || pad.shape() != std::vector<int64_t>{B, S}))
    return layerError(g, absl::StrCat("MultiHeadAttention: the key padding mask must be i1 [", B,
                                      ", ", S, "] (true: ignore that key), got ",
                                      pad.typeString()));
  Graph::NameScope scope(g, name_.empty() ? g.uniqueName("attention") : name_);
  DType dt = query.dtype();
  Value w = g.param("in_proj_weight", {3 * E, E}, Init::glorotUniform(), dt);
  Value b = useBias_ ? g.param("in_proj_bias", {3 * E}, Init::zeros(), dt) : Value();
  // Projections as PyTorch's F.linear: x @ W^T + b, on [B * len, E].
  auto linear = [&](Value x, Value weight, Value bias) {
    Value y = ops::matmul(ops::reshape(x, {-1, E}), weight, false, /*transposeB=*/true);
    return bias.valid() ? y + bias : y;
  };
  Value q, k, v;
  if (self) { // one matmul for the three
    std::vector<Value> qkv = ops::split(linear(query, w, b), 3, 1);
    if (qkv.size() != 3)
      return {};
    q = qkv[0], k = qkv[1], v = qkv[2];
  } else {
    std::vector<Value> ws = ops::split(w, 3, 0), bs(3);
    if (b.valid())
      bs = ops::split(b, 3, 0);
    if (ws.size() != 3 || bs.size() != 3)
      return {};
    q = linear(query, ws[0], bs[0]), k = linear(key, ws[1], bs[1]), v = linear(value, ws[2], bs[2]);
  }
  // [B * len, E] -> [B, H, len, D]
  auto heads = [&](Value x, int64_t len) {
    return ops::transpose(ops::reshape(x, {B, len, H, D}), {0, 2, 1, 3});
  };
  Value o;
  if (fused_) {
    ops::AttentionOptions options;
    options.causal = causal_;
    // tg.attention's mask is true where a key is seen.
    if (pad.valid())
      options.mask = ops::select(ops::reshape(pad, {B, 1, 1, S}), ops::scalar(g, 0, DType::i1),
                                 ops::scalar(g, 1, DType::i1));
    o = ops::attention(heads(q, T), heads(k, S), heads(v, S), options);
  } else {
    Value scores = ops::matmul(heads(q, T), heads(k, S), false, /*transposeB=*/true) *
                   (1.0 / std::sqrt(double(D)));
    Value minusInf = ops::scalar(g, -std::numeric_limits<double>::infinity(), dt);
    if (causal_)
      scores = ops::select(ops::triangularMask(g, T, S), scores, minusInf);
    if (pad.valid())
      scores = ops::select(ops::reshape(pad, {B, 1, 1, S}), minusInf, scores);
    o = ops::matmul(ops::softmax(scores, -1), heads(v, S));
  }
  o = ops::reshape(ops::transpose(o, {0, 2, 1, 3}), {B * T, E});
  double bound = 1.0 / std::sqrt(double(E));
  Graph::NameScope out(g, "out_proj");
  Value wo = g.param("weight", {E, E}, Init::uniform(-bound, bound), dt);
  Value bo = useBias_ ? g.param("bias", {E}, Init::zeros(), dt) : Value();
  return ops::reshape(linear(o, wo, bo), {B, T, E});
}

TransformerBlock::TransformerBlock(int64_t embedDim, int64_t numHeads, std::string name)
    : embedDim_(embedDim), numHeads_(numHeads), name_(std::move(name)) {}

Value TransformerBlock::operator()(Value x) const {
  if (!x.valid())
    return {};
  Graph &g = *x.graph();
  if (mlpRatio_ < 1)
    return layerError(g, absl::StrCat("TransformerBlock: mlpRatio must be >= 1, got ", mlpRatio_));
  Graph::NameScope scope(g, name_.empty() ? g.uniqueName("block") : name_);
  x = x + MultiHeadAttention(embedDim_, numHeads_, "attn")
              .causal(causal_)
              .fused(fusedAttention_)(LayerNorm(1, "ln_1")(x));
  Value normed = LayerNorm(1, "ln_2")(x);
  Graph::NameScope mlp(g, "mlp");
  Init gpt2 = Init::normal(0.0, 0.02);
  Value h = ops::gelu(Dense(mlpRatio_ * embedDim_, "fc").kernelInit(gpt2)(normed), approximateGelu_);
  return x + Dense(embedDim_, "proj").kernelInit(gpt2)(h);
}

Dropout::Dropout(double rate, Value seed) : rate_(rate), seed_(seed) {}

Value Dropout::operator()(Value x) const {
  if (!x.valid() || !training_)
    return x;
  Graph &g = *x.graph();
  if (!(rate_ >= 0.0 && rate_ < 1.0))
    return layerError(g, absl::StrCat("Dropout: rate must be in [0, 1), got ", rate_));
  Graph::NameScope scope(g, g.uniqueName("dropout"));
  Value u = ops::randomUniform(seed_, x.shape(), 0.0, 1.0, x.dtype());
  Value keep = ops::compare(u, ops::scalar(g, rate_, x.dtype()), "ge");
  return ops::select(keep, x * (1.0 / (1.0 - rate_)), ops::scalar(g, 0.0, x.dtype()));
}

/// The input projections x_t W + b of every step of x [B, T, D] in one
/// matmul, time-major for a tg.scan: [T*B, D] @ [D, G] -> [T, B, G].
static Value timeMajorProjections(Value x, Value W, Value b) {
  int64_t B = x.dim(0), T = x.dim(1), D = x.dim(2), G = W.dim(1);
  Value xt = ops::transpose(x, {1, 0, 2});
  return ops::reshape(ops::matmul(ops::reshape(xt, {T * B, D}), W) + b, {T, B, G});
}

LSTM::LSTM(int64_t units, std::string name) : units_(units), name_(std::move(name)) {}

LSTM::Output LSTM::operator()(Value x, Value h0, Value c0) const {
  if (!x.valid() || !h0.valid() || !c0.valid())
    return {};
  Graph &g = *x.graph();
  Graph::NameScope scope(g, name_.empty() ? g.uniqueName("lstm") : name_);
  if (x.rank() != 3)
    return {layerError(g, absl::StrCat("LSTM: expects an input [batch, time, features], got ",
                                       x.typeString())),
            {},
            {}};
  int64_t B = x.dim(0), T = x.dim(1), D = x.dim(2), H = units_;
  DType dt = x.dtype();
  Value W = g.param("W", {D, 4 * H}, kernelInit_, dt);
  Value U = g.param("U", {H, 4 * H}, kernelInit_, dt);
  Value b;
  if (twoBiases_) { // in this order: an operator's operands are evaluated in any order
    Value bih = g.param("b_ih", {4 * H}, Init::zeros(), dt);
    Value bhh = g.param("b_hh", {4 * H}, Init::zeros(), dt);
    b = bih + bhh;
  } else {
    b = g.param("b", {4 * H}, Init::zeros(), dt);
  }
  Value pi, pf, po;
  if (peepholes_) {
    pi = g.param("p_i", {H}, Init::zeros(), dt);
    pf = g.param("p_f", {H}, Init::zeros(), dt);
    po = g.param("p_o", {H}, Init::zeros(), dt);
  }
  auto gate = [&](Value z, int64_t k) { return ops::slice(z, {0, k * H}, {B, (k + 1) * H}); };
  // One step of the cell from z = x W + b (already computed) and the state.
  auto cell = [&](Value xw, Value h, Value c) {
    Value z = xw + ops::matmul(h, U);
    Value zi = gate(z, 0), zf = gate(z, 1) + forgetBias_, zg = gate(z, 2), zo = gate(z, 3);
    if (peepholes_) {
      zi = zi + pi * c;
      zf = zf + pf * c;
    }
    Value i = ops::sigmoid(zi), f = ops::sigmoid(zf), cand = ops::tanh(zg);
    c = f * c + i * cand;
    if (peepholes_)
      zo = zo + po * c;
    h = ops::sigmoid(zo) * ops::tanh(c);
    return std::pair(h, c);
  };
  if (unrolled_) {
    // Input projections for all steps in one matmul: [B*T, D] @ [D, 4H].
    Value xw = ops::reshape(ops::matmul(ops::reshape(x, {B * T, D}), W) + b, {B, T, 4 * H});
    Value h = h0, c = c0;
    std::vector<Value> steps;
    for (int64_t t = 0; t < T; ++t) {
      std::tie(h, c) =
          cell(ops::reshape(ops::slice(xw, {0, t, 0}, {B, t + 1, 4 * H}), {B, 4 * H}), h, c);
      steps.push_back(ops::reshape(h, {B, 1, H}));
    }
    return {ops::concat(steps, 1), h, c};
  }
  // Time-major input projections, one matmul for all steps: [T*B, D] @ [D, 4H];
  // the recurrence is a tg.scan over them.
  Value xw = timeMajorProjections(x, W, b);
  ops::ScanOptions options;
  options.recompute = recompute_;
  ops::ScanResult r = ops::scan(
      {xw}, {h0, c0},
      [&](const std::vector<Value> &step, const std::vector<Value> &carry) {
        auto [h, c] = cell(step[0], carry[0], carry[1]);
        return ops::ScanStep{{h, c}, {h}};
      },
      options);
  if (r.stacked.empty())
    return {};
  return {ops::transpose(r.stacked[0], {1, 0, 2}), r.finals[0], r.finals[1]};
}

GRU::Output GRU::operator()(Value x, Value h0) const {
  if (!x.valid() || !h0.valid())
    return {};
  Graph &g = *x.graph();
  Graph::NameScope scope(g, name_.empty() ? g.uniqueName("gru") : name_);
  if (x.rank() != 3)
    return {layerError(g, absl::StrCat("GRU: expects an input [batch, time, features], got ",
                                       x.typeString())),
            {}};
  int64_t B = x.dim(0), D = x.dim(2), H = units_;
  DType dt = x.dtype();
  Value W = g.param("W", {D, 3 * H}, kernelInit_, dt);
  Value U = g.param("U", {H, 3 * H}, kernelInit_, dt);
  Value bih = g.param("b_ih", {3 * H}, Init::zeros(), dt);
  Value bhh = g.param("b_hh", {3 * H}, Init::zeros(), dt);
  auto gate = [&](Value v, int64_t k) { return ops::slice(v, {0, k * H}, {B, (k + 1) * H}); };
  Value xw = timeMajorProjections(x, W, bih);
  ops::ScanResult r = ops::scan(
      {xw}, {h0},
      [&](const std::vector<Value> &step, const std::vector<Value> &carry) {
        Value h = carry[0];
        Value hu = ops::matmul(h, U) + bhh;
        Value reset = ops::sigmoid(gate(step[0], 0) + gate(hu, 0));
        Value update = ops::sigmoid(gate(step[0], 1) + gate(hu, 1));
        Value n = ops::tanh(gate(step[0], 2) + reset * gate(hu, 2));
        Value next = (1.0 - update) * n + update * h;
        return ops::ScanStep{{next}, {next}};
      });
  if (r.stacked.empty())
    return {};
  return {ops::transpose(r.stacked[0], {1, 0, 2}), r.finals[0]};
}

} // namespace layers
} // namespace tg
