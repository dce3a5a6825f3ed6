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

/// Runtime symbol of the oneDNN matmul kernel (C interface, unranked memrefs).
inline constexpr llvm::StringLiteral kMatmulF32Symbol = "tgrt_matmul_f32";

struct CpuPipelineOptions {
  /// Stop after this phase: "fused" (tg with fused library ops), "linalg" (tg
  /// lowered, still tensors), "bufferized" (memrefs) or "llvm" (LLVM dialect,
  /// the default).
  std::string stopAfter = "llvm";
  /// tg-fuse-elementwise (off: the unfused path, for comparison and tests).
  bool fusion = true;
  /// "bufferized": the module is already bufferized; only lower it to LLVM.
  std::string startAfter;
};

/// Registers `--tg-cpu-codegen` (buildCpuPipeline) for tg-opt.
void registerCpuPipelines();

/// tg (after tg-build-train-step) -> LLVM dialect, in phases.
void buildCpuPipeline(mlir::OpPassManager &pm, const CpuPipelineOptions &options = {});
/// The second half: bufferized module -> LLVM dialect.
void buildLoweringToLLVM(mlir::OpPassManager &pm);

} // namespace tg

#endif // TG_CODEGEN_CPU_PASSES_H
