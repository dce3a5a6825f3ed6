//===- StripNonEntry.cpp - tg-strip-non-entry -----------------------------===//
//
// With entry points built, the model function and gradient functions are only
// their ingredients; what remains is exactly what the artifact exports.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "tg-strip-non-entry"

namespace tg {
#define GEN_PASS_DEF_STRIPNONENTRY
#include "passes/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {
namespace {

struct StripNonEntryPass : impl::StripNonEntryBase<StripNonEntryPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool hasEntries = llvm::any_of(module.getOps<func::FuncOp>(), [](func::FuncOp fn) {
      return fn->hasAttr(TgDialect::kEntryAttr);
    });
    if (!hasEntries)
      return;
    for (auto fn : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
      if (!fn.isExternal() && !fn->hasAttr(TgDialect::kEntryAttr)) {
        LLVM_DEBUG(llvm::dbgs() << "erasing @" << fn.getSymName() << "\n");
        fn.erase();
      }
  }
};

} // namespace
} // namespace tg
