//===- ShardOptimizerState.cpp - ZeRO stage 1 in tg-distribute ------------===//
//
// tg-build-train-step writes each param's update as its own elementwise
// chain: (param, gradient, slots, shared scalars) -> (param', slots'). This
// file checks that every chain is the same rule, then runs that rule once on
// flat shards: the gradients concatenated and reduce-scattered, the params'
// shard taken locally, the slots held as one shard buffer each, and the
// updated params all-gathered. Each element sees the arithmetic it saw
// before (the same ops, the same rank-ordered mean), so training gives the
// bits of plain allreduce, with the optimizer state divided by N.
//
//===----------------------------------------------------------------------===//
#include "distributed/ShardOptimizerState.h"
#include "ir/Dialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

using namespace mlir;

namespace tg {
namespace {

bool elementwise(Operation *op) {
  return op->hasTrait<OpTrait::Elementwise>() ||
         llvm::isa<AddOp, SubOp, MulOp, DivOp, PowOp, MaximumOp, MinimumOp, CastOp, SelectOp>(op);
}

/// One param's update.
struct Chain {
  std::string param;
  BlockArgument p;
  mutable ParamGradOp marker; ///< (an op handle: its accessors are not const)
  SmallVector<std::string> slots; ///< suffixes, sorted
  SmallVector<BlockArgument> slotArgs;
  SmallVector<Value> roots;        ///< param', then slots' in `slots` order
  SmallVector<Operation *> ops;    ///< block order
  llvm::DenseMap<Value, int> leaf; ///< 0: gradient, 1: param, 2 + j: slot j
};

class Sharder {
public:
  Sharder(func::FuncOp step, int64_t world) : step(step), world(world) {}
  LogicalResult run(ShardPlan &plan);

private:
  LogicalResult analyze(Chain &c);
  LogicalResult same(const Chain &a, const Chain &b);
  bool equivalent(Value a, Value b);
  Value flatten(OpBuilder &b, Location loc, ArrayRef<Value> parts, int64_t total);

