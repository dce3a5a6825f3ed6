//===- Dialect.h - the tg dialect -------------------------------*- C++ -*-===//
#ifndef TG_IR_DIALECT_H
#define TG_IR_DIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "ir/TgDialect.h.inc"
#include "ir/TgInterfaces.h.inc"

#define GET_OP_CLASSES
#include "ir/TgOps.h.inc"

namespace tg {

/// Argument roles (`tg.role`) of a graph function.
inline constexpr llvm::StringLiteral kRoles[] = {"param", "state", "data", "label", "hyper"};

/// Initializer kinds (`tg.init = {kind = ...}`) a param may carry.
inline constexpr llvm::StringLiteral kInitKinds[] = {
    "zeros", "ones", "constant", "uniform", "normal", "glorot_uniform",
    "glorot_normal", "he_uniform", "he_normal"};

} // namespace tg

#endif // TG_IR_DIALECT_H
