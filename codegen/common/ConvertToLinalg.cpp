//===- ConvertToLinalg.cpp - tg-convert-to-linalg -------------------------===//
//
// The shared tg -> linalg patterns with nothing kept for a library.
//
//===----------------------------------------------------------------------===//
#include "codegen/common/TgToLinalg.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#define DEBUG_TYPE "tg-convert-to-linalg"

namespace tg {
#define GEN_PASS_DEF_CONVERTTOLINALG
#include "codegen/common/Passes.h.inc"
} // namespace tg

namespace tg {
namespace {

struct ConvertToLinalgPass : impl::ConvertToLinalgBase<ConvertToLinalgPass> {
  void runOnOperation() override {
    if (mlir::failed(lowerTgToLinalg(getOperation(), /*keep=*/{})))
      signalPassFailure();
  }
};

} // namespace
} // namespace tg
