//===- MixedPrecision.cpp - tg-mixed-precision ----------------------------===//
//
// bf16 mixed precision (tgc compile --precision=bf16-mixed): every f32
// matmul and convolution that becomes a oneDNN call (forward, fused, both
// gradients, and those of tg.attention's key-block loops, lowered before this
// pass runs) is marked tg.compute = "bf16": the runtime rounds its inputs
// to bf16 and accumulates and writes in f32 (AVX512_BF16's dot products run
// at twice the f32 rate). Everything else stays f32: params and optimizer
// state (the master weights), the loss and softmax, pooling, the
// elementwise code. The graph itself is unchanged.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpu/Passes.h"
#include "codegen/host/Passes.h"
#include "ir/Dialect.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "tg-mixed-precision"

namespace tg {
#define GEN_PASS_DEF_MIXEDPRECISION
#include "codegen/cpu/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {
namespace {

struct MixedPrecisionPass : impl::MixedPrecisionBase<MixedPrecisionPass> {
  void runOnOperation() override {
    Builder b(&getContext());
    getOperation().walk([&](Operation *op) {
      if (llvm::isa<MatmulOp, FusedMatmulOp, Conv2DOp, FusedConv2DOp, Conv2DBackpropInputOp,
                    Conv2DBackpropFilterOp, Conv2DBackpropFilterBiasOp>(op) &&
          isLibraryOp(op)) {
        LLVM_DEBUG(llvm::dbgs() << "bf16 compute: " << op->getName() << " at " << op->getLoc()
                                << "\n");
        op->setAttr(TgDialect::kComputeAttr, b.getStringAttr("bf16"));
      }
    });
  }
};

} // namespace
} // namespace tg
