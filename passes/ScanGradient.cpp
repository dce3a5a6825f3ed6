//===- ScanGradient.cpp - the VJP of tg.scan: a reverse scan --------------===//
//
// For a forward scan  (c_{t+1}, y_t) = body(x_t, c_t)  the reverse scan runs
// t = T-1 .. 0 with the carried cotangents dc (seeded by the finals'
// cotangents) and one accumulator per differentiated value the body uses
// from outside (its weights):
//
//   (dx_t, dc_t, dW) = body_vjp(x_t, c_t, saved_t; dc_{t+1}, dy_t), dW += ...
//
// The reverse body starts as a copy of the forward body (recompute) followed
// by the reverse sweep over it. Whatever of that copy the sweep's rules use
// is then either saved by the forward scan as an extra stacked output (the
// default) or, with the scan's `recompute`, recomputed from the carried
// values of each step, which the forward scan stacks. The forward scan is
// rebuilt from the copy, so scans nested in the body, whose own VJPs change
// that copy, save what their reverse scans need too.
//
//===----------------------------------------------------------------------===//
#include "passes/ReverseMode.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "tg-autodiff"

using namespace mlir;

namespace tg {
namespace {

/// Values of `body` that depend on an active input: the active sequences'
/// steps, the carried values (to a fixpoint: a carry becomes active when its
/// next value depends on an active input) and active values from outside.
DenseSet<Value> bodyDependence(ScanOp op, const ReverseSweep &sweep) {
  Block &body = op.getBody().front();
  auto yield = llvm::cast<YieldOp>(body.getTerminator());
  size_t nSeq = op.getSequences().size();
  DenseSet<Value> dep;
  for (auto [i, s] : llvm::enumerate(op.getSequences()))
    if (sweep.isActive(s))
      dep.insert(body.getArgument(unsigned(i)));
  for (auto [i, init] : llvm::enumerate(op.getInits()))
    if (sweep.isActive(init))
      dep.insert(body.getArgument(unsigned(nSeq + i)));
  auto activeValue = [&](Value v) {
    return dep.contains(v) || (!op.getBody().isAncestor(v.getParentRegion()) && sweep.isActive(v));
  };
  SmallVector<Value> used;
  for (bool changed = true; changed;) {
    changed = false;
    for (Operation &inner : body.without_terminator()) {
      used.clear();
      usedValues(&inner, used);
      if (llvm::any_of(used, activeValue))
        for (Value r : inner.getResults())
          if (isFloatTensor(r))
            dep.insert(r);
    }
    for (size_t i = 0; i < op.getInits().size(); ++i) {
      BlockArgument carry = body.getArgument(unsigned(nSeq + i));
      if (isFloatTensor(carry) && !dep.contains(carry) && activeValue(yield.getValues()[i])) {
        dep.insert(carry);
        changed = true;
      }
    }
  }
  return dep;
}

/// What the reverse body reads at position i of its sequence arguments.
struct SeqIn {
  Value outer;           ///< a sequence the reverse scan reads, or
  int savedCarry = -1;   ///< a carried value the forward scan stacks, or
  Value savedActivation; ///< a value of the reverse body's copy to stack
};

/// Builds the VJP of one forward scan in stages, called in this order by
/// buildScanVjp; the members are what one stage leaves for the next.
class ScanVjpBuilder {
public:
  ScanVjpBuilder(ScanOp fwd, ReverseSweep &sweep)
      : fwd(fwd), sweep(sweep), b(sweep.builder()), loc(fwd.getLoc()), fbody(fwd.getBody().front()),
        nSeq(fwd.getSequences().size()), nCarry(fwd.getInits().size()),
        nOut(fwd.getStacked().size()), length(fwd.getLength()) {}

  void analyze();
  void addReverseArguments();
  LogicalResult sweepCopy();
  void saveActivations();
  void rebuildForwardBody();
  void replaceForwardScan();
  void createReverseScan();

private:
  ScanOp fwd;
  ReverseSweep &sweep;
  OpBuilder &b;
  Location loc;
  Block &fbody;
  size_t nSeq, nCarry, nOut;
  int64_t length;

  // Set by analyze().
  DenseSet<Value> dep;
  SmallVector<unsigned> activeCarries;
  SmallVector<Value> captured;
  SmallVector<Value> finalCotangents;
  SmallVector<unsigned> neededSeqs;

