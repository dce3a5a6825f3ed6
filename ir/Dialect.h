//===- Dialect.h - the tg dialect -------------------------------*- C++ -*-===//
#ifndef TG_IR_DIALECT_H
#define TG_IR_DIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "tg/Vocabulary.h"

#include "ir/TgDialect.h.inc"
#include "ir/TgInterfaces.h.inc"

namespace tg {

/// The most bytes one tensor of a tg op may hold (1 TiB): beyond any machine
/// this compiler targets, and far below where element counts overflow.
constexpr int64_t kMaxTensorBytes = int64_t(1) << 40;

/// Checks every ranked tensor operand and result of `op` against
/// kMaxTensorBytes, with overflow-checked element counts; the error names the
/// operand or result and its type.
mlir::LogicalResult verifyTensorSizes(mlir::Operation *op);

/// Every tg op's sizes are checked (Tg_Op adds this trait).
template <typename ConcreteType>
class BoundedTensors : public mlir::OpTrait::TraitBase<ConcreteType, BoundedTensors> {
public:
  static mlir::LogicalResult verifyTrait(mlir::Operation *op) { return verifyTensorSizes(op); }
};

/// An op without a vector-Jacobian product on purpose (ir/TgOps.td says why
/// for each); tg-autodiff reports one between a param and the loss.
template <typename ConcreteType>
class NotDifferentiable : public mlir::OpTrait::TraitBase<ConcreteType, NotDifferentiable> {};

} // namespace tg

#define GET_TYPEDEF_CLASSES
#include "ir/TgTypes.h.inc"

#define GET_OP_CLASSES
#include "ir/TgOps.h.inc"

namespace tg {

/// The role of argument `i` of a function (`tg.role`, spelled as in
/// tg/Vocabulary.h); Role::None without one (or an unknown spelling,
/// which the verifier rejects).
Role argRole(mlir::FunctionOpInterface fn, unsigned i);

/// The `tg.role` attribute value of `role`.
mlir::StringAttr roleAttr(mlir::Builder &b, Role role);

/// Initializer kinds (`tg.init = {kind = ...}`) a param may carry.
inline constexpr llvm::StringLiteral kInitKinds[] = {
    "zeros",          "ones",          "constant",   "uniform",  "normal",
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal"};

} // namespace tg

#endif // TG_IR_DIALECT_H
