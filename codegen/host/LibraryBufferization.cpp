//===- LibraryBufferization.cpp - library ops bufferize into runtime calls ===//
//
// f32 matmul, convolutions and pooling (with their gradient ops) survive
// tg-lower-to-linalg; one-shot bufferization turns each into an aligned
// allocation for the result and a call into libtgrt, which runs a cached
// oneDNN primitive. Operands are passed as unranked
// memrefs (C interface), so one runtime entry serves every rank and layout.
//
//===----------------------------------------------------------------------===//
#include "codegen/host/Passes.h"
#include "ir/Dialect.h"
#include "support/KernelAbi.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"

#define DEBUG_TYPE "tg-library-bufferization"

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

/// How a library op becomes a runtime call: its symbol and the integer
/// parameters that follow the memref operands (unranked, then the result).
struct LibraryCall {
  std::string symbol;
  SmallVector<int64_t> params;
};

LibraryCall baseLibraryCall(Operation *op) {
  auto ints = [](ArrayRef<int64_t> a, SmallVector<int64_t> &out) {
    out.append(a.begin(), a.end());
  };
  LibraryCall c;
  if (auto mm = llvm::dyn_cast<MatmulOp>(op)) {
    c.symbol = std::string(abi::kMatmulF32);
    c.params = {mm.getTransposeLhs(), mm.getTransposeRhs()};
    return c;
  }
  auto activationCode = [](StringRef a) -> int64_t {
    // The verifier admits only known activations; anything else is none.
    return int64_t(
        abi::parseActivation(std::string_view(a.data(), a.size())).value_or(abi::Activation::None));
  };
  if (auto fm = llvm::dyn_cast<FusedMatmulOp>(op)) {
    c.symbol = std::string(abi::kFusedMatmulF32);
    c.params = {fm.getTransposeLhs(), fm.getTransposeRhs(), activationCode(fm.getActivation())};
    return c;
  }
  auto conv = [&](auto o, std::string_view name) {
    c.symbol = std::string(name);
    ints(o.getStrides(), c.params);
    ints(o.getPadding(), c.params);
    ints(o.getDilations(), c.params);
    c.params.push_back(int64_t(o.getGroups()));
  };
  auto pool = [&](auto o, std::string_view name) {
    c.symbol = std::string(name);
    ints(o.getKernel(), c.params);
    ints(o.getStrides(), c.params);
    ints(o.getPadding(), c.params);
  };
  llvm::TypeSwitch<Operation *>(op)
      .Case([&](Conv2DOp o) { conv(o, abi::kConv2dF32); })
      .Case([&](FusedConv2DOp o) {
        conv(o, abi::kFusedConv2dF32);
        c.params.push_back(activationCode(o.getActivation()));
      })
      .Case([&](Conv2DBackpropInputOp o) { conv(o, abi::kConv2dBackpropInputF32); })
      .Case([&](Conv2DBackpropFilterOp o) { conv(o, abi::kConv2dBackpropFilterF32); })
      .Case([&](Conv2DBackpropFilterBiasOp o) { conv(o, abi::kConv2dBackpropFilterBiasF32); })
      .Case([&](MaxPool2DOp o) { pool(o, abi::kMaxPool2dF32); })
      .Case([&](MaxPool2DGradOp o) { pool(o, abi::kMaxPool2dGradF32); })
      .Case([&](AvgPool2DOp o) {
        pool(o, abi::kAvgPool2dF32);
        c.params.push_back(o.getCountIncludePad());
      })
      .Case([&](AvgPool2DGradOp o) {
        pool(o, abi::kAvgPool2dGradF32);
        c.params.push_back(o.getCountIncludePad());
      })
      .Case([&](RelayoutOp o) {
        c.symbol = std::string(abi::kRelayoutF32);
        c.params = {o.getToBlocked(), int64_t(o.getBlock())};
      });
  return c;
}

