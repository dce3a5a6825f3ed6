//===- Passes.h - CPU code generation ----------------------------*- C++ -*-===//
//
// What only the CPU backend runs on top of the host passes
// (codegen/host/Passes.h): oneDNN's blocked layouts and bf16 compute, and
// oneDNN's library rules.
//
//===----------------------------------------------------------------------===//
#ifndef TG_CODEGEN_CPU_PASSES_H
#define TG_CODEGEN_CPU_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/Pass.h"

namespace tg {

#define GEN_PASS_DECL
#include "codegen/cpu/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/cpu/Passes.h.inc"

/// The host codegen plus oneDNN's library rules (codegen/host/Target.h).
void registerCpuCodegen(mlir::DialectRegistry &registry);

} // namespace tg

#endif // TG_CODEGEN_CPU_PASSES_H