  // The reverse body (addReverseArguments(), sweepCopy(), saveActivations()).
  OpBuilder::InsertPoint sweepPoint;
  ScanOp holder;
  Block *blk = nullptr;
  SmallVector<SeqIn> seqIns;
  IRMapping map;
  SmallVector<std::pair<unsigned, BlockArgument>> outputSeeds;
  SmallVector<BlockArgument> carryCotangents, accumulators;
  UnrealizedConversionCastOp anchor;

  // The new forward scan (rebuildForwardBody(), replaceForwardScan()).
  Block *newBody = nullptr;
  IRMapping back; ///< reverse body -> new forward body
  SmallVector<Value> ys;
  /// The forward results' types, then those of what it stacks for the reverse.
  SmallVector<Type> fwdTypes;
  ScanOp newFwd;
  SmallVector<Value> reverseSeqs;
};

/// Which carries, sequences and captured values are active, and the final
/// carries' cotangents. Read before anything changes: the sweep knows the
/// cotangents by the results of `fwd`, which is replaced later.
void ScanVjpBuilder::analyze() {
  dep = bodyDependence(fwd, sweep);
  for (size_t i = 0; i < nCarry; ++i)
    if (dep.contains(fbody.getArgument(unsigned(nSeq + i))))
      activeCarries.push_back(unsigned(i));
  llvm::SetVector<Value> above;
  getUsedValuesDefinedAbove(fwd.getBody(), above);
  for (Value v : above)
    if (sweep.isActive(v))
      captured.push_back(v);
  for (unsigned i : activeCarries)
    finalCotangents.push_back(sweep.lookup(fwd.getFinals()[i]));
  for (size_t s = 0; s < nSeq; ++s)
    if (sweep.isActive(fwd.getSequences()[s]))
      neededSeqs.push_back(unsigned(s));
}

/// The reverse body's arguments: sequence arguments first (the forward
/// sequences' steps, the saved carried values, the outputs' cotangents, later
/// the saved activations), then the carried cotangents and accumulators. It
/// is built in a placeholder scan at the sweep's insertion point, so that
/// nested scans see which values come from outside them.
void ScanVjpBuilder::addReverseArguments() {
  sweepPoint = b.saveInsertionPoint();
  holder = b.create<ScanOp>(loc, TypeRange{}, ValueRange{}, ValueRange{}, UnitAttr(), UnitAttr(),
                            UnitAttr());
  blk = new Block();
  holder.getBody().push_back(blk);
  for (size_t s = 0; s < nSeq; ++s) {
    map.map(fbody.getArgument(unsigned(s)),
            blk->addArgument(ScanOp::stepType(fwd.getSequences()[s].getType()), loc));
    seqIns.push_back({fwd.getSequences()[s]});
  }
  for (size_t i = 0; i < nCarry; ++i) {
    map.map(fbody.getArgument(unsigned(nSeq + i)),
            blk->addArgument(fwd.getInits()[i].getType(), loc));
    seqIns.push_back({Value(), int(i)});
  }
  for (size_t j = 0; j < nOut; ++j)
    if (Value dy = sweep.lookup(fwd.getStacked()[j])) {
      outputSeeds.push_back({unsigned(j), blk->addArgument(ScanOp::stepType(dy.getType()), loc)});
      seqIns.push_back({dy});
    }
  for (unsigned i : activeCarries)
    carryCotangents.push_back(blk->addArgument(fwd.getInits()[i].getType(), loc));
  for (Value v : captured)
    accumulators.push_back(blk->addArgument(v.getType(), loc));
}

/// The reverse body's ops: a copy of the forward body, an anchor that keeps
/// its yielded values up to date while nested VJPs replace ops of the copy,
/// the inner reverse sweep over the copy, and the yield of the cotangents.
LogicalResult ScanVjpBuilder::sweepCopy() {
  auto fyield = llvm::cast<YieldOp>(fbody.getTerminator());
  b.setInsertionPointToEnd(blk);
  SmallVector<Operation *> copy;
  for (Operation &op : fbody.without_terminator())
    copy.push_back(b.clone(op, map));
  SmallVector<Value> yielded;
  for (Value v : fyield.getValues())
    yielded.push_back(map.lookupOrDefault(v));
  anchor = b.create<UnrealizedConversionCastOp>(loc, TypeRange{}, yielded);

  DenseSet<Value> copyDep;
  for (Value v : dep)
    copyDep.insert(map.lookupOrDefault(v));
  DenseSet<Value> capturedSet(captured.begin(), captured.end());
  ReverseSweep inner(
      b, loc,
      [&](Value v) { return isFloatTensor(v) && (copyDep.contains(v) || capturedSet.contains(v)); },
      sweep.loss());
  for (auto [k, i] : llvm::enumerate(activeCarries))
    inner.accumulate(anchor.getOperand(i), carryCotangents[k]);
  for (auto [j, seed] : outputSeeds)
    inner.accumulate(anchor.getOperand(unsigned(nCarry + j)), seed);
  if (failed(inner.run(copy)))
    return failure();

  GradientBuilder &gb = inner.gradients();
  auto cotangentOr0 = [&](Value v) {
    Value g = inner.lookup(v);
    return g ? g : gb.zerosLike(v);
  };
  SmallVector<Value> results;
  for (unsigned i : activeCarries)
    results.push_back(cotangentOr0(blk->getArgument(unsigned(nSeq + i))));
  for (auto [k, v] : llvm::enumerate(captured)) {
    Value g = inner.lookup(v);
    results.push_back(g ? gb.add(accumulators[k], g) : Value(accumulators[k]));
  }
  for (unsigned s : neededSeqs)
    results.push_back(cotangentOr0(blk->getArgument(s)));
  b.create<YieldOp>(loc, results);
  return success();
}

/// Without `recompute`: what the rules use from the copy becomes a new
/// sequence argument of the reverse body, which the forward scan will stack.
/// Ops without operands (constants) and ops of outside values only are
/// always recomputed: they cost nothing per step.
void ScanVjpBuilder::saveActivations() {
  DenseSet<Operation *> copySet;
  for (Operation &op : *blk) {
    if (&op == anchor.getOperation())
      break;
    copySet.insert(&op);
  }
  auto outsideCopy = [&](OpOperand &use) -> bool {
    Operation *user = blk->findAncestorOpInBlock(*use.getOwner());
    return user != anchor.getOperation() && !copySet.contains(user);
  };
  for (Operation &op : *blk) {
    if (&op == anchor.getOperation())
      break;
    bool invariant =
        llvm::all_of(op.getOperands(), [&](Value v) { return v.getParentBlock() != blk; });
    if (op.getNumOperands() == 0 || invariant)
      continue;
    for (Value r : op.getResults()) {
      if (llvm::none_of(r.getUses(), outsideCopy))
        continue;
      unsigned pos = unsigned(seqIns.size());
      BlockArgument arg = blk->insertArgument(pos, r.getType(), loc);
      r.replaceUsesWithIf(arg, outsideCopy);
      seqIns.push_back({Value(), -1, r});
    }
  }
}

/// The forward scan's body, rebuilt from the copy (which nested VJPs have
/// changed to save what their reverse scans need), yielding its results for
/// now. The copy's ops the rules do not read are dead then (saved or unused).
void ScanVjpBuilder::rebuildForwardBody() {
  b.setInsertionPoint(fwd);
  SmallVector<Value> fwdYield(anchor.getOperands());
  fwdTypes.assign(fwd.getResultTypes().begin(), fwd.getResultTypes().end());
  newBody = new Block();
  for (size_t s = 0; s < nSeq; ++s)
    back.map(blk->getArgument(unsigned(s)),
             newBody->addArgument(ScanOp::stepType(fwd.getSequences()[s].getType()), loc));
  for (size_t i = 0; i < nCarry; ++i)
    back.map(blk->getArgument(unsigned(nSeq + i)),
             newBody->addArgument(fwd.getInits()[i].getType(), loc));
  OpBuilder nb(b.getContext());
  nb.setInsertionPointToEnd(newBody);
  for (Operation &op : *blk) {
    if (&op == anchor.getOperation())
      break;
    nb.clone(op, back);
  }
  for (Value v : fwdYield)
    ys.push_back(back.lookupOrDefault(v));

  anchor.erase();
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*blk)))
    if (op.use_empty() && !op.hasTrait<OpTrait::IsTerminator>() && isPure(&op))
      op.erase();
    else if (auto scan = llvm::dyn_cast<ScanOp>(op); scan && scan->use_empty())
      op.erase();
}

