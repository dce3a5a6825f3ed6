//===- Layers.h - Keras/DL4J-style layers (tg::layers) ----------*- C++ -*-===//
//
// A layer is a small configuration object; calling it on a Value creates its
// params (named "<layer>.<param>") and ops in that value's graph. Layer names
// default to a unique "dense", "dense_1", ...
//
//   auto h = tg::layers::Dense(256).activation(tg::layers::Activation::relu)(x);
//
//===----------------------------------------------------------------------===//
/// \file
/// Keras/DL4J-style layers (tg::layers): small configuration objects that,
/// called on a Value, add their params and ops to that value's Graph.

#ifndef TG_LAYERS_H
#define TG_LAYERS_H

#include "tg/Graph.h"
#include "tg/Ops.h"

#include <array>
#include <optional>
#include <string>

namespace tg {
namespace layers {

/// The activation a layer applies to its output: none (the identity), relu,
/// tanh, sigmoid, gelu (the exact erf form) or softmax (over the last axis).
enum class Activation { none, relu, tanh, sigmoid, gelu, softmax };
/// Applies `activation` to `x` (returns `x` itself for Activation::none).
Value activate(Value x, Activation activation);

/// y = activation(x @ kernel + bias) over the last dimension of x.
/// Params "kernel" [in, units] and "bias" [units], in the input's dtype; an
/// input of rank > 2 keeps its leading dimensions.
class Dense {
public:
  /// A layer of `units` outputs; `name` (default: a unique "dense", ...)
  /// scopes its params.
  explicit Dense(int64_t units, std::string name = "");
  /// The output activation (default Activation::none).
  Dense &activation(Activation a) {
    activation_ = a;
    return *this;
  }
  /// Whether to add the bias param (default true).
  Dense &useBias(bool b) {
    useBias_ = b;
    return *this;
  }
  /// Initializer of the kernel (default Init::glorotUniform()).
  Dense &kernelInit(Init i) {
    kernelInit_ = std::move(i);
    return *this;
  }
  /// Initializer of the bias (default Init::zeros()).
  Dense &biasInit(Init i) {
    biasInit_ = std::move(i);
    return *this;
  }
  /// PyTorch's nn.Linear defaults, for ported models: kernel and bias
  /// uniform in +-1/sqrt(in) (kaiming_uniform with a = sqrt(5)), in place of
  /// the glorot kernel and zero bias.
  Dense &torchInit() {
    torchInit_ = true;
    return *this;
  }
  /// Adds the layer to `x`'s graph: [..., in] -> [..., units]. A rank-0
  /// input is recorded as an error.
  Value operator()(Value x) const;

private:
  int64_t units_;
  std::string name_;
  Activation activation_ = Activation::none;
  bool useBias_ = true;
  bool torchInit_ = false;
  Init kernelInit_ = Init::glorotUniform();
  Init biasInit_ = Init::zeros();
};

/// NCHW convolution; filter [filters, C, kh, kw]. padding "valid" or "same".
/// Params "kernel" (the filter) and "bias" [filters], in the input's dtype.
class Conv2D {
public:
  /// `filters` output channels with a `kernel` [kh, kw] window; `name`
  /// (default: a unique "conv2d", ...) scopes its params.
  Conv2D(int64_t filters, std::array<int64_t, 2> kernel, std::string name = "");
  /// Strides [h, w] (default {1, 1}).
  Conv2D &strides(std::array<int64_t, 2> s) {
    strides_ = s;
    return *this;
  }
  /// "valid" (none; the default) or "same" (TensorFlow's: output =
  /// ceil(input / stride), the odd pixel at the end). Another string is an
  /// error when the layer is called.
  Conv2D &padding(std::string p) {
    padding_ = std::move(p);
    explicitPadding_.reset();
    return *this;
  }
  /// p pixels on every side, as PyTorch's Conv2d(padding=p).
  Conv2D &padding(int64_t p) { return explicitPadding({p, p, p, p}); }
  /// Top, bottom, left, right (each >= 0); overrides padding("valid"/"same").
  Conv2D &explicitPadding(std::array<int64_t, 4> p) {
    explicitPadding_ = p;
    return *this;
  }
  /// The output activation (default Activation::none).
  Conv2D &activation(Activation a) {
    activation_ = a;
    return *this;
  }
  /// Whether to add the per-channel bias param (default true).
  Conv2D &useBias(bool b) {
    useBias_ = b;
    return *this;
  }
  /// Initializer of the filter (default Init::glorotUniform(); fans from the
  /// [O, I, KH, KW] shape).
  Conv2D &kernelInit(Init i) {
    kernelInit_ = std::move(i);
    return *this;
  }
  /// Initializer of the bias (default Init::zeros()).
  Conv2D &biasInit(Init i) {
    biasInit_ = std::move(i);
    return *this;
  }
  /// Adds the layer to `x`'s graph: [N, C, H, W] -> [N, filters, OH, OW].
  Value operator()(Value x) const;

private:
  int64_t filters_;
  std::array<int64_t, 2> kernel_, strides_{1, 1};
  std::string name_, padding_ = "valid";
  std::optional<std::array<int64_t, 4>> explicitPadding_;
  Activation activation_ = Activation::none;
  bool useBias_ = true;
  Init kernelInit_ = Init::glorotUniform();
  Init biasInit_ = Init::zeros();
};

/// Max pooling of NCHW; strides default to the pool size, no padding
/// (padded pixels never win).
class MaxPool2D {
public:
  /// Windows of `pool` [kh, kw] pixels.
  explicit MaxPool2D(std::array<int64_t, 2> pool = {2, 2}) : pool_(pool), strides_(pool) {}
  /// Strides [h, w] (default: the pool size).
  MaxPool2D &strides(std::array<int64_t, 2> s) {
    strides_ = s;
    return *this;
  }
  /// Top, bottom, left, right (PyTorch's padding=p: {p, p, p, p}).
  MaxPool2D &padding(std::array<int64_t, 4> p) {
    padding_ = p;
    return *this;
  }
  /// Adds ops::maxPool2d to `x`'s graph.
  Value operator()(Value x) const;

private:
  std::array<int64_t, 2> pool_, strides_;
  std::array<int64_t, 4> padding_{0, 0, 0, 0};
};

/// Average pooling of NCHW (PyTorch's AvgPool2d); strides default to the pool
/// size. With padding, the mean counts the padded zeros
/// (countIncludePad(true), PyTorch's default) or only the real pixels.
class AvgPool2D {
public:
  /// Windows of `pool` [kh, kw] pixels.
  explicit AvgPool2D(std::array<int64_t, 2> pool = {2, 2}) : pool_(pool), strides_(pool) {}
  /// Strides [h, w] (default: the pool size).
  AvgPool2D &strides(std::array<int64_t, 2> s) {
    strides_ = s;
    return *this;
  }
  /// Zero padding: top, bottom, left, right (default none).
  AvgPool2D &padding(std::array<int64_t, 4> p) {
    padding_ = p;
    return *this;
  }
  /// Whether the mean divides by the whole window, padded zeros included
  /// (default true), or only by its real pixels.
  AvgPool2D &countIncludePad(bool c) {
    countIncludePad_ = c;
    return *this;
  }
  /// Adds ops::avgPool2d to `x`'s graph.
  Value operator()(Value x) const;

private:
  std::array<int64_t, 2> pool_, strides_;
  std::array<int64_t, 4> padding_{0, 0, 0, 0};
  bool countIncludePad_ = true;
};

/// The mean over H and W: [N, C, H, W] -> [N, C] (PyTorch's
/// AdaptiveAvgPool2d(1) + flatten, Keras' GlobalAveragePooling2D).
class GlobalAvgPool2D {
public:
  /// Adds the mean to `x`'s graph; an input of another rank than 4 is
  /// recorded as an error.
  Value operator()(Value x) const;
};

/// Batch normalization of [N, C] or NCHW over all axes but C (PyTorch's
/// BatchNorm1d/2d): in train_step with the batch's mean and biased variance,
/// updating the running statistics (states `running_mean`, zeros, and
/// `running_var`, ones: r = (1 - momentum) r + momentum * batch statistic,
/// the variance unbiased); in eval_step and predict with the running
/// statistics (Graph::training()). Then gamma (ones) and beta (zeros).
class BatchNorm {
public:
  /// `name` (default: a unique "batch_norm", ...) scopes the params and
  /// states.
  explicit BatchNorm(std::string name = "") : name_(std::move(name)) {}
  /// Weight of the batch statistic in the running update, in [0, 1]
  /// (default 0.1, PyTorch's).
  BatchNorm &momentum(double m) {
    momentum_ = m;
    return *this;
  }
  /// Added to the variance before the square root; > 0 (default 1e-5).
  BatchNorm &epsilon(double e) {
    eps_ = e;
    return *this;
  }
  /// Adds the layer to `x`'s graph (same shape out), with the graph's
  /// training() argument and the updateState() outputs of the statistics.
  Value operator()(Value x) const;

private:
  std::string name_;
  double momentum_ = 0.1, eps_ = 1e-5;
};

/// Layer normalization over the last `axes` dimensions (PyTorch's
/// nn.LayerNorm(normalized_shape) with elementwise affine):
///   y = (x - mean) / sqrt(var + eps) * gamma + beta
/// with the biased variance; gamma (ones) and beta (zeros) have the
/// normalized shape and follow the input's dtype.
class LayerNorm {
public:
  /// Normalizes the last `axes` dimensions (1 to the input's rank); `name`
  /// (default: a unique "layer_norm", ...) scopes the params.
  explicit LayerNorm(int64_t axes = 1, std::string name = "") : axes_(axes), name_(std::move(name)) {}
  /// Added to the variance before the square root (default 1e-5).
  LayerNorm &epsilon(double e) {
    eps_ = e;
    return *this;
  }
  /// Adds the layer to `x`'s graph (same shape out).
  Value operator()(Value x) const;

private:
  int64_t axes_;
  std::string name_;
  double eps_ = 1e-5;
};

/// [N, d1, d2, ...] -> [N, d1*d2*...].
class Flatten {
public:
  /// Adds the reshape to `x`'s graph.
  Value operator()(Value x) const;
};

/// Lookup table [vocab, dim]; integer ids [...] -> [..., dim].
class Embedding {
public:
  /// A table of `vocab` rows of `dim` values, the f32 param "table"; `name`
  /// (default: a unique "embedding", ...) scopes it.
  Embedding(int64_t vocab, int64_t dim, std::string name = "");
  /// Initializer of the table (default Init::uniform(-0.05, 0.05), Keras').
  Embedding &init(Init i) {
    init_ = std::move(i);
    return *this;
  }
  /// The table's element type (default f32).
  Embedding &dtype(DType d) {
    dtype_ = d;
    return *this;
  }
  /// Adds the lookup (ops::gather) of integer `ids` to their graph; the
  /// first call creates the table, later ones share it.
  Value operator()(Value ids) const;
  /// The table param [vocab, dim] (invalid before the first call).
  Value table() const { return table_; }
  /// x [..., dim] @ table^T -> [..., vocab]: an output layer tied to the
  /// embedding (GPT-2's weight tying). Recorded as an error before the first
  /// call or when x's last dimension is not dim.
  Value attend(Value x) const;

private:
  int64_t vocab_, dim_;
  std::string name_;
  Init init_ = Init::uniform(-0.05, 0.05);
  DType dtype_ = DType::f32;
  mutable Value table_;
};

/// Inverted dropout: keeps each element with probability 1 - rate and scales
/// by 1 / (1 - rate). The mask comes from tg.random_uniform keyed by `seed`
/// (an i64 scalar, e.g. a hyper argument fed the step number). With
/// training(false) it is the identity.
class Dropout {
public:
  /// Drops with probability `rate`, in [0, 1) (checked when called).
  Dropout(double rate, Value seed);
  /// false: the layer is the identity (default true). Independent of
  /// Graph::training().
  Dropout &training(bool t) {
    training_ = t;
    return *this;
  }
  /// Adds the masking to `x`'s graph (same shape out).
  Value operator()(Value x) const;

private:
  double rate_;
  Value seed_;
  bool training_ = true;
};

/// Graves-style LSTM (as DL4J's GravesLSTM) over the T steps of an input
/// [B, T, D], as a tg.scan (see unrolled()):
///   z = x_t W + h U + b;  i = sig(z_i + p_i*c);  f = sig(z_f + p_f*c + forget_bias)
///   g = tanh(z_g);  c' = f*c + i*g;  o = sig(z_o + p_o*c');  h' = o*tanh(c')
/// Peephole terms (p_*) only with peepholes(true). Gate order in W, U, b:
/// i, f, g, o. The forget bias (default 1, as in DL4J) is added as a
/// constant, so b starts at zero. Params follow the input's dtype.
///
/// PyTorch's nn.LSTM is pytorch(): two biases b_ih and b_hh (each its own
/// param, so an optimizer updates them as PyTorch does), forget bias 0, no
/// peepholes; W = weight_ih.T, U = weight_hh.T (README "Weights from and to
/// PyTorch").
class LSTM {
public:
  /// A layer with a state of `units` values; `name` (default: a unique
  /// "lstm", ...) scopes its params W [D, 4 units], U [units, 4 units] and
  /// the biases.
  explicit LSTM(int64_t units, std::string name = "");
  /// Whether to add the peephole params p_i, p_f, p_o [units] (default false).
  LSTM &peepholes(bool p) {
    peepholes_ = p;
    return *this;
  }
  /// The constant added to the forget gate's input (default 1).
  LSTM &forgetBias(double b) {
    forgetBias_ = b;
    return *this;
  }
  /// Two bias params, b_ih and b_hh, as PyTorch (instead of one b).
  LSTM &twoBiases(bool t) {
    twoBiases_ = t;
    return *this;
  }
  /// nn.LSTM's cell: twoBiases(true), forgetBias(0), peepholes(false).
  LSTM &pytorch() { return twoBiases(true).forgetBias(0).peepholes(false); }
  /// Initializer of W and U (default Init::glorotUniform()); biases and
  /// peepholes start at zero.
  LSTM &kernelInit(Init i) {
    kernelInit_ = std::move(i);
    return *this;
  }
  /// Builds one graph step per time step instead of a tg.scan (the form
  /// before the rolled loop; it compiles in time growing with the length).
  /// Default false.
  LSTM &unrolled(bool u) {
    unrolled_ = u;
    return *this;
  }
  /// The gradient recomputes each step's gates from the saved h and c
  /// instead of saving them (less memory for long windows), as
  /// ops::ScanOptions::recompute. Default false; no effect with unrolled(true).
  LSTM &recompute(bool r) {
    recompute_ = r;
    return *this;
  }