LibraryCall libraryCall(Operation *op) {
  LibraryCall c = baseLibraryCall(op);
  // The runtime replays these calls by support/KernelAbi.h's arities
  // (prepareKernel): a case above that disagrees is a compiler bug.
  [[maybe_unused]] const abi::KernelSignature *sig = abi::kernelSignature(c.symbol);
  assert(sig && size_t(sig->params) == c.params.size() &&
         size_t(sig->memrefs) == op->getNumOperands() + op->getNumResults() &&
         "library call disagrees with support/KernelAbi.h");
  // Ports stored blocked (tg-assign-layouts) or bf16 compute
  // (tg-mixed-precision): the kernel's *_ext form.
  auto mask = op->getAttrOfType<IntegerAttr>(TgDialect::kBlockedAttr);
  auto compute = op->getAttrOfType<StringAttr>(TgDialect::kComputeAttr);
  if (mask || compute) {
    auto block = op->getAttrOfType<IntegerAttr>(TgDialect::kBlockAttr);
    c.symbol += std::string(abi::kExtSuffix);
    static_assert(abi::kExtParams == 3, "mask, block, compute");
    c.params.push_back(mask ? mask.getInt() : 0);
    c.params.push_back(block ? block.getInt() : 0);
    c.params.push_back(int64_t(compute && compute.getValue() == "bf16" ? abi::Compute::Bf16
                                                                      : abi::Compute::F32));
  }
  return c;
}

/// Bufferizes a library op into an aligned allocation for each result and a
/// call `symbol(operands..., results..., params...)`.
template <typename OpTy>
struct LibraryOpBufferization
    : public BufferizableOpInterface::ExternalModel<LibraryOpBufferization<OpTy>, OpTy> {
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
    Location loc = op->getLoc();
    SmallVector<Value> buffers;
    for (Value v : op->getOperands()) {
      FailureOr<Value> buf = getBuffer(rewriter, v, options);
      if (failed(buf))
        return failure();
      buffers.push_back(*buf);
    }
    SmallVector<Value> outs;
    for (Value result : op->getResults()) {
      auto rt = llvm::cast<RankedTensorType>(result.getType());
      outs.push_back(rewriter.create<memref::AllocOp>(
          loc, MemRefType::get(rt.getShape(), rt.getElementType()),
          rewriter.getI64IntegerAttr(64)));
    }
    buffers.append(outs.begin(), outs.end());
    Type elt = llvm::cast<RankedTensorType>(op->getResult(0).getType()).getElementType();
    auto unranked = UnrankedMemRefType::get(elt, 0);
    SmallVector<Value> args;
    SmallVector<Type> argTypes;
    for (Value b : buffers) {
      args.push_back(rewriter.create<memref::CastOp>(loc, unranked, b));
      argTypes.push_back(unranked);
    }
    LibraryCall call = libraryCall(op);
    Type paramType = abi::hasI32Params(call.symbol) ? rewriter.getI32Type() : rewriter.getI64Type();
    for (int64_t p : call.params) {
      args.push_back(
          rewriter.create<arith::ConstantOp>(loc, rewriter.getIntegerAttr(paramType, p)));
      argTypes.push_back(paramType);
    }
    declareRuntimeFunction(op, rewriter, call.symbol, rewriter.getFunctionType(argTypes, {}));
    rewriter.create<func::CallOp>(loc, call.symbol, TypeRange{}, args);
    replaceOpWithBufferizedValues(rewriter, op, outs);
    return success();
  }
};

/// A collective's `reduction` attribute (the verifiers admit these three).
abi::CollectiveOp collectiveOp(StringRef reduction) {
  return reduction == "sum"    ? abi::CollectiveOp::Sum
         : reduction == "mean" ? abi::CollectiveOp::Mean
                               : abi::CollectiveOp::GradientMean;
}

/// The collectives bufferize in place: start passes the bucket's buffer to
/// the communicator, wait completes the reduction into that same buffer.
Value collectiveBuffer(Operation *op, Value bucket, RewriterBase &rewriter,
                       const BufferizationOptions &options, Value &buffer) {
  FailureOr<Value> buf = getBuffer(rewriter, bucket, options);
  if (failed(buf))
    return {};
  buffer = *buf;
  auto unranked = UnrankedMemRefType::get(rewriter.getF32Type(), 0);
  return rewriter.create<memref::CastOp>(op->getLoc(), unranked, *buf);
}

LogicalResult callRuntime(Operation *op, RewriterBase &rewriter, std::string_view name,
                          Value buffer, ArrayRef<int64_t> params) {
  Location loc = op->getLoc();
  SmallVector<Value> args = {buffer};
  SmallVector<Type> types = {buffer.getType()};
  for (int64_t p : params) {
    args.push_back(rewriter.create<arith::ConstantOp>(loc, rewriter.getI64IntegerAttr(p)));
    types.push_back(rewriter.getI64Type());
  }
  std::string symbol(name);
  declareRuntimeFunction(op, rewriter, symbol, rewriter.getFunctionType(types, {}));
  rewriter.create<func::CallOp>(loc, symbol, TypeRange{}, args);
  return success();
}

