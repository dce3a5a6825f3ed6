//===- Distribute.cpp - tg-distribute -------------------------------------===//
//
// Puts the collectives of data-parallel training into the compiled step (see
// the pass description in Passes.td). Buckets follow PyTorch DDP's reducer:
// gradients in the order backward finishes them, packed up to a size cap,
// each bucket's collective started as soon as its last gradient exists and
// waited for where a gradient is first needed. Packing and unpacking are tg
// reshapes, concats and slices, so the backend fuses and bufferizes them like
// any other op; the collectives themselves are calls into the runtime's
// communicator.
//
//===----------------------------------------------------------------------===//
#include "distributed/Passes.h"
#include "distributed/ShardOptimizerState.h"
#include "ir/TrainSpec.h"
#include "support/Manifest.h"
#include "support/Trailer.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Debug.h"
#include "llvm/Support/Format.h"

#include <string>

#define DEBUG_TYPE "tg-distribute"

namespace tg {
#define GEN_PASS_DEF_DISTRIBUTE
#include "distributed/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {
namespace {

/// A tensor to reduce: a param's gradient, a param, a metric.
struct Item {
  std::string name;
  Value value;
  Operation *ready = nullptr; ///< the op that defines it (null: an argument)
  int64_t elements = 0;
};

struct Bucket {
  int64_t id = 0;
  SmallVector<Item> items;
  int64_t elements = 0;
};

/// Greedy packing in the given order: a bucket closes when the next item
/// would take it over `capBytes` (an item larger than the cap is alone).
SmallVector<Bucket> packBuckets(ArrayRef<Item> items, int64_t capBytes, int64_t firstId) {
  SmallVector<Bucket> buckets;
  for (const Item &item : items) {
    int64_t bytes = item.elements * 4;
    if (buckets.empty() ||
        (!buckets.back().items.empty() && (buckets.back().elements * 4 + bytes > capBytes))) {
      buckets.emplace_back();
      buckets.back().id = firstId + int64_t(buckets.size()) - 1;
    }
    buckets.back().items.push_back(item);
    buckets.back().elements += item.elements;
  }
  return buckets;
}

/// Whether `v` may be reduced in place: computed by an op (not an argument
/// or a constant) and used by nothing but its marker (a gradient) or the
/// return that will take the reduced value instead (a metric).
bool exclusive(Value v) {
  Operation *def = v.getDefiningOp();
  return def && !llvm::isa<ConstantOp>(def) && std::distance(v.use_begin(), v.use_end()) == 1 &&
         llvm::isa<ParamGradOp, func::ReturnOp>(*v.getUsers().begin());
}

/// Concatenates `values` into one 1-D f32 tensor, a fresh one: the reduction
/// writes into it in place. A lone item that is not exclusively the
/// bucket's (an argument, a constant, a value with other uses) gets a copy,
/// made by joining one zero to it (its unpacking drops the zero).
Value pack(OpBuilder &b, Location loc, ArrayRef<Item> items, int64_t total) {
  bool inPlace = items.size() == 1 && exclusive(items[0].value); // before the reshape uses it
  SmallVector<Value> flat;
  for (const Item &item : items) {
    Value v = item.value;
    auto t = llvm::cast<RankedTensorType>(v.getType());
    if (t.getRank() != 1)
      v = b.create<ReshapeOp>(loc, RankedTensorType::get({item.elements}, t.getElementType()), v);
    flat.push_back(v);
  }
  if (inPlace)
    return flat[0];
  if (flat.size() == 1) {
    auto one = RankedTensorType::get({1}, b.getF32Type());
    flat.push_back(
        b.create<ConstantOp>(loc, one, DenseElementsAttr::get(one, b.getZeroAttr(b.getF32Type()))));
    ++total;
  }
  return b.create<ConcatOp>(loc, RankedTensorType::get({total}, b.getF32Type()), flat,
                            b.getI64IntegerAttr(0));
}

/// Item k of a reduced bucket, in its original shape.
SmallVector<Value> unpack(OpBuilder &b, Location loc, Value reduced, ArrayRef<Item> items) {
  SmallVector<Value> out;
  int64_t size = llvm::cast<RankedTensorType>(reduced.getType()).getNumElements();
  if (items.size() == 1 && llvm::cast<RankedTensorType>(items[0].value.getType()).getRank() == 1 &&
      size == items[0].elements)
    return {reduced};
  int64_t offset = 0;
  for (const Item &item : items) {
    auto t = llvm::cast<RankedTensorType>(item.value.getType());
    Value v = reduced;
    if (items.size() > 1 || size != item.elements)
      v = b.create<SliceOp>(loc, v, b.getDenseI64ArrayAttr({offset}),
                            b.getDenseI64ArrayAttr({offset + item.elements}),
                            b.getDenseI64ArrayAttr({1}));
    if (t.getRank() != 1)
      v = b.create<ReshapeOp>(loc, t, v);
    out.push_back(v);
    offset += item.elements;
  }
  return out;
}

struct DistributePass : impl::DistributeBase<DistributePass> {
  using impl::DistributeBase<DistributePass>::DistributeBase;

