//===- TieResults.cpp - tg-tie-results ------------------------------------===//
#include "codegen/host/Passes.h"
#include "ir/Dialect.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"

#define DEBUG_TYPE "tg-tie-results"

namespace tg {
#define GEN_PASS_DEF_TIERESULTS
#include "codegen/host/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {
namespace {

struct TieResultsPass : impl::TieResultsBase<TieResultsPass> {
  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      if (fn.isExternal())
        continue;
      auto ret = llvm::cast<func::ReturnOp>(fn.getBody().front().getTerminator());
      OpBuilder b(ret);
      SmallVector<bool> written(fn.getNumArguments(), false);
      for (unsigned i = 0; i < fn.getNumResults(); ++i) {
        auto alias = fn.getResultAttrOfType<IntegerAttr>(i, TgDialect::kAliasAttr);
        if (!alias)
          continue;
        unsigned arg = unsigned(alias.getInt());
        if (written[arg]) {
          fn.emitError() << "tg-tie-results: two results alias argument #" << arg;
          return signalPassFailure();
        }
        written[arg] = true;
        Value dest = fn.getArgument(arg);
        Value v = ret.getOperand(i);
        if (v == dest)
          continue;
        auto tied = b.create<bufferization::MaterializeInDestinationOp>(ret.getLoc(), v, dest);
        ret.setOperand(i, tied.getResult());
      }
      for (unsigned i = 0; i < fn.getNumArguments(); ++i)
        fn.setArgAttr(i, bufferization::BufferizationDialect::kWritableAttrName,
                      b.getBoolAttr(written[i]));
    }
  }
};

} // namespace
} // namespace tg
