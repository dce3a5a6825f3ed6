//===- TrainSpec.cpp - the tg.train module attribute ----------------------===//
#include "ir/TrainSpec.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/GlobPattern.h"

#include <cmath>
#include <sstream>

using namespace mlir;

namespace tg {
namespace {

/// Shortest readable form ("0.1", "1", "nan") for messages.
std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

/// Reads typed fields of one dictionary and rejects unknown keys.
class FieldReader {
public:
  FieldReader(DictionaryAttr dict, StringRef where, function_ref<InFlightDiagnostic()> emitError)
      : dict(dict), where(where), emitError(emitError) {}

  LogicalResult number(StringRef key, double &out, double min, bool minOpen, double max = INFINITY,
                       bool maxOpen = false) {
    used.push_back(key);
    Attribute a = dict.get(key);
    if (!a)
      return success();
    double v;
    if (auto f = llvm::dyn_cast<FloatAttr>(a))
      v = f.getValueAsDouble();
    else if (auto i = llvm::dyn_cast<IntegerAttr>(a))
      v = double(i.getInt());
    else
      return emitError() << where << ": '" << key << "' must be a number, got " << a;
    bool ok = std::isfinite(v) && (minOpen ? v > min : v >= min) && (maxOpen ? v < max : v <= max);
    if (!ok) {
      auto d = emitError();
      d << where << ": '" << key << "' must be " << (minOpen ? "> " : ">= ") << fmt(min);
      if (std::isfinite(max))
        d << " and " << (maxOpen ? "< " : "<= ") << fmt(max);
      return d << ", got " << fmt(v);
    }
    out = v;
    return success();
  }

  LogicalResult integer(StringRef key, int64_t &out, int64_t min) {
    used.push_back(key);
    Attribute a = dict.get(key);
    if (!a)
      return success();
    auto i = llvm::dyn_cast<IntegerAttr>(a);
    if (!i || !i.getType().isSignlessInteger())
      return emitError() << where << ": '" << key << "' must be an integer, got " << a;
    if (i.getInt() < min)
      return emitError() << where << ": '" << key << "' must be >= " << min << ", got "
                         << i.getInt();
    out = i.getInt();
    return success();
  }

  LogicalResult string(StringRef key, std::string &out, ArrayRef<StringRef> allowed = {}) {
    used.push_back(key);
    Attribute a = dict.get(key);
    if (!a)
      return success();
    auto s = llvm::dyn_cast<StringAttr>(a);
    if (!s)
      return emitError() << where << ": '" << key << "' must be a string, got " << a;
    if (!allowed.empty() && !llvm::is_contained(allowed, s.getValue())) {
      auto d = emitError();
      d << where << ": unknown " << key << " \"" << s.getValue() << "\" (expected one of";
      for (StringRef k : allowed)
        d << " " << k;
      return d << ")";
    }
    out = s.getValue().str();
    return success();
  }

  /// A key checked by the caller.
  void known(StringRef key) { used.push_back(key); }

