//===- DeviceAllocations.cpp - tg-cuda-device-allocations -----------------===//
#include "codegen/cuda/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/SymbolTable.h"

#define DEBUG_TYPE "tg-cuda-device-allocations"

namespace tg {
#define GEN_PASS_DEF_DEVICEALLOCATIONS
#include "codegen/cuda/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {
namespace {

struct DeviceAllocationsPass : impl::DeviceAllocationsBase<DeviceAllocationsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    const std::pair<StringRef, StringRef> renames[] = {
        {"_mlir_memref_to_llvm_alloc", "tgrt_cuda_alloc"},
        {"_mlir_memref_to_llvm_aligned_alloc", "tgrt_cuda_aligned_alloc"},
        {"_mlir_memref_to_llvm_free", "tgrt_cuda_free"},
        {"malloc", "tgrt_cuda_alloc"},
        {"free", "tgrt_cuda_free"}};
    for (auto [from, to] : renames) {
      auto fn = module.lookupSymbol<LLVM::LLVMFuncOp>(from);
      if (!fn)
        continue;
      if (module.lookupSymbol(to)) {
        fn->emitError() << "tg-cuda-device-allocations: both " << from << " and " << to
                        << " are declared";
        return signalPassFailure();
      }
      auto name = StringAttr::get(&getContext(), to);
      if (failed(SymbolTable::replaceAllSymbolUses(fn, name, module)))
        return signalPassFailure();
      fn.setSymName(to);
    }
  }
};

} // namespace
} // namespace tg