struct AllreduceStartBufferization
    : public BufferizableOpInterface::ExternalModel<AllreduceStartBufferization, AllreduceStartOp> {
  bool bufferizesToMemoryRead(Operation *, OpOperand &, const AnalysisState &) const {
    return true;
  }
  bool bufferizesToMemoryWrite(Operation *, OpOperand &, const AnalysisState &) const {
    return false; // the wait is where the reduced values are written
  }
  AliasingValueList getAliasingValues(Operation *, OpOperand &, const AnalysisState &) const {
    return {};
  }
  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options) const {
    auto start = llvm::cast<AllreduceStartOp>(op);
    Value buffer;
    Value arg = collectiveBuffer(op, start.getBucket(), rewriter, options, buffer);
    if (!arg)
      return failure();
    abi::CollectiveOp reduce = collectiveOp(start.getReduction());
    if (failed(
            callRuntime(op, rewriter, abi::kAllreduceStart, arg, {int64_t(start.getId()), int64_t(reduce)})))
      return failure();
    // The token only ordered start before wait; the wait's call names the
    // bucket by id. A placeholder keeps the IR valid until the wait is
    // bufferized; it is dead afterwards.
    Value token = rewriter
                      .create<UnrealizedConversionCastOp>(op->getLoc(), start.getToken().getType(),
                                                          ValueRange{})
                      .getResult(0);
    replaceOpWithBufferizedValues(rewriter, op, token);
    return success();
  }
};

struct AllreduceWaitBufferization
    : public BufferizableOpInterface::ExternalModel<AllreduceWaitBufferization, AllreduceWaitOp> {
  bool bufferizesToMemoryRead(Operation *, OpOperand &, const AnalysisState &) const {
    return true;
  }
  bool bufferizesToMemoryWrite(Operation *, OpOperand &, const AnalysisState &) const {
    return true;
  }
  AliasingValueList getAliasingValues(Operation *op, OpOperand &operand,
                                      const AnalysisState &) const {
    if (operand.get() != llvm::cast<AllreduceWaitOp>(op).getBucket())
      return {};
    return {{op->getResult(0), BufferRelation::Equivalent}};
  }
  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options) const {
    auto wait = llvm::cast<AllreduceWaitOp>(op);
    Value buffer;
    Value arg = collectiveBuffer(op, wait.getBucket(), rewriter, options, buffer);
    if (!arg)
      return failure();
    if (failed(callRuntime(op, rewriter, abi::kAllreduceWait, arg, {int64_t(wait.getId())})))
      return failure();
    replaceOpWithBufferizedValues(rewriter, op, buffer);
    return success();
  }
};

/// A pipeline transfer's call: (buffer as an unranked memref; params).
LogicalResult callTransfer(Operation *op, RewriterBase &rewriter, std::string_view name,
                           Value buffer, ArrayRef<int64_t> params) {
  auto type = llvm::cast<MemRefType>(buffer.getType());
  auto unranked = UnrankedMemRefType::get(type.getElementType(), 0);
  Value arg = rewriter.create<memref::CastOp>(op->getLoc(), unranked, buffer);
  return callRuntime(op, rewriter, name, arg, params);
}

int64_t elementBytes(Type t) {
  return std::max<int64_t>(1, int64_t(t.getIntOrFloatBitWidth()) / 8);
}

/// The pipeline transfers: a send reads its buffer (the runtime copies it),
/// a receive's start allocates the buffer its wait fills in place.
struct SendStartBufferization
    : public BufferizableOpInterface::ExternalModel<SendStartBufferization, SendStartOp> {
  bool bufferizesToMemoryRead(Operation *, OpOperand &, const AnalysisState &) const {
    return true;
  }
  bool bufferizesToMemoryWrite(Operation *, OpOperand &, const AnalysisState &) const {
    return false;
  }
  AliasingValueList getAliasingValues(Operation *, OpOperand &, const AnalysisState &) const {
    return {};
  }
  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options) const {
    auto start = llvm::cast<SendStartOp>(op);
    FailureOr<Value> buf = getBuffer(rewriter, start.getValue(), options);
    if (failed(buf))
      return failure();
    Type elt = start.getValue().getType().getElementType();
    if (failed(callTransfer(op, rewriter, abi::kSendStart, *buf,
                            {int64_t(start.getPeer()), int64_t(start.getTag()),
                             elementBytes(elt)})))
      return failure();
    Value token = rewriter
                      .create<UnrealizedConversionCastOp>(op->getLoc(), start.getToken().getType(),
                                                          ValueRange{})
                      .getResult(0);
    replaceOpWithBufferizedValues(rewriter, op, token);
    return success();
  }
};

