//===- Models.cpp - the project's example models --------------------------===//
#include "examples/Models.h"

#include "tg/Layers.h"
#include "tg/Ops.h"

namespace tg {
namespace examples {

using layers::Activation;

/// Accuracy of logits [B, C] against integer labels [B].
static Value accuracy(Value logits, Value labels) {
  Value predicted = ops::argmax(logits, -1, labels.dtype());
  return ops::reduceMean(ops::cast(ops::compare(predicted, labels, "eq"), DType::f32));
}

void buildFashionMlp(Graph &g, const MlpConfig &config) {
  Value x = g.data("image", {config.batch, 784});
  Value y = g.label("label", {config.batch});
  Value h = x;
  for (size_t i = 0; i < config.hidden.size(); ++i)
    h = layers::Dense(config.hidden[i], "fc" + std::to_string(i + 1))
            .activation(Activation::relu)(h);
  Value logits = layers::Dense(10, "fc" + std::to_string(config.hidden.size() + 1))(h);
  Value loss = ops::softmaxCrossEntropy(logits, y);
  g.output("loss", loss);
  g.output("accuracy", accuracy(logits, y));
  g.output("logits", logits);
  g.minimize(loss, config.optimizer);
}

void buildFashionCnn(Graph &g, const CnnConfig &config) {
  Value x = g.data("image", {config.batch, 1, 28, 28});
  Value y = g.label("label", {config.batch});
  Value h = layers::Conv2D(config.filters1, {3, 3}, "conv1")
                .padding("same")
                .activation(Activation::relu)(x);
  h = layers::MaxPool2D({2, 2})(h);
  h = layers::Conv2D(config.filters2, {3, 3}, "conv2")
          .padding("same")
          .activation(Activation::relu)(h);
  h = layers::MaxPool2D({2, 2})(h);
  h = layers::Flatten()(h);
  h = layers::Dense(config.dense, "fc1").activation(Activation::relu)(h);
  Value logits = layers::Dense(10, "fc2")(h);
  Value loss = ops::softmaxCrossEntropy(logits, y);
  g.output("loss", loss);
  g.output("accuracy", accuracy(logits, y));
  g.output("logits", logits);
  g.minimize(loss, config.optimizer);
}

void buildCharLstm(Graph &g, const CharLstmConfig &c) {
  Value chars = g.data("chars", {c.batch, c.steps}, DType::i32);
  Value targets = g.label("targets", {c.batch, c.steps}, DType::i32);
  Value h1 = g.state("lstm1.h0", {c.batch, c.hidden});
  Value c1 = g.state("lstm1.c0", {c.batch, c.hidden});
  Value h2 = g.state("lstm2.h0", {c.batch, c.hidden});
  Value c2 = g.state("lstm2.c0", {c.batch, c.hidden});
  Value x = ops::oneHot(chars, c.vocab);
  auto l1 = layers::LSTM(c.hidden, "lstm1")
                .peepholes(true)
                .unrolled(c.unrolled)
                .recompute(c.recompute)(x, h1, c1);
  auto l2 = layers::LSTM(c.hidden, "lstm2")
                .peepholes(true)
                .unrolled(c.unrolled)
                .recompute(c.recompute)(l1.sequence, h2, c2);
  Value flat = ops::reshape(l2.sequence, {c.batch * c.steps, c.hidden});
  Value logits = layers::Dense(c.vocab, "out")(flat);
  Value loss = ops::softmaxCrossEntropy(logits, ops::reshape(targets, {c.batch * c.steps}));
  g.output("loss", loss);
  g.output("logits", logits);
  // The final states seed the next window: truncated BPTT over `steps`.
  g.updateState("lstm1.h", l1.h, h1);
  g.updateState("lstm1.c", l1.c, c1);
  g.updateState("lstm2.h", l2.h, h2);
  g.updateState("lstm2.c", l2.c, c2);
  g.minimize(loss, c.optimizer);
}

void buildCharGpt(Graph &g, const CharGptConfig &c) {
  Value chars = g.data("chars", {c.batch, c.steps}, DType::i32);
  Value targets = g.label("targets", {c.batch, c.steps}, DType::i32);
  Init gpt2 = Init::normal(0.0, 0.02);
  layers::Embedding wte(c.vocab, c.dim, "wte");
  wte.init(gpt2).dtype(c.dtype);
  Value wpe = g.param("wpe", {c.steps, c.dim}, gpt2, c.dtype);
  Value h = wte(chars) + wpe; // positions broadcast over the batch
  for (int64_t i = 0; i < c.layers; ++i)
    h = layers::TransformerBlock(c.dim, c.heads, "h" + std::to_string(i))
            .fusedAttention(c.fusedAttention)(h);
  Value logits = ops::reshape(wte.attend(layers::LayerNorm(1, "ln_f")(h)),
                              {c.batch * c.steps, c.vocab});
  Value loss = ops::softmaxCrossEntropy(logits, ops::reshape(targets, {c.batch * c.steps}));
  g.output("loss", loss);
  g.output("logits", logits);
  g.minimize(loss, c.optimizer);
}

} // namespace examples
} // namespace tg
