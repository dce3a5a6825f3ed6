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
/// \file
/// tg::Graph, which builds one `tg` function in C++ (TensorFlow-style graph
/// mode), with the Value handles its ops return and the Init specs of its
/// params.

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
  /// An invalid value.
  Value() = default;
  /// False for a default-constructed value or the result of a failed op.
  bool valid() const { return graph_ != nullptr; }
  /// The graph the value belongs to; null when invalid.
  Graph *graph() const { return graph_; }
  /// The shape (empty when invalid).
  std::vector<int64_t> shape() const;
  /// The element type (f32 when invalid).
  DType dtype() const;
  /// Number of dimensions (0 when invalid).
  int64_t rank() const { return static_cast<int64_t>(shape().size()); }
  /// Dimension `i`; negative counts from the end. -1 when `i` is out of
  /// range or the value is invalid.
  int64_t dim(int64_t i) const;
  /// "tensor<2x3xf32>" (or "<invalid>").
  std::string typeString() const;

  /// Internal: the value's index in its graph (-1 when default-constructed).
  int id() const { return id_; }
  /// Internal: the handle of value `id` of `graph`; ops create values.
  Value(Graph *graph, int id) : graph_(graph), id_(id) {}

private:
  Graph *graph_ = nullptr;
  int id_ = -1;
};

/// How a param gets its first value (stored as `tg.init` in the module).
/// Values are drawn with Philox from the session's seed and the param's name,
/// identically in the interpreter (initializeParams) and the runtime. Use the
/// factories; an unset field takes the default of its kind.
struct Init {
  /// "zeros", "ones", "constant", "uniform", "normal", "glorot_uniform",
  /// "glorot_normal", "he_uniform" or "he_normal"; the verifier rejects
  /// any other kind when the graph is built.
  std::string kind = "zeros";
  // Parameters of the kind; unset ones take the defaults below.
  /// constant: the value (default 0).
  std::optional<double> value, low, high, mean, stddev, gain;
  /// \var low
  /// uniform: the lower bound (default -0.05).
  /// \var high
  /// uniform: the upper bound (default 0.05).
  /// \var mean
  /// normal: the mean (default 0).
  /// \var stddev
  /// normal: the standard deviation (default 0.05).
  /// \var gain
  /// Glorot and He: the factor of the bound or deviation (default 1).

  /// Glorot and He: the fan-in; unset, it follows from the shape (fans()).
  std::optional<int64_t> fanIn, fanOut;
  /// \var fanOut
  /// Glorot: the fan-out; unset, it follows from the shape (fans()).

  /// All zeros (the default).
  static Init zeros() { return {}; }
  /// All ones.
  static Init ones();
  /// Every element `value`.
  static Init constant(double value);
  /// Uniform in [low, high).
  static Init uniform(double low, double high);
  /// Normal with mean `mean` and standard deviation `stddev`.
  static Init normal(double mean, double stddev);
  /// Xavier/Glorot: U(+-gain*sqrt(6/(in+out))) / N(0, gain^2*2/(in+out)).
  static Init glorotUniform(double gain = 1.0);
  /// Xavier/Glorot normal: N(0, gain^2*2/(in+out)) (DL4J's XAVIER).
  static Init glorotNormal(double gain = 1.0);
  /// He/Kaiming: U(+-sqrt(6/in)) / N(0, 2/in).
  static Init heUniform();
  /// He/Kaiming normal: N(0, 2/in).
  static Init heNormal();
  /// Overrides the fans, which otherwise follow from the shape ([in, out]
  /// for matrices, [O, I, KH, KW] for filters).
  Init &fans(int64_t in, int64_t out);
};

/// Builds one `tg` function: arguments by role, ops (tg::ops, tg::layers) on
/// the Values they return, and named outputs; then build(), toMlir() or
/// save(). Errors do not throw: the first is kept in status(), and every op
/// fed an invalid Value returns an invalid Value.
class Graph {
public:
  /// A graph whose function will be called `functionName` (an empty name is
  /// recorded as an error).
  explicit Graph(std::string functionName = "model");
  ~Graph();
  Graph(const Graph &) = delete;
  Graph &operator=(const Graph &) = delete;

  // Function arguments, by role. Names must be unique.
  // An empty or duplicate name, or a negative dimension, is recorded as an
  // error and gives an invalid Value.

