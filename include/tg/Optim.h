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
#ifndef TG_OPTIM_H
#define TG_OPTIM_H

#include "tg/Vocabulary.h"

#include <cstdint>
#include <map>
#include <string>

namespace tg {
namespace optim {

/// Learning-rate schedule: lr(t) = lr * factor(t).
struct Schedule {
  std::string kind = "constant";
  std::map<std::string, double> reals;
  std::map<std::string, int64_t> integers;

  static Schedule constant() { return {}; }
  /// gamma^floor(t / stepSize)
  static Schedule step(int64_t stepSize, double gamma);
  /// gamma^(t / decaySteps)
  static Schedule exponential(int64_t decaySteps, double gamma);
  /// alpha + (1 - alpha) (1 + cos(pi min(t, decaySteps) / decaySteps)) / 2
  static Schedule cosine(int64_t decaySteps, double alpha = 0.0);
};

class Optimizer {
public:
  Optimizer(OptimizerKind kind, double lr);
  /// An optimizer by its tg.train spelling; an unknown one is reported when
  /// the graph is built (for specs read from elsewhere).
  Optimizer(std::string kind, double lr);

  /// Sets a numeric field of the spec by its tg.train name ("momentum",
  /// "rho", "beta1", "beta2", "eps", ...).
  Optimizer &set(const std::string &field, double value);
  Optimizer &l2(double coefficient) { return set("l2", coefficient); }
  Optimizer &weightDecay(double coefficient) { return set("weight_decay", coefficient); }
  Optimizer &clipNorm(double maxNorm) { return set("clip_norm", maxNorm); }
  Optimizer &schedule(Schedule s);
  /// Linear warm-up over the first `steps` steps, on top of the schedule.
  Optimizer &warmup(int64_t steps);

  const std::string &kind() const { return kind_; }
  const std::map<std::string, double> &fields() const { return fields_; }
  const Schedule &schedule() const { return schedule_; }

private:
  std::string kind_;
  std::map<std::string, double> fields_;
  Schedule schedule_;
};

Optimizer SGD(double lr);
Optimizer Momentum(double lr, double momentum = 0.9);
Optimizer Nesterov(double lr, double momentum = 0.9);
Optimizer RMSProp(double lr, double rho = 0.95, double eps = 1e-8);
Optimizer Adam(double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8);
Optimizer AdamW(double lr = 1e-3, double weightDecay = 0.01, double beta1 = 0.9,
                double beta2 = 0.999, double eps = 1e-8);

} // namespace optim
} // namespace tg

#endif // TG_OPTIM_H