  LogicalResult finish() {
    for (NamedAttribute a : dict)
      if (!llvm::is_contained(used, a.getName().getValue()))
        return emitError() << where << ": unknown field '" << a.getName().getValue() << "'";
    return success();
  }

private:
  DictionaryAttr dict;
  std::string where;
  function_ref<InFlightDiagnostic()> emitError;
  SmallVector<StringRef> used;
};

/// The optimizer names, in tg/Vocabulary.h's order.
SmallVector<StringRef> optimizerNames() {
  SmallVector<StringRef> names;
  for (OptimizerKind k : kAllOptimizers)
    names.push_back(StringRef(optimizerName(k).data(), optimizerName(k).size()));
  return names;
}
constexpr StringRef kSchedules[] = {"constant", "step", "exponential", "cosine"};

LogicalResult parseSchedule(DictionaryAttr dict, ScheduleSpec &s,
                            function_ref<InFlightDiagnostic()> emitError) {
  FieldReader r(dict, "tg.train schedule", emitError);
  if (failed(r.string("kind", s.kind, kSchedules)) ||
      failed(r.integer("step_size", s.stepSize, 1)) ||
      failed(r.integer("decay_steps", s.decaySteps, 1)) ||
      failed(r.number("gamma", s.gamma, 0, /*minOpen=*/true)) ||
      failed(r.number("alpha", s.alpha, 0, false, 1, false)) ||
      failed(r.integer("warmup_steps", s.warmupSteps, 0)) || failed(r.finish()))
    return failure();
  if (s.kind == "step" && s.stepSize == 0)
    return emitError() << "tg.train schedule: \"step\" needs step_size >= 1";
  if ((s.kind == "exponential" || s.kind == "cosine") && s.decaySteps == 0)
    return emitError() << "tg.train schedule: \"" << s.kind << "\" needs decay_steps >= 1";
  return success();
}

LogicalResult parseOptimizer(DictionaryAttr dict, OptimizerSpec &o,
                             function_ref<InFlightDiagnostic()> emitError) {
  FieldReader r(dict, "tg.train optimizer", emitError);
  std::string kind = std::string(optimizerName(o.kind));
  if (failed(r.string("kind", kind, optimizerNames())))
    return failure();
  o.kind = *tg::parseOptimizer(kind); // checked against the same table above
  if (o.kind == OptimizerKind::AdamW)
    o.weightDecay = 0.01; // AdamW's customary default; an explicit field wins
  Attribute schedule = dict.get("schedule");
  if (failed(r.number("lr", o.lr, 0, /*minOpen=*/true)) ||
      failed(r.number("momentum", o.momentum, 0, false, 1, true)) ||
      failed(r.number("rho", o.rho, 0, false, 1, true)) ||
      failed(r.number("beta1", o.beta1, 0, false, 1, true)) ||
      failed(r.number("beta2", o.beta2, 0, false, 1, true)) ||
      failed(r.number("eps", o.eps, 0, true)) || failed(r.number("l2", o.l2, 0, false)) ||
      failed(r.number("weight_decay", o.weightDecay, 0, false)) ||
      failed(r.number("clip_norm", o.clipNorm, 0, false)))
    return failure();
  r.known("schedule");
  r.known("groups");
  if (Attribute groups = dict.get("groups")) {
    auto list = llvm::dyn_cast<ArrayAttr>(groups);
    if (!list)
      return emitError() << "tg.train optimizer: 'groups' must be a list like [{params = "
                            "\"*.bias\", weight_decay = 0.0}]";
    for (auto [i, g] : llvm::enumerate(list)) {
      auto d = llvm::dyn_cast<DictionaryAttr>(g);
      std::string where = "tg.train optimizer group " + std::to_string(i);
      if (!d)
        return emitError() << where << ": must be a dictionary {params, weight_decay, lr_scale}";
      ParamGroupSpec pg;
      double wd = -1;
      FieldReader gr(d, where, emitError);
      if (failed(gr.string("params", pg.params)) ||
          failed(gr.number("weight_decay", wd, 0, false)) ||
          failed(gr.number("lr_scale", pg.lrScale, 0, /*minOpen=*/false)) || failed(gr.finish()))
        return failure();
      if (pg.params.empty())
        return emitError() << where << ": needs 'params', a glob of param names like \"*.bias\"";
      if (llvm::Expected<llvm::GlobPattern> glob = llvm::GlobPattern::create(pg.params); !glob) {
        std::string why = llvm::toString(glob.takeError());
        return emitError() << where << ": bad glob \"" << pg.params << "\": " << why;
      }
      if (d.get("weight_decay"))
        pg.weightDecay = wd;
      o.groups.push_back(std::move(pg));
    }
  }
  if (schedule) {
    auto d = llvm::dyn_cast<DictionaryAttr>(schedule);
    if (!d)
      return emitError() << "tg.train optimizer: 'schedule' must be a dictionary like "
                            "{kind = \"cosine\", decay_steps = 1000}";
    if (failed(parseSchedule(d, o.schedule, emitError)))
      return failure();
  }
  return r.finish();
}

} // namespace

FailureOr<TrainSpec> parseTrainSpec(Attribute attr, function_ref<InFlightDiagnostic()> emitError) {
  auto dict = llvm::dyn_cast<DictionaryAttr>(attr);
  if (!dict)
    return emitError() << "tg.train must be a dictionary {function, loss, optimizer}";
  TrainSpec spec;
  FieldReader r(dict, "tg.train", emitError);
  if (failed(r.string("function", spec.function)) || failed(r.string("loss", spec.loss)))
    return failure();
  Attribute opt = dict.get("optimizer");
  r.known("optimizer");
  if (failed(r.finish()))
    return failure();
  if (!opt)
    return emitError() << "tg.train: missing 'optimizer' (e.g. {kind = \"sgd\", lr = 0.01})";
  auto od = llvm::dyn_cast<DictionaryAttr>(opt);
  if (!od)
    return emitError() << "tg.train: 'optimizer' must be a dictionary";
  if (failed(parseOptimizer(od, spec.optimizer, emitError)))
    return failure();
  return spec;
}

const ParamGroupSpec *groupOf(const OptimizerSpec &spec, llvm::StringRef param) {
  for (const ParamGroupSpec &g : spec.groups)
    if (llvm::Expected<llvm::GlobPattern> glob = llvm::GlobPattern::create(g.params)) {
      if (glob->match(param))
        return &g;
    } else {
      llvm::consumeError(glob.takeError()); // parseTrainSpec rejected it already
    }
  return nullptr;
}

DictionaryAttr trainSpecToAttr(MLIRContext *ctx, const TrainSpec &spec) {
  Builder b(ctx);
  const OptimizerSpec &o = spec.optimizer;
  const ScheduleSpec &s = o.schedule;
  SmallVector<NamedAttribute> sched = {b.getNamedAttr("kind", b.getStringAttr(s.kind))};
  if (s.kind == "step")
    sched.push_back(b.getNamedAttr("step_size", b.getI64IntegerAttr(s.stepSize)));
  if (s.kind == "exponential" || s.kind == "cosine")
    sched.push_back(b.getNamedAttr("decay_steps", b.getI64IntegerAttr(s.decaySteps)));
  if (s.kind == "step" || s.kind == "exponential")
    sched.push_back(b.getNamedAttr("gamma", b.getF64FloatAttr(s.gamma)));
  if (s.kind == "cosine")
    sched.push_back(b.getNamedAttr("alpha", b.getF64FloatAttr(s.alpha)));
  if (s.warmupSteps > 0)
    sched.push_back(b.getNamedAttr("warmup_steps", b.getI64IntegerAttr(s.warmupSteps)));

  SmallVector<NamedAttribute> opt = {
      b.getNamedAttr("kind", b.getStringAttr(optimizerName(o.kind).data())),
      b.getNamedAttr("lr", b.getF64FloatAttr(o.lr))};
  auto num = [&](StringRef k, double v) { opt.push_back(b.getNamedAttr(k, b.getF64FloatAttr(v))); };
  if (hasVelocity(o.kind))
    num("momentum", o.momentum);
  if (o.kind == OptimizerKind::RmsProp)
    num("rho", o.rho);
  if (isAdamFamily(o.kind)) {
    num("beta1", o.beta1);
    num("beta2", o.beta2);
  }
  if (hasEpsilon(o.kind))
    num("eps", o.eps);
  if (o.l2 > 0)
    num("l2", o.l2);
  if (o.weightDecay > 0 || o.kind == OptimizerKind::AdamW)
    num("weight_decay", o.weightDecay);
  if (o.clipNorm > 0)
    num("clip_norm", o.clipNorm);
  opt.push_back(b.getNamedAttr("schedule", b.getDictionaryAttr(sched)));
  if (!o.groups.empty()) {
    SmallVector<Attribute> groups;
    for (const ParamGroupSpec &g : o.groups) {
      SmallVector<NamedAttribute> f = {b.getNamedAttr("params", b.getStringAttr(g.params)),
                                       b.getNamedAttr("lr_scale", b.getF64FloatAttr(g.lrScale))};
      if (g.weightDecay)
        f.push_back(b.getNamedAttr("weight_decay", b.getF64FloatAttr(*g.weightDecay)));
      groups.push_back(b.getDictionaryAttr(f));
    }
    opt.push_back(b.getNamedAttr("groups", b.getArrayAttr(groups)));
  }

  SmallVector<NamedAttribute> top;
  if (!spec.function.empty())
    top.push_back(b.getNamedAttr("function", b.getStringAttr(spec.function)));
  top.push_back(b.getNamedAttr("loss", b.getStringAttr(spec.loss)));
  top.push_back(b.getNamedAttr("optimizer", b.getDictionaryAttr(opt)));
  return b.getDictionaryAttr(top);
}

} // namespace tg