  func::FuncOp step;
  int64_t world;
  std::vector<Chain> chains;
  llvm::DenseMap<std::pair<Value, Value>, bool> seen;
};

std::optional<int64_t> aliasOf(func::FuncOp fn, unsigned result) {
  if (auto a = fn.getResultAttrOfType<IntegerAttr>(result, TgDialect::kAliasAttr))
    return a.getInt();
  return std::nullopt;
}

StringRef nameOf(func::FuncOp fn, unsigned arg) {
  auto n = fn.getArgAttrOfType<StringAttr>(arg, TgDialect::kNameAttr);
  return n ? n.getValue() : StringRef();
}

LogicalResult Sharder::analyze(Chain &c) {
  Block &body = step.getBody().front();
  auto ret = llvm::cast<func::ReturnOp>(body.getTerminator());
  auto pType = llvm::cast<RankedTensorType>(c.p.getType());
  auto fail = [&](const Twine &why) {
    return c.marker.emitError() << "tg-distribute: shard-state: the update of param '" << c.param
                                << "' " << why
                                << "; --shard-optimizer-state needs one elementwise update rule "
                                   "for every param";
  };
  // Its slots: "<param>.<slot>" state arguments that a result updates in
  // place (tg-build-train-step's names).
  llvm::DenseMap<unsigned, unsigned> resultOf; // arg -> result updating it
  for (unsigned i = 0; i < step.getNumResults(); ++i)
    if (std::optional<int64_t> a = aliasOf(step, i))
      resultOf[unsigned(*a)] = i;
  SmallVector<std::pair<std::string, BlockArgument>> slots;
  for (unsigned i = 0; i < step.getNumArguments(); ++i) {
    StringRef name = nameOf(step, i);
    if (argRole(step, i) != Role::State || !name.consume_front(c.param + ".") ||
        name.contains('.') || step.getArgumentTypes()[i] != pType || !resultOf.count(i))
      continue;
    slots.push_back({name.str(), body.getArgument(i)});
  }
  llvm::sort(slots, [](const auto &x, const auto &y) { return x.first < y.first; });
  if (!resultOf.count(c.p.getArgNumber()))
    return fail("is not returned in place");
  llvm::DenseSet<unsigned> rootResults = {resultOf[c.p.getArgNumber()]};
  c.roots.push_back(ret.getOperand(resultOf[c.p.getArgNumber()]));
  c.leaf[c.marker.getResult()] = 0;
  c.leaf[c.p] = 1;
  for (auto [j, s] : llvm::enumerate(slots)) {
    c.slots.push_back(s.first);
    c.slotArgs.push_back(s.second);
    c.leaf[s.second] = 2 + int(j);
    c.roots.push_back(ret.getOperand(resultOf[s.second.getArgNumber()]));
    rootResults.insert(resultOf[s.second.getArgNumber()]);
  }
  // The backward slice of the roots, stopping at the leaves.
  llvm::DenseSet<Operation *> slice;
  SmallVector<Value> work(c.roots.begin(), c.roots.end());
  while (!work.empty()) {
    Value v = work.pop_back_val();
    Operation *def = v.getDefiningOp();
    if (c.leaf.count(v) || !def || !slice.insert(def).second)
      continue;
    if (def->getNumRegions())
      return fail(Twine("goes through '") + def->getName().getStringRef() + "'");
    work.append(def->operand_begin(), def->operand_end());
  }
  // The chain: the slice's ops that depend on a leaf; the rest are shared
  // scalars (the learning rate, Adam's bias corrections).
  llvm::DenseSet<Value> dependent;
  for (auto &[v, kind] : c.leaf)
    dependent.insert(v);
  for (Operation &op : body) {
    if (!slice.contains(&op) ||
        llvm::none_of(op.getOperands(), [&](Value v) { return dependent.contains(v); }))
      continue;
    if (!elementwise(&op))
      return fail(Twine("uses '") + op.getName().getStringRef() + "', which is not elementwise");
    for (Value r : op.getResults()) {
      auto t = llvm::dyn_cast<RankedTensorType>(r.getType());
      if (!t || t.getShape() != pType.getShape())
        return fail("computes a value of another shape (a reduction over the param, such as "
                    "clipping by the global norm?)");
      dependent.insert(r);
    }
    for (Value v : op.getOperands()) {
      auto t = llvm::dyn_cast<RankedTensorType>(v.getType());
      if (!dependent.contains(v) && (!t || t.getRank() != 0))
        return fail("combines it with a non-scalar value that is not the param's own");
    }
    c.ops.push_back(&op);
  }
  // Nothing else may read the chain's values, its gradient or its slots
  // (the return only as the param's and slots' new values), and each new
  // value must come from the chain or be a leaf.
  llvm::DenseSet<Operation *> inChain(c.ops.begin(), c.ops.end());
  for (Value v : dependent) {
    if (v == c.p)
      continue;
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (user == ret ? !rootResults.contains(use.getOperandNumber()) : !inChain.contains(user))
        return fail(Twine("has a value that '") + user->getName().getStringRef() +
                    "' outside the update reads");
    }
  }
  for (Value r : c.roots)
    if (!dependent.contains(r))
      return fail("returns a new value that it does not compute");
  return success();
}

bool Sharder::equivalent(Value a, Value b) {
  if (a == b)
    return true;
  auto key = std::make_pair(a, b);
  if (auto it = seen.find(key); it != seen.end())
    return it->second;
  Operation *da = a.getDefiningOp(), *db = b.getDefiningOp();
  bool same = da && db && da->getName() == db->getName() &&
              da->getAttrDictionary() == db->getAttrDictionary() &&
              da->getNumOperands() == db->getNumOperands() &&
              da->getResultTypes() == db->getResultTypes() &&
              llvm::cast<OpResult>(a).getResultNumber() ==
                  llvm::cast<OpResult>(b).getResultNumber() &&
              da->getNumRegions() == 0;
  for (unsigned i = 0; same && i < da->getNumOperands(); ++i)
    same = equivalent(da->getOperand(i), db->getOperand(i));
  seen[key] = same;
  return same;
}

LogicalResult Sharder::same(const Chain &a, const Chain &b) {
  auto fail = [&](const Twine &why) {
    return b.marker.emitError() << "tg-distribute: shard-state: the update of param '" << b.param
                                << "' differs from that of '" << a.param << "' (" << why
                                << "); --shard-optimizer-state needs one update rule for every "
                                   "param";
  };
  if (a.slots != b.slots)
    return fail("other optimizer slots");
  if (a.ops.size() != b.ops.size())
    return fail(Twine(b.ops.size()) + " ops against " + Twine(a.ops.size()));
  llvm::DenseMap<Value, std::pair<int, int>> where; // chain value -> (op, result)
  auto token = [](const Chain &c, llvm::DenseMap<Value, std::pair<int, int>> &at,
                  Value v) -> std::optional<std::pair<int, int>> {
    if (auto it = c.leaf.find(v); it != c.leaf.end())
      return std::make_pair(-1, it->second);
    if (auto it = at.find(v); it != at.end())
      return it->second;
    return std::nullopt;
  };
  llvm::DenseMap<Value, std::pair<int, int>> whereA;
  for (size_t i = 0; i < a.ops.size(); ++i) {
    Operation *x = a.ops[i], *y = b.ops[i];
    if (x->getName() != y->getName() || x->getAttrDictionary() != y->getAttrDictionary() ||
        x->getNumOperands() != y->getNumOperands() || x->getNumResults() != y->getNumResults())
      return fail(Twine("op ") + Twine(i) + " is '" + y->getName().getStringRef() + "', not '" +
                  x->getName().getStringRef() + "'");
    for (unsigned k = 0; k < x->getNumOperands(); ++k) {
      auto tx = token(a, whereA, x->getOperand(k)), ty = token(b, where, y->getOperand(k));
      if (tx != ty || (!tx && !equivalent(x->getOperand(k), y->getOperand(k))))
        return fail(Twine("operand ") + Twine(k) + " of op " + Twine(i) + " ('" +
                    y->getName().getStringRef() + "')");
    }
    for (unsigned r = 0; r < x->getNumResults(); ++r) {
      if (getElementTypeOrSelf(x->getResult(r).getType()) !=
          getElementTypeOrSelf(y->getResult(r).getType()))
        return fail(Twine("the element type of op ") + Twine(i));
      whereA[x->getResult(r)] = {int(i), int(r)};
      where[y->getResult(r)] = {int(i), int(r)};
    }
  }
  for (size_t r = 0; r < a.roots.size(); ++r)
    if (token(a, whereA, a.roots[r]) != token(b, where, b.roots[r]))
      return fail("another result");
  return success();
}

/// `parts` reshaped to 1-D and joined, with zeros up to `total` elements.
Value Sharder::flatten(OpBuilder &b, Location loc, ArrayRef<Value> parts, int64_t total) {
  Type f32 = b.getF32Type();
  SmallVector<Value> flat;
  int64_t n = 0;
  for (Value v : parts) {
    auto t = llvm::cast<RankedTensorType>(v.getType());
    if (t.getRank() != 1)
      v = b.create<ReshapeOp>(loc, RankedTensorType::get({t.getNumElements()}, f32), v);
    flat.push_back(v);
    n += t.getNumElements();
  }
  if (total > n) {
    auto pad = RankedTensorType::get({total - n}, f32);
    flat.push_back(b.create<ConstantOp>(loc, pad, DenseElementsAttr::get(pad, b.getZeroAttr(f32))));
  }
  if (flat.size() == 1)
    return flat[0];
  return b.create<ConcatOp>(loc, RankedTensorType::get({total}, f32), flat,
                            b.getI64IntegerAttr(0));
}

LogicalResult Sharder::run(ShardPlan &plan) {
  Block &body = step.getBody().front();
  auto ret = llvm::cast<func::ReturnOp>(body.getTerminator());
  llvm::StringMap<ParamGradOp> markers;
  for (auto m : body.getOps<ParamGradOp>())
    markers[m.getParam()] = m;
  for (unsigned i = 0; i < step.getNumArguments(); ++i) {
    if (argRole(step, i) != Role::Param)
      continue;
    Chain c;
    c.param = nameOf(step, i).str();
    c.p = body.getArgument(i);
    auto it = markers.find(c.param);
    if (it == markers.end())
      return step.emitError() << "tg-distribute: shard-state: param '" << c.param
                              << "' has no tg.param_grad marker";
    c.marker = it->second;
    if (!llvm::cast<RankedTensorType>(c.p.getType()).getElementType().isF32())
      return c.marker.emitError() << "tg-distribute: shard-state: param '" << c.param
                                  << "' is not f32";
    if (failed(analyze(c)))
      return failure();
    if (!chains.empty() && failed(same(chains.front(), c)))
      return failure();
    chains.push_back(std::move(c));
  }
  if (chains.empty())
    return step.emitError() << "tg-distribute: shard-state: @" << step.getSymName()
                            << " has no params";

  // The plan: params in argument order, S = ceil(P / N).
  int64_t total = 0;
  plan.world = world;
  for (const Chain &c : chains) {
    plan.params.push_back(c.param);
    plan.elements.push_back(llvm::cast<RankedTensorType>(c.p.getType()).getNumElements());
    total += plan.elements.back();
  }
  plan.shardSize = (total + world - 1) / world;
  int64_t padded = plan.shardSize * world;
  const Chain &rule = chains.front();
  plan.slots.assign(rule.slots.begin(), rule.slots.end());

  Location loc = step.getLoc();
  OpBuilder b(ret);
  auto shardType = RankedTensorType::get({plan.shardSize}, b.getF32Type());
  SmallVector<Value> grads, params;
  for (const Chain &c : chains) {
    grads.push_back(c.marker.getGrad());
    params.push_back(c.p);
  }
  Value gs = b.create<ReduceScatterOp>(loc, shardType, flatten(b, loc, grads, padded),
                                       b.getStringAttr("gradient_mean"));
  // When the rule reads the param only in its last op, p' = p - delta (no
  // weight decay), the shards compute delta and every rank subtracts the
  // gathered delta from its whole params, in place: no flat copy of the
  // params, and the same bits (one exactly rounded subtraction either way).
  Operation *last = rule.roots[0].getDefiningOp();
  bool deltaOnly = last && llvm::isa<SubOp>(last) && last->getOperand(0) == rule.p &&
                   llvm::is_contained(rule.ops, last);
  if (deltaOnly) {
    llvm::DenseSet<Value> fromP = {rule.p};
    for (Operation *op : rule.ops)
      if (op != last && llvm::any_of(op->getOperands(), [&](Value v) { return fromP.contains(v); }))
        fromP.insert(op->result_begin(), op->result_end());
    deltaOnly = !fromP.contains(last->getOperand(1)) &&
                llvm::none_of(rule.roots, [&](Value r) { return r != rule.roots[0] && fromP.contains(r); });
  }
  Value ps = deltaOnly ? Value() : b.create<LocalShardOp>(loc, shardType, flatten(b, loc, params, padded));

  // The shard buffers, where the first param's slots were.
  unsigned at = step.getNumArguments();
  for (const Chain &c : chains)
    for (BlockArgument s : c.slotArgs)
      at = std::min(at, s.getArgNumber());
  SmallVector<BlockArgument> shardArgs;
  for (auto [j, slot] : llvm::enumerate(rule.slots)) {
    std::string name = "shard." + slot;
    plan.buffers.push_back(name);
    NamedAttrList attrs(step.getArgAttrDict(rule.slotArgs[j].getArgNumber()));
    attrs.set(TgDialect::kNameAttr, b.getStringAttr(name));
    step.insertArgument(at + unsigned(j), shardType, attrs.getDictionary(b.getContext()), loc);
    shardArgs.push_back(body.getArgument(at + unsigned(j)));
  }

  // The rule once, on the shards.
  IRMapping map;
  map.map(rule.marker.getResult(), gs);
  if (ps)
    map.map(rule.p, ps);
  for (auto [j, s] : llvm::enumerate(rule.slotArgs))
    map.map(s, shardArgs[j]);
  for (Operation *op : rule.ops) {
    if (deltaOnly && op == last)
      continue;
    OperationState state(op->getLoc(), op->getName());
    for (Value v : op->getOperands())
      state.operands.push_back(map.lookupOrDefault(v));
    state.attributes = op->getAttrDictionary();
    for (Value r : op->getResults())
      state.types.push_back(RankedTensorType::get({plan.shardSize}, getElementTypeOrSelf(r)));
    Operation *flat = b.create(state);
    map.map(op->getResults(), flat->getResults());
  }
  Value newPs = map.lookupOrDefault(deltaOnly ? last->getOperand(1) : rule.roots[0]);
  Value all = b.create<AllgatherOp>(loc, RankedTensorType::get({padded}, b.getF32Type()), newPs);

  // The results: each param' from its slice of the gathered shards; the
  // per-param slots' results give way to the shards'. Aliases are kept as
  // arguments (renumbered at the end).
  struct Result {
    Value value;
    NamedAttrList attrs;
    Value aliased; ///< the argument it updates in place, if any
  };
  SmallVector<Result> results;
  llvm::DenseMap<Value, Value> newParam;
  int64_t offset = 0;
  for (const Chain &c : chains) {
    auto t = llvm::cast<RankedTensorType>(c.p.getType());
    int64_t n = t.getNumElements();
    Value v = b.create<SliceOp>(loc, all, b.getDenseI64ArrayAttr({offset}),
                                b.getDenseI64ArrayAttr({offset + n}), b.getDenseI64ArrayAttr({1}));
    if (t.getRank() != 1)
      v = b.create<ReshapeOp>(loc, t, v);
    if (deltaOnly)
      v = b.create<SubOp>(loc, t, c.p, v);
    newParam[c.p] = v;
    offset += n;
  }
  llvm::DenseSet<Value> oldSlots;
  for (const Chain &c : chains)
    oldSlots.insert(c.slotArgs.begin(), c.slotArgs.end());
  for (unsigned i = 0; i < step.getNumResults(); ++i) {
    Result r{ret.getOperand(i), NamedAttrList(step.getResultAttrDict(i)), Value()};
    if (std::optional<int64_t> a = aliasOf(step, i)) {
      r.aliased = body.getArgument(unsigned(*a) >= at ? unsigned(*a) + unsigned(shardArgs.size())
                                                      : unsigned(*a));
      if (oldSlots.contains(r.aliased))
        continue;
      if (Value v = newParam.lookup(r.aliased))
        r.value = v;
    }
    results.push_back(std::move(r));
  }
  for (auto [j, s] : llvm::enumerate(shardArgs)) {
    NamedAttrList attrs;
    attrs.set(TgDialect::kNameAttr, b.getStringAttr(plan.buffers[j]));
    results.push_back({map.lookupOrDefault(rule.roots[1 + j]), attrs, s});
  }

  // The per-param updates and their markers are dead now; so are scalars
  // only they read.
  ret->setOperands(llvm::to_vector(llvm::map_range(results, [](const Result &r) {
    return r.value;
  })));
  for (auto it = chains.rbegin(); it != chains.rend(); ++it) {
    for (Operation *op : llvm::reverse(it->ops))
      op->erase();
    it->marker.getResult().replaceAllUsesWith(it->marker.getGrad());
    it->marker.erase();
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
      if (&op != ret.getOperation() && op.use_empty() && isMemoryEffectFree(&op)) {
        op.erase();
        changed = true;
      }
  }
  llvm::BitVector dead(step.getNumArguments());
  for (Value s : oldSlots)
    dead.set(llvm::cast<BlockArgument>(s).getArgNumber());
  step.eraseArguments(dead);

  SmallVector<Type> types;
  SmallVector<DictionaryAttr> attrs;
  for (Result &r : results) {
    if (r.aliased)
      r.attrs.set(TgDialect::kAliasAttr,
                  b.getI64IntegerAttr(llvm::cast<BlockArgument>(r.aliased).getArgNumber()));
    types.push_back(r.value.getType());
    attrs.push_back(r.attrs.getDictionary(b.getContext()));
  }
  step.setType(b.getFunctionType(step.getArgumentTypes(), types));
  step.setAllResultAttrs(attrs);
  return success();
}

} // namespace

LogicalResult shardOptimizerState(func::FuncOp step, int64_t world, ShardPlan &plan) {
  return Sharder(step, world).run(plan);
}

} // namespace tg
