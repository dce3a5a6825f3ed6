//===- Passes.h - the passes both backends run on the host ------*- C++ -*-===//
//
// The CPU backend is this plus oneDNN's layouts and bf16 (codegen/cpu); the
// CUDA backend runs the same phases up to bufferization, maps the loop nests
// to kernels (codegen/cuda), and lowers its host code with the LLVM phase
// here.
//
//===----------------------------------------------------------------------===//
#ifndef TG_CODEGEN_HOST_PASSES_H
#define TG_CODEGEN_HOST_PASSES_H

#include "codegen/host/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace tg {

#define GEN_PASS_DECL
#include "codegen/host/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/host/Passes.h.inc"

/// Dialects, interface models (bufferization, LLVM translation) and passes
/// the host pipeline needs.
void registerHostCodegen(mlir::DialectRegistry &registry);

/// True for the ops a backend turns into library calls (f32 matmul, conv2d,
/// pooling, their gradients, fused forms and relayouts): tg-lower-to-linalg
/// keeps them (where the target's LibraryRules allow), LibraryBufferization.cpp
/// turns them into calls.
bool isLibraryOp(mlir::Operation *op);

/// True for the ops named `opName` (e.g. "tg.matmul") that have a library
/// kernel for some element type: the list isLibraryOp starts from.
bool hasLibraryKernel(llvm::StringRef opName);

// The host passes of each pipeline phase (driver/Pipeline.cpp).
/// fused: canonicalize, CSE, then (with fusion) tg-batch-matmul-sums and
/// tg-fuse-epilogues.
void addHostFusionPasses(mlir::OpPassManager &pm, bool fusion, Target target);
/// linalg: tg-lower-to-linalg, tg-fuse-elementwise (with fusion),
/// tg-accumulate-in-place, tg-tie-results.
void addHostLinalgPasses(mlir::OpPassManager &pm, bool fusion, Target target);
/// bufferized: one-shot bufferization, tg-entry-abi, out-params,
/// deallocation.
void addHostBufferizationPasses(mlir::OpPassManager &pm);
/// llvm: (with shareLoopNests) tg-share-loop-nests, loops (parallel ones
/// through OpenMP), math, LLVM dialect.
void addHostLLVMPasses(mlir::OpPassManager &pm, bool shareLoopNests = true);

} // namespace tg

#endif // TG_CODEGEN_HOST_PASSES_H
