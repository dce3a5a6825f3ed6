//===- AccumulateInPlace.cpp - tg-accumulate-in-place ---------------------===//
//
// acc_next = generic(acc, ...) with a fresh tensor.empty destination makes
// one-shot bufferization allocate a buffer per step while acc's is alive.
// With acc itself as the destination the update is in place: the generic is
// elementwise (identity maps on acc and on its result), and acc has no other
// user, so nothing reads the old value after it is overwritten.
//
//===----------------------------------------------------------------------===//
#include "codegen/host/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "tg-accumulate-in-place"

namespace tg {
#define GEN_PASS_DEF_ACCUMULATEINPLACE
#include "codegen/host/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {
namespace {

/// Makes `acc` the destination of the generic yielding its next value, if
/// that is an in-place elementwise update of it.
bool accumulateInPlace(BlockArgument acc, Value next) {
  auto generic = next.getDefiningOp<linalg::GenericOp>();
  if (!generic || generic->getBlock() != acc.getOwner() || generic.getNumDpsInits() != 1 ||
      !acc.hasOneUse() || acc.getType() != next.getType())
    return false;
  OpOperand *init = generic.getDpsInitOperand(0);
  if (!init->get().getDefiningOp<tensor::EmptyOp>() ||
      !generic.getMatchingIndexingMap(init).isIdentity())
    return false;
  for (OpOperand *in : generic.getDpsInputOperands())
    if (in->get() == acc && generic.getMatchingIndexingMap(in).isIdentity()) {
      // The destination's payload argument was unused (the op wrote a new
      // tensor); it stays unused, so the op still computes what it did.
      if (!generic.getMatchingBlockArgument(init).use_empty())
        return false;
      init->set(acc);
      return true;
    }
  return false;
}

struct AccumulateInPlacePass : impl::AccumulateInPlaceBase<AccumulateInPlacePass> {
  void runOnOperation() override {
    getOperation().walk([](scf::ForOp loop) {
      auto yield = llvm::cast<scf::YieldOp>(loop.getBody()->getTerminator());
      for (auto [acc, next] : llvm::zip(loop.getRegionIterArgs(), yield.getOperands()))
        if (accumulateInPlace(acc, next))
          LLVM_DEBUG(llvm::dbgs() << "in place: iter_arg #" << acc.getArgNumber() << "\n");
    });
  }
};

} // namespace
} // namespace tg
