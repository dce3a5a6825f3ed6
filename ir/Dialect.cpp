//===- Dialect.cpp - tg dialect registration and attribute checks ---------===//
#include "ir/Dialect.h"
#include "ir/TrainSpec.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;

#include "ir/TgDialect.cpp.inc"
#include "ir/TgInterfaces.cpp.inc"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"
#define GET_TYPEDEF_CLASSES
#include "ir/TgTypes.cpp.inc"

namespace tg {

void TgDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ir/TgOps.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "ir/TgTypes.cpp.inc"
      >();
}

Operation *TgDialect::materializeConstant(OpBuilder &builder, Attribute value, Type type,
                                          Location loc) {
  auto elements = llvm::dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return builder.create<ConstantOp>(loc, type, elements);
}

static LogicalResult requireNumber(Operation *op, DictionaryAttr init, StringRef key,
                                   StringRef where) {
  Attribute a = init.get(key);
  if (!a)
    return success();
  if (!llvm::isa<FloatAttr, IntegerAttr>(a))
    return op->emitError() << where << ": tg.init field '" << key << "' must be a number, got "
                           << a;
  return success();
}

static double numberOr(DictionaryAttr init, StringRef key, double dflt) {
  Attribute a = init.get(key);
  if (auto f = llvm::dyn_cast_or_null<FloatAttr>(a))
    return f.getValueAsDouble();
  if (auto i = llvm::dyn_cast_or_null<IntegerAttr>(a))
    return double(i.getInt());
  return dflt;
}

Role argRole(FunctionOpInterface fn, unsigned i) {
  auto s = fn.getArgAttrOfType<StringAttr>(i, TgDialect::kRoleAttr);
  if (!s)
    return Role::None;
  return parseRole(std::string_view(s.getValue().data(), s.size())).value_or(Role::None);
}

StringAttr roleAttr(Builder &b, Role role) {
  std::string_view name = roleName(role);
  return b.getStringAttr(llvm::StringRef(name.data(), name.size()));
}

/// Checks `tg.role`, `tg.init` and `tg.name` on function arguments.
LogicalResult TgDialect::verifyRegionArgAttribute(Operation *op, unsigned regionIndex,
                                                  unsigned argIndex, NamedAttribute attr) {
  std::string where = ("argument #" + llvm::Twine(argIndex)).str();
  auto fn = llvm::dyn_cast<FunctionOpInterface>(op);
  Type argType = fn && argIndex < fn.getNumArguments() ? fn.getArgumentTypes()[argIndex] : Type();
  StringRef name = attr.getName().getValue();
  if (name == kNameAttr) {
    auto s = llvm::dyn_cast<StringAttr>(attr.getValue());
    if (!s || s.getValue().empty())
      return op->emitError() << where << ": tg.name must be a non-empty string";
    return success();
  }
  if (name == kRoleAttr) {
    auto s = llvm::dyn_cast<StringAttr>(attr.getValue());
    std::optional<Role> role =
        s ? parseRole(std::string_view(s.getValue().data(), s.size())) : std::nullopt;
    if (!role || *role == Role::None)
      return op->emitError() << where
                             << ": tg.role must be one of \"param\", \"state\", "
                                "\"data\", \"label\", \"hyper\", got "
                             << attr.getValue();
    if (*role == Role::Param) {
      auto t = llvm::dyn_cast_or_null<ShapedType>(argType);
      if (!t || !llvm::isa<FloatType>(t.getElementType()))
        return op->emitError() << where << ": a param must be a float tensor, got " << argType;
    }
    return success();
  }
  if (name == kInitAttr) {
    auto init = llvm::dyn_cast<DictionaryAttr>(attr.getValue());
    if (!init)
      return op->emitError() << where << ": tg.init must be a dictionary like {kind = \"zeros\"}";
    auto kind = init.getAs<StringAttr>("kind");
    if (!kind || !llvm::is_contained(kInitKinds, kind.getValue()))
      return op->emitError() << where
                             << ": tg.init kind must be one of zeros, ones, constant, uniform, "
                                "normal, glorot_uniform, glorot_normal, he_uniform, he_normal";
    for (StringRef key : {"value", "low", "high", "mean", "stddev", "fan_in", "fan_out", "gain"})
      if (failed(requireNumber(op, init, key, where)))
        return failure();
    if (fn) {
      if (!isPersistent(argRole(fn, argIndex)))
        return op->emitError() << where
                               << ": tg.init is only allowed on a \"param\" or \"state\" argument";
    }
    if (numberOr(init, "low", 0) > numberOr(init, "high", 1))
      return op->emitError() << where << ": tg.init uniform range has low > high";
    if (!(numberOr(init, "stddev", 1) >= 0)) // NaN fails too
      return op->emitError() << where << ": tg.init stddev must be >= 0";
    if (numberOr(init, "fan_in", 1) <= 0 || numberOr(init, "fan_out", 1) <= 0)
      return op->emitError() << where << ": tg.init fan_in and fan_out must be > 0";
    return success();
  }
  if (name == kDefaultAttr) {
    if (!llvm::isa<FloatAttr, IntegerAttr>(attr.getValue()))
      return op->emitError() << where << ": tg.default must be a number, got " << attr.getValue();
    auto t = llvm::dyn_cast_or_null<ShapedType>(argType);
    if (!fn || argRole(fn, argIndex) != Role::Hyper || !t || t.getRank() != 0)
      return op->emitError() << where
                             << ": tg.default is only allowed on a scalar \"hyper\" argument";
    return success();
  }
  return op->emitError() << where << ": unknown tg argument attribute '" << name
                         << "' (expected tg.role, tg.init, tg.name or tg.default)";
}

