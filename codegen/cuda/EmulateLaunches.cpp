//===- EmulateLaunches.cpp - tg-cuda-emulate-launches ---------------------===//
//
// for (b = 0; b < gridDim.x; ++b) for (t = 0; t < blockDim.x; ++t) body(b, t):
// exact for kernels without barriers, shared memory or warp operations,
// which is all tg-cuda-map-to-gpu makes; anything else is refused.
//
//===----------------------------------------------------------------------===//
#include "codegen/cuda/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

#define DEBUG_TYPE "tg-cuda-emulate-launches"

namespace tg {
#define GEN_PASS_DEF_EMULATELAUNCHES
#include "codegen/cuda/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {
namespace {

struct EmulateLaunchesPass : impl::EmulateLaunchesBase<EmulateLaunchesPass> {
  void runOnOperation() override {
    SmallVector<gpu::LaunchOp> launches;
    SmallVector<gpu::MemcpyOp> copies;
    getOperation().walk([&](Operation *op) {
      if (auto l = dyn_cast<gpu::LaunchOp>(op))
        launches.push_back(l);
      else if (auto m = dyn_cast<gpu::MemcpyOp>(op))
        copies.push_back(m);
    });
    IRRewriter rewriter(&getContext());
    for (gpu::MemcpyOp m : copies) {
      if (m.getAsyncToken()) {
        m->emitError() << "tg-cuda-emulate-launches: asynchronous copies are not emulated";
        return signalPassFailure();
      }
      rewriter.setInsertionPoint(m);
      rewriter.replaceOpWithNewOp<memref::CopyOp>(m, m.getSrc(), m.getDst());
    }
    for (gpu::LaunchOp l : launches)
      if (failed(emulate(rewriter, l)))
        return signalPassFailure();
  }

  LogicalResult emulate(IRRewriter &rewriter, gpu::LaunchOp launch) {
    WalkResult unsupported = launch.getBody().walk([&](Operation *op) {
      if (isa<gpu::BarrierOp, gpu::ShuffleOp, gpu::SubgroupReduceOp, gpu::AllReduceOp>(op))
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (unsupported.wasInterrupted() || launch.getAsyncToken() ||
        !launch.getWorkgroupAttributions().empty() || !launch.getPrivateAttributions().empty() ||
        !launch.getBody().hasOneBlock())
      return launch->emitError()
             << "tg-cuda-emulate-launches: only kernels without barriers, warp operations, "
                "attributions or branches between blocks can be emulated";
    Location loc = launch.getLoc();
    rewriter.setInsertionPoint(launch);
    Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    auto check = [&](Value size) { return matchPattern(size, m_One()); };
    if (!check(launch.getGridSizeY()) || !check(launch.getGridSizeZ()) ||
        !check(launch.getBlockSizeY()) || !check(launch.getBlockSizeZ()))
      return launch->emitError() << "tg-cuda-emulate-launches: only 1-D grids and blocks";
    auto blocks = rewriter.create<scf::ForOp>(loc, zero, launch.getGridSizeX(), one);
    rewriter.setInsertionPointToStart(blocks.getBody());
    auto threads = rewriter.create<scf::ForOp>(loc, zero, launch.getBlockSizeX(), one);
    Block &body = launch.getBody().front();
    SmallVector<Value> args = {
        blocks.getInductionVar(),  zero, zero, // block ids
        threads.getInductionVar(), zero, zero, // thread ids
        launch.getGridSizeX(),     one,  one,  // grid size
        launch.getBlockSizeX(),    one,  one,  // block size
    };
    if (body.getNumArguments() != args.size())
      return launch->emitError() << "tg-cuda-emulate-launches: unexpected launch arguments";
    rewriter.eraseOp(body.getTerminator());
    rewriter.inlineBlockBefore(&body, threads.getBody()->getTerminator(), args);
    rewriter.eraseOp(launch);
    return success();
  }
};

} // namespace
} // namespace tg
