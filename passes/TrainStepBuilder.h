//===- TrainStepBuilder.h - pieces of a train step --------------*- C++ -*-===//
//
// What tg-build-train-step assembles a train step from (the model's
// arguments by role, function assembly, the optimizer update), shared with
// tg-pipeline-split, which builds one train step per pipeline stage from
// the same pieces so that each param gets the same update code.
//
//===----------------------------------------------------------------------===//
#ifndef TG_PASSES_TRAINSTEPBUILDER_H
#define TG_PASSES_TRAINSTEPBUILDER_H

#include "ir/Dialect.h"
#include "ir/GradientBuilder.h"
#include "ir/TrainSpec.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseMap.h"

#include <optional>

namespace tg {

using mlir::Block;
using mlir::BlockArgument;
using mlir::DictionaryAttr;
using mlir::FloatType;
using mlir::IntegerAttr;
using mlir::success;
using mlir::failure;
using mlir::IRMapping;
using mlir::Location;
using mlir::LogicalResult;
using mlir::OpBuilder;
using mlir::RankedTensorType;
using mlir::StringAttr;
using mlir::Type;
using mlir::Value;
using llvm::ArrayRef;
using llvm::DenseMap;
using llvm::SmallVector;
using llvm::SmallVectorImpl;
using llvm::StringRef;
namespace func = mlir::func;

/// One argument of a function being assembled.
struct Arg {
  Type type;
  DictionaryAttr attrs;
};

/// One result of a function being assembled.
struct Result {
  Value value;
  DictionaryAttr attrs;
};

inline StringRef nameOf(DictionaryAttr attrs) {
  auto s = attrs ? attrs.getAs<StringAttr>(TgDialect::kNameAttr) : StringAttr();
  return s ? s.getValue() : StringRef();
}

inline Role roleOf(DictionaryAttr attrs) {
  auto s = attrs ? attrs.getAs<StringAttr>(TgDialect::kRoleAttr) : StringAttr();
  // The dialect verifier admits only known roles.
  return s ? parseRole(std::string_view(s.getValue().data(), s.size())).value_or(Role::None)
           : Role::None;
}

/// The model function, its arguments grouped by role, and its results by kind.
struct Model {
  func::FuncOp fn;
  SmallVector<unsigned> params, states, data, labels, hypers;
  /// The hyper "training" (Graph::training()): 1 in train_step, 0 in
  /// eval_step and predict, not an argument of them.
  std::optional<unsigned> training;
  unsigned loss = 0;

  /// Maps `body`'s "training" argument (of @fn or its gradient, which has
  /// the same arguments) to the constant `value` at b's insertion point.
  void bindTraining(OpBuilder &b, Block &body, IRMapping &map, double value) {
    if (training)
      map.map(body.getArgument(*training),
              GradientBuilder(b, fn.getLoc()).scalar(value, b.getF32Type()));
  }
  /// Data and labels: what micro-batches split.
  SmallVector<unsigned> batched() const {
    SmallVector<unsigned> v(data);
    v.append(labels.begin(), labels.end());
    return v;
  }
  SmallVector<unsigned> metrics;   ///< scalar float results besides the loss
  SmallVector<unsigned> stateOuts; ///< results with tg.alias (next state)
  /// A next state that eval_step and predict do not produce (tg.train_only).
  bool trainOnly(unsigned result) {
    DictionaryAttr attrs = fn.getResultAttrDict(result);
    return attrs && attrs.contains(TgDialect::kTrainOnlyAttr);
  }

  LogicalResult classify(StringRef lossName) {
    for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
      Role role = roleOf(fn.getArgAttrDict(i));
      if (nameOf(fn.getArgAttrDict(i)).empty())
        return fn.emitError() << "tg-build-train-step: argument #" << i << " of @"
                              << fn.getSymName() << " has no tg.name";
      if (role == Role::Hyper && nameOf(fn.getArgAttrDict(i)) == "training") {
        auto type = llvm::dyn_cast<RankedTensorType>(fn.getArgumentTypes()[i]);
        if (!type || type.getRank() != 0 || !type.getElementType().isF32())
          return fn.emitError() << "tg-build-train-step: the hyper argument 'training' must be an "
                                   "f32 scalar (Graph::training())";
        training = i;
        continue;
      }
      auto &group = role == Role::Param   ? params
                    : role == Role::State ? states
                    : role == Role::Label ? labels
                    : role == Role::Hyper ? hypers
                                          : data; // data, or no role
      group.push_back(i);
    }
    bool found = false;
    for (unsigned i = 0; i < fn.getNumResults(); ++i) {
      DictionaryAttr attrs = fn.getResultAttrDict(i);
      if (nameOf(attrs).empty())
        return fn.emitError() << "tg-build-train-step: result #" << i << " of @" << fn.getSymName()
                              << " has no tg.name";
      if (auto alias = attrs.getAs<IntegerAttr>(TgDialect::kAliasAttr)) {
        if (!llvm::is_contained(states, unsigned(alias.getInt())))
          return fn.emitError() << "tg-build-train-step: result '" << nameOf(attrs)
                                << "' aliases argument #" << alias.getInt()
                                << ", which is not a state";
        stateOuts.push_back(i);
        continue;
      }
      auto t = llvm::cast<RankedTensorType>(fn.getResultTypes()[i]);
      if (nameOf(attrs) == lossName) {
        loss = i;
        found = true;
      } else if (t.getRank() == 0 && llvm::isa<FloatType>(t.getElementType())) {
        metrics.push_back(i);
      }
    }
    if (!found)
      return fn.emitError() << "tg-build-train-step: @" << fn.getSymName()
                            << " has no result named '" << lossName << "' (the tg.train loss)";
    return success();
  }
};