/// Replaces `fwd` by a scan that also stacks the carried values and
/// activations the reverse body reads (reusing outputs it stacks already),
/// and decides the reverse scan's sequences; unread arguments go.
void ScanVjpBuilder::replaceForwardScan() {
  SmallVector<unsigned> unread;
  SmallVector<int> savedResult(seqIns.size(), -1);
  for (auto [pos, in] : llvm::enumerate(seqIns)) {
    BlockArgument arg = blk->getArgument(unsigned(pos));
    if (arg.use_empty()) {
      unread.push_back(unsigned(pos));
      continue;
    }
    if (in.outer)
      continue;
    Value v = in.savedCarry >= 0 ? Value(blk->getArgument(unsigned(nSeq + in.savedCarry)))
                                 : in.savedActivation;
    // A value the scan stacks already (an output) is not stacked twice.
    Value mapped = back.lookupOrDefault(v);
    auto outputs = ArrayRef<Value>(ys).slice(nCarry, nOut);
    if (auto it = llvm::find(outputs, mapped); it != outputs.end()) {
      savedResult[pos] = int(nCarry + size_t(it - outputs.begin()));
      continue;
    }
    savedResult[pos] = int(fwdTypes.size());
    ys.push_back(mapped);
    fwdTypes.push_back(ScanOp::stackedType(arg.getType(), length));
  }
  OpBuilder nb(b.getContext());
  nb.setInsertionPointToEnd(newBody);
  nb.create<YieldOp>(loc, ys);
  newFwd = b.create<ScanOp>(loc, fwdTypes, fwd.getSequences(), fwd.getInits(), fwd.getReverseAttr(),
                            fwd.getRecomputeAttr(), UnitAttr());
  newFwd.getBody().push_back(newBody);
  for (auto [oldR, newR] : llvm::zip(fwd.getResults(), newFwd.getResults()))
    oldR.replaceAllUsesWith(newR);
  for (auto [pos, in] : llvm::enumerate(seqIns))
    if (!blk->getArgument(unsigned(pos)).use_empty())
      reverseSeqs.push_back(in.outer ? in.outer
                                     : Value(newFwd.getResult(unsigned(savedResult[pos]))));
  for (unsigned pos : llvm::reverse(unread))
    blk->eraseArgument(pos);
  fwd.erase();
}

