//===- EntryAbi.cpp - tg-entry-abi ----------------------------------------===//
//
// After one-shot bufferization, every result with tg.alias = i is argument
// i's buffer (tg-tie-results made sure of it): drop those results, so the
// compiled step updates params and state in place and returns only fresh
// values (loss, metrics, ...), which buffer-results-to-out-params then turns
// into output arguments. Entry points get a C interface.
//
//===----------------------------------------------------------------------===//
#include "codegen/host/Passes.h"
#include "ir/Dialect.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

#define DEBUG_TYPE "tg-entry-abi"

namespace tg {
#define GEN_PASS_DEF_ENTRYABI
#include "codegen/host/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {
namespace {

struct EntryAbiPass : impl::EntryAbiBase<EntryAbiPass> {
  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      if (fn.isExternal())
        continue;
      auto ret = llvm::cast<func::ReturnOp>(fn.getBody().front().getTerminator());
      OpBuilder b(ret);
      SmallVector<Value> kept;
      SmallVector<Type> keptTypes;
      for (unsigned i = 0; i < fn.getNumResults(); ++i) {
        Value v = ret.getOperand(i);
        auto alias = fn.getResultAttrOfType<IntegerAttr>(i, TgDialect::kAliasAttr);
        if (!alias) {
          kept.push_back(v);
          keptTypes.push_back(v.getType());
          continue;
        }
        Value dest = fn.getArgument(unsigned(alias.getInt()));
        if (v != dest) // bufferization could not update in place: copy at the end
          b.create<memref::CopyOp>(ret.getLoc(), v, dest);
      }
      b.create<func::ReturnOp>(ret.getLoc(), kept);
      ret.erase();
      fn.setFunctionType(b.getFunctionType(fn.getArgumentTypes(), keptTypes));
      // The tg attributes were recorded in the artifact's manifest; the
      // bufferized function no longer matches them (memrefs, fewer results).
      for (unsigned i = 0; i < fn.getNumArguments(); ++i)
        fn.setArgAttrs(i, ArrayRef<NamedAttribute>{});
      fn.setAllResultAttrs(SmallVector<DictionaryAttr>(keptTypes.size(), b.getDictionaryAttr({})));
      fn->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(), b.getUnitAttr());
    }
  }
};

} // namespace
} // namespace tg