struct SendWaitBufferization
    : public BufferizableOpInterface::ExternalModel<SendWaitBufferization, SendWaitOp> {
  bool bufferizesToMemoryRead(Operation *, OpOperand &, const AnalysisState &) const {
    return true;
  }
  bool bufferizesToMemoryWrite(Operation *, OpOperand &, const AnalysisState &) const {
    return false;
  }
  AliasingValueList getAliasingValues(Operation *, OpOperand &, const AnalysisState &) const {
    return {};
  }
  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options) const {
    auto wait = llvm::cast<SendWaitOp>(op);
    FailureOr<Value> buf = getBuffer(rewriter, wait.getValue(), options);
    if (failed(buf))
      return failure();
    if (failed(callTransfer(op, rewriter, abi::kSendWait, *buf, {int64_t(wait.getTag())})))
      return failure();
    rewriter.eraseOp(op);
    return success();
  }
};

struct RecvStartBufferization
    : public BufferizableOpInterface::ExternalModel<RecvStartBufferization, RecvStartOp> {
  bool bufferizesToAllocation(Operation *, Value) const { return true; }
  bool bufferizesToMemoryRead(Operation *, OpOperand &, const AnalysisState &) const {
    return false;
  }
  bool bufferizesToMemoryWrite(Operation *, OpOperand &, const AnalysisState &) const {
    return false;
  }
  AliasingValueList getAliasingValues(Operation *, OpOperand &, const AnalysisState &) const {
    return {};
  }
  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &) const {
    auto start = llvm::cast<RecvStartOp>(op);
    auto type = llvm::cast<RankedTensorType>(start.getBuffer().getType());
    Value buffer = rewriter.create<memref::AllocOp>(
        op->getLoc(), MemRefType::get(type.getShape(), type.getElementType()),
        rewriter.getI64IntegerAttr(64));
    if (failed(callTransfer(op, rewriter, abi::kRecvStart, buffer,
                            {int64_t(start.getPeer()), int64_t(start.getTag()),
                             elementBytes(type.getElementType())})))
      return failure();
    Value token = rewriter
                      .create<UnrealizedConversionCastOp>(op->getLoc(), start.getToken().getType(),
                                                          ValueRange{})
                      .getResult(0);
    replaceOpWithBufferizedValues(rewriter, op, {token, buffer});
    return success();
  }
};

struct RecvWaitBufferization
    : public BufferizableOpInterface::ExternalModel<RecvWaitBufferization, RecvWaitOp> {
  bool bufferizesToMemoryRead(Operation *, OpOperand &, const AnalysisState &) const {
    return true;
  }
  bool bufferizesToMemoryWrite(Operation *, OpOperand &, const AnalysisState &) const {
    return true;
  }
  AliasingValueList getAliasingValues(Operation *op, OpOperand &operand,
                                      const AnalysisState &) const {
    if (operand.get() != llvm::cast<RecvWaitOp>(op).getBuffer())
      return {};
    return {{op->getResult(0), BufferRelation::Equivalent}};
  }
  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options) const {
    auto wait = llvm::cast<RecvWaitOp>(op);
    FailureOr<Value> buf = getBuffer(rewriter, wait.getBuffer(), options);
    if (failed(buf))
      return failure();
    if (failed(callTransfer(op, rewriter, abi::kRecvWait, *buf, {int64_t(wait.getTag())})))
      return failure();
    replaceOpWithBufferizedValues(rewriter, op, *buf);
    return success();
  }
};

