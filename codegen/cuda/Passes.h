//===- Passes.h - CUDA code generation ---------------------------*- C++ -*-===//
//
// The CUDA backend runs the host phases up to bufferization (codegen/host:
// the same tg -> linalg patterns, library ops and in-place ties), then maps every
// loop nest to a kernel (tg-cuda-map-to-gpu), outlines the kernels into one
// gpu.module, lowers it to PTX through NVVM, and packs SASS per arch + PTX
// into one fatbin (Target.h); host code calls libtgrt_cuda.
//
//===----------------------------------------------------------------------===//
#ifndef TG_CODEGEN_CUDA_PASSES_H
#define TG_CODEGEN_CUDA_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include <string>

namespace tg {

#define GEN_PASS_DECL
#include "codegen/cuda/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/cuda/Passes.h.inc"

/// Dialects, NVVM target and translations the CUDA pipeline needs, and
/// cuBLASLt's and cuDNN's library rules (codegen/host/Target.h).
void registerCudaCodegen(mlir::DialectRegistry &registry);
/// Registers the rules only (LibraryRules.cpp).
void registerCudaLibraryRules();

/// gpu: tg-cuda-map-to-gpu.
void addCudaGpuPasses(mlir::OpPassManager &pm);
/// ptx: outline the kernels, lower them to NVVM and PTX for `ptxChip`
/// (sm_XY) with the toolkit's libdevice.
void addCudaPtxPasses(mlir::OpPassManager &pm, const std::string &ptxChip,
                      const std::string &toolkitPath);
/// llvm (host): launches to runtime calls, then the CPU backend's LLVM
/// passes, device allocations.
void addCudaHostPasses(mlir::OpPassManager &pm);

} // namespace tg

#endif // TG_CODEGEN_CUDA_PASSES_H
