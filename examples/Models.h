//===- Models.h - the project's example models ------------------*- C++ -*-===//
//
// The three models of the project, built with the public frontend. Each
// function adds arguments, ops and named outputs ("loss" first) to a Graph.
//
//===----------------------------------------------------------------------===//
#ifndef TG_EXAMPLES_MODELS_H
#define TG_EXAMPLES_MODELS_H

#include "tg/Graph.h"

#include <vector>

namespace tg {
namespace examples {

/// Fashion-MNIST MLP 784-256-128-10 with ReLU. Inputs: "image" [B, 784] f32
/// (pixels / 255), "label" [B] i32. Outputs: loss, accuracy, logits.
struct MlpConfig {
  int64_t batch = 128;
  std::vector<int64_t> hidden = {256, 128};
  optim::Optimizer optimizer = optim::Adam(1e-3);
};
void buildFashionMlp(Graph &g, const MlpConfig &config = {});

/// Fashion-MNIST CNN: conv 3x3x32 + ReLU + maxpool 2, conv 3x3x64 + ReLU +
/// maxpool 2, dense 128 + ReLU, dense 10. Inputs: "image" [B, 1, 28, 28],
/// "label" [B]. Outputs: loss, accuracy, logits.
struct CnnConfig {
  int64_t batch = 64;
  int64_t filters1 = 32, filters2 = 64, dense = 128;
  optim::Optimizer optimizer = optim::Adam(1e-3);
};
void buildFashionCnn(Graph &g, const CnnConfig &config = {});

/// The source document's character model: one-hot characters into two
/// Graves LSTM layers and a softmax over the vocabulary, unrolled over
/// `steps` characters (the truncated-BPTT window). Inputs: "chars" and
/// "targets" [B, T] i32, states "lstm1.h0", "lstm1.c0", "lstm2.h0",
/// "lstm2.c0" [B, H]. Outputs: loss, logits [B*T, V] and the four final
/// states, each marked as the next value of its state input (truncated BPTT).
/// The optimizer is the source document's: RMSProp 0.1, l2 1e-3.
struct CharLstmConfig {
  int64_t batch = 32;
  int64_t steps = 50;
  int64_t vocab = 77;
  int64_t hidden = 200;
  optim::Optimizer optimizer = optim::RMSProp(0.1).l2(1e-3);
  bool unrolled = false;  ///< one graph step per time step instead of a tg.scan
  bool recompute = false; ///< the scan's gradient recomputes instead of saving
};
void buildCharLstm(Graph &g, const CharLstmConfig &config = {});

/// A character-level GPT (GPT-2's layout at a small size): token embedding
/// "wte" [V, D] and learned positions "wpe" [T, D], `layers` pre-LayerNorm
/// blocks "h<i>" of causal `heads`-head attention and a 4x GELU MLP, a final
/// LayerNorm "ln_f", and the output layer tied to "wte". Inputs "chars" and
/// "targets" [B, T] i32 (what `tgc train --data FILE.txt` feeds); outputs
/// loss and logits [B*T, V]. Embeddings and MLP weights N(0, 0.02) as GPT-2
/// (without its 1/sqrt(2 layers) on residual projections), attention with
/// PyTorch's init; AdamW 1e-3 with
/// weight decay 0.1 on the matrices only (groups exempt biases, LayerNorms
/// and the embeddings).
struct CharGptConfig {
  int64_t batch = 16;
  int64_t steps = 64; ///< the block: characters per window
  int64_t vocab = 77;
  int64_t dim = 128;
  int64_t heads = 4;
  int64_t layers = 2;
  DType dtype = DType::f32; ///< of the params and activations (f64: numerics tests)
  bool fusedAttention = true; ///< one tg.attention per block, or the plain ops
  optim::Optimizer optimizer =
      optim::AdamW(1e-3, 0.1).group("*bias", 0).group("*ln_*", 0).group("wte.*", 0).group("wpe", 0);
};
void buildCharGpt(Graph &g, const CharGptConfig &config = {});

} // namespace examples
} // namespace tg

#endif // TG_EXAMPLES_MODELS_H