/// The sharded ops read their operand and write a fresh buffer: (in, out) and
/// the reduce op for tg.reduce_scatter.
template <typename OpT>
struct ShardBufferization
    : public BufferizableOpInterface::ExternalModel<ShardBufferization<OpT>, OpT> {
  bool bufferizesToMemoryRead(Operation *, OpOperand &, const AnalysisState &) const {
    return true;
  }
  bool bufferizesToMemoryWrite(Operation *, OpOperand &, const AnalysisState &) const {
    return false;
  }
  AliasingValueList getAliasingValues(Operation *, OpOperand &, const AnalysisState &) const {
    return {};
  }
  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options) const {
    Location loc = op->getLoc();
    FailureOr<Value> in = getBuffer(rewriter, op->getOperand(0), options);
    if (failed(in))
      return failure();
    auto rt = llvm::cast<RankedTensorType>(op->getResult(0).getType());
    Value out = rewriter.create<memref::AllocOp>(
        loc, MemRefType::get(rt.getShape(), rt.getElementType()), rewriter.getI64IntegerAttr(64));
    auto unranked = UnrankedMemRefType::get(rewriter.getF32Type(), 0);
    SmallVector<Value> args = {rewriter.create<memref::CastOp>(loc, unranked, *in),
                               rewriter.create<memref::CastOp>(loc, unranked, out)};
    SmallVector<Type> types = {unranked, unranked};
    std::string_view symbol = abi::kLocalShard;
    if (auto rs = llvm::dyn_cast<ReduceScatterOp>(op)) {
      symbol = abi::kReduceScatter;
      abi::CollectiveOp reduce = collectiveOp(rs.getReduction());
      args.push_back(rewriter.create<arith::ConstantOp>(loc, rewriter.getI64IntegerAttr(int64_t(reduce))));
      types.push_back(rewriter.getI64Type());
    } else if (llvm::isa<AllgatherOp>(op)) {
      symbol = abi::kAllgather;
    }
    std::string name(symbol);
    declareRuntimeFunction(op, rewriter, name, rewriter.getFunctionType(types, {}));
    rewriter.create<func::CallOp>(loc, name, TypeRange{}, args);
    replaceOpWithBufferizedValues(rewriter, op, out);
    return success();
  }
};

} // namespace

void registerLibraryBufferization(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, TgDialect *) {
    MatmulOp::attachInterface<LibraryOpBufferization<MatmulOp>>(*ctx);
    Conv2DOp::attachInterface<LibraryOpBufferization<Conv2DOp>>(*ctx);
    FusedMatmulOp::attachInterface<LibraryOpBufferization<FusedMatmulOp>>(*ctx);
    FusedConv2DOp::attachInterface<LibraryOpBufferization<FusedConv2DOp>>(*ctx);
    Conv2DBackpropInputOp::attachInterface<LibraryOpBufferization<Conv2DBackpropInputOp>>(*ctx);
    Conv2DBackpropFilterOp::attachInterface<LibraryOpBufferization<Conv2DBackpropFilterOp>>(*ctx);
    Conv2DBackpropFilterBiasOp::attachInterface<
        LibraryOpBufferization<Conv2DBackpropFilterBiasOp>>(*ctx);
    MaxPool2DOp::attachInterface<LibraryOpBufferization<MaxPool2DOp>>(*ctx);
    MaxPool2DGradOp::attachInterface<LibraryOpBufferization<MaxPool2DGradOp>>(*ctx);
    AvgPool2DOp::attachInterface<LibraryOpBufferization<AvgPool2DOp>>(*ctx);
    AvgPool2DGradOp::attachInterface<LibraryOpBufferization<AvgPool2DGradOp>>(*ctx);
    RelayoutOp::attachInterface<LibraryOpBufferization<RelayoutOp>>(*ctx);
    AllreduceStartOp::attachInterface<AllreduceStartBufferization>(*ctx);
    AllreduceWaitOp::attachInterface<AllreduceWaitBufferization>(*ctx);
    ReduceScatterOp::attachInterface<ShardBufferization<ReduceScatterOp>>(*ctx);
    AllgatherOp::attachInterface<ShardBufferization<AllgatherOp>>(*ctx);
    LocalShardOp::attachInterface<ShardBufferization<LocalShardOp>>(*ctx);
    SendStartOp::attachInterface<SendStartBufferization>(*ctx);
    SendWaitOp::attachInterface<SendWaitBufferization>(*ctx);
    RecvStartOp::attachInterface<RecvStartBufferization>(*ctx);
    RecvWaitOp::attachInterface<RecvWaitBufferization>(*ctx);
  });
}

} // namespace tg
