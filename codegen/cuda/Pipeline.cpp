//===- Pipeline.cpp - the CUDA backend's passes, phase by phase -----------===//
#include "codegen/cuda/Passes.h"
#include "codegen/host/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace tg {

void registerCudaCodegen(DialectRegistry &registry) {
  registry.insert<gpu::GPUDialect, NVVM::NVVMDialect>();
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerNVVMDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  registerCudaLibraryRules();
}

void addCudaGpuPasses(OpPassManager &pm) {
  pm.addPass(createMapToGpu());
  pm.addPass(createCanonicalizerPass());
}

void addCudaPtxPasses(OpPassManager &pm, const std::string &ptxChip,
                      const std::string &toolkitPath) {
  pm.addPass(createOutlineKernels());
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createLowerAffinePass());
  kernels.addPass(createConvertSCFToCFPass());
  kernels.addPass(memref::createExpandStridedMetadataPass());
  kernels.addPass(createLowerAffinePass());
  ConvertGpuOpsToNVVMOpsOptions nvvm;
  nvvm.indexBitwidth = 64;
  kernels.addPass(createConvertGpuOpsToNVVMOps(nvvm));
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  GpuNVVMAttachTargetOptions target;
  target.chip = ptxChip;
  // PTX ISA 7.8 (CUDA 11.8): the oldest that covers sm_90.
  target.features = "+ptx78";
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));
  GpuModuleToBinaryPassOptions binary;
  binary.toolkitPath = toolkitPath;
  binary.compilationTarget = "isa"; // PTX; ptxas and fatbinary run per arch (Target.h)
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void addCudaHostPasses(OpPassManager &pm) {
  pm.addPass(createLowerLaunches());
  pm.addPass(createCanonicalizerPass());
  addHostLLVMPasses(pm);
  pm.addPass(createDeviceAllocations());
}

} // namespace tg
