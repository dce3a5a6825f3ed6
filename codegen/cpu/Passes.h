//===- Passes.h - CPU code generation ----------------------------*- C++ -*-===//
#ifndef TG_CODEGEN_CPU_PASSES_H
#define TG_CODEGEN_CPU_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include <string>

namespace tg {

#define GEN_PASS_DECL
#include "codegen/cpu/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/cpu/Passes.h.inc"

/// Dialects, interface models (bufferization, LLVM translation) and passes
/// the CPU pipeline needs.
void registerCpuCodegen(mlir::DialectRegistry &registry);

/// True for the ops the CPU backend turns into oneDNN calls (f32 matmul,
/// conv2d, pooling, their gradients and fused forms): tg-lower-to-linalg
/// keeps them, LibraryBufferization.cpp turns them into calls.
bool isCpuLibraryOp(mlir::Operation *op);

/// True for the ops named `opName` (e.g. "tg.matmul") that have a oneDNN
/// kernel for some element type: the list isCpuLibraryOp starts from.
bool hasLibraryKernel(llvm::StringRef opName);

// The CPU backend's passes of each pipeline phase (driver/Pipeline.cpp).
/// fused: canonicalize, CSE, then (with fusion) tg-batch-matmul-sums and
/// tg-fuse-epilogues.
void addCpuFusionPasses(mlir::OpPassManager &pm, bool fusion,
                        const std::string &target = "cpu");
/// linalg: tg-lower-to-linalg, tg-fuse-elementwise (with fusion),
/// tg-cpu-tie-results.
void addCpuLinalgPasses(mlir::OpPassManager &pm, bool fusion,
                        const std::string &target = "cpu");
/// bufferized: one-shot bufferization, tg-cpu-entry-abi, out-params,
/// deallocation.
void addCpuBufferizationPasses(mlir::OpPassManager &pm);
/// llvm: loops (parallel ones through OpenMP), math, LLVM dialect.
void addCpuLLVMPasses(mlir::OpPassManager &pm);

} // namespace tg

#endif // TG_CODEGEN_CPU_PASSES_H