LogicalResult TgDialect::verifyRegionResultAttribute(Operation *op, unsigned regionIndex,
                                                     unsigned resultIndex, NamedAttribute attr) {
  if (attr.getName().getValue() == kNameAttr) {
    auto s = llvm::dyn_cast<StringAttr>(attr.getValue());
    if (!s || s.getValue().empty())
      return op->emitError() << "result #" << resultIndex << ": tg.name must be a non-empty string";
    return success();
  }
  if (attr.getName().getValue() == kGradOfAttr) {
    auto s = llvm::dyn_cast<StringAttr>(attr.getValue());
    if (!s || s.getValue().empty())
      return op->emitError() << "result #" << resultIndex
                             << ": tg.grad_of must be a non-empty string";
    return success();
  }
  if (attr.getName().getValue() == kAliasAttr) {
    auto idx = llvm::dyn_cast<IntegerAttr>(attr.getValue());
    auto fn = llvm::dyn_cast<FunctionOpInterface>(op);
    if (!idx || !fn)
      return op->emitError() << "result #" << resultIndex
                             << ": tg.alias must be an integer argument index";
    int64_t i = idx.getInt();
    if (i < 0 || i >= int64_t(fn.getNumArguments()))
      return op->emitError() << "result #" << resultIndex << ": tg.alias = " << i
                             << " is not an argument index (the function has "
                             << fn.getNumArguments() << " arguments)";
    if (resultIndex < fn.getNumResults() &&
        fn.getResultTypes()[resultIndex] != fn.getArgumentTypes()[i])
      return op->emitError() << "result #" << resultIndex << " of type "
                             << fn.getResultTypes()[resultIndex] << " cannot alias argument #" << i
                             << " of type " << fn.getArgumentTypes()[i];
    return success();
  }
  if (attr.getName().getValue() == kTrainOnlyAttr) {
    auto fn = llvm::dyn_cast<FunctionOpInterface>(op);
    if (!llvm::isa<UnitAttr>(attr.getValue()))
      return op->emitError() << "result #" << resultIndex << ": tg.train_only takes no value";
    if (!fn || resultIndex >= fn.getNumResults() || !fn.getResultAttr(resultIndex, kAliasAttr))
      return op->emitError() << "result #" << resultIndex
                             << ": tg.train_only marks a next state, so it needs tg.alias";
    return success();
  }
  return op->emitError() << "result #" << resultIndex << ": unknown tg result attribute '"
                         << attr.getName().getValue()
                         << "' (expected tg.name, tg.alias, tg.train_only or tg.grad_of)";
}

