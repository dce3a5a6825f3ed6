//===- LibraryBufferization.cpp - library ops bufferize into runtime calls ===//
//
// tg.matmul on f32 survives tg-lower-to-linalg; one-shot bufferization turns
// it into an aligned allocation for the result and a call into libtgrt,
// which runs a cached oneDNN primitive. Operands are passed as unranked
// memrefs (C interface), so one runtime entry serves every rank and layout.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpu/Passes.h"
#include "ir/Dialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace mlir::bufferization;

namespace tg {
namespace {

/// Declares (once) `func.func private @name(types) attributes {llvm.emit_c_interface}`.
func::FuncOp declareRuntimeFunction(Operation *from, RewriterBase &rewriter, StringRef name,
                                    FunctionType type) {
  auto module = from->getParentOfType<ModuleOp>();
  if (auto fn = module.lookupSymbol<func::FuncOp>(name))
    return fn;
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(module.getBody());
  auto fn = rewriter.create<func::FuncOp>(module.getLoc(), name, type);
  fn.setPrivate();
  fn->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(), rewriter.getUnitAttr());
  return fn;
}

struct MatmulBufferization
    : public BufferizableOpInterface::ExternalModel<MatmulBufferization, MatmulOp> {
  bool bufferizesToMemoryRead(Operation *, OpOperand &, const AnalysisState &) const {
    return true;
  }
  bool bufferizesToMemoryWrite(Operation *, OpOperand &, const AnalysisState &) const {
    return false;
  }
  AliasingValueList getAliasingValues(Operation *, OpOperand &, const AnalysisState &) const {
    return {};
  }
  bool bufferizesToAllocation(Operation *, Value) const { return true; }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options) const {
    auto mm = llvm::cast<MatmulOp>(op);
    Location loc = op->getLoc();
    FailureOr<Value> lhs = getBuffer(rewriter, mm.getLhs(), options);
    FailureOr<Value> rhs = getBuffer(rewriter, mm.getRhs(), options);
    if (failed(lhs) || failed(rhs))
      return failure();
    auto rt = llvm::cast<RankedTensorType>(mm.getType());
    Type elt = rt.getElementType();
    Value out = rewriter.create<memref::AllocOp>(loc, MemRefType::get(rt.getShape(), elt),
                                                 rewriter.getI64IntegerAttr(64));
    auto unranked = UnrankedMemRefType::get(elt, 0);
    auto erase = [&](Value v) { return rewriter.create<memref::CastOp>(loc, unranked, v); };
    Type i32 = rewriter.getI32Type();
    auto fnType = rewriter.getFunctionType({unranked, unranked, unranked, i32, i32}, {});
    declareRuntimeFunction(op, rewriter, kMatmulF32Symbol, fnType);
    Value ta = rewriter.create<arith::ConstantOp>(loc, rewriter.getI32IntegerAttr(mm.getTransposeLhs()));
    Value tb = rewriter.create<arith::ConstantOp>(loc, rewriter.getI32IntegerAttr(mm.getTransposeRhs()));
    rewriter.create<func::CallOp>(loc, kMatmulF32Symbol, TypeRange{},
                                  ValueRange{erase(*lhs), erase(*rhs), erase(out), ta, tb});
    replaceOpWithBufferizedValues(rewriter, op, out);
    return success();
  }
};

} // namespace

void registerLibraryBufferization(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, TgDialect *) {
    MatmulOp::attachInterface<MatmulBufferization>(*ctx);
  });
}

} // namespace tg