/// Builds a function from argument and result lists filled by a callback.
class FunctionAssembler {
public:
  FunctionAssembler(OpBuilder &b, Location loc, StringRef name, StringRef entry) : b(b), loc(loc) {
    fn = b.create<func::FuncOp>(loc, name, b.getFunctionType({}, {}));
    fn->setAttr(TgDialect::kEntryAttr, b.getStringAttr(entry));
    body = fn.addEntryBlock();
  }

  /// Appends an argument; returns its value.
  Value addArg(Type type, DictionaryAttr attrs) {
    args.push_back({type, attrs});
    return body->addArgument(type, loc);
  }
  void addResult(Value v, DictionaryAttr attrs) { results.push_back({v, attrs}); }
  unsigned numArgs() const { return unsigned(args.size()); }

  func::FuncOp finish() {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(body);
    SmallVector<Value> values;
    SmallVector<Type> argTypes, resultTypes;
    for (const Arg &a : args)
      argTypes.push_back(a.type);
    for (const Result &r : results) {
      values.push_back(r.value);
      resultTypes.push_back(r.value.getType());
    }
    b.create<func::ReturnOp>(loc, values);
    fn.setFunctionType(b.getFunctionType(argTypes, resultTypes));
    for (auto [i, a] : llvm::enumerate(args))
      fn.setArgAttrs(unsigned(i), a.attrs);
    for (auto [i, r] : llvm::enumerate(results))
      fn.setResultAttrs(unsigned(i), r.attrs);
    return fn;
  }

  Block *entry() { return body; }
  /// Erases the half-built function (after an error).
  void abandon() { fn.erase(); }

private:
  OpBuilder &b;
  Location loc;
  func::FuncOp fn;
  Block *body;
  SmallVector<Arg> args;
  SmallVector<Result> results;
};

DictionaryAttr withAlias(OpBuilder &b, DictionaryAttr attrs, unsigned argIndex);

/// The type of a model argument fed M micro-batches at once: [M * b, ...].
Type batchedType(Type t, int64_t microbatches);

/// A zero-initialized optimizer state argument named `name`.
DictionaryAttr stateArgAttrs(OpBuilder &b, StringRef name);

/// Learning-rate factor at step `t` (f32 scalar) for the schedule; null for 1.
Value scheduleFactor(GradientBuilder &gb, Value t, const ScheduleSpec &s);

/// The optimizer state kept per param, by slot name (`<param>.<slot>`).
SmallVector<StringRef> optimizerSlots(OptimizerKind kind);

/// Coupled L2 (g += l2 * p), then clipping by the global norm.
void regularizeGradients(GradientBuilder &gb, const OptimizerSpec &opt,
                         SmallVectorImpl<Value> &grads, ArrayRef<Value> params);

/// Adam's 1 - beta^(t+1) (null for other optimizers).
struct BiasCorrections {
  Value first, second;
};
BiasCorrections biasCorrections(GradientBuilder &gb, const OptimizerSpec &opt, Value step);

/// The step direction of one param (p -= lr * update) and its new optimizer
/// slots (in optimizerSlots order), appended to `newSlots`.
Value optimizerUpdate(GradientBuilder &gb, const OptimizerSpec &opt, double weightDecay, Value p,
                      Value g, ArrayRef<Value> slots, const BiasCorrections &bc,
                      SmallVectorImpl<Value> &newSlots);

/// An optimizer state argument of a train step (`<param>.<slot>`).
struct OptimizerSlot {
  unsigned index; ///< its argument index
  Value value;
  std::string name;
};

/// Adds the optimizer slots of `params` (argument indices of `model`) as
/// arguments of `fa`: element k holds param k's, in optimizerSlots order.
SmallVector<SmallVector<OptimizerSlot>> addOptimizerSlots(OpBuilder &b, FunctionAssembler &fa,
                                                          func::FuncOp model,
                                                          ArrayRef<unsigned> params,
                                                          OptimizerKind kind);

/// The update of `params` (the train step's first arguments, in order;
/// `indices` their arguments of `model`) from their complete gradients at
/// learning rate `lr`: adds each new param (in place of its argument), then
/// each new slot, as results of `fa`.
void addOptimizerUpdates(GradientBuilder &gb, FunctionAssembler &fa, const OptimizerSpec &opt,
                         func::FuncOp model, ArrayRef<unsigned> indices, ArrayRef<Value> params,
                         ArrayRef<Value> grads, ArrayRef<SmallVector<OptimizerSlot>> slots,
                         Value lr, const BiasCorrections &bc);

/// The identity of a model for checkpoints: its function and tg.train spec,
/// hashed (16 hex digits), before any entry point is built. Artifacts that
/// run the same model in micro-batches (--microbatches, --pipeline-stages)
/// record it, so they resume each other's checkpoints.
std::string modelHash(func::FuncOp fn, mlir::Attribute trainSpec);

} // namespace tg

#endif // TG_PASSES_TRAINSTEPBUILDER_H
