//===- tg-opt.cpp - MLIR optimizer driver with the tg dialect -------------===//
//
// Registers tg plus the upstream dialects tg lowers to, and the upstream
// passes (canonicalize, cse, ...). Used by the lit tests and by users who
// want to run single passes on a .tg.mlir file.
//
//===----------------------------------------------------------------------===//
#include "codegen/common/TgToLinalg.h"
#include "codegen/cpu/Passes.h"
#include "codegen/cuda/Passes.h"
#include "codegen/host/Passes.h"
#include "distributed/Passes.h"
#include "driver/Pipeline.h"
#include "ir/Dialect.h"
#include "passes/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  // The upstream passes of the CPU pipeline, to run its phases one by one.
  mlir::bufferization::registerBufferizationPasses();
  mlir::registerLinalgPasses();
  mlir::memref::registerMemRefPasses();
  mlir::registerConversionPasses();
  tg::registerTgPasses();
  tg::registerTgDistributedPasses();
  tg::registerTgCommonPasses();
  tg::registerTgHostPasses();
  tg::registerTgCpuPasses();
  tg::registerTgCudaPasses();
  mlir::registerGPUPasses();
  tg::registerPipelines();
  mlir::DialectRegistry registry;
  registry.insert<tg::TgDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::math::MathDialect, mlir::linalg::LinalgDialect, mlir::tensor::TensorDialect,
                  mlir::memref::MemRefDialect, mlir::bufferization::BufferizationDialect,
                  mlir::scf::SCFDialect, mlir::vector::VectorDialect, mlir::LLVM::LLVMDialect>();
  tg::registerPipelineDialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "tg optimizer driver\n", registry));
}
