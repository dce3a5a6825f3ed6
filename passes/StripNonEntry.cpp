//===- StripNonEntry.cpp - tg-strip-non-entry -----------------------------===//
//
// With entry points built, the model function and gradient functions are only
// their ingredients; what remains is exactly what the artifact exports, plus
// the functions the user asked to keep.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
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
  using impl::StripNonEntryBase<StripNonEntryPass>::StripNonEntryBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (const std::string &name : keep)
      if (failed(keepFunction(module, name)))
        return signalPassFailure();
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

  /// Marks @name as an entry point; @f_grad is made by tg-autodiff first
  /// when only @f exists.
  LogicalResult keepFunction(ModuleOp module, StringRef name) {
    auto fn = module.lookupSymbol<func::FuncOp>(name);
    bool built = false;
    if (!fn && name.ends_with("_grad") &&
        module.lookupSymbol<func::FuncOp>(name.drop_back(strlen("_grad")))) {
      OpPassManager pm(ModuleOp::getOperationName());
      AutodiffOptions autodiff;
      autodiff.function = name.drop_back(strlen("_grad")).str();
      pm.addPass(createAutodiff(autodiff));
      if (failed(runPipeline(pm, module)))
        return failure();
      fn = module.lookupSymbol<func::FuncOp>(name);
      built = true;
    }
    if (!fn || fn.isExternal()) {
      SmallVector<std::string> names;
      for (auto f : module.getOps<func::FuncOp>())
        if (!f.isExternal())
          names.push_back("@" + f.getSymName().str());
      return module.emitError() << "tg-strip-non-entry: cannot keep @" << name
                                << ": the module has no such function (it has "
                                << llvm::join(names, ", ") << ")";
    }
    // A gradient just built is a clone of @f, whose attributes (an entry
    // mark from an earlier `keep`) it copied.
    if (built || !fn->hasAttr(TgDialect::kEntryAttr))
      fn->setAttr(TgDialect::kEntryAttr, StringAttr::get(module.getContext(), name));
    return success();
  }
};

} // namespace
} // namespace tg
