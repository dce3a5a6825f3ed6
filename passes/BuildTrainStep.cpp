//===- BuildTrainStep.cpp - tg-build-train-step ---------------------------===//
//
// Turns a model function plus the module's tg.train spec into the entry
// points the runtime calls: train_step (gradients + optimizer, every updated
// buffer aliased to its argument), eval_step and predict.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/TrainStepBuilder.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Debug.h"
#include "llvm/Support/FormatVariadic.h"
#include "support/Trailer.h"

#include <cmath>

#define DEBUG_TYPE "tg-build-train-step"

namespace tg {
#define GEN_PASS_DEF_BUILDTRAINSTEP
#include "passes/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {
namespace {

/// Clones the ops of `src` whose operands are all mapped (so ops that need an
/// argument left out, such as labels in predict, are dropped with everything
/// downstream of them).
void cloneBody(OpBuilder &b, func::FuncOp src, IRMapping &map) {
  for (Operation &op : src.getBody().front().without_terminator())
    if (llvm::all_of(op.getOperands(), [&](Value v) { return map.contains(v); }))
      b.clone(op, map);
}


/// Adds `m.fn`'s arguments of `groups` to `fa` in order, mapping them in
/// `map` (from `body`'s arguments) and recording each one's new index.
/// Arguments in `batched` take M micro-batches ([M * b, ...]).
void addModelArgs(FunctionAssembler &fa, func::FuncOp fn, Block &body,
                  std::initializer_list<SmallVector<unsigned> *> groups, IRMapping &map,
                  DenseMap<unsigned, unsigned> &newIndex, ArrayRef<unsigned> batched = {},
                  int64_t microbatches = 1) {
  for (auto *group : groups)
    for (unsigned i : *group) {
      newIndex[i] = fa.numArgs();
      Type t = fn.getArgumentTypes()[i];
      if (llvm::is_contained(batched, i))
        t = batchedType(t, microbatches);
      map.map(body.getArgument(i), fa.addArg(t, fn.getArgAttrDict(i)));
    }
}

/// Result attributes of model result `r`, its tg.alias (if any) renumbered
/// to the new function's argument.
DictionaryAttr remapAlias(OpBuilder &b, func::FuncOp fn, unsigned r,
                          const DenseMap<unsigned, unsigned> &newIndex) {
  DictionaryAttr attrs = fn.getResultAttrDict(r);
  if (auto alias = attrs.getAs<IntegerAttr>(TgDialect::kAliasAttr))
    return withAlias(b, attrs, newIndex.lookup(unsigned(alias.getInt())));
  return attrs;
}

} // namespace

SmallVector<SmallVector<OptimizerSlot>> addOptimizerSlots(OpBuilder &b, FunctionAssembler &fa,
                                                          func::FuncOp model,
                                                          ArrayRef<unsigned> params,
                                                          OptimizerKind kind) {
  SmallVector<StringRef> names = optimizerSlots(kind);
  SmallVector<SmallVector<OptimizerSlot>> slots(params.size());
  for (auto [k, p] : llvm::enumerate(params))
    for (StringRef slot : names) {
      std::string name = (nameOf(model.getArgAttrDict(p)) + "." + slot).str();
      unsigned index = fa.numArgs();
      slots[k].push_back(
          {index, fa.addArg(model.getArgumentTypes()[p], stateArgAttrs(b, name)), name});
    }
  return slots;
}

void addOptimizerUpdates(GradientBuilder &gb, FunctionAssembler &fa, const OptimizerSpec &opt,
                         func::FuncOp model, ArrayRef<unsigned> indices, ArrayRef<Value> params,
                         ArrayRef<Value> grads, ArrayRef<SmallVector<OptimizerSlot>> slots,
                         Value lr, const BiasCorrections &bc) {
  OpBuilder &b = gb.builder();
  auto named = [&](StringRef name, unsigned alias) {
    return withAlias(
        b, b.getDictionaryAttr({b.getNamedAttr(TgDialect::kNameAttr, b.getStringAttr(name))}),
        alias);
  };
  SmallVector<Result> slotOut;
  for (auto [k, p] : llvm::enumerate(params)) {
    SmallVector<Value> oldSlots, newSlots;
    for (const OptimizerSlot &slot : slots[k])
      oldSlots.push_back(slot.value);
    StringRef name = nameOf(model.getArgAttrDict(indices[k]));
    const ParamGroupSpec *group = groupOf(opt, name);
    double wd = group && group->weightDecay ? *group->weightDecay : opt.weightDecay;
    Value update = optimizerUpdate(gb, opt, wd, p, grads[k], oldSlots, bc, newSlots);
    Value lrP = gb.cast(lr, GradientBuilder::eltOf(p));
    if (group && group->lrScale != 1.0)
      lrP = gb.mul(lrP, group->lrScale);
    // Params are the first arguments of a train step, in model order.
    fa.addResult(gb.sub(p, gb.mul(lrP, update)), named(name, unsigned(k)));
    for (auto [j, v] : llvm::enumerate(newSlots))
      slotOut.push_back({v, named(slots[k][j].name, slots[k][j].index)});
  }
  for (Result &r : slotOut)
    fa.addResult(r.value, r.attrs);
}

std::string modelHash(func::FuncOp fn, Attribute trainSpec) {
  std::string text;
  llvm::raw_string_ostream os(text);
  fn.print(os);
  os << "\n";
  trainSpec.print(os);
  return llvm::formatv("{0:x-16}", fnv1a64(os.str().data(), os.str().size())).str();
}

DictionaryAttr withAlias(OpBuilder &b, DictionaryAttr attrs, unsigned argIndex) {
  NamedAttrList list(attrs);
  list.set(TgDialect::kAliasAttr, b.getI64IntegerAttr(argIndex));
  return list.getDictionary(b.getContext());
}


DictionaryAttr stateArgAttrs(OpBuilder &b, StringRef name) {
  return b.getDictionaryAttr(
      {b.getNamedAttr(TgDialect::kNameAttr, b.getStringAttr(name)),
       b.getNamedAttr(TgDialect::kRoleAttr, roleAttr(b, Role::State)),
       b.getNamedAttr(TgDialect::kInitAttr,
                      b.getDictionaryAttr({b.getNamedAttr("kind", b.getStringAttr("zeros"))}))});
}

/// Learning-rate factor at step `t` (f32 scalar) for the schedule; null for 1.
Value scheduleFactor(GradientBuilder &gb, Value t, const ScheduleSpec &s) {
  Type f32 = gb.builder().getF32Type();
  auto c = [&](double v) { return gb.scalar(v, f32); };
  Value factor;
  if (s.kind == "step") {
    Value periods = gb.create<FloorOp>({gb.div(t, c(double(s.stepSize)))}, {}, t.getType());
    factor = gb.create<PowOp>({c(s.gamma), periods});
  } else if (s.kind == "exponential") {
    factor = gb.create<PowOp>({c(s.gamma), gb.div(t, c(double(s.decaySteps)))});
  } else if (s.kind == "cosine") {
    double total = double(s.decaySteps);
    Value progress = gb.div(gb.create<MinimumOp>({t, c(total)}), c(total));
    Value cosine = gb.create<CosOp>({gb.mul(progress, M_PI)}, {}, t.getType());
    // alpha + (1 - alpha) * (1 + cos(pi * progress)) / 2
    factor = gb.add(gb.mul(gb.add(cosine, 1.0), 0.5 * (1.0 - s.alpha)), s.alpha);
  }
  if (s.warmupSteps > 0) {
    Value ramp = gb.create<MinimumOp>({gb.div(gb.add(t, 1.0), c(double(s.warmupSteps))), c(1.0)});
    factor = factor ? gb.mul(factor, ramp) : ramp;
  }
  return factor;
}

/// The optimizer state kept per param, by slot name (`<param>.<slot>`).
SmallVector<StringRef> optimizerSlots(OptimizerKind kind) {
  if (hasVelocity(kind))
    return {"velocity"};
  if (kind == OptimizerKind::RmsProp)
    return {"mean_square"};
  if (isAdamFamily(kind))
    return {"m", "v"};
  return {};
}

/// Coupled L2 (g += l2 * p), then clipping by the global norm.
void regularizeGradients(GradientBuilder &gb, const OptimizerSpec &opt,
                         SmallVectorImpl<Value> &grads, ArrayRef<Value> params) {
  Type f32 = gb.builder().getF32Type();
  if (opt.l2 > 0)
    for (auto [g, p] : llvm::zip(grads, params))
      g = gb.add(g, gb.mul(p, opt.l2));
  if (opt.clipNorm <= 0)
    return;
  Value sumSq;
  for (Value g : grads) {
    Value s = gb.cast(gb.reduce(gb.mul(g, g), "sum", {}, false), f32);
    sumSq = sumSq ? gb.add(sumSq, s) : s;
  }
  Value norm = gb.create<SqrtOp>({sumSq}, {}, RankedTensorType::get({}, f32));
  Value clip = gb.scalar(opt.clipNorm, f32);
  // min(1, clip / norm), safe at norm = 0
  Value scale = gb.div(clip, gb.create<MaximumOp>({norm, clip}));
  for (Value &g : grads)
    g = gb.mul(g, gb.cast(scale, GradientBuilder::eltOf(g)));
}

// Adam's bias corrections are computed in f64 from the integer step, as
// PyTorch does in Python floats: in f32, beta's own rounding (0.999f is
// 0.99900001) made every step ~7e-6 (relative) short.
BiasCorrections biasCorrections(GradientBuilder &gb, const OptimizerSpec &opt, Value step) {
  if (!isAdamFamily(opt.kind))
    return {};
  Type f64 = gb.builder().getF64Type();
  Value t1 = gb.add(gb.cast(step, f64), 1.0);
  auto c = [&](double v) { return gb.scalar(v, f64); };
  return {gb.sub(c(1.0), gb.create<PowOp>({c(opt.beta1), t1})),
          gb.sub(c(1.0), gb.create<PowOp>({c(opt.beta2), t1}))};
}

/// The step direction of one param (p -= lr * update) and its new optimizer
/// slots (in optimizerSlots order), appended to `newSlots`.
Value optimizerUpdate(GradientBuilder &gb, const OptimizerSpec &opt, double weightDecay, Value p,
                      Value g, ArrayRef<Value> slots, const BiasCorrections &bc,
                      SmallVectorImpl<Value> &newSlots) {
  auto castTo = [&](Value s, Value like) { return gb.cast(s, GradientBuilder::eltOf(like)); };
  Value update;
  if (opt.kind == OptimizerKind::Sgd) {
    update = g;
  } else if (hasVelocity(opt.kind)) {
    Value v = gb.add(gb.mul(slots[0], opt.momentum), g);
    newSlots.push_back(v);
    update = opt.kind == OptimizerKind::Momentum ? v : gb.add(g, gb.mul(v, opt.momentum));
  } else if (opt.kind == OptimizerKind::RmsProp) {
    Value s = gb.add(gb.mul(slots[0], opt.rho), gb.mul(gb.mul(g, g), 1.0 - opt.rho));
    newSlots.push_back(s);
    update = gb.div(g, gb.add(gb.create<SqrtOp>({s}, {}, s.getType()), opt.eps));
  } else { // adam, adamw
    Value m1 = gb.add(gb.mul(slots[0], opt.beta1), gb.mul(g, 1.0 - opt.beta1));
    Value m2 = gb.add(gb.mul(slots[1], opt.beta2), gb.mul(gb.mul(g, g), 1.0 - opt.beta2));
    newSlots.push_back(m1);
    newSlots.push_back(m2);
    Value mHat = gb.div(m1, castTo(bc.first, p));
    Value vHat = gb.div(m2, castTo(bc.second, p));
    update = gb.div(mHat, gb.add(gb.create<SqrtOp>({vHat}, {}, vHat.getType()), opt.eps));
  }
  if (weightDecay > 0) // decoupled (AdamW-style): p -= lr * wd * p
    update = gb.add(update, gb.mul(p, weightDecay));
  return update;
}

/// The type of a model argument fed M micro-batches at once: [M * b, ...].
Type batchedType(Type t, int64_t microbatches) {
  auto rt = llvm::cast<RankedTensorType>(t);
  if (microbatches == 1)
    return rt;
  SmallVector<int64_t> shape(rt.getShape());
  shape[0] *= microbatches;
  return RankedTensorType::get(shape, rt.getElementType());
}

namespace {

/// Runs `src`'s body (the model or its gradient) once per micro-batch, in a
/// tg.scan at b's insertion point. `map` maps src's arguments to the entry's
/// values; those of `batched` are [M * b, ...] and are read as M sequences of
/// [b, ...]. Returns, for each return operand r of src in `outs` that the
/// body computes (an op whose inputs are not all mapped is left out, as
/// cloneBody does): its sum over the micro-batches divided by M when
/// `mean(r)` (a float), else its values stacked into the leading dimension;
/// a value that does not depend on the batch, as it is.
FailureOr<DenseMap<unsigned, Value>>
microbatchScan(OpBuilder &b, Location loc, func::FuncOp src, IRMapping &map,
               ArrayRef<unsigned> batched, ArrayRef<unsigned> outs, int64_t microbatches,
               function_ref<bool(unsigned)> mean) {
  GradientBuilder gb(b, loc);
  Block &srcBody = src.getBody().front();
  SmallVector<Value> sequences;
  for (unsigned i : batched) {
    Value v = map.lookup(srcBody.getArgument(i));
    auto t = llvm::cast<RankedTensorType>(v.getType());
    SmallVector<int64_t> shape = {microbatches, t.getDimSize(0) / microbatches};
    shape.append(t.getShape().begin() + 1, t.getShape().end());
    sequences.push_back(gb.reshape(v, shape));
  }
  // The body first (which outputs exist is known once it is cloned), then
  // the scan around it.
  auto body = std::make_unique<Block>();
  IRMapping inner = map;
  llvm::DenseSet<Value> perBatch; // values computed from the micro-batch
  for (auto [i, seq] : llvm::zip(batched, sequences)) {
    BlockArgument arg = body->addArgument(ScanOp::stepType(seq.getType()), loc);
    inner.map(srcBody.getArgument(i), arg);
    perBatch.insert(arg);
  }
  OpBuilder nb(b.getContext()); // (a block outside any region has no context)
  nb.setInsertionPointToEnd(body.get());
  for (Operation &op : srcBody.without_terminator()) {
    if (!llvm::all_of(op.getOperands(), [&](Value v) { return inner.contains(v); }))
      continue;
    Operation *clone = nb.clone(op, inner);
    llvm::SetVector<Value> used(clone->getOperands().begin(), clone->getOperands().end());
    getUsedValuesDefinedAbove(clone->getRegions(), used);
    if (llvm::any_of(used, [&](Value v) { return perBatch.contains(v); }))
      perBatch.insert(clone->result_begin(), clone->result_end());
  }
  auto ret = llvm::cast<func::ReturnOp>(srcBody.getTerminator());
  SmallVector<unsigned> sums, stacks, lasts;
  for (unsigned r : outs) {
    if (!inner.contains(ret.getOperand(r)))
      continue;
    Value v = inner.lookup(ret.getOperand(r));
    auto t = llvm::cast<RankedTensorType>(v.getType());
    if (!perBatch.contains(v))
      lasts.push_back(r); // the same in every micro-batch
    else if (mean(r) && llvm::isa<FloatType>(t.getElementType()))
      sums.push_back(r);
    else if (t.getRank() > 0)
      stacks.push_back(r);
    else
      return src.emitError() << "tg-build-train-step: --microbatches=" << microbatches
                             << ": result #" << r << " of @" << src.getSymName() << " (" << t
                             << ") is a scalar computed from the batch that is not a float "
                                "mean, so the micro-batches' values cannot be combined";
  }
  GradientBuilder ib(nb, loc);
  SmallVector<Value> inits, yields;
  SmallVector<Type> types;
  for (unsigned r : sums) {
    auto t = llvm::cast<RankedTensorType>(ret.getOperand(r).getType());
    inits.push_back(gb.splat(t, 0.0));
    types.push_back(t);
    BlockArgument acc = body->addArgument(t, loc);
    yields.push_back(ib.add(acc, inner.lookup(ret.getOperand(r))));
  }
  for (unsigned r : lasts) {
    auto t = llvm::cast<RankedTensorType>(ret.getOperand(r).getType());
    inits.push_back(gb.splat(t, 0.0));
    types.push_back(t);
    body->addArgument(t, loc);
    yields.push_back(inner.lookup(ret.getOperand(r)));
  }
  for (unsigned r : stacks) {
    yields.push_back(inner.lookup(ret.getOperand(r)));
    types.push_back(ScanOp::stackedType(ret.getOperand(r).getType(), microbatches));
  }
  nb.create<YieldOp>(loc, yields);
  auto scan = b.create<ScanOp>(loc, types, sequences, inits, UnitAttr(), UnitAttr(),
                               b.getUnitAttr());
  scan.getBody().push_back(body.release());
  DenseMap<unsigned, Value> result;
  unsigned k = 0;
  for (unsigned r : sums) {
    Value sum = scan.getResult(k++);
    result[r] = gb.div(sum, gb.scalar(double(microbatches), GradientBuilder::eltOf(sum)));
  }
  for (unsigned r : lasts)
    result[r] = scan.getResult(k++);
  for (unsigned r : stacks) {
    Value stacked = scan.getResult(k++);
    auto t = llvm::cast<RankedTensorType>(stacked.getType());
    SmallVector<int64_t> merged = {t.getDimSize(0) * t.getDimSize(1)};
    merged.append(t.getShape().begin() + 2, t.getShape().end());
    result[r] = gb.reshape(stacked, merged);
  }
  return result;
}

struct BuildTrainStepPass : impl::BuildTrainStepBase<BuildTrainStepPass> {
  using impl::BuildTrainStepBase<BuildTrainStepPass>::BuildTrainStepBase;
  void runOnOperation() override {
    if (failed(run()))
      signalPassFailure();
  }

