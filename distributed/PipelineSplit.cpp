//===- PipelineSplit.cpp - tg-pipeline-split ------------------------------===//
//
// Model distribution (see the pass description in Passes.td). The model is
// cut before differentiation: each stage becomes a function of its params,
// the data it reads and its boundary inputs, and is differentiated alone (a
// non-last stage's "loss" is sum(y * dy) over its outputs, whose cotangent
// is exactly dy). The stage's entry point then runs the schedule unrolled:
// a forward clones the stage gradient function's forward ops for one
// micro-batch, a backward clones the rest, reusing that micro-batch's
// forward values.
//
//===----------------------------------------------------------------------===//
#include "distributed/Passes.h"
#include "passes/Passes.h"
#include "passes/ReverseMode.h"
#include "passes/TrainStepBuilder.h"

#include "mlir/IR/Builders.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Debug.h"
#include "llvm/Support/Format.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#define DEBUG_TYPE "tg-pipeline-split"

namespace tg {
#define GEN_PASS_DEF_PIPELINESPLIT
#include "distributed/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {
namespace {

// The roofline of the cost model: the 2-core dev machines' measured oneDNN
// sgemm and triad bandwidth (DESIGN.md, platform facts).
constexpr double kFlopsPerSecond = 370e9;
/// Transfer tags stay below this (the trainer's checkpoint transfers start
/// there; MPI guarantees tags up to 32767).
constexpr int64_t kMaxTransferTag = 20000;
constexpr double kBytesPerSecond = 36e9;

int64_t bytesOf(Type t) {
  auto rt = llvm::dyn_cast<RankedTensorType>(t);
  if (!rt || !rt.hasStaticShape())
    return 0;
  return rt.getNumElements() * std::max<int64_t>(1, rt.getElementTypeBitWidth() / 8);
}

int64_t elementsOf(Type t) {
  auto rt = llvm::dyn_cast<RankedTensorType>(t);
  return rt && rt.hasStaticShape() ? rt.getNumElements() : 0;
}

struct Cost {
  double flops = 0, bytes = 0;
  Cost &operator+=(const Cost &o) {
    flops += o.flops;
    bytes += o.bytes;
    return *this;
  }
  double seconds() const { return std::max(flops / kFlopsPerSecond, bytes / kBytesPerSecond); }
};

/// A forward op's FLOPs (multiply-adds count 2) and the bytes it reads and
/// writes.
Cost costOf(Operation *op) {
  Cost c;
  if (auto scan = llvm::dyn_cast<ScanOp>(op)) {
    Cost body;
    for (Operation &inner : scan.getBody().front().without_terminator())
      body += costOf(&inner);
    int64_t steps = 1;
    if (!scan.getSequences().empty())
      if (auto t = llvm::dyn_cast<RankedTensorType>(scan.getSequences().front().getType()))
        steps = t.getRank() > 0 ? t.getDimSize(0) : 1;
    c.flops = body.flops * double(steps);
    c.bytes = body.bytes * double(steps);
    return c;
  }
  for (Value v : op->getOperands())
    c.bytes += double(bytesOf(v.getType()));
  double out = 0;
  for (Value r : op->getResults()) {
    c.bytes += double(bytesOf(r.getType()));
    out += double(elementsOf(r.getType()));
  }
  auto dim = [](Value v, int64_t fromEnd) -> double {
    auto t = llvm::cast<RankedTensorType>(v.getType());
    return t.getRank() >= fromEnd ? double(t.getDimSize(t.getRank() - fromEnd)) : 1.0;
  };
  if (llvm::isa<MatmulOp, FusedMatmulOp>(op)) {
    bool tl = false;
    if (auto a = op->getAttrOfType<BoolAttr>("transpose_lhs"))
      tl = a.getValue();
    c.flops = 2 * out * dim(op->getOperand(0), tl ? 2 : 1);
  } else if (llvm::isa<Conv2DOp, FusedConv2DOp>(op)) {
    auto w = llvm::cast<RankedTensorType>(op->getOperand(1).getType());
    c.flops = 2 * out * double(w.getNumElements() / std::max<int64_t>(1, w.getDimSize(0)));
  } else if (llvm::isa<AttentionOp>(op)) {
    // q k^T and p v: 2 (Tk D + Tk Dv) per query row.
    double rows = double(elementsOf(op->getOperand(0).getType())) / dim(op->getOperand(0), 1);
    double tk = dim(op->getOperand(1), 2);
    c.flops = 2 * rows * tk * (dim(op->getOperand(0), 1) + dim(op->getOperand(2), 1));
  } else {
    c.flops = out;
  }
  return c;
}

void usedValues(Operation *op, llvm::SetVector<Value> &out) {
  out.insert(op->operand_begin(), op->operand_end());
  getUsedValuesDefinedAbove(op->getRegions(), out);
}

/// One value crossing a cut: defined in an earlier stage, used in a later one.
struct Boundary {
  Value value;
  bool needsGrad = false; ///< a float that depends on a param and reaches the loss
};

/// A stage's slice of the model and its differentiated function.
struct Stage {
  int64_t first = 0, last = 0; ///< placed ops [first, last]
  SmallVector<Boundary> ins, outs;
  SmallVector<unsigned> params;  ///< model argument indices, in order
  SmallVector<unsigned> inputs;  ///< data, labels, hypers (and training) it reads
  Cost cost;
  double updateBytes = 0, paramBytes = 0, sendBytes = 0;
  func::FuncOp fn, grad;
  unsigned numForward = 0; ///< ops of fn (and grad) that are the model's
  /// fn's argument positions.
  DenseMap<unsigned, unsigned> argOf; ///< model argument -> fn argument
  unsigned firstIn = 0, firstDout = 0;
  SmallVector<unsigned> doutOf; ///< output j -> fn argument of its cotangent (or ~0u)
  double seconds() const {
    return cost.seconds() * 3 + updateBytes / kBytesPerSecond; // backward ~ 2 forwards
  }
};

struct PipelineSplitPass : impl::PipelineSplitBase<PipelineSplitPass> {
  using impl::PipelineSplitBase<PipelineSplitPass>::PipelineSplitBase;
  void runOnOperation() override {
    if (stages <= 1)
      return;
    if (failed(run()))
      signalPassFailure();
  }

