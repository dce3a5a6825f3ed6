//===- EmulateLaunches.cpp - tg-cuda-emulate-launches ---------------------===//
//
// for (b = 0; b < gridDim.x; ++b) { for (t = 0; t < blockDim.x; ++t) step0(b, t);
//                                  for (t = 0; t < blockDim.x; ++t) step1(b, t); ... }
// where the steps are the kernel's parts between top-level barriers, and
// shared memory is one buffer the blocks take in turn: exact for kernels without warp
// operations whose threads only meet at such barriers, which is all
// tg-cuda-map-to-gpu makes; anything else is refused.
//
//===----------------------------------------------------------------------===//
#include "codegen/cuda/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <functional>

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
    Block &body = launch.getBody().front();
    WalkResult unsupported = launch.getBody().walk([&](Operation *op) {
      if (isa<gpu::ShuffleOp, gpu::SubgroupReduceOp, gpu::AllReduceOp>(op) ||
          (isa<gpu::BarrierOp>(op) && op->getBlock() != &body))
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (unsupported.wasInterrupted() || launch.getAsyncToken() ||
        !launch.getPrivateAttributions().empty() || !launch.getBody().hasOneBlock())
      return launch->emitError()
             << "tg-cuda-emulate-launches: only kernels whose barriers are at their top level, "
                "without warp operations, private memory or branches between blocks can be "
                "emulated";
    Location loc = launch.getLoc();
    rewriter.setInsertionPoint(launch);
    Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    auto check = [&](Value size) { return matchPattern(size, m_One()); };
    if (!check(launch.getGridSizeY()) || !check(launch.getGridSizeZ()) ||
        !check(launch.getBlockSizeY()) || !check(launch.getBlockSizeZ()))
      return launch->emitError() << "tg-cuda-emulate-launches: only 1-D grids and blocks";

    // The body's steps between barriers, in order.
    SmallVector<SmallVector<Operation *>> steps(1);
    for (Operation &op : body.without_terminator()) {
      if (isa<gpu::BarrierOp>(op))
        steps.emplace_back();
      else
        steps.back().push_back(&op);
    }
    // Shared memory: one buffer, reused by the blocks one after another (a
    // kernel cannot expect what an earlier block left there), in the host's
    // address space (only loads and stores use it, which do not depend on
    // the space). Made before the loop, so that the stack does not grow.
    for (BlockArgument shared : launch.getWorkgroupAttributions()) {
      auto type = cast<MemRefType>(shared.getType());
      if (!type.hasStaticShape())
        return launch->emitError() << "tg-cuda-emulate-launches: dynamic shared memory";
      auto buffer = rewriter.create<memref::AllocaOp>(
          loc, MemRefType::get(type.getShape(), type.getElementType(), type.getLayout()));
      for (OpOperand &use : llvm::make_early_inc_range(shared.getUses())) {
        if (!isa<memref::LoadOp, memref::StoreOp>(use.getOwner()))
          return use.getOwner()->emitError()
                 << "tg-cuda-emulate-launches: shared memory used other than by loads and stores";
        use.set(buffer);
      }
    }
    auto blocks = rewriter.create<scf::ForOp>(loc, zero, launch.getGridSizeX(), one);
    Value ids[] = {blocks.getInductionVar(), zero, zero, launch.getGridSizeX(), one, one,
                   launch.getBlockSizeX(), one, one};
    Value launchArgs[] = {launch.getBlockIds().x,  launch.getBlockIds().y,  launch.getBlockIds().z,
                          launch.getGridSize().x,  launch.getGridSize().y,  launch.getGridSize().z,
                          launch.getBlockSize().x, launch.getBlockSize().y, launch.getBlockSize().z};
    for (auto [arg, value] : llvm::zip(launchArgs, ids))
      arg.replaceAllUsesWith(value);
    Value threadY = launch.getThreadIds().y, threadZ = launch.getThreadIds().z;
    threadY.replaceAllUsesWith(zero);
    threadZ.replaceAllUsesWith(zero);

    // Every step runs for all threads of the block before the next one: a
    // barrier's meaning.
    SmallVector<scf::ForOp> threadLoops;
    for (ArrayRef<Operation *> step : steps) {
      rewriter.setInsertionPoint(blocks.getBody()->getTerminator());
      auto threads = rewriter.create<scf::ForOp>(loc, zero, launch.getBlockSizeX(), one);
      for (Operation *op : step)
        rewriter.moveOpBefore(op, threads.getBody()->getTerminator());
      threadLoops.push_back(threads);
    }
    Value threadX = launch.getThreadIds().x;
    for (scf::ForOp threads : threadLoops)
      threadX.replaceUsesWithIf(threads.getInductionVar(), [&](OpOperand &use) {
        return threads->isProperAncestor(use.getOwner());
      });
    // A value from an earlier step is recomputed in this one when it is
    // pure (thread ids and index arithmetic); anything else would need a
    // per-thread copy, which tg-cuda-map-to-gpu never makes.
    for (scf::ForOp threads : threadLoops) {
      IRMapping remat;
      Operation *first = &threads.getBody()->front();
      std::function<FailureOr<Value>(Value)> local = [&](Value v) -> FailureOr<Value> {
        if (llvm::any_of(threadLoops,
                         [&](scf::ForOp other) { return v == other.getInductionVar(); }))
          return threads.getInductionVar(); // the thread id, of this step
        Operation *def = v.getDefiningOp();
        if (!def || llvm::none_of(threadLoops, [&](scf::ForOp other) {
              return other != threads && other->isProperAncestor(def);
            }))
          return v;
        if (Value known = remat.lookupOrNull(v))
          return known;
        if (!isMemoryEffectFree(def) || def->getNumRegions() != 0)
          return def->emitError() << "tg-cuda-emulate-launches: a value crosses a barrier";
        for (Value operand : def->getOperands()) {
          FailureOr<Value> o = local(operand);
          if (failed(o))
            return failure();
          remat.map(operand, *o);
        }
        rewriter.setInsertionPoint(first);
        Operation *copy = rewriter.clone(*def, remat);
        return copy->getResult(cast<OpResult>(v).getResultNumber());
      };
      WalkResult crossed = threads.getBody()->walk([&](Operation *op) {
        for (OpOperand &operand : op->getOpOperands()) {
          FailureOr<Value> v = local(operand.get());
          if (failed(v))
            return WalkResult::interrupt();
          if (*v != operand.get())
            operand.set(*v);
        }
        return WalkResult::advance();
      });
      if (crossed.wasInterrupted())
        return failure();
    }
    rewriter.eraseOp(launch); // with the barriers and the terminator left in it
    return success();
  }
};

} // namespace
} // namespace tg