  /// A trainable argument (role param) initialized by `init`, named
  /// scopedName(name); `dtype` must be a float type.
  Value param(const std::string &name, std::vector<int64_t> shape, Init init = Init::zeros(),
              DType dtype = DType::f32);
  /// A state argument (role state: kept by the runtime across steps, updated
  /// through updateState()) starting at zeros. Unlike the other overload,
  /// `name` is used as given, without the name scope's prefix.
  Value state(const std::string &name, std::vector<int64_t> shape, DType dtype = DType::f32);
  /// A state with an initial value other than zeros (e.g. a running
  /// variance starting at ones), named scopedName(name).
  Value state(const std::string &name, std::vector<int64_t> shape, Init init,
              DType dtype = DType::f32);
  /// An input batch argument (role data), fed by the caller every step.
  Value data(const std::string &name, std::vector<int64_t> shape, DType dtype = DType::f32);
  /// A target batch argument (role label), e.g. the integer class ids of
  /// ops::softmaxCrossEntropy.
  Value label(const std::string &name, std::vector<int64_t> shape, DType dtype = DType::i32);
  /// A hyperparameter argument (role hyper), a scalar by default, fed by the
  /// caller (e.g. a dropout seed). It gets no tg.default: a runtime session
  /// starts it at 0, and interpretStep() needs it given.
  Value hyper(const std::string &name, std::vector<int64_t> shape = {}, DType dtype = DType::f32);

  /// 1 in train_step, 0 in eval_step and predict (an f32 scalar): layers that
  /// behave differently in training (BatchNorm) select with it. It is the
  /// hyper argument "training" (default 0) of the model function, which
  /// tg-build-train-step replaces by those constants.
  Value training();

  /// Marks `value` as a function result called `name`; results keep the
  /// order of the calls. An empty or duplicate name is recorded as an error.
  void output(const std::string &name, Value value);
  /// Outputs `newValue` as `name` and marks it as the next value of the
  /// `state` argument (e.g. an RNN's final hidden state): a train step hands
  /// it to the next step in place, and no gradient flows back through it.
  void updateState(const std::string &name, Value newValue, Value state);
  /// Makes this a training graph: `loss` (a scalar, output as "loss" unless
  /// already an output) is minimized with `optimizer`. The spec is written
  /// into the module (tg.train), so the .tg.mlir file is self-describing.
  /// A non-scalar or integer loss, a second call, or an invalid optimizer
  /// spec (unknown kind, field out of range) is recorded in status().
  void minimize(Value loss, const optim::Optimizer &optimizer);

  /// The first error met while building, or OK.
  absl::Status status() const;
  /// Records an error found by user code (a layer's own checks); the first
  /// error is kept.
  void recordError(absl::Status error);

  /// The function as a verified module, re-imported through the MLIR parser.
  /// Fails with status() if an error was recorded, and with
  /// FailedPrecondition if the graph has no outputs.
  absl::StatusOr<Module> build() const;
  /// The module as `.tg.mlir` text (errors as build()).
  absl::StatusOr<std::string> toMlir() const;
  /// Writes the `.tg.mlir` text to `path`.
  absl::Status save(const std::string &path) const;

  /// A guard, as tf.name_scope: while it lives, ops created in the graph are
  /// located at "<scope>/<op>" and params are named "<scope>.<name>" (nested
  /// scopes join with "/" and "." respectively).
  class NameScope {
  public:
    /// Enters scope `name` (used as given; see uniqueName()) until destroyed.
    NameScope(Graph &graph, const std::string &name);
    ~NameScope();
    NameScope(const NameScope &) = delete;
    NameScope &operator=(const NameScope &) = delete;

  private:
    Graph &graph_;
  };
  /// A guard: while it lives, the ops created in the graph run in pipeline
  /// stage `stage` when the model is compiled with tgc compile
  /// --pipeline-stages (tg-pipeline-split cuts where the marks change,
  /// instead of where its cost model would; stages follow the model's order,
  /// and ops before the first mark are stage 0's):
  ///
  ///   { auto s = g.stage(0); h = layers::Dense(512, "fc1")(x); }
  ///   { auto s = g.stage(1); logits = layers::Dense(10, "fc2")(h); }
  class StageScope {
  public:
    /// Marks the ops created from now on with `stage` (>= 0, else the
    /// graph's error) until destroyed.
    StageScope(Graph &graph, int64_t stage);
    ~StageScope();
    StageScope(const StageScope &) = delete;
    StageScope &operator=(const StageScope &) = delete;

  private:
    Graph &graph_;
  };
  /// StageScope(*this, k): `auto s = g.stage(k);` marks what follows.
  [[nodiscard]] StageScope stage(int64_t k) { return StageScope(*this, k); }
  /// A name unique in this graph: "dense", "dense_1", "dense_2", ...
  std::string uniqueName(const std::string &base);
  /// "<scope>.<name>" under the current name scope; `name` outside any.
  std::string scopedName(const std::string &name) const;

  /// Internal: the MLIR-side state (frontend/GraphImpl.h) that ops build into.
  detail::GraphImpl &impl() const { return *impl_; }

private:
  std::unique_ptr<detail::GraphImpl> impl_;
};

} // namespace tg

#endif // TG_GRAPH_H
