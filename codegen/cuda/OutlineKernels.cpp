//===- OutlineKernels.cpp - tg-cuda-outline-kernels -----------------------===//
//
// Upstream's gpu-kernel-outlining makes one gpu.module per launch; a module
// is a PTX file, and the artifact wants one fatbin (one cuModuleLoadData per
// session), so every kernel goes into @tg_kernels instead.
//
//===----------------------------------------------------------------------===//
#include "codegen/cuda/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Utils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"

#define DEBUG_TYPE "tg-cuda-outline-kernels"

namespace tg {
#define GEN_PASS_DEF_OUTLINEKERNELS
#include "codegen/cuda/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {
namespace {

constexpr llvm::StringLiteral kKernelModule = "tg_kernels";
constexpr llvm::StringLiteral kKernelTableAttr = "tg.cuda_kernels";

struct OutlineKernelsPass : impl::OutlineKernelsBase<OutlineKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<std::pair<func::FuncOp, gpu::LaunchOp>> launches;
    for (auto fn : module.getOps<func::FuncOp>())
      fn.walk([&](gpu::LaunchOp l) { launches.push_back({fn, l}); });
    if (launches.empty())
      return;
    OpBuilder b(module.getBodyRegion());
    b.setInsertionPointToEnd(module.getBody());
    auto kernels = b.create<gpu::GPUModuleOp>(module.getLoc(), kKernelModule);
    SymbolTable table(kernels);
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(), b.getUnitAttr());
    llvm::StringMap<int> counts;
    SmallVector<Attribute> table_;
    for (auto [fn, launch] : launches) {
      // Constants and index arithmetic are recomputed in the kernel rather
      // than passed as arguments.
      if (failed(sinkOperationsIntoLaunchOp(launch, [](Operation *op) {
            return isa<arith::ConstantOp, arith::IndexCastOp>(op) ||
                   isa<gpu::BlockDimOp, gpu::GridDimOp>(op);
          }))) {
        launch->emitError() << "tg-cuda-outline-kernels: cannot sink values into the kernel";
        return signalPassFailure();
      }
      std::string name = (fn.getName() + "_k" + llvm::Twine(counts[fn.getName()]++)).str();
      SmallVector<Value> operands;
      gpu::GPUFuncOp kernel = outlineKernelFunc(launch, name, operands);
      table.insert(kernel);
      APInt block(64, 0);
      if (!matchPattern(launch.getBlockSizeX(), m_ConstantInt(&block)))
        block = APInt(64, 0); // unknown at compile time
      // The 64-bit parameters of the NVVM kernel: a memref is expanded into
      // allocated and aligned pointers, offset, sizes and strides.
      int64_t params = 0;
      for (Type t : kernel.getArgumentTypes())
        params += isa<MemRefType>(t) ? 3 + 2 * cast<MemRefType>(t).getRank() : 1;
      table_.push_back(b.getDictionaryAttr(
          {b.getNamedAttr("name", b.getStringAttr(name)),
           b.getNamedAttr("block_size", b.getI64IntegerAttr(block.getSExtValue())),
           b.getNamedAttr("params", b.getI64IntegerAttr(params))}));
      OpBuilder at(launch);
      at.create<gpu::LaunchFuncOp>(launch.getLoc(), kernel, launch.getGridSizeOperandValues(),
                                   launch.getBlockSizeOperandValues(),
                                   launch.getDynamicSharedMemorySize(), operands);
      launch.erase();
    }
    // The kernel table, in the order of the runtime's kernel indices.
    module->setAttr(kKernelTableAttr, b.getArrayAttr(table_));
  }
};

} // namespace
} // namespace tg
