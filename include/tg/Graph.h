//===- Graph.h - building tg dataflow graphs in C++ ------------*- C++ -*-===//
//
// TensorFlow-style graph mode: a Graph owns one function under construction;
// ops (tg/Ops.h) and layers (tg/Layers.h) add nodes and return Value
// handles. Shapes are checked as each op is added, by the dialect's own
// verifier. Like a TensorFlow Scope, the first error is kept in status() and
// every op fed an invalid Value returns an invalid Value, so a chain of
// operator expressions needs one check at the end.
//
//   tg::Graph g("mlp");
//   auto x = g.data("image", {128, 784});
//   auto y = g.label("label", {128}, tg::DType::i32);
//   auto logits = tg::layers::Dense(10)(x);
//   g.output("loss", tg::ops::softmaxCrossEntropy(logits, y));
//   absl::StatusOr<std::string> text = g.toMlir();
//
//===----------------------------------------------------------------------===//
#ifndef TG_GRAPH_H
#define TG_GRAPH_H

#include "tg/Module.h"
#include "tg/Optim.h"
#include "tg/Tensor.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tg {

class Graph;
namespace detail {
struct GraphImpl;
}

/// A handle to one value of a Graph. Default-constructed or produced by a
/// failed op, it is invalid.
class Value {
public:
  Value() = default;
  bool valid() const { return graph_ != nullptr; }
  Graph *graph() const { return graph_; }
  /// Shape and dtype (empty shape / f32 when invalid).
  std::vector<int64_t> shape() const;
  DType dtype() const;
  int64_t rank() const { return static_cast<int64_t>(shape().size()); }
  /// Dimension `i`; negative counts from the end.
  int64_t dim(int64_t i) const;
  /// "tensor<2x3xf32>" (or "<invalid>").
  std::string typeString() const;

  int id() const { return id_; }
  Value(Graph *graph, int id) : graph_(graph), id_(id) {}

private:
  Graph *graph_ = nullptr;
  int id_ = -1;
};

/// How a param gets its first value (stored as `tg.init` in the module).
struct Init {
  std::string kind = "zeros";
  std::optional<double> value, low, high, mean, stddev, gain;
  std::optional<int64_t> fanIn, fanOut;

  static Init zeros() { return {}; }
  static Init ones();
  static Init constant(double value);
  static Init uniform(double low, double high);
  static Init normal(double mean, double stddev);
  /// Xavier/Glorot: U(+-gain*sqrt(6/(in+out))) / N(0, gain^2*2/(in+out)).
  static Init glorotUniform(double gain = 1.0);
  static Init glorotNormal(double gain = 1.0);
  /// He/Kaiming: U(+-sqrt(6/in)) / N(0, 2/in).
  static Init heUniform();
  static Init heNormal();
  /// Overrides the fans, which otherwise follow from the shape ([in, out]
  /// for matrices, [O, I, KH, KW] for filters).
  Init &fans(int64_t in, int64_t out);
};

class Graph {
public:
  /// A graph whose function will be called `functionName`.
  explicit Graph(std::string functionName = "model");
  ~Graph();
  Graph(const Graph &) = delete;
  Graph &operator=(const Graph &) = delete;

  // Function arguments, by role. Names must be unique.
  Value param(const std::string &name, std::vector<int64_t> shape, Init init = Init::zeros(),
              DType dtype = DType::f32);
  Value state(const std::string &name, std::vector<int64_t> shape, DType dtype = DType::f32);
  /// A state with an initial value other than zeros (e.g. a running
  /// variance starting at ones).
  Value state(const std::string &name, std::vector<int64_t> shape, Init init,
              DType dtype = DType::f32);
  Value data(const std::string &name, std::vector<int64_t> shape, DType dtype = DType::f32);
  Value label(const std::string &name, std::vector<int64_t> shape, DType dtype = DType::i32);
  Value hyper(const std::string &name, std::vector<int64_t> shape = {}, DType dtype = DType::f32);

  /// 1 in train_step, 0 in eval_step and predict (an f32 scalar): layers that
  /// behave differently in training (BatchNorm) select with it. It is the
  /// hyper argument "training" (default 0) of the model function, which
  /// tg-build-train-step replaces by those constants.
  Value training();

  /// Marks `value` as a function result called `name`.
  void output(const std::string &name, Value value);
  /// Outputs `newValue` as `name` and marks it as the next value of the
  /// `state` argument (e.g. an RNN's final hidden state): a train step hands
  /// it to the next step in place, and no gradient flows back through it.
  void updateState(const std::string &name, Value newValue, Value state);
  /// Makes this a training graph: `loss` (a scalar, output as "loss" unless
  /// already an output) is minimized with `optimizer`. The spec is written
  /// into the module (tg.train), so the .tg.mlir file is self-describing.
  void minimize(Value loss, const optim::Optimizer &optimizer);

  /// The first error met while building, or OK.
  absl::Status status() const;
  /// Records an error found by user code (a layer's own checks); the first
  /// error is kept.
  void recordError(absl::Status error);

  /// The function as a verified module, re-imported through the MLIR parser.
  absl::StatusOr<Module> build() const;
  /// The module as `.tg.mlir` text.
  absl::StatusOr<std::string> toMlir() const;
  /// Writes the `.tg.mlir` text to `path`.
  absl::Status save(const std::string &path) const;

  /// Ops and params created while the returned guard lives are named
  /// "<scope>/..." (params "<scope>.<name>"), as in tf.name_scope.
  class NameScope {
  public:
    NameScope(Graph &graph, const std::string &name);
    ~NameScope();
    NameScope(const NameScope &) = delete;
    NameScope &operator=(const NameScope &) = delete;

  private:
    Graph &graph_;
  };
  /// A name unique in this graph: "dense", "dense_1", "dense_2", ...
  std::string uniqueName(const std::string &base);
  /// "<scope>.<name>" under the current name scope.
  std::string scopedName(const std::string &name) const;

  detail::GraphImpl &impl() const { return *impl_; }

private:
  std::unique_ptr<detail::GraphImpl> impl_;
};

} // namespace tg

#endif // TG_GRAPH_H