  LogicalResult run();
  LogicalResult check(const TrainSpec &spec);
  LogicalResult place();
  LogicalResult chooseCuts(SmallVectorImpl<int64_t> &cuts);
  LogicalResult buildStage(OpBuilder &b, Stage &s, int64_t k);
  func::FuncOp buildStep(OpBuilder &b, Stage &s, int64_t k, const OptimizerSpec &opt,
                         bool train);

  ModuleOp module;
  TrainSpec spec;
  Model m;
  /// Ops that depend on a param, in order: the ones a cut divides.
  SmallVector<Operation *> placed;
  DenseMap<Operation *, int64_t> indexOf;
  DenseSet<Value> paramDependent, reachesLoss;
  /// Per placed op: the last placed op (or placed.size(), the return) using
  /// each of its results.
  DenseMap<Value, int64_t> lastUse;
  /// Per param argument: the first and last placed op using it.
  DenseMap<unsigned, std::pair<int64_t, int64_t>> paramUses;
  std::vector<Stage> plan;
};

LogicalResult PipelineSplitPass::check(const TrainSpec &spec) {
  auto error = [&] {
    return m.fn.emitError() << "tg-pipeline-split: --pipeline-stages=" << int64_t(stages) << " ";
  };
  if (schedule != "gpipe" && schedule != "1f1b")
    return module.emitError() << "tg-pipeline-split: unknown schedule '" << schedule
                              << "' (expected gpipe or 1f1b)";
  if (microbatches < 1)
    return module.emitError() << "tg-pipeline-split: microbatches must be >= 1, got "
                              << microbatches;
  if (!m.states.empty())
    return error() << "needs a model without state, and @" << m.fn.getSymName()
                   << " has state '" << nameOf(m.fn.getArgAttrDict(m.states.front()))
                   << "' (recurrent state or batch statistics would pass between micro-batches)";
  if (m.batched().empty())
    return error() << "splits the data into micro-batches, and @" << m.fn.getSymName()
                   << " has no data";
  std::optional<unsigned> first;
  for (unsigned i : m.batched()) {
    auto t = llvm::cast<RankedTensorType>(m.fn.getArgumentTypes()[i]);
    if (t.getRank() == 0)
      return error() << "slices micro-batches along the leading dimension, and the data "
                        "argument '"
                     << nameOf(m.fn.getArgAttrDict(i)) << "' is a scalar";
    auto f = first ? llvm::cast<RankedTensorType>(m.fn.getArgumentTypes()[*first]) : t;
    if (f.getDimSize(0) != t.getDimSize(0))
      return error() << "slices micro-batches along the leading dimension, and the data "
                        "arguments differ there: '"
                     << nameOf(m.fn.getArgAttrDict(*first)) << "' has " << f.getDimSize(0)
                     << ", '" << nameOf(m.fn.getArgAttrDict(i)) << "' " << t.getDimSize(0);
    first = first ? first : i;
  }
  WalkResult random = m.fn.walk([&](Operation *op) {
    if (llvm::isa<RandomUniformOp, RandomNormalOp>(op)) {
      op->emitError() << "tg-pipeline-split: random ops (dropout) are not supported yet: every "
                         "micro-batch would draw the same numbers";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (random.wasInterrupted())
    return failure();
  if (spec.optimizer.clipNorm > 0)
    return error() << "cannot clip by the global norm yet (clip_norm = " << spec.optimizer.clipNorm
                   << "): the norm would need every stage's gradients";
  return success();
}

LogicalResult PipelineSplitPass::place() {
  Block &body = m.fn.getBody().front();
  for (unsigned p : m.params)
    paramDependent.insert(body.getArgument(p));
  for (Operation &op : body.without_terminator()) {
    llvm::SetVector<Value> used;
    usedValues(&op, used);
    if (llvm::none_of(used, [&](Value v) { return paramDependent.contains(v); }))
      continue; // recomputed by whichever stage needs it
    paramDependent.insert(op.result_begin(), op.result_end());
    indexOf[&op] = int64_t(placed.size());
    placed.push_back(&op);
  }
  auto ret = llvm::cast<func::ReturnOp>(body.getTerminator());
  reachesLoss.insert(ret.getOperand(m.loss));
  for (Operation &op : llvm::reverse(body.without_terminator()))
    if (llvm::any_of(op.getResults(), [&](Value v) { return reachesLoss.contains(v); })) {
      llvm::SetVector<Value> used;
      usedValues(&op, used);
      reachesLoss.insert(used.begin(), used.end());
    }
  int64_t n = int64_t(placed.size());
  for (auto [i, op] : llvm::enumerate(placed)) {
    llvm::SetVector<Value> used;
    usedValues(op, used);
    for (Value v : used) {
      if (auto arg = llvm::dyn_cast<BlockArgument>(v)) {
        if (arg.getOwner() != &body || !llvm::is_contained(m.params, arg.getArgNumber()))
          continue;
        auto [it, inserted] = paramUses.try_emplace(arg.getArgNumber(), int64_t(i), int64_t(i));
        it->second.second = int64_t(i);
        continue;
      }
      if (Operation *def = v.getDefiningOp(); def && indexOf.count(def))
        lastUse[v] = std::max(lastUse.lookup(v), int64_t(i));
    }
  }
  // The last stage returns the loss and the metrics (the steps return no
  // other model output).
  SmallVector<unsigned> returned = {m.loss};
  returned.append(m.metrics.begin(), m.metrics.end());
  for (unsigned r : returned)
    if (Operation *def = ret.getOperand(r).getDefiningOp(); def && indexOf.count(def))
      lastUse[ret.getOperand(r)] = n;
  return success();
}

LogicalResult PipelineSplitPass::chooseCuts(SmallVectorImpl<int64_t> &cuts) {
  int64_t n = int64_t(placed.size());
  // A cut sends every value that crosses it, in f32 (the transfers' type):
  // a cut through an integer or half tensor is not a cut point.
  auto sendable = [&](int64_t c) {
    for (auto &[v, last] : lastUse)
      if (indexOf.lookup(v.getDefiningOp()) <= c && c < last &&
          !llvm::cast<RankedTensorType>(v.getType()).getElementType().isF32())
        return false;
    for (auto &[p, range] : paramUses) // a tied param travels too
      if (range.first <= c && c < range.second &&
          !llvm::cast<RankedTensorType>(m.fn.getArgumentTypes()[p]).getElementType().isF32())
        return false;
    return true;
  };
  // Stage marks: a stage per mark, in order.
  bool marked = false;
  for (Operation *op : placed)
    marked |= op->hasAttr(kStageAttr);
  WalkResult inner = m.fn.walk([&](ScanOp scan) {
    WalkResult r = scan.getBody().walk([&](Operation *op) {
      if (op->hasAttr(kStageAttr)) {
        op->emitError() << "tg-pipeline-split: a stage mark inside a tg.scan: a recurrence "
                           "runs in one stage (mark the scan, or the ops around it)";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    return r;
  });
  if (inner.wasInterrupted())
    return failure();
  if (marked) {
    int64_t stage = 0;
    for (auto [i, op] : llvm::enumerate(placed)) {
      auto mark = op->getAttrOfType<IntegerAttr>(kStageAttr);
      if (!mark)
        continue;
      int64_t k = mark.getInt();
      if (k < stage)
        return op->emitError() << "tg-pipeline-split: stage mark " << k
                               << " comes after an op of stage " << stage
                               << " (stages must follow the model's order)";
      if (k >= stages)
        return op->emitError() << "tg-pipeline-split: stage mark " << k << ", but the plan has "
                               << int64_t(stages) << " stages (--pipeline-stages)";
      for (; stage < k; ++stage) {
        int64_t c = int64_t(i) - 1;
        if (c < 0 || (!cuts.empty() && cuts.back() == c))
          return op->emitError() << "tg-pipeline-split: stage " << stage << " has no op to run";
        if (!sendable(c))
          return op->emitError() << "tg-pipeline-split: the stage mark " << k
                                 << " cuts through a tensor that is not f32 (an integer or "
                                    "mask); move the mark";
        cuts.push_back(c);
      }
    }
    if (int64_t(cuts.size()) != stages - 1)
      return m.fn.emitError() << "tg-pipeline-split: the stage marks of @" << m.fn.getSymName()
                              << " make " << cuts.size() + 1 << " stages, and --pipeline-stages="
                              << int64_t(stages);
    return success();
  }
  // Balance: choose S-1 cuts among the valid points, minimizing the slowest
  // stage, then the bytes crossing.
  SmallVector<double> prefix(n + 1, 0.0);
  for (int64_t i = 0; i < n; ++i)
    prefix[i + 1] = prefix[i] + costOf(placed[i]).seconds() * 3;
  SmallVector<double> paramCost(n + 1, 0.0); // update bytes by the op that first uses a param
  unsigned slots = unsigned(optimizerSlots(spec.optimizer.kind).size());
  for (auto &[p, range] : paramUses)
    paramCost[range.first + 1] +=
        double(bytesOf(m.fn.getArgumentTypes()[p])) * (3 + 2 * slots) / kBytesPerSecond;
  for (int64_t i = 0; i < n; ++i)
    paramCost[i + 1] += paramCost[i];
  auto stageSeconds = [&](int64_t lo, int64_t hi) { // ops [lo, hi]
    return prefix[hi + 1] - prefix[lo] + paramCost[hi + 1] - paramCost[lo];
  };
  SmallVector<int64_t> valid;
  SmallVector<double> crossing;
  for (int64_t c = 0; c + 1 < n; ++c) {
    if (!sendable(c))
      continue;
    double bytes = 0;
    for (auto &[v, last] : lastUse)
      if (indexOf.lookup(v.getDefiningOp()) <= c && c < last)
        bytes += double(bytesOf(v.getType()));
    // A param used on both sides (tied weights) travels with the activations.
    for (auto &[p, range] : paramUses)
      if (range.first <= c && c < range.second)
        bytes += double(bytesOf(m.fn.getArgumentTypes()[p]));
    valid.push_back(c);
    crossing.push_back(bytes);
  }
  if (int64_t(valid.size()) < stages - 1)
    return m.fn.emitError() << "tg-pipeline-split: --pipeline-stages=" << int64_t(stages)
                            << " needs " << stages - 1 << " cuts, and @" << m.fn.getSymName()
                            << " has " << valid.size()
                            << " points where only f32 tensors cross (of " << n
                            << " ops that depend on params)";
  // dp[j][v]: best (slowest stage, bytes) for stages 0..j with stage j
  // ending at valid[v].
  size_t V = valid.size();
  using Best = std::pair<double, double>;
  const Best none = {std::numeric_limits<double>::infinity(), 0};
  SmallVector<SmallVector<Best>> dp(stages - 1, SmallVector<Best>(V, none));
  SmallVector<SmallVector<int64_t>> from(stages - 1, SmallVector<int64_t>(V, -1));
  for (size_t v = 0; v < V; ++v)
    dp[0][v] = {stageSeconds(0, valid[v]), crossing[v]};
  for (int64_t j = 1; j < stages - 1; ++j)
    for (size_t v = 0; v < V; ++v)
      for (size_t u = 0; u < v; ++u) {
        if (dp[j - 1][u].first == none.first)
          continue;
        Best cand = {std::max(dp[j - 1][u].first, stageSeconds(valid[u] + 1, valid[v])),
                     dp[j - 1][u].second + crossing[v]};
        if (cand < dp[j][v]) {
          dp[j][v] = cand;
          from[j][v] = int64_t(u);
        }
      }
  Best best = none;
  int64_t at = -1;
  for (size_t v = 0; v < V; ++v) {
    if (dp[stages - 2][v].first == none.first)
      continue;
    Best cand = {std::max(dp[stages - 2][v].first, stageSeconds(valid[v] + 1, n - 1)),
                 dp[stages - 2][v].second};
    if (cand < best) {
      best = cand;
      at = int64_t(v);
    }
  }
  if (at < 0)
    return m.fn.emitError() << "tg-pipeline-split: no plan of " << int64_t(stages)
                            << " stages found";
  cuts.assign(stages - 1, 0);
  for (int64_t j = stages - 2; j >= 0; --j) {
    cuts[j] = valid[at];
    at = from[j][at];
  }
  return success();
}

/// The stage's function: its ops (placed ones in its range and the
/// param-free ones they need), its boundary values in and out; a non-last
/// stage's "loss" is sum(y * dy) over the outputs that need a gradient.
LogicalResult PipelineSplitPass::buildStage(OpBuilder &b, Stage &s, int64_t k) {
  Block &body = m.fn.getBody().front();
  auto ret = llvm::cast<func::ReturnOp>(body.getTerminator());
  bool last = k == stages - 1;
  // The ops to clone, in model order.
  DenseSet<Operation *> needed;
  SmallVector<Operation *> work;
  DenseSet<Value> inSet;
  for (const Boundary &in : s.ins)
    inSet.insert(in.value);
  auto need = [&](Value v) {
    if (inSet.contains(v) || llvm::isa<BlockArgument>(v))
      return;
    if (Operation *def = v.getDefiningOp())
      if (def->getBlock() == &body && needed.insert(def).second)
        work.push_back(def);
  };
  for (int64_t i = s.first; i <= s.last; ++i)
    if (needed.insert(placed[i]).second)
      work.push_back(placed[i]);
  if (last) {
    need(ret.getOperand(m.loss));
    for (unsigned r : m.metrics)
      need(ret.getOperand(r));
  }
  DenseSet<unsigned> args;
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    llvm::SetVector<Value> used;
    usedValues(op, used);
    for (Value v : used) {
      if (inSet.contains(v))
        continue; // a boundary input (a param from an earlier stage too)
      if (auto arg = llvm::dyn_cast<BlockArgument>(v); arg && arg.getOwner() == &body) {
        args.insert(arg.getArgNumber());
        continue;
      }
      if (Operation *def = v.getDefiningOp(); def && indexOf.count(def) && !inSet.contains(v) &&
                                              (indexOf[def] < s.first || indexOf[def] > s.last))
        return op->emitError() << "tg-pipeline-split: internal error: a value of another stage "
                                  "is not a boundary input";
      need(v);
    }
  }
  for (unsigned i = 0; i < m.fn.getNumArguments(); ++i) {
    if (!args.contains(i))
      continue;
    (llvm::is_contained(m.params, i) ? s.params : s.inputs).push_back(i);
  }

  // fn(params, inputs, boundary ins, cotangents of outs).
  std::string name = (m.fn.getSymName() + ".stage" + llvm::Twine(k)).str();
  Location loc = m.fn.getLoc();
  auto fn = b.create<func::FuncOp>(loc, name, b.getFunctionType({}, {}));
  Block *entry = fn.addEntryBlock();
  SmallVector<Type> argTypes;
  SmallVector<DictionaryAttr> argAttrs;
  IRMapping map;
  auto addArg = [&](Type t, DictionaryAttr attrs) {
    argTypes.push_back(t);
    argAttrs.push_back(attrs);
    return entry->addArgument(t, loc);
  };
  for (SmallVector<unsigned> *group : {&s.params, &s.inputs})
    for (unsigned i : *group) {
      s.argOf[i] = unsigned(argTypes.size());
      map.map(body.getArgument(i), addArg(m.fn.getArgumentTypes()[i], m.fn.getArgAttrDict(i)));
    }
  auto boundaryAttrs = [&](StringRef what, unsigned j, Role role) {
    return b.getDictionaryAttr(
        {b.getNamedAttr(TgDialect::kNameAttr,
                        b.getStringAttr(("pipeline." + what + "." + llvm::Twine(j)).str())),
         b.getNamedAttr(TgDialect::kRoleAttr, roleAttr(b, role))});
  };
  s.firstIn = unsigned(argTypes.size());
  for (auto [j, in] : llvm::enumerate(s.ins))
    map.map(in.value, addArg(in.value.getType(), boundaryAttrs("in", unsigned(j),
                                                               in.needsGrad ? Role::Param
                                                                            : Role::Data)));
  s.firstDout = unsigned(argTypes.size());
  for (auto [j, out] : llvm::enumerate(s.outs)) {
    if (!out.needsGrad) {
      s.doutOf.push_back(~0u);
      continue;
    }
    s.doutOf.push_back(unsigned(argTypes.size()));
    addArg(out.value.getType(), boundaryAttrs("dout", unsigned(j), Role::Data));
  }
  b.setInsertionPointToEnd(entry);
  for (Operation &op : body.without_terminator())
    if (needed.contains(&op)) {
      b.clone(op, map);
      ++s.numForward;
    }
  SmallVector<Value> results;
  SmallVector<DictionaryAttr> resultAttrs;
  GradientBuilder gb(b, loc);
  if (last) {
    results.push_back(map.lookup(ret.getOperand(m.loss)));
    resultAttrs.push_back(m.fn.getResultAttrDict(m.loss));
    for (unsigned r : m.metrics) {
      results.push_back(map.lookup(ret.getOperand(r)));
      resultAttrs.push_back(m.fn.getResultAttrDict(r));
    }
  } else {
    Value loss;
    for (auto [j, out] : llvm::enumerate(s.outs)) {
      if (!out.needsGrad)
        continue;
      Value y = map.lookup(out.value);
      Value dot = gb.reduce(gb.mul(y, entry->getArgument(s.doutOf[j])), "sum", {}, false);
      dot = gb.cast(dot, b.getF32Type());
      loss = loss ? gb.add(loss, dot) : dot;
    }
    if (!loss)
      loss = gb.scalar(0.0, b.getF32Type());
    results.push_back(loss);
    resultAttrs.push_back(
        b.getDictionaryAttr({b.getNamedAttr(TgDialect::kNameAttr, b.getStringAttr("loss"))}));
    for (auto [j, out] : llvm::enumerate(s.outs)) {
      results.push_back(map.lookup(out.value));
      resultAttrs.push_back(b.getDictionaryAttr({b.getNamedAttr(
          TgDialect::kNameAttr, b.getStringAttr(("pipeline.out." + llvm::Twine(j)).str()))}));
    }
  }
  b.create<func::ReturnOp>(loc, results);
  SmallVector<Type> resultTypes;
  for (Value v : results)
    resultTypes.push_back(v.getType());
  fn.setFunctionType(b.getFunctionType(argTypes, resultTypes));
  for (auto [i, a] : llvm::enumerate(argAttrs))
    fn.setArgAttrs(unsigned(i), a);
  for (auto [i, a] : llvm::enumerate(resultAttrs))
    fn.setResultAttrs(unsigned(i), a);
  s.fn = fn;
  // Costs, for the plan and the report.
  for (int64_t i = s.first; i <= s.last; ++i)
    s.cost += costOf(placed[i]);
  unsigned slots = unsigned(optimizerSlots(spec.optimizer.kind).size());
  for (unsigned p : s.params) {
    s.paramBytes += double(bytesOf(m.fn.getArgumentTypes()[p]));
    s.updateBytes += double(bytesOf(m.fn.getArgumentTypes()[p])) * (3 + 2 * slots);
  }
  for (const Boundary &out : s.outs)
    s.sendBytes += double(bytesOf(out.value.getType())) * double(microbatches);

  // Warnings about params that do not reach the loss are the model's, given
  // once by tg-build-train-step's checks elsewhere; a boundary input always
  // reaches it here.
  FailureOr<func::FuncOp> grad = buildGradientFunction(fn, "loss");
  if (failed(grad))
    return failure();
  s.grad = *grad;
  return success();
}

/// One action of a stage's schedule: the forward or backward of micro-batch i.
struct Action {
  bool forward;
  int64_t microbatch;
};

SmallVector<Action> scheduleOf(StringRef kind, int64_t stage, int64_t stages, int64_t M,
                               bool train) {
  SmallVector<Action> actions;
  if (!train) {
    for (int64_t i = 0; i < M; ++i)
      actions.push_back({true, i});
    return actions;
  }
  if (kind == "gpipe") {
    for (int64_t i = 0; i < M; ++i)
      actions.push_back({true, i});
    for (int64_t i = 0; i < M; ++i)
      actions.push_back({false, i});
    return actions;
  }
  int64_t warmup = std::min(stages - stage - 1, M);
  int64_t f = 0, bwd = 0;
  for (; f < warmup; ++f)
    actions.push_back({true, f});
  for (; f < M; ++f, ++bwd) {
    actions.push_back({true, f});
    actions.push_back({false, bwd});
  }
  for (; bwd < M; ++bwd)
    actions.push_back({false, bwd});
  return actions;
}

func::FuncOp PipelineSplitPass::buildStep(OpBuilder &b, Stage &s, int64_t k,
                                          const OptimizerSpec &opt, bool train) {
  Location loc = m.fn.getLoc();
  bool last = k == stages - 1;
  StringRef kind = train ? "train_step" : "eval_step";
  FunctionAssembler fa(b, loc, (kind + ".stage" + llvm::Twine(k)).str(), kind);
  fa.entry()->getParentOp()->setAttr(kStageAttr, b.getI64IntegerAttr(k));
  func::FuncOp src = train ? s.grad : s.fn;
  Block &srcBody = src.getBody().front();
  auto srcRet = llvm::cast<func::ReturnOp>(srcBody.getTerminator());

  // Arguments: params, optimizer slots, step, data and labels (M
  // micro-batches), hypers, lr.
  SmallVector<Value> params;
  for (unsigned p : s.params)
    params.push_back(fa.addArg(m.fn.getArgumentTypes()[p], m.fn.getArgAttrDict(p)));
  SmallVector<SmallVector<OptimizerSlot>> slots;
  if (train)
    slots = addOptimizerSlots(b, fa, m.fn, s.params, opt.kind);
  Value step;
  unsigned stepIndex = 0;
  if (train) {
    stepIndex = fa.numArgs();
    step = fa.addArg(RankedTensorType::get({}, b.getI64Type()), stateArgAttrs(b, "step"));
  }
  DenseMap<unsigned, Value> inputs; // model argument -> entry value
  SmallVector<unsigned> batched = m.batched();
  for (unsigned i : s.inputs) {
    if (m.training && i == *m.training)
      continue;
    Type t = m.fn.getArgumentTypes()[i];
    if (llvm::is_contained(batched, i))
      t = batchedType(t, microbatches);
    inputs[i] = fa.addArg(t, m.fn.getArgAttrDict(i));
  }
  Value lr;
  if (train)
    lr = fa.addArg(
        RankedTensorType::get({}, b.getF32Type()),
        b.getDictionaryAttr({b.getNamedAttr(TgDialect::kNameAttr, b.getStringAttr("lr")),
                             b.getNamedAttr(TgDialect::kRoleAttr, roleAttr(b, Role::Hyper)),
                             b.getNamedAttr(TgDialect::kDefaultAttr,
                                            b.getF64FloatAttr(opt.lr))}));

  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(fa.entry());
  GradientBuilder gb(b, loc);
  // Accumulators: gradients (train), loss and metrics (last stage).
  SmallVector<Value> gradSums;
  if (train)
    for (Value p : params)
      gradSums.push_back(gb.zerosLike(p));
  SmallVector<unsigned> outsWanted; // src results summed on the last stage
  if (last)
    for (unsigned r = 0; r < 1 + m.metrics.size(); ++r)
      outsWanted.push_back(r);
  SmallVector<Value> outSums;
  for (unsigned r : outsWanted)
    outSums.push_back(gb.zerosLike(srcRet.getOperand(r)));

  // Per micro-batch: the mapping of src's values.
  SmallVector<IRMapping> maps(microbatches);
  auto flat = [&](Value v) {
    return gb.reshape(v, {GradientBuilder::typeOf(v).getNumElements()});
  };
  // Forward transfers take even tags, backward ones odd: a stage's receives
  // from both sides are told apart by tag alone.
  auto tagOf = [&](int64_t i, size_t j, size_t count, bool backward) {
    return 2 * (i * int64_t(count) + int64_t(j)) + (backward ? 1 : 0);
  };
  struct Pending {
    Value token, buffer;
    int64_t tag;
    Value target; // src block argument it becomes
  };
  // Receives an action needs: forward: the boundary inputs (from k-1);
  // backward: the cotangents of the outputs (from k+1).
  auto startRecvs = [&](const Action &a) {
    SmallVector<Pending> pending;
    if (a.forward && k > 0) {
      for (auto [j, in] : llvm::enumerate(s.ins)) {
        auto t = RankedTensorType::get({elementsOf(in.value.getType())},
                                       GradientBuilder::eltOf(in.value));
        int64_t tag = tagOf(a.microbatch, j, s.ins.size(), false);
        auto start = b.create<RecvStartOp>(loc, TokenType::get(b.getContext()), t,
                                           b.getI64IntegerAttr(-1), b.getI64IntegerAttr(tag));
        pending.push_back({start.getToken(), start.getBuffer(), tag,
                           srcBody.getArgument(s.firstIn + unsigned(j))});
      }
    } else if (!a.forward && !last) {
      for (auto [j, out] : llvm::enumerate(s.outs)) {
        if (s.doutOf[j] == ~0u)
          continue;
        auto t = RankedTensorType::get({elementsOf(out.value.getType())},
                                       GradientBuilder::eltOf(out.value));
        int64_t tag = tagOf(a.microbatch, j, s.outs.size(), true);
        auto start = b.create<RecvStartOp>(loc, TokenType::get(b.getContext()), t,
                                           b.getI64IntegerAttr(1), b.getI64IntegerAttr(tag));
        pending.push_back(
            {start.getToken(), start.getBuffer(), tag, srcBody.getArgument(s.doutOf[j])});
      }
    }
    return pending;
  };
  auto send = [&](Value v, int64_t peer, int64_t tag) {
    Value x = flat(v);
    auto start = b.create<SendStartOp>(loc, TokenType::get(b.getContext()), x,
                                       b.getI64IntegerAttr(peer), b.getI64IntegerAttr(tag));
    // The runtime keeps a copy until the peer has it: the buffer is free
    // at once, and a send never blocks the schedule.
    b.create<SendWaitOp>(loc, start.getToken(), x, b.getI64IntegerAttr(tag));
  };

  SmallVector<Action> actions = scheduleOf(schedule, k, stages, microbatches, train);
  SmallVector<Pending> next = actions.empty() ? SmallVector<Pending>() : startRecvs(actions[0]);
  for (auto [ai, a] : llvm::enumerate(actions)) {
    IRMapping &map = maps[a.microbatch];
    for (const Pending &p : next) {
      Value got = b.create<RecvWaitOp>(loc, p.buffer.getType(), p.token, p.buffer,
                                       b.getI64IntegerAttr(p.tag));
      map.map(p.target, gb.reshape(got, GradientBuilder::typeOf(p.target).getShape()));
    }
    // Post the next action's receives before computing this one.
    next = ai + 1 < actions.size() ? startRecvs(actions[ai + 1]) : SmallVector<Pending>();
    if (a.forward) {
      for (unsigned i : s.inputs) {
        Value arg = srcBody.getArgument(s.argOf[i]);
        if (m.training && i == *m.training) {
          map.map(arg, gb.scalar(train ? 1.0 : 0.0, b.getF32Type()));
          continue;
        }
        Value v = inputs.lookup(i);
        if (llvm::is_contained(batched, i) && microbatches > 1) {
          auto t = GradientBuilder::typeOf(v);
          int64_t rows = t.getDimSize(0) / microbatches;
          SmallVector<int64_t> start(t.getRank(), 0), limit(t.getShape()), strides(t.getRank(), 1);
          start[0] = a.microbatch * rows;
          limit[0] = start[0] + rows;
          v = gb.create<SliceOp>({v}, {gb.arrayAttr("start", start), gb.arrayAttr("limit", limit),
                                       gb.arrayAttr("strides", strides)});
        }
        map.map(arg, v);
      }
      for (auto [j, p] : llvm::enumerate(s.params))
        map.map(srcBody.getArgument(s.argOf[p]), params[j]);
      unsigned count = 0;
      for (Operation &op : srcBody.without_terminator()) {
        if (count++ >= s.numForward)
          break;
        b.clone(op, map);
      }
      if (!last) {
        for (auto [j, out] : llvm::enumerate(s.outs))
          send(map.lookup(srcRet.getOperand(1 + unsigned(j))), 1,
               tagOf(a.microbatch, j, s.outs.size(), false));
      } else {
        for (auto [r, sum] : llvm::zip(outsWanted, outSums))
          sum = gb.add(sum, map.lookup(srcRet.getOperand(r)));
      }
      continue;
    }
    // Backward: the rest of the gradient function (its forward ops are
    // this micro-batch's, mapped by its forward).
    for (Operation &op : srcBody.without_terminator()) {
      if (llvm::all_of(op.getResults(), [&](Value r) { return map.contains(r); }))
        continue;
      llvm::SetVector<Value> used;
      usedValues(&op, used);
      if (llvm::all_of(used, [&](Value v) { return map.contains(v); }))
        b.clone(op, map);
    }
    size_t needy = llvm::count_if(s.ins, [](const Boundary &in) { return in.needsGrad; });
    unsigned g = unsigned(src.getNumResults() - s.params.size() - needy);
    for (auto [j, sum] : llvm::enumerate(gradSums)) {
      sum = gb.add(sum, map.lookup(srcRet.getOperand(g++)));
      sum.getDefiningOp()->setAttr(kMicrobatchSumAttr, b.getUnitAttr());
    }
    for (auto [j, in] : llvm::enumerate(s.ins)) {
      if (!in.needsGrad)
        continue;
      Value dx = map.lookup(srcRet.getOperand(g++));
      if (k > 0)
        send(dx, -1, tagOf(a.microbatch, j, s.ins.size(), true));
    }
  }

  auto named = [&](StringRef name, unsigned alias) {
    return withAlias(
        b, b.getDictionaryAttr({b.getNamedAttr(TgDialect::kNameAttr, b.getStringAttr(name))}),
        alias);
  };
  auto mean = [&](Value sum) {
    return gb.div(sum, gb.scalar(double(microbatches), GradientBuilder::eltOf(sum)));
  };
  if (last) {
    for (auto [r, sum] : llvm::zip(outsWanted, outSums)) {
      unsigned modelResult = r == 0 ? m.loss : m.metrics[r - 1];
      fa.addResult(mean(sum), m.fn.getResultAttrDict(modelResult));
    }
  }
  if (!train)
    return fa.finish();

  SmallVector<Value> grads;
  for (auto [j, sum] : llvm::enumerate(gradSums))
    grads.push_back(b.create<ParamGradOp>(
        loc, mean(sum), b.getStringAttr(nameOf(m.fn.getArgAttrDict(s.params[j])))));
  Value t = gb.cast(step, b.getF32Type());
  Value lrT = lr;
  if (Value factor = scheduleFactor(gb, t, opt.schedule))
    lrT = gb.mul(lr, factor);
  regularizeGradients(gb, opt, grads, params);
  BiasCorrections bc = biasCorrections(gb, opt, step);
  addOptimizerUpdates(gb, fa, opt, m.fn, s.params, params, grads, slots, lrT, bc);
  fa.addResult(gb.add(step, gb.scalar(1.0, b.getI64Type())), named("step", stepIndex));
  return fa.finish();
}

LogicalResult PipelineSplitPass::run() {
  module = getOperation();
  Attribute attr = module->getAttr(kTrainAttr);
  if (!attr)
    return module.emitError() << "tg-pipeline-split: the module has no tg.train attribute to "
                                 "build stage train steps from";
  FailureOr<TrainSpec> parsed = parseTrainSpec(attr, [&] { return module.emitError(); });
  if (failed(parsed))
    return failure();
  spec = *parsed;
  if (module->hasAttr(kPipelineAttr))
    return module.emitError() << "tg-pipeline-split: the module is already split";
  for (auto fn : module.getOps<func::FuncOp>()) {
    if (fn->hasAttr(TgDialect::kEntryAttr))
      return fn.emitError() << "tg-pipeline-split: the module already has entry point @"
                            << fn.getSymName() << " (split the model, not built steps)";
    if (fn->hasAttr(TgDialect::kGradientOfAttr))
      continue;
    if (spec.function.empty() ? !m.fn : fn.getSymName() == spec.function)
      m.fn = fn;
    else if (spec.function.empty())
      return module.emitError() << "tg-pipeline-split: the module has several functions; name "
                                   "the model in tg.train's 'function'";
  }
  if (!m.fn)
    return module.emitError() << "tg-pipeline-split: the module has no model function";
  if (failed(m.classify(spec.loss)) || failed(check(spec)) || failed(place()))
    return failure();
  std::string identity = modelHash(m.fn, attr);
  SmallVector<int64_t> cuts;
  if (failed(chooseCuts(cuts)))
    return failure();

  // Stages and their boundaries.
  int64_t n = int64_t(placed.size());
  Block &body = m.fn.getBody().front();
  auto crossing = [&](int64_t c) {
    SmallVector<Boundary> values;
    // Params used on both sides (tied weights): the stage of their first use
    // owns and updates them, and sends them on with the activations; their
    // gradients come back with the activations' gradients.
    for (unsigned p : m.params)
      if (auto it = paramUses.find(p);
          it != paramUses.end() && it->second.first <= c && c < it->second.second)
        values.push_back({body.getArgument(p), isFloatTensor(body.getArgument(p))});
    for (Operation *op : placed) {
      if (indexOf[op] > c)
        break;
      for (Value r : op->getResults())
        if (c < lastUse.lookup(r))
          values.push_back({r, isFloatTensor(r) && reachesLoss.contains(r)});
    }
    return values;
  };
  plan.resize(stages);
  for (int64_t k = 0; k < stages; ++k) {
    plan[k].first = k == 0 ? 0 : cuts[k - 1] + 1;
    plan[k].last = k + 1 == stages ? n - 1 : cuts[k];
    if (k > 0)
      plan[k].ins = crossing(cuts[k - 1]);
    if (k + 1 < stages)
      plan[k].outs = crossing(cuts[k]);
  }
  // Transfer tags are 2 (i J + j) (+1 backward): below the runtime's own
  // (checkpoints use 20000 up) and MPI's guaranteed tag bound.
  for (const Stage &s : plan) {
    int64_t largest = 2 * (microbatches * int64_t(s.outs.size())) + 1;
    if (largest >= kMaxTransferTag)
      return m.fn.emitError() << "tg-pipeline-split: " << int64_t(microbatches)
                              << " micro-batches of " << s.outs.size()
                              << " values crossing a cut need transfer tags up to " << largest
                              << ", past " << kMaxTransferTag
                              << "; use fewer micro-batches or cut where fewer values cross";
  }
  OpBuilder b(module.getBodyRegion());
  for (int64_t k = 0; k < stages; ++k) {
    b.setInsertionPointToEnd(module.getBody());
    if (failed(buildStage(b, plan[k], k)))
      return failure();
  }
  for (int64_t k = 0; k < stages; ++k)
    for (bool train : {true, false}) {
      b.setInsertionPointToEnd(module.getBody());
      if (!buildStep(b, plan[k], k, spec.optimizer, train))
        return failure();
    }
  for (Stage &s : plan) {
    s.grad.erase();
    s.fn.erase();
  }

  // The plan, and a warning when it is unbalanced.
  double total = 0, slowest = 0;
  for (const Stage &s : plan) {
    total += s.seconds();
    slowest = std::max(slowest, s.seconds());
  }
  SmallVector<Attribute> stageAttrs;
  std::string costs;
  llvm::raw_string_ostream os(costs);
  for (auto [k, s] : llvm::enumerate(plan)) {
    stageAttrs.push_back(b.getDictionaryAttr({
        b.getNamedAttr("ops", b.getI64IntegerAttr(s.last - s.first + 1)),
        b.getNamedAttr("flops", b.getF64FloatAttr(s.cost.flops)),
        b.getNamedAttr("bytes", b.getF64FloatAttr(s.cost.bytes)),
        b.getNamedAttr("param_bytes", b.getF64FloatAttr(s.paramBytes)),
        b.getNamedAttr("send_bytes", b.getF64FloatAttr(s.sendBytes)),
        b.getNamedAttr("seconds", b.getF64FloatAttr(s.seconds())),
    }));
    os << (k ? "; " : "") << "stage " << k << ": " << s.last - s.first + 1 << " ops, "
       << llvm::format("%.3g", s.cost.flops) << " FLOPs, "
       << llvm::format("%.3g", s.seconds() * 1e3) << " ms";
  }
  double meanSeconds = total / double(stages);
  if (meanSeconds > 0 && slowest > meanSeconds * (1 + imbalance))
    m.fn.emitWarning() << "tg-pipeline-split: the plan is unbalanced: the slowest stage takes "
                       << int64_t(std::lround(100 * (slowest / meanSeconds - 1)))
                       << "% more than the mean (" << os.str() << ")";
  module->setAttr(kModelHashAttr, b.getStringAttr(identity));
  module->setAttr(kPipelineAttr,
                  b.getDictionaryAttr({
                      b.getNamedAttr("stages", b.getI64IntegerAttr(stages)),
                      b.getNamedAttr("microbatches", b.getI64IntegerAttr(microbatches)),
                      b.getNamedAttr("schedule", b.getStringAttr(schedule)),
                      b.getNamedAttr("plan", b.getArrayAttr(stageAttrs)),
                  }));
  LLVM_DEBUG(llvm::dbgs() << "tg-pipeline-split: " << os.str() << "\n");
  return success();
}

} // namespace
} // namespace tg