  void runOnOperation() override {
    if (failed(run()))
      signalPassFailure();
  }

  LogicalResult run();
  LogicalResult parseMode();
  LogicalResult collectGradients(func::FuncOp step, SmallVectorImpl<Item> &grads);
  Operation *allreduceGradients(func::FuncOp step, ArrayRef<Item> grads);
  void allreduceMetrics(func::FuncOp step, Operation *lastStart, int64_t id);
  Operation *emitBucket(OpBuilder &b, Bucket &bucket, Operation *after, Operation *before,
                        StringRef reduction, llvm::function_ref<void(ArrayRef<Value>)> replace);
  LogicalResult buildAverageParams(func::FuncOp step);
  void recordPlan();

  std::string modeName; ///< none | allreduce | average
  int64_t averageEvery = 0;
  int64_t capBytes = 0;
  SmallVector<std::pair<std::string, Bucket>> plan; ///< (entry, bucket)
  ShardPlan shards; ///< shard-state
  std::string modelHash;
};

LogicalResult DistributePass::parseMode() {
  StringRef m = mode;
  if (m == "none" || m == "allreduce") {
    modeName = m.str();
  } else if (m.consume_front("average:")) {
    if (m.getAsInteger(10, averageEvery) || averageEvery < 1)
      return getOperation().emitError()
             << "tg-distribute: mode 'average:" << m << "': K must be an integer >= 1";
    modeName = "average";
  } else {
    return getOperation().emitError() << "tg-distribute: unknown mode '" << mode
                                      << "' (expected none, allreduce or average:K)";
  }
  if (!(bucketCapMb > 0) || bucketCapMb > 4096)
    return getOperation().emitError()
           << "tg-distribute: bucket-cap-mb must be in (0, 4096], got " << bucketCapMb;
  capBytes = int64_t(bucketCapMb * 1024 * 1024);
  if (!parseCompress(compress))
    return getOperation().emitError()
           << "tg-distribute: unknown compress '" << compress
           << "' (expected none, bf16 or threshold:T with a number T in [1.2e-38, 1e30], e.g. "
              "threshold:1e-3)";
  if (shardState < 0 || shardState > 65536)
    return getOperation().emitError()
           << "tg-distribute: shard-state must be in [0, 65536] (a world size), got "
           << int64_t(shardState);
  if (shardState > 0 && modeName != "allreduce")
    return getOperation().emitError()
           << "tg-distribute: shard-state=" << int64_t(shardState) << " needs mode allreduce";
  if (shardState > 0 && compress != "none")
    return getOperation().emitError()
           << "tg-distribute: shard-state does not compress (its reduce-scatter is f32); drop "
              "compress=" << compress;
  if (compress != "none" && modeName != "allreduce")
    return getOperation().emitError()
           << "tg-distribute: compress=" << compress << " needs mode allreduce";
  return success();
}

LogicalResult DistributePass::run() {
  ModuleOp module = getOperation();
  if (failed(parseMode()))
    return failure();
  func::FuncOp step;
  // A pipeline (tg-pipeline-split) has a train step per stage; each reduces
  // its own gradients across the replicas of its stage.
  SmallVector<func::FuncOp> stageSteps;
  for (auto fn : module.getOps<func::FuncOp>()) {
    auto entry = fn->getAttrOfType<StringAttr>(TgDialect::kEntryAttr);
    if (entry && entry.getValue() == "train_step") {
      step = fn;
      if (fn->hasAttr(kStageAttr))
        stageSteps.push_back(fn);
    }
    if (fn.getSymName() == "average_params")
      return fn.emitError() << "tg-distribute: the module already has @average_params";
  }
  if (module->hasAttr(kDataParallelAttr))
    return module.emitError() << "tg-distribute: the module is already distributed ("
                              << kDataParallelAttr << " is set)";

  if (modeName != "none") {
    // The model before distribution: a checkpoint resumes across artifacts
    // that differ only in their data-parallel plan (world size, sharding).
    std::string text;
    llvm::raw_string_ostream os(text);
    module.print(os);
    llvm::raw_string_ostream(modelHash)
        << llvm::format_hex_no_prefix(fnv1a64(os.str().data(), os.str().size()), 16);
    if (!step)
      return module.emitError() << "tg-distribute: mode '" << mode
                                << "' needs a train_step entry point (compile a model with a "
                                   "training spec)";
    if (!stageSteps.empty()) {
      if (modeName != "allreduce" || shardState > 0 || compress != "none")
        return module.emitError()
               << "tg-distribute: a pipeline's stages reduce their gradients with "
                  "mode=allreduce (no parameter averaging, sharded state or compression yet)";
      for (func::FuncOp stageStep : stageSteps) {
        SmallVector<Item> grads;
        if (failed(collectGradients(stageStep, grads)))
          return failure();
        size_t before = plan.size();
        Operation *lastStart = allreduceGradients(stageStep, grads);
        allreduceMetrics(stageStep, lastStart, int64_t(plan.size()));
        for (size_t i = before; i < plan.size(); ++i)
          plan[i].first = stageStep.getSymName().str();
      }
      recordPlan();
      module.walk([](ParamGradOp marker) {
        marker.getResult().replaceAllUsesWith(marker.getGrad());
        marker.erase();
      });
      return success();
    }
    SmallVector<Item> grads;
    if (failed(collectGradients(step, grads)))
      return failure();
    if (modeName == "allreduce" && shardState > 0) {
      if (failed(shardOptimizerState(step, shardState, shards)))
        return failure();
      allreduceMetrics(step, nullptr, 0);
    } else if (modeName == "allreduce") {
      Operation *lastStart = allreduceGradients(step, grads);
      allreduceMetrics(step, lastStart, int64_t(plan.size()));
    } else if (failed(buildAverageParams(step))) {
      return failure();
    }
    recordPlan();
  }
  // Markers left (mode none or average, other functions): the identity.
  module.walk([](ParamGradOp marker) {
    marker.getResult().replaceAllUsesWith(marker.getGrad());
    marker.erase();
  });
  return success();
}

LogicalResult DistributePass::collectGradients(func::FuncOp step, SmallVectorImpl<Item> &grads) {
  for (Operation &op : step.getBody().front()) {
    auto marker = llvm::dyn_cast<ParamGradOp>(op);
    if (!marker)
      continue;
    auto t = llvm::cast<RankedTensorType>(marker.getType());
    if (!t.getElementType().isF32())
      return marker.emitError() << "tg-distribute: the gradient of param '" << marker.getParam()
                                << "' is " << t
                                << "; data-parallel training reduces f32 gradients only";
    Item item;
    item.name = marker.getParam().str();
    item.value = marker.getResult();
    item.ready = marker.getGrad().getDefiningOp();
    item.elements = t.getNumElements();
    grads.push_back(item);
  }
  if (grads.empty())
    return step.emitError() << "tg-distribute: @" << step.getSymName()
                            << " has no tg.param_grad markers (tg-build-train-step places "
                               "them; a hand-written train_step must too)";
  return success();
}

/// Builds bucket `bucket`'s pack + start after `after` (null: at the block
/// start) and wait + unpack before `before`; `replace` gets the reduced items.
/// `reduction` is gradient_mean for gradients (what --compress applies to),
/// mean for the metrics and averaged params. Returns the start, after which
/// the next bucket's starts go.
Operation *DistributePass::emitBucket(OpBuilder &b, Bucket &bucket, Operation *after,
                                      Operation *before, StringRef reduction,
                                      llvm::function_ref<void(ArrayRef<Value>)> replace) {
  Location loc = before->getLoc();
  if (after)
    b.setInsertionPointAfter(after);
  else
    b.setInsertionPointToStart(before->getBlock());
  SmallVector<Item> sources = bucket.items;
  for (Item &item : sources) // pack what the items are computed from
    if (auto marker = item.value.getDefiningOp<ParamGradOp>())
      item.value = marker.getGrad();
  Value flat = pack(b, loc, sources, bucket.elements);
  auto start = b.create<AllreduceStartOp>(loc, TokenType::get(b.getContext()), flat,
                                          b.getI64IntegerAttr(bucket.id), b.getStringAttr(reduction));
  b.setInsertionPoint(before);
  Value reduced = b.create<AllreduceWaitOp>(loc, flat.getType(), start.getToken(), flat,
                                            b.getI64IntegerAttr(bucket.id));
  replace(unpack(b, loc, reduced, sources));
  return start;
}

Operation *DistributePass::allreduceGradients(func::FuncOp step, ArrayRef<Item> grads) {
  Block &body = step.getBody().front();
  Operation *ret = body.getTerminator();
  // Ready order: where backward finishes each gradient (arguments first).
  SmallVector<Item> ordered(grads.begin(), grads.end());
  llvm::stable_sort(ordered, [](const Item &a, const Item &b) {
    if (!a.ready || !b.ready)
      return !a.ready && b.ready;
    return a.ready->isBeforeInBlock(b.ready);
  });
  SmallVector<Bucket> buckets = packBuckets(ordered, capBytes, 0);
  OpBuilder b(step.getContext());
  Operation *lastStart = nullptr;
  for (Bucket &bucket : buckets) {
    Operation *after = lastStart;
    Operation *firstUse = ret;
    for (const Item &item : bucket.items) {
      if (item.ready && (!after || after->isBeforeInBlock(item.ready)))
        after = item.ready;
      for (Operation *user : item.value.getUsers())
        if (Operation *top = body.findAncestorOpInBlock(*user);
            top && top->isBeforeInBlock(firstUse))
          firstUse = top; // a use in a nested region counts as its op at the top
    }
    lastStart = emitBucket(b, bucket, after, firstUse, "gradient_mean", [&](ArrayRef<Value> reduced) {
      for (auto [item, value] : llvm::zip(bucket.items, reduced)) {
        item.value.replaceAllUsesWith(value);
        item.value.getDefiningOp()->erase();
      }
    });
    plan.push_back({"train_step", bucket});
  }
  return lastStart;
}

/// The loss and the metrics, averaged for reporting: one bucket `id`, started
/// after `lastStart` (or where they are ready) and waited for at the return.
void DistributePass::allreduceMetrics(func::FuncOp step, Operation *lastStart, int64_t id) {
  Block &body = step.getBody().front();
  Operation *ret = body.getTerminator();
  OpBuilder b(step.getContext());
  SmallVector<Item> metrics;
  SmallVector<unsigned> metricResults;
  for (unsigned i = 0; i < step.getNumResults(); ++i) {
    auto t = llvm::dyn_cast<RankedTensorType>(step.getResultTypes()[i]);
    if (step.getResultAttr(i, TgDialect::kAliasAttr) || !t || t.getRank() != 0 ||
        !t.getElementType().isF32())
      continue;
    auto name = step.getResultAttrOfType<StringAttr>(i, TgDialect::kNameAttr);
    Value v = ret->getOperand(i);
    metrics.push_back({name ? name.str() : "result" + std::to_string(i), v, v.getDefiningOp(), 1});
    metricResults.push_back(i);
  }
  if (metrics.empty())
    return;
  Bucket mb;
  mb.id = id;
  mb.items = metrics;
  mb.elements = int64_t(metrics.size());
  Operation *after = lastStart;
  for (const Item &item : metrics)
    if (item.ready && (!after || after->isBeforeInBlock(item.ready)))
      after = item.ready;
  emitBucket(b, mb, after, ret, "mean", [&](ArrayRef<Value> reduced) {
    for (auto [i, value] : llvm::zip(metricResults, reduced))
      ret->setOperand(i, value);
  });
  plan.push_back({"train_step", mb});
}

LogicalResult DistributePass::buildAverageParams(func::FuncOp step) {
  ModuleOp module = getOperation();
  // Model state (recurrent h, c) is what predict also takes: it stays local.
  llvm::StringSet<> modelState;
  if (auto predict = module.lookupSymbol<func::FuncOp>("predict"))
    for (unsigned i = 0; i < predict.getNumArguments(); ++i)
      if (argRole(predict, i) == Role::State)
        if (auto n = predict.getArgAttrOfType<StringAttr>(i, TgDialect::kNameAttr))
          modelState.insert(n.getValue());

  SmallVector<unsigned> averaged;
  for (unsigned i = 0; i < step.getNumArguments(); ++i) {
    Role role = argRole(step, i);
    auto name = step.getArgAttrOfType<StringAttr>(i, TgDialect::kNameAttr);
    auto t = llvm::cast<RankedTensorType>(step.getArgumentTypes()[i]);
    bool isSlot = role == Role::State && averageState && t.getElementType().isF32() && name &&
                  name.getValue() != "step" && !modelState.contains(name.getValue());
    if (role == Role::Param || isSlot) {
      if (!t.getElementType().isF32())
        return step.emitError() << "tg-distribute: param '" << (name ? name.getValue() : "")
                                << "' is " << t << "; parameter averaging handles f32 only";
      averaged.push_back(i);
    }
  }

  OpBuilder b(module.getBodyRegion());
  b.setInsertionPointToEnd(module.getBody());
  SmallVector<Type> types;
  SmallVector<DictionaryAttr> argAttrs, resultAttrs;
  for (auto [k, i] : llvm::enumerate(averaged)) {
    types.push_back(step.getArgumentTypes()[i]);
    argAttrs.push_back(step.getArgAttrDict(i));
    resultAttrs.push_back(b.getDictionaryAttr(
        {b.getNamedAttr(TgDialect::kNameAttr, step.getArgAttr(i, TgDialect::kNameAttr)),
         b.getNamedAttr(TgDialect::kAliasAttr, b.getI64IntegerAttr(int64_t(k)))}));
  }
  auto fn =
      b.create<func::FuncOp>(step.getLoc(), "average_params", b.getFunctionType(types, types));
  fn.setAllArgAttrs(argAttrs);
  fn.setAllResultAttrs(resultAttrs);
  fn->setAttr(TgDialect::kEntryAttr, b.getStringAttr("average_params"));
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);
  auto ret = b.create<func::ReturnOp>(step.getLoc(), ValueRange(entry->getArguments()));