  LogicalResult run();
  func::FuncOp buildTrainStep(OpBuilder &b, Model &m, func::FuncOp grad, const TrainSpec &spec);
  func::FuncOp buildEvalStep(OpBuilder &b, Model &m);
  func::FuncOp buildPredict(OpBuilder &b, Model &m);
};

LogicalResult BuildTrainStepPass::run() {
  ModuleOp module = getOperation();
  Attribute attr = module->getAttr(kTrainAttr);
  // A pipeline's stages have their own steps (tg-pipeline-split).
  if (ifNeeded && module->hasAttr(kPipelineAttr))
    return success();
  if (ifNeeded && (!attr || module.lookupSymbol<func::FuncOp>("train_step"))) {
    // Micro-batches are asked of the entry points this pass builds.
    if (microbatches > 1)
      return module.emitError()
             << "tg-build-train-step: --microbatches=" << int64_t(microbatches)
             << (attr ? " splits the train step this pass builds, and the module already has "
                        "train_step (compile the model, not a module with entry points)"
                      : " splits a train step, and the module has no tg.train to build one from");
    LLVM_DEBUG(llvm::dbgs() << "tg-build-train-step: nothing to build\n");
    return success();
  }
  if (!attr)
    return module.emitError()
           << "tg-build-train-step: the module has no tg.train attribute; "
              "build the model with Graph::minimize or add "
              "tg.train = {loss = \"loss\", optimizer = {kind = \"sgd\", lr = 0.01}}";
  FailureOr<TrainSpec> spec = parseTrainSpec(attr, [&] { return module.emitError(); });
  if (failed(spec))
    return failure();

  Model m;
  if (!spec->function.empty()) {
    m.fn = module.lookupSymbol<func::FuncOp>(spec->function);
    if (!m.fn)
      return module.emitError() << "tg-build-train-step: tg.train names @" << spec->function
                                << ", which is not in the module";
  } else {
    for (auto fn : module.getOps<func::FuncOp>()) {
      if (fn->hasAttr(TgDialect::kGradientOfAttr) || fn->hasAttr(TgDialect::kEntryAttr))
        continue;
      if (m.fn)
        return module.emitError() << "tg-build-train-step: the module has several functions (@"
                                  << m.fn.getSymName() << ", @" << fn.getSymName()
                                  << "); name the model in tg.train's 'function'";
      m.fn = fn;
    }
    if (!m.fn)
      return module.emitError() << "tg-build-train-step: the module has no model function";
  }
  for (StringRef entry : {"train_step", "eval_step", "predict"})
    if (module.lookupSymbol(entry))
      return module.emitError() << "tg-build-train-step: the module already has @" << entry;
  if (failed(m.classify(spec->loss)))
    return failure();
  if (m.params.empty())
    return m.fn.emitError() << "tg-build-train-step: @" << m.fn.getSymName()
                            << " has no param to train";
  if (microbatches < 1)
    return module.emitError() << "tg-build-train-step: microbatches must be >= 1, got "
                              << microbatches;
  if (microbatches > 1) {
    if (!m.states.empty())
      return m.fn.emitError()
             << "tg-build-train-step: --microbatches=" << int64_t(microbatches)
             << " needs a model without state, and @" << m.fn.getSymName() << " has state '"
             << nameOf(m.fn.getArgAttrDict(m.states.front()))
             << "' (recurrent state or batch statistics would pass between micro-batches)";
    auto error = [&] {
      return m.fn.emitError() << "tg-build-train-step: --microbatches=" << int64_t(microbatches)
                              << " ";
    };
    if (m.batched().empty())
      return error() << "splits the data and labels, and @" << m.fn.getSymName()
                     << " has none";
    // Every data and label argument is split along its leading dimension,
    // the batch: one of another length is not a batch.
    std::optional<unsigned> first;
    for (unsigned i : m.batched()) {
      auto t = llvm::cast<RankedTensorType>(m.fn.getArgumentTypes()[i]);
      if (t.getRank() == 0)
        return error() << "splits the leading (batch) dimension, and the data argument '"
                       << nameOf(m.fn.getArgAttrDict(i)) << "' is a scalar";
      auto f = first ? llvm::cast<RankedTensorType>(m.fn.getArgumentTypes()[*first]) : t;
      if (f.getDimSize(0) != t.getDimSize(0))
        return error() << "splits the leading (batch) dimension of every data and label "
                          "argument, and they differ: '"
                       << nameOf(m.fn.getArgAttrDict(*first)) << "' has " << f.getDimSize(0)
                       << ", '" << nameOf(m.fn.getArgAttrDict(i)) << "' " << t.getDimSize(0);
      first = first ? first : i;
    }
    // Each micro-batch would draw the same numbers from the same seed.
    WalkResult random = m.fn.walk([&](Operation *op) {
      if (llvm::isa<RandomUniformOp, RandomNormalOp>(op)) {
        op->emitError() << "tg-build-train-step: --microbatches=" << int64_t(microbatches)
                        << " does not support random ops in the model yet (dropout): every "
                           "micro-batch would draw the same numbers from the same seed";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (random.wasInterrupted())
      return failure();
  }
  // A group that matches no param is a typo, not a no-op.
  for (const ParamGroupSpec &g : spec->optimizer.groups)
    if (llvm::none_of(m.params, [&](unsigned p) {
          return groupOf(spec->optimizer, nameOf(m.fn.getArgAttrDict(p))) == &g;
        }))
      return m.fn.emitError() << "tg-build-train-step: optimizer group \"" << g.params
                              << "\" matches no param of @" << m.fn.getSymName()
                              << " (or only params an earlier group takes)";
  for (unsigned h : m.hypers)
    if (nameOf(m.fn.getArgAttrDict(h)) == "lr")
      return m.fn.emitError() << "tg-build-train-step: the hyper argument name 'lr' is "
                                 "reserved for the learning rate";

  // Reuse a gradient function from an earlier tg-autodiff run.
  func::FuncOp grad;
  for (auto fn : module.getOps<func::FuncOp>()) {
    auto of = fn->getAttrOfType<StringAttr>(TgDialect::kGradientOfAttr);
    if (of && of.getValue() == m.fn.getSymName())
      grad = fn;
  }
  bool ownGrad = !grad;
  if (ownGrad) {
    FailureOr<func::FuncOp> built = buildGradientFunction(m.fn, spec->loss);
    if (failed(built))
      return failure();
    grad = *built;
  }

  OpBuilder b(module.getBodyRegion());
  if (microbatches > 1)
    module->setAttr(kModelHashAttr, b.getStringAttr(modelHash(m.fn, attr)));
  b.setInsertionPointToEnd(module.getBody());
  if (!buildTrainStep(b, m, grad, *spec))
    return failure();
  b.setInsertionPointToEnd(module.getBody());
  if (!buildEvalStep(b, m))
    return failure();
  b.setInsertionPointToEnd(module.getBody());
  if (!buildPredict(b, m))
    return failure();
  if (ownGrad)
    grad.erase(); // inlined into train_step
  return success();
}

func::FuncOp BuildTrainStepPass::buildTrainStep(OpBuilder &b, Model &m, func::FuncOp grad,
                                                const TrainSpec &spec) {
  const OptimizerSpec &opt = spec.optimizer;
  Location loc = m.fn.getLoc();
  FunctionAssembler fa(b, loc, "train_step", "train_step");
  IRMapping map;
  Block &gradBody = grad.getBody().front();
  auto mapArg = [&](unsigned i, int64_t batch = 1) {
    map.map(gradBody.getArgument(i),
            fa.addArg(batchedType(m.fn.getArgumentTypes()[i], batch), m.fn.getArgAttrDict(i)));
  };

  // Arguments: params, optimizer slots, step, model state, data, labels, hypers, lr.
  for (unsigned p : m.params)
    mapArg(p);
  SmallVector<SmallVector<OptimizerSlot>> slots =
      addOptimizerSlots(b, fa, m.fn, m.params, opt.kind);
  auto stepType = RankedTensorType::get({}, b.getI64Type());
  unsigned stepIndex = fa.numArgs();
  Value step = fa.addArg(stepType, stateArgAttrs(b, "step"));
  DenseMap<unsigned, unsigned> newIndex; // model state arg -> train_step arg
  for (unsigned s : m.states) {
    newIndex[s] = fa.numArgs();
    mapArg(s);
  }
  for (auto group : {&m.data, &m.labels})
    for (unsigned i : *group)
      mapArg(i, microbatches);
  for (unsigned i : m.hypers)
    mapArg(i);
  auto f32 = RankedTensorType::get({}, b.getF32Type());
  Value lr = fa.addArg(
      f32,
      b.getDictionaryAttr({b.getNamedAttr(TgDialect::kNameAttr, b.getStringAttr("lr")),
                           b.getNamedAttr(TgDialect::kRoleAttr, roleAttr(b, Role::Hyper)),
                           b.getNamedAttr(TgDialect::kDefaultAttr, b.getF64FloatAttr(opt.lr))}));

  // Forward and backward, then the update.
  b.setInsertionPointToEnd(fa.entry());
  m.bindTraining(b, gradBody, map, 1.0);
  auto gradRet = llvm::cast<func::ReturnOp>(gradBody.getTerminator());
  // The gradient function's results: the model's, then one gradient per param.
  DenseMap<unsigned, Value> outs;
  if (microbatches > 1) {
    SmallVector<unsigned> wanted = {m.loss};
    wanted.append(m.metrics.begin(), m.metrics.end());
    for (unsigned k = 0; k < m.params.size(); ++k)
      wanted.push_back(m.fn.getNumResults() + k);
    FailureOr<DenseMap<unsigned, Value>> scanned = microbatchScan(
        b, loc, grad, map, m.batched(), wanted, microbatches, [](unsigned) { return true; });
    if (failed(scanned)) {
      fa.abandon();
      return {};
    }
    outs = std::move(*scanned);
  } else {
    cloneBody(b, grad, map);
    for (auto [r, v] : llvm::enumerate(gradRet.getOperands()))
      outs[unsigned(r)] = map.lookup(v);
  }
  auto fwd = [&](unsigned result) { return outs.lookup(result); };
  // Each complete gradient is marked for tg-distribute (which reduces it
  // across ranks or drops the marker).
  SmallVector<Value> grads;
  for (unsigned k = 0; k < m.params.size(); ++k) {
    Value g = outs.lookup(m.fn.getNumResults() + k);
    grads.push_back(
        b.create<ParamGradOp>(loc, g, b.getStringAttr(nameOf(m.fn.getArgAttrDict(m.params[k])))));
  }

  GradientBuilder gb(b, loc);
  Value t = gb.cast(step, b.getF32Type());
  Value lrT = lr;
  if (Value factor = scheduleFactor(gb, t, opt.schedule))
    lrT = gb.mul(lr, factor);

  SmallVector<Value> params;
  for (unsigned p : m.params)
    params.push_back(map.lookup(gradBody.getArgument(p)));
  regularizeGradients(gb, opt, grads, params);
  BiasCorrections bc = biasCorrections(gb, opt, step);

  auto named = [&](StringRef name, unsigned alias) {
    return withAlias(
        b, b.getDictionaryAttr({b.getNamedAttr(TgDialect::kNameAttr, b.getStringAttr(name))}),
        alias);
  };
  fa.addResult(fwd(m.loss), m.fn.getResultAttrDict(m.loss));
  for (unsigned r : m.metrics)
    fa.addResult(fwd(r), m.fn.getResultAttrDict(r));
  addOptimizerUpdates(gb, fa, opt, m.fn, m.params, params, grads, slots, lrT, bc);
  fa.addResult(gb.add(step, gb.scalar(1.0, b.getI64Type())), named("step", stepIndex));
  for (unsigned r : m.stateOuts)
    fa.addResult(fwd(r), remapAlias(b, m.fn, r, newIndex));
  return fa.finish();
}

func::FuncOp BuildTrainStepPass::buildEvalStep(OpBuilder &b, Model &m) {
  FunctionAssembler fa(b, m.fn.getLoc(), "eval_step", "eval_step");
  IRMapping map;
  Block &body = m.fn.getBody().front();
  DenseMap<unsigned, unsigned> newIndex;
  addModelArgs(fa, m.fn, body, {&m.params, &m.states, &m.data, &m.labels, &m.hypers}, map,
               newIndex, m.batched(), microbatches);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(fa.entry());
  m.bindTraining(b, body, map, 0.0);
  auto ret = llvm::cast<func::ReturnOp>(body.getTerminator());
  if (microbatches > 1) { // stateless (checked): loss and metrics, averaged
    SmallVector<unsigned> wanted = {m.loss};
    wanted.append(m.metrics.begin(), m.metrics.end());
    FailureOr<DenseMap<unsigned, Value>> outs =
        microbatchScan(b, m.fn.getLoc(), m.fn, map, m.batched(), wanted, microbatches,
                       [](unsigned) { return true; });
    if (failed(outs)) {
      fa.abandon();
      return {};
    }
    for (unsigned r : wanted)
      fa.addResult(outs->lookup(r), m.fn.getResultAttrDict(r));
    return fa.finish();
  }
  cloneBody(b, m.fn, map);
  fa.addResult(map.lookup(ret.getOperand(m.loss)), m.fn.getResultAttrDict(m.loss));
  for (unsigned r : m.metrics)
    fa.addResult(map.lookup(ret.getOperand(r)), m.fn.getResultAttrDict(r));
  for (unsigned r : m.stateOuts)
    if (!m.trainOnly(r))
      fa.addResult(map.lookup(ret.getOperand(r)), remapAlias(b, m.fn, r, newIndex));
  return fa.finish();
}

func::FuncOp BuildTrainStepPass::buildPredict(OpBuilder &b, Model &m) {
  FunctionAssembler fa(b, m.fn.getLoc(), "predict", "predict");
  IRMapping map;
  Block &body = m.fn.getBody().front();
  DenseMap<unsigned, unsigned> newIndex;
  addModelArgs(fa, m.fn, body, {&m.params, &m.states, &m.data, &m.hypers}, map, newIndex,
               m.data, microbatches);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(fa.entry());
  m.bindTraining(b, body, map, 0.0);
  // Every output that does not need labels.
  auto ret = llvm::cast<func::ReturnOp>(body.getTerminator());
  if (microbatches > 1) { // scalars averaged, the rest stacked in batch order
    SmallVector<unsigned> all;
    for (unsigned r = 0; r < m.fn.getNumResults(); ++r)
      if (!m.trainOnly(r))
        all.push_back(r);
    FailureOr<DenseMap<unsigned, Value>> outs =
        microbatchScan(b, m.fn.getLoc(), m.fn, map, m.data, all, microbatches, [&](unsigned r) {
          return llvm::cast<RankedTensorType>(m.fn.getResultTypes()[r]).getRank() == 0;
        });
    if (failed(outs)) {
      fa.abandon();
      return {};
    }
    for (unsigned r : all)
      if (Value v = outs->lookup(r))
        fa.addResult(v, m.fn.getResultAttrDict(r));
    return fa.finish();
  }
  cloneBody(b, m.fn, map);
  for (unsigned r = 0; r < m.fn.getNumResults(); ++r)
    if (map.contains(ret.getOperand(r)) && !m.trainOnly(r))
      fa.addResult(map.lookup(ret.getOperand(r)), remapAlias(b, m.fn, r, newIndex));
  return fa.finish();
}

} // namespace
} // namespace tg
