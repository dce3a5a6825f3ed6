//===- Optim.h - optimizer specs for Graph::minimize ------------*- C++ -*-===//
//
// An optimizer spec is data: Graph::minimize writes it into the module's
// tg.train attribute and tg-build-train-step turns it into update code.
// Mirrors DL4J's configuration one to one:
//
//   .updater(RMSPROP).learningRate(0.1).rmsDecay(0.95).l2(0.001)
//   ==  tg::optim::RMSProp(0.1, 0.95).l2(1e-3)
//
// Update rules (PyTorch conventions; t counts steps from 0):
//   sgd       p -= lr g
//   momentum  v = mu v + g;             p -= lr v
//   nesterov  v = mu v + g;             p -= lr (g + mu v)
//   rmsprop   s = rho s + (1-rho) g^2;  p -= lr g / (sqrt(s) + eps)
//   adam      m, v moments;             p -= lr mhat / (sqrt(vhat) + eps)
//   adamw     adam with decoupled weight decay (default 0.01)
// l2(c) adds c p to the gradient; weightDecay(c) subtracts lr c p from p;
// clipNorm(n) rescales all gradients so their global norm is at most n.
//
//===----------------------------------------------------------------------===//
/// \file
/// Optimizer and learning-rate Schedule specs for Graph::minimize, which
/// records them as the module's tg.train attribute; tg-build-train-step turns
/// that into the update code.

#ifndef TG_OPTIM_H
#define TG_OPTIM_H

#include "tg/Vocabulary.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tg {
namespace optim {

/// Learning-rate schedule: lr(t) = lr * factor(t). Use the factories; the
/// fields are checked when Graph::minimize records the spec.
struct Schedule {
  /// "constant", "step", "exponential" or "cosine" (tg.train's schedule.kind).
  std::string kind = "constant";
  /// Real fields by tg.train name: "gamma", "alpha".
  std::map<std::string, double> reals;
  /// Integer fields by tg.train name: "step_size", "decay_steps",
  /// "warmup_steps".
  std::map<std::string, int64_t> integers;

  /// factor(t) = 1 (the default).
  static Schedule constant() { return {}; }
  /// gamma^floor(t / stepSize)
  static Schedule step(int64_t stepSize, double gamma);
  /// gamma^(t / decaySteps)
  static Schedule exponential(int64_t decaySteps, double gamma);
  /// alpha + (1 - alpha) (1 + cos(pi min(t, decaySteps) / decaySteps)) / 2
  static Schedule cosine(int64_t decaySteps, double alpha = 0.0);
};

/// An optimizer spec: its kind, numeric fields by tg.train name and a
/// learning-rate schedule. Fields left unset take tg.train's defaults
/// (momentum 0.9, rho 0.95, beta1 0.9, beta2 0.999, eps 1e-8, weight_decay
/// 0.01 for adamw and 0 otherwise); nothing is validated until
/// Graph::minimize, which records an invalid spec in the graph's status().
class Optimizer {
public:
  /// Optimizer `kind` with learning rate `lr` (must be > 0).
  Optimizer(OptimizerKind kind, double lr);
  /// An optimizer by its tg.train spelling; an unknown one is reported by
  /// Graph::minimize, in the graph's status() (for specs read from elsewhere).
  Optimizer(std::string kind, double lr);

  /// Sets a numeric field of the spec by its tg.train name ("momentum",
  /// "rho", "beta1", "beta2", "eps", ...).
  Optimizer &set(const std::string &field, double value);
  /// Coupled L2 regularization: adds `coefficient` * p to each gradient
  /// (DL4J's l2). Default 0: off.
  Optimizer &l2(double coefficient) { return set("l2", coefficient); }
  /// Decoupled weight decay: p -= lr * `coefficient` * p each step. Default
  /// 0, except 0.01 for AdamW.
  Optimizer &weightDecay(double coefficient) { return set("weight_decay", coefficient); }
  /// Rescales all gradients together so their global L2 norm is at most
  /// `maxNorm`. Default 0: off.
  Optimizer &clipNorm(double maxNorm) { return set("clip_norm", maxNorm); }
  /// Replaces the learning-rate schedule (default Schedule::constant()); a
  /// warm-up set before is kept unless `s` has its own.
  Optimizer &schedule(Schedule s);
  /// Linear warm-up over the first `steps` steps, on top of the schedule:
  /// the factor is multiplied by min((t + 1) / steps, 1).
  Optimizer &warmup(int64_t steps);
  /// A parameter group: params whose name matches the glob `params` (*, ?,
  /// [...]; e.g. "*.bias") get `weightDecay` in place of the optimizer's and
  /// a learning rate scaled by `lrScale`. The first matching group wins; a
  /// group that matches no param is an error when the train step is built.
  /// Groups replace the decoupled weight decay only (l2() applies to every
  /// param). minGPT's AdamW (no decay for biases, norms and embeddings):
  /// .group("*bias", 0).group("*ln_*", 0).group("wte.*", 0).
  Optimizer &group(std::string params, double weightDecay, double lrScale = 1.0);
  /// A group that keeps the optimizer's weight decay and scales the rate.
  Optimizer &groupLrScale(std::string params, double lrScale);

  /// One parameter group (see group()).
  struct Group {
    std::string params;                ///< glob of param names
    std::optional<double> weightDecay; ///< unset: the optimizer's
    double lrScale = 1.0;              ///< factor on the learning rate
  };
  /// The groups, in order.
  const std::vector<Group> &groups() const { return groups_; }

  /// The kind's tg.train spelling ("sgd", "adam", ...).
  const std::string &kind() const { return kind_; }
  /// The fields set so far by tg.train name, "lr" included.
  const std::map<std::string, double> &fields() const { return fields_; }
  /// The learning-rate schedule (warm-up included).
  const Schedule &schedule() const { return schedule_; }

private:
  std::string kind_;
  std::map<std::string, double> fields_;
  Schedule schedule_;
  std::vector<Group> groups_;
};

/// Plain SGD: p -= lr g.
Optimizer SGD(double lr);
/// SGD with momentum (PyTorch's form): v = momentum v + g; p -= lr v.
Optimizer Momentum(double lr, double momentum = 0.9);
/// Nesterov momentum: v = momentum v + g; p -= lr (g + momentum v).
Optimizer Nesterov(double lr, double momentum = 0.9);
/// RMSProp: s = rho s + (1 - rho) g^2; p -= lr g / (sqrt(s) + eps). `rho`
/// is DL4J's rmsDecay.
Optimizer RMSProp(double lr, double rho = 0.95, double eps = 1e-8);
/// Adam with bias-corrected moments: p -= lr mhat / (sqrt(vhat) + eps).
Optimizer Adam(double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8);
/// AdamW: Adam with decoupled weight decay (p -= lr weightDecay p).
Optimizer AdamW(double lr = 1e-3, double weightDecay = 0.01, double beta1 = 0.9,
                double beta2 = 0.999, double eps = 1e-8);

} // namespace optim
} // namespace tg

#endif // TG_OPTIM_H