/// The reverse scan at the sweep's insertion point, seeded by the final
/// carries' cotangents and zero accumulators, takes the placeholder's body;
/// its results are the cotangents of the inits, the captured values and the
/// sequences, which go to the outer sweep.
void ScanVjpBuilder::createReverseScan() {
  b.restoreInsertionPoint(sweepPoint);
  SmallVector<Value> inits;
  for (auto [k, i] : llvm::enumerate(activeCarries))
    inits.push_back(finalCotangents[k] ? finalCotangents[k]
                                       : sweep.gradients().zerosLike(newFwd.getInits()[i]));
  for (Value v : captured)
    inits.push_back(sweep.gradients().zerosLike(v));
  SmallVector<Type> types;
  for (Value v : inits)
    types.push_back(v.getType());
  for (unsigned s : neededSeqs)
    types.push_back(newFwd.getSequences()[s].getType());
  auto rev = b.create<ScanOp>(loc, types, reverseSeqs, inits,
                              newFwd.getReverse() ? UnitAttr() : b.getUnitAttr(), UnitAttr(),
                              UnitAttr());
  rev.getBody().takeBody(holder.getBody());
  holder.erase();

  for (auto [k, i] : llvm::enumerate(activeCarries))
    if (sweep.isActive(newFwd.getInits()[i]))
      sweep.accumulate(newFwd.getInits()[i], rev.getResult(unsigned(k)));
  for (auto [k, v] : llvm::enumerate(captured))
    sweep.accumulate(v, rev.getResult(unsigned(activeCarries.size() + k)));
  for (auto [k, s] : llvm::enumerate(neededSeqs))
    sweep.accumulate(newFwd.getSequences()[s],
                     rev.getResult(unsigned(activeCarries.size() + captured.size() + k)));
  LLVM_DEBUG(llvm::dbgs() << "tg-autodiff: reverse scan of " << length << " steps, "
                          << reverseSeqs.size() << " stacked inputs\n");
}

} // namespace

LogicalResult buildScanVjp(ScanOp fwd, ReverseSweep &sweep) {
  if (fwd.getMicrobatches())
    return fwd.emitOpError() << "runs a train step's micro-batches (--microbatches) and is not "
                                "differentiated; differentiate the model, not the train step";
  ScanVjpBuilder vjp(fwd, sweep);
  vjp.analyze();
  vjp.addReverseArguments();
  if (failed(vjp.sweepCopy()))
    return failure();
  // With `recompute` the reverse body recomputes each step from the carried
  // values instead, which the forward scan stacks.
  if (!fwd.getRecompute())
    vjp.saveActivations();
  vjp.rebuildForwardBody();
  vjp.replaceForwardScan();
  vjp.createReverseScan();
  return success();
}

} // namespace tg