  SmallVector<Item> items;
  for (auto [k, i] : llvm::enumerate(averaged)) {
    auto t = llvm::cast<RankedTensorType>(types[k]);
    items.push_back({step.getArgAttrOfType<StringAttr>(i, TgDialect::kNameAttr).str(),
                     entry->getArgument(unsigned(k)), nullptr, t.getNumElements()});
  }
  // All starts first, then the waits: the buckets' collectives overlap.
  Operation *lastStart = nullptr;
  for (Bucket &bucket : packBuckets(items, capBytes, 0)) {
    lastStart = emitBucket(b, bucket, lastStart, ret, "mean", [&](ArrayRef<Value> reduced) {
      for (auto [item, value] : llvm::zip(bucket.items, reduced))
        for (OpOperand &use : item.value.getUses())
          if (use.getOwner() == ret)
            use.set(value);
    });
    plan.push_back({"average_params", bucket});
  }
  return success();
}

void DistributePass::recordPlan() {
  ModuleOp module = getOperation();
  Builder b(module.getContext());
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "mode=" << modeName << ";every=" << averageEvery
     << ";state=" << (modeName == "average" && averageState) << ";cap=" << capBytes << ";";
  if (compress != "none") // plans without compression keep their hashes
    os << "compress=" << compress << ";";
  if (shards.world > 0) {
    os << "shard=" << shards.world << "x" << shards.shardSize << ":";
    for (auto [name, n] : llvm::zip(shards.params, shards.elements))
      os << name << "[" << n << "],";
    for (const std::string &s : shards.slots)
      os << "slot " << s << ",";
    os << ";";
  }
  SmallVector<Attribute> buckets;
  for (auto &[entry, bucket] : plan) {
    SmallVector<Attribute> names;
    os << entry << "#" << bucket.id << ":";
    for (const Item &item : bucket.items) {
      names.push_back(b.getStringAttr(item.name));
      os << item.name << "[" << item.elements << "],";
    }
    os << ";";
    buckets.push_back(b.getDictionaryAttr({
        b.getNamedAttr("id", b.getI64IntegerAttr(bucket.id)),
        b.getNamedAttr("entry", b.getStringAttr(entry)),
        b.getNamedAttr("buffers", b.getArrayAttr(names)),
        b.getNamedAttr("elements", b.getI64IntegerAttr(bucket.elements)),
    }));
  }
  std::string hash;
  llvm::raw_string_ostream(hash) << llvm::format_hex_no_prefix(
      fnv1a64(os.str().data(), os.str().size()), 16);
  SmallVector<NamedAttribute> fields = {
      b.getNamedAttr("mode", b.getStringAttr(modeName)),
      b.getNamedAttr("bucket_cap_bytes", b.getI64IntegerAttr(capBytes)),
      b.getNamedAttr("buckets", b.getArrayAttr(buckets)),
      b.getNamedAttr("plan_hash", b.getStringAttr(hash)),
      b.getNamedAttr("model_hash", b.getStringAttr(modelHash)),
  };
  if (compress != "none")
    fields.push_back(b.getNamedAttr("compress", b.getStringAttr(compress)));
  if (shards.world > 0) {
    SmallVector<Attribute> params, slots, buffers;
    for (auto [name, n] : llvm::zip(shards.params, shards.elements))
      params.push_back(b.getDictionaryAttr({b.getNamedAttr("name", b.getStringAttr(name)),
                                            b.getNamedAttr("elements", b.getI64IntegerAttr(n))}));
    for (auto [slot, buffer] : llvm::zip(shards.slots, shards.buffers)) {
      slots.push_back(b.getStringAttr(slot));
      buffers.push_back(b.getStringAttr(buffer));
    }
    fields.push_back(b.getNamedAttr(
        "shard", b.getDictionaryAttr({
                     b.getNamedAttr("world", b.getI64IntegerAttr(shards.world)),
                     b.getNamedAttr("size", b.getI64IntegerAttr(shards.shardSize)),
                     b.getNamedAttr("params", b.getArrayAttr(params)),
                     b.getNamedAttr("slots", b.getArrayAttr(slots)),
                     b.getNamedAttr("buffers", b.getArrayAttr(buffers)),
                 })));
  }
  if (modeName == "average") {
    fields.push_back(b.getNamedAttr("average_every", b.getI64IntegerAttr(averageEvery)));
    fields.push_back(b.getNamedAttr("average_state", b.getBoolAttr(averageState)));
  }
  module->setAttr(kDataParallelAttr, b.getDictionaryAttr(fields));
  LLVM_DEBUG(llvm::dbgs() << "tg-distribute plan " << os.str() << " -> " << hash << "\n");
}

} // namespace
} // namespace tg