  /// What the layer returns; all invalid on error.
  struct Output {
    Value sequence; ///< [B, T, units]: h at every step
    Value h, c;     ///< [B, units]: state after the last step
    /// \var h
    /// [B, units]: the hidden state after the last step.
  };
  /// h0, c0: [B, units] initial state.
  Output operator()(Value x, Value h0, Value c0) const;

private:
  int64_t units_;
  std::string name_;
  bool peepholes_ = false;
  double forgetBias_ = 1.0;
  bool twoBiases_ = false;
  Init kernelInit_ = Init::glorotUniform();
  bool unrolled_ = false;
  bool recompute_ = false;
};

/// PyTorch's nn.GRU cell over the T steps of an input [B, T, D] (a tg.scan):
///   r = sig(x W_r + b_ir + h U_r + b_hr);  z = sig(x W_z + b_iz + h U_z + b_hz)
///   n = tanh(x W_n + b_in + r * (h U_n + b_hn));  h' = (1 - z) * n + z * h
/// Params W [D, 3H] and U [H, 3H] (gates r, z, n: weight_ih_l0.T and
/// weight_hh_l0.T), biases b_ih and b_hh [3H] (zeros), in the input's dtype.
class GRU {
public:
  /// A layer with a state of `units` values (H); `name` (default: a unique
  /// "gru", ...) scopes its params.
  explicit GRU(int64_t units, std::string name = "") : units_(units), name_(std::move(name)) {}
  /// Initializer of W and U (default Init::glorotUniform()).
  GRU &kernelInit(Init i) {
    kernelInit_ = std::move(i);
    return *this;
  }
  /// What the layer returns; all invalid on error.
  struct Output {
    Value sequence; ///< [B, T, units]: h at every step
    Value h;        ///< [B, units]: after the last step
  };
  /// h0: [B, units] initial state.
  Output operator()(Value x, Value h0) const;

private:
  int64_t units_;
  std::string name_;
  Init kernelInit_ = Init::glorotUniform();
};

/// Multi-head scaled dot-product attention with PyTorch's
/// nn.MultiheadAttention params (batch_first), so weights port by name:
/// "in_proj_weight" [3E, E] (the query, key and value projections stacked
/// in that order, each applied as x @ W^T), "in_proj_bias" [3E],
/// "out_proj.weight" [E, E] and "out_proj.bias" [E]; inits as PyTorch's
/// (Xavier-uniform in_proj_weight, out_proj.weight uniform in +-1/sqrt(E),
/// zero biases).
///
///   y = out_proj(concat_h softmax(q_h k_h^T / sqrt(E / H) + mask) v_h)
///
/// The attention itself is one fused tg.attention (ops::attention: no T x S
/// score matrix on the CPU), or with fused(false) the plain ops (matmul,
/// mask, softmax, matmul). A causal layer lets query t see keys 0..t; a key
/// padding mask [B, S] (i1, true = ignore that key, as PyTorch's
/// key_padding_mask) removes keys per example. A query that sees no key at
/// all gives zeros when fused, NaN (as PyTorch) when not.
class MultiHeadAttention {
public:
  /// `embedDim` E, split into `numHeads` H heads (H must divide E); `name`
  /// (default: a unique "attention", ...) scopes the params.
  MultiHeadAttention(int64_t embedDim, int64_t numHeads, std::string name = "");
  /// Whether query t sees only keys 0..t (default false).
  MultiHeadAttention &causal(bool c) {
    causal_ = c;
    return *this;
  }
  /// Whether to add the in_proj and out_proj biases (default true).
  MultiHeadAttention &useBias(bool b) {
    useBias_ = b;
    return *this;
  }
  /// One fused tg.attention (default true) or the plain ops.
  MultiHeadAttention &fused(bool f) {
    fused_ = f;
    return *this;
  }
  /// Self-attention of x [B, T, E] -> [B, T, E] (one projection matmul).
  Value operator()(Value x, Value keyPaddingMask = {}) const;
  /// query [B, T, E] against key and value [B, S, E] -> [B, T, E].
  Value operator()(Value query, Value key, Value value, Value keyPaddingMask = {}) const;

private:
  Value attention(Value query, Value key, Value value, Value keyPaddingMask, bool self) const;
  int64_t embedDim_, numHeads_;
  std::string name_;
  bool causal_ = false, useBias_ = true, fused_ = true;
};

/// A GPT-2 style pre-LayerNorm transformer block on x [B, T, E]:
///
///   x = x + attention(ln_1(x));  x = x + mlp(ln_2(x))
///
/// with causal MultiHeadAttention "attn" and an MLP "mlp.fc" (E -> ratio E,
/// GELU: tanh form as GPT-2, or the exact erf form) and "mlp.proj"
/// (ratio E -> E); MLP kernels N(0, 0.02) and zero biases as GPT-2 (without
/// its 1/sqrt(2 layers) on the residual projection), attention as PyTorch.
class TransformerBlock {
public:
  /// `name` (default: a unique "block", ...) scopes the params.
  TransformerBlock(int64_t embedDim, int64_t numHeads, std::string name = "");
  /// The MLP's hidden width over E (default 4).
  TransformerBlock &mlpRatio(int64_t r) {
    mlpRatio_ = r;
    return *this;
  }
  /// Whether attention is causal (default true).
  TransformerBlock &causal(bool c) {
    causal_ = c;
    return *this;
  }
  /// GELU's tanh approximation (default true, GPT-2's) or the exact form.
  TransformerBlock &approximateGelu(bool a) {
    approximateGelu_ = a;
    return *this;
  }
  /// Fused tg.attention (default true) or the plain ops (MultiHeadAttention::fused).
  TransformerBlock &fusedAttention(bool f) {
    fusedAttention_ = f;
    return *this;
  }
  /// Adds the block to x's graph: [B, T, E] -> [B, T, E].
  Value operator()(Value x) const;

private:
  int64_t embedDim_, numHeads_;
  std::string name_;
  int64_t mlpRatio_ = 4;
  bool causal_ = true, approximateGelu_ = true, fusedAttention_ = true;
};

} // namespace layers
} // namespace tg

#endif // TG_LAYERS_H
