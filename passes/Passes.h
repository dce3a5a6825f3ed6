//===- Passes.h - tg passes --------------------------------------*- C++ -*-===//
#ifndef TG_PASSES_PASSES_H
#define TG_PASSES_PASSES_H

#include "ir/Dialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace tg {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

/// The core of tg-autodiff: adds `<fn>_grad` (see the pass description) and
/// returns it. Diagnostics go to the context's handler.
mlir::FailureOr<mlir::func::FuncOp> buildGradientFunction(mlir::func::FuncOp fn,
                                                          llvm::StringRef lossName);

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace tg

#endif // TG_PASSES_PASSES_H
