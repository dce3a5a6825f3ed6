//===- Optim.cpp - optimizer specs and Graph::minimize --------------------===//
#include "tg/Optim.h"
#include "frontend/GraphImpl.h"
#include "ir/Dialect.h"
#include "ir/TrainSpec.h"

#include "absl/strings/str_cat.h"

using namespace mlir;

namespace tg {
namespace optim {

Schedule Schedule::step(int64_t stepSize, double gamma) {
  Schedule s{"step"};
  s.integers["step_size"] = stepSize;
  s.reals["gamma"] = gamma;
  return s;
}
Schedule Schedule::exponential(int64_t decaySteps, double gamma) {
  Schedule s{"exponential"};
  s.integers["decay_steps"] = decaySteps;
  s.reals["gamma"] = gamma;
  return s;
}
Schedule Schedule::cosine(int64_t decaySteps, double alpha) {
  Schedule s{"cosine"};
  s.integers["decay_steps"] = decaySteps;
  s.reals["alpha"] = alpha;
  return s;
}

Optimizer::Optimizer(std::string kind, double lr) : kind_(std::move(kind)) { fields_["lr"] = lr; }
Optimizer::Optimizer(OptimizerKind kind, double lr)
    : Optimizer(std::string(optimizerName(kind)), lr) {}

Optimizer &Optimizer::set(const std::string &field, double value) {
  fields_[field] = value;
  return *this;
}

Optimizer &Optimizer::schedule(Schedule s) {
  auto warm = schedule_.integers.find("warmup_steps");
  if (warm != schedule_.integers.end() && !s.integers.count("warmup_steps"))
    s.integers["warmup_steps"] = warm->second;
  schedule_ = std::move(s);
  return *this;
}

Optimizer &Optimizer::warmup(int64_t steps) {
  schedule_.integers["warmup_steps"] = steps;
  return *this;
}

Optimizer SGD(double lr) { return Optimizer(OptimizerKind::Sgd, lr); }
Optimizer Momentum(double lr, double momentum) {
  return Optimizer(OptimizerKind::Momentum, lr).set("momentum", momentum);
}
Optimizer Nesterov(double lr, double momentum) {
  return Optimizer(OptimizerKind::Nesterov, lr).set("momentum", momentum);
}
Optimizer RMSProp(double lr, double rho, double eps) {
  return Optimizer(OptimizerKind::RmsProp, lr).set("rho", rho).set("eps", eps);
}
Optimizer Adam(double lr, double beta1, double beta2, double eps) {
  return Optimizer(OptimizerKind::Adam, lr).set("beta1", beta1).set("beta2", beta2).set("eps", eps);
}
Optimizer AdamW(double lr, double weightDecay, double beta1, double beta2, double eps) {
  return Optimizer(OptimizerKind::AdamW, lr)
      .set("beta1", beta1)
      .set("beta2", beta2)
      .set("eps", eps)
      .weightDecay(weightDecay);
}

Optimizer &Optimizer::group(std::string params, double weightDecay, double lrScale) {
  groups_.push_back({std::move(params), weightDecay, lrScale});
  return *this;
}

Optimizer &Optimizer::groupLrScale(std::string params, double lrScale) {
  groups_.push_back({std::move(params), std::nullopt, lrScale});
  return *this;
}

} // namespace optim

namespace {

DictionaryAttr optimizerAttr(Builder &b, const optim::Optimizer &opt) {
  SmallVector<NamedAttribute> fields;
  for (auto &[k, v] : opt.fields())
    fields.push_back(b.getNamedAttr(k, b.getF64FloatAttr(v)));
  fields.push_back(b.getNamedAttr("kind", b.getStringAttr(opt.kind())));
  const optim::Schedule &s = opt.schedule();
  SmallVector<NamedAttribute> sched{b.getNamedAttr("kind", b.getStringAttr(s.kind))};
  for (auto &[k, v] : s.reals)
    sched.push_back(b.getNamedAttr(k, b.getF64FloatAttr(v)));
  for (auto &[k, v] : s.integers)
    sched.push_back(b.getNamedAttr(k, b.getI64IntegerAttr(v)));
  fields.push_back(b.getNamedAttr("schedule", b.getDictionaryAttr(sched)));
  if (!opt.groups().empty()) {
    SmallVector<Attribute> groups;
    for (const optim::Optimizer::Group &g : opt.groups()) {
      SmallVector<NamedAttribute> f = {b.getNamedAttr("params", b.getStringAttr(g.params)),
                                       b.getNamedAttr("lr_scale", b.getF64FloatAttr(g.lrScale))};
      if (g.weightDecay)
        f.push_back(b.getNamedAttr("weight_decay", b.getF64FloatAttr(*g.weightDecay)));
      groups.push_back(b.getDictionaryAttr(f));
    }
    fields.push_back(b.getNamedAttr("groups", b.getArrayAttr(groups)));
  }
  return b.getDictionaryAttr(fields);
}

} // namespace

void Graph::minimize(Value loss, const optim::Optimizer &optimizer) {
  auto &g = *impl_;
  if (!g.checkInputs({loss}, "minimize"))
    return;
  auto t = llvm::cast<RankedTensorType>(g.unwrap(loss).getType());
  if (t.getRank() != 0 || !llvm::isa<FloatType>(t.getElementType()))
    return g.fail(absl::InvalidArgumentError(
        absl::StrCat("minimize: the loss must be a scalar float tensor, got ", loss.typeString())));
  if (g.trainSpec)
    return g.fail(absl::FailedPreconditionError("minimize: called twice on one graph"));
  std::string lossName;
  for (auto &out : g.outputs)
    if (out.id == loss.id())
      lossName = out.name;
  if (lossName.empty()) {
    lossName = "loss";
    output(lossName, loss);
    if (!g.status.ok())
      return;
  }
  Builder b(g.ctx.get());
  DictionaryAttr raw =
      b.getDictionaryAttr({b.getNamedAttr("function", b.getStringAttr(g.fn.getSymName())),
                           b.getNamedAttr("loss", b.getStringAttr(lossName)),
                           b.getNamedAttr("optimizer", optimizerAttr(b, optimizer))});
  std::string message;
  FailureOr<TrainSpec> spec;
  {
    ScopedDiagnosticHandler handler(g.ctx.get(), [&](Diagnostic &d) {
      if (message.empty())
        message = d.str();
      return success();
    });
    spec = parseTrainSpec(raw, [&] { return emitError(g.fn.getLoc()); });
  }
  if (failed(spec))
    return g.fail(absl::InvalidArgumentError(absl::StrCat("minimize: ", message)));
  g.trainSpec = trainSpecToAttr(g.ctx.get(), *spec);
}

} // namespace tg