LogicalResult TgDialect::verifyOperationAttribute(Operation *op, NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == kTrainAttr) {
    if (!llvm::isa<ModuleOp>(op))
      return op->emitError() << "tg.train belongs on the module";
    return parseTrainSpec(attr.getValue(), [&] { return op->emitError(); });
  }
  if (name == kDataParallelAttr) {
    if (!llvm::isa<ModuleOp>(op) || !llvm::isa<DictionaryAttr>(attr.getValue()))
      return op->emitError() << "tg.data_parallel must be a dictionary on the module";
    return success();
  }
  if (name == kGradientOfAttr || name == kEntryAttr) {
    if (!llvm::isa<FunctionOpInterface>(op) || !llvm::isa<StringAttr>(attr.getValue()))
      return op->emitError() << name << " must be a string on a function";
    return success();
  }
  if (name == kModelHashAttr) {
    if (!llvm::isa<ModuleOp>(op) || !llvm::isa<StringAttr>(attr.getValue()))
      return op->emitError() << "tg.model_hash must be a string on the module";
    return success();
  }
  if (name == kPipelineAttr) {
    if (!llvm::isa<ModuleOp>(op) || !llvm::isa<DictionaryAttr>(attr.getValue()))
      return op->emitError() << "tg.pipeline must be a dictionary on the module";
    return success();
  }
  if (name == kMicrobatchSumAttr) { // tg-pipeline-split's gradient accumulation
    if (!llvm::isa<AddOp>(op) || !llvm::isa<UnitAttr>(attr.getValue()))
      return op->emitError() << "tg.microbatch_sum must be a unit attribute on tg.add";
    return success();
  }
  if (name == kStageAttr) { // a frontend stage mark, or a stage's entry point
    auto v = llvm::dyn_cast<IntegerAttr>(attr.getValue());
    if (!v || v.getInt() < 0)
      return op->emitError() << "tg.stage must be a non-negative integer";
    return success();
  }
  if (name == "tg.cuda_kernels") { // the CUDA backend's kernel table
    if (!llvm::isa<ModuleOp>(op) || !llvm::isa<ArrayAttr>(attr.getValue()))
      return op->emitError() << "tg.cuda_kernels must be a list on the module";
    return success();
  }
  if (name == kBlockedAttr || name == kBlockAttr) { // tg-assign-layouts
    auto v = llvm::dyn_cast<IntegerAttr>(attr.getValue());
    if (!v || !llvm::isa<TgDialect>(op->getDialect()))
      return op->emitError() << name << " must be an integer on a tg op";
    if (name == kBlockAttr && v.getInt() != 8 && v.getInt() != 16)
      return op->emitError() << "tg.block must be 8 or 16, got " << v.getInt();
    if (name == kBlockedAttr && v.getInt() < 0)
      return op->emitError() << "tg.blocked must be a non-negative mask, got " << v.getInt();
    return success();
  }
  if (name == kArenaBytesAttr || name == kTempBytesAttr) { // tg-plan-memory
    auto v = llvm::dyn_cast<IntegerAttr>(attr.getValue());
    if (!v || v.getInt() < 0 || !llvm::isa<FunctionOpInterface>(op))
      return op->emitError() << name << " must be a byte count on a function";
    return success();
  }
  if (name == kComputeAttr) { // tg-mixed-precision
    auto v = llvm::dyn_cast<StringAttr>(attr.getValue());
    if (!v || v.getValue() != "bf16" || !llvm::isa<TgDialect>(op->getDialect()))
      return op->emitError() << "tg.compute must be \"bf16\" on a tg op";
    return success();
  }
  return op->emitError() << "unknown tg attribute '" << name
                         << "' (expected tg.train, tg.data_parallel, tg.entry, tg.gradient_of, "
                            "tg.blocked, tg.block, tg.compute, tg.arena_bytes, tg.temp_bytes or "
                            "tg.cuda_kernels)";
}

} // namespace tg
