//===- LowerLaunches.cpp - tg-cuda-lower-launches -------------------------===//
//
// MLIR 19's own host lowering of gpu.launch_func loads the module, makes a
// stream and synchronizes around every launch; libtgrt_cuda instead loads the
// fatbin once per session and launches on the session's stream (and records
// the step into a CUDA graph), so host code only names the kernel by index
// and hands over its arguments.
//
//===----------------------------------------------------------------------===//
#include "codegen/cuda/Passes.h"
#include "support/KernelAbi.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"

#define DEBUG_TYPE "tg-cuda-lower-launches"

namespace tg {
#define GEN_PASS_DEF_LOWERLAUNCHES
#include "codegen/cuda/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {
namespace {

func::FuncOp declare(ModuleOp module, StringRef name, FunctionType type, bool cInterface) {
  if (auto fn = module.lookupSymbol<func::FuncOp>(name))
    return fn;
  OpBuilder b(module.getBodyRegion());
  b.setInsertionPointToStart(module.getBody());
  auto fn = b.create<func::FuncOp>(module.getLoc(), name, type);
  fn.setPrivate();
  if (cInterface)
    fn->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(), b.getUnitAttr());
  return fn;
}

struct LowerLaunchesPass : impl::LowerLaunchesBase<LowerLaunchesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::StringMap<int64_t> index, params;
    if (auto table = module->getAttrOfType<ArrayAttr>("tg.cuda_kernels"))
      for (auto [i, k] : llvm::enumerate(table.getAsRange<DictionaryAttr>()))
        if (auto name = k.getAs<StringAttr>("name")) {
          index[name.getValue()] = i;
          if (auto p = k.getAs<IntegerAttr>("params"))
            params[name.getValue()] = p.getInt();
        }
    SmallVector<gpu::LaunchFuncOp> launches;
    SmallVector<gpu::MemcpyOp> copies;
    module.walk([&](Operation *op) {
      if (auto l = dyn_cast<gpu::LaunchFuncOp>(op))
        launches.push_back(l);
      else if (auto c = dyn_cast<gpu::MemcpyOp>(op))
        copies.push_back(c);
    });
    IRRewriter rewriter(&getContext());
    for (gpu::LaunchFuncOp l : launches) {
      auto it = index.find(l.getKernelName().getValue());
      if (it == index.end()) {
        l->emitError() << "tg-cuda-lower-launches: kernel '" << l.getKernelName()
                       << "' is not in tg.cuda_kernels";
        return signalPassFailure();
      }
      auto expected = params.find(l.getKernelName().getValue());
      if (failed(lowerLaunch(rewriter, module, l, it->second,
                             expected == params.end() ? -1 : expected->second)))
        return signalPassFailure();
    }
    for (gpu::MemcpyOp c : copies)
      if (failed(lowerUpload(rewriter, module, c)))
        return signalPassFailure();
    renameLibraryCalls(module);
    for (Operation &op : llvm::make_early_inc_range(module.getBody()->getOperations()))
      if (isa<gpu::GPUModuleOp, gpu::BinaryOp>(op))
        op.erase();
    module->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());
  }

  /// The address of element 0 of `m` as i64 (aligned pointer + offset).
  static Value address(OpBuilder &b, Location loc, Value m) {
    auto type = cast<MemRefType>(m.getType());
    auto meta = b.create<memref::ExtractStridedMetadataOp>(loc, m);
    Value base = b.create<memref::ExtractAlignedPointerAsIndexOp>(loc, m);
    Value bytes = b.create<arith::MulIOp>(
        loc, meta.getOffset(),
        b.create<arith::ConstantIndexOp>(loc, type.getElementTypeBitWidth() / 8));
    Value p = b.create<arith::AddIOp>(loc, base, bytes);
    return b.create<arith::IndexCastOp>(loc, b.getI64Type(), p);
  }

  /// The 64-bit words of one kernel argument, in the order of the NVVM
  /// kernel's parameters.
  static LogicalResult words(OpBuilder &b, Location loc, Value v, SmallVectorImpl<Value> &out) {
    Type i64 = b.getI64Type();
    auto toI64 = [&](Value x) -> Value { return b.create<arith::IndexCastOp>(loc, i64, x); };
    Type t = v.getType();
    if (auto m = dyn_cast<MemRefType>(t)) {
      auto meta = b.create<memref::ExtractStridedMetadataOp>(loc, v);
      Value ptr = toI64(b.create<memref::ExtractAlignedPointerAsIndexOp>(loc, v));
      out.push_back(ptr); // allocated
      out.push_back(ptr); // aligned
      out.push_back(toI64(meta.getOffset()));
      for (Value s : meta.getSizes())
        out.push_back(toI64(s));
      for (Value s : meta.getStrides())
        out.push_back(toI64(s));
      return success();
    }
    if (t.isIndex()) {
      out.push_back(toI64(v));
      return success();
    }
    if (auto it = dyn_cast<IntegerType>(t); it && it.getWidth() <= 64) {
      out.push_back(it.getWidth() == 64 ? v : b.create<arith::ExtUIOp>(loc, i64, v).getResult());
      return success();
    }
    if (auto ft = dyn_cast<FloatType>(t); ft && (ft.getWidth() == 32 || ft.getWidth() == 64)) {
      Value bits = b.create<arith::BitcastOp>(loc, b.getIntegerType(ft.getWidth()), v);
      out.push_back(ft.getWidth() == 64 ? bits
                                        : b.create<arith::ExtUIOp>(loc, i64, bits).getResult());
      return success();
    }
    return emitError(loc) << "tg-cuda-lower-launches: kernel argument of type " << t
                          << " is not supported";
  }

  LogicalResult lowerLaunch(IRRewriter &rewriter, ModuleOp module, gpu::LaunchFuncOp l,
                            int64_t kernel, int64_t expectedWords) {
    Location loc = l.getLoc();
    if (l.getAsyncToken() || l.getDynamicSharedMemorySize())
      return l->emitError() << "tg-cuda-lower-launches: async launches and dynamic shared "
                               "memory are not supported";
    auto one = [](Value v) { return matchPattern(v, m_One()); };
    if (!one(l.getGridSizeY()) || !one(l.getGridSizeZ()) || !one(l.getBlockSizeY()) ||
        !one(l.getBlockSizeZ()))
      return l->emitError() << "tg-cuda-lower-launches: only 1-D grids and blocks";
    rewriter.setInsertionPoint(l);
    SmallVector<Value> args;
    for (Value v : l.getKernelOperands())
      if (failed(words(rewriter, loc, v, args)))
        return failure();
    if (expectedWords >= 0 && int64_t(args.size()) != expectedWords)
      return l->emitError() << "tg-cuda-lower-launches: " << args.size()
                            << " argument words for a kernel with " << expectedWords
                            << " parameters";
    Type i64 = rewriter.getI64Type();
    // One stack slot per launch site, in the entry block: launches inside
    // loops must not grow the stack.
    auto fn = l->getParentOfType<func::FuncOp>();
    Value buffer;
    {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(&fn.getBody().front());
      buffer = rewriter.create<memref::AllocaOp>(
          loc, MemRefType::get({std::max<int64_t>(1, args.size())}, i64));
    }
    for (auto [i, w] : llvm::enumerate(args))
      rewriter.create<memref::StoreOp>(loc, w, buffer,
                                       ValueRange{rewriter.create<arith::ConstantIndexOp>(loc, i)});
    auto dynamic = MemRefType::get({ShapedType::kDynamic}, i64);
    Value packed = rewriter.create<memref::CastOp>(loc, dynamic, buffer);
    auto type = rewriter.getFunctionType({i64, i64, i64, i64, dynamic}, {});
    declare(module, "tgrt_cuda_launch", type, true);
    Value idx = rewriter.create<arith::ConstantIntOp>(loc, kernel, 64);
    Value n = rewriter.create<arith::ConstantIntOp>(loc, args.size(), 64);
    Value grid = rewriter.create<arith::IndexCastOp>(loc, i64, l.getGridSizeX());
    Value block = rewriter.create<arith::IndexCastOp>(loc, i64, l.getBlockSizeX());
    rewriter.create<func::CallOp>(loc, "tgrt_cuda_launch", TypeRange(),
                                  ValueRange{idx, grid, block, n, packed});
    rewriter.eraseOp(l);
    return success();
  }

  /// gpu.memcpy device <- host constant: tgrt_cuda_upload(dst, src, bytes).
  LogicalResult lowerUpload(IRRewriter &rewriter, ModuleOp module, gpu::MemcpyOp c) {
    auto type = cast<MemRefType>(c.getDst().getType());
    if (c.getAsyncToken() || !type.hasStaticShape() || !type.getLayout().isIdentity())
      return c->emitError() << "tg-cuda-lower-launches: only synchronous copies of static, "
                               "contiguous buffers";
    Location loc = c.getLoc();
    rewriter.setInsertionPoint(c);
    Type i64 = rewriter.getI64Type();
    declare(module, "tgrt_cuda_upload", rewriter.getFunctionType({i64, i64, i64}, {}), false);
    Value bytes = rewriter.create<arith::ConstantIntOp>(
        loc, type.getNumElements() * type.getElementTypeBitWidth() / 8, 64);
    rewriter.create<func::CallOp>(
        loc, "tgrt_cuda_upload", TypeRange(),
        ValueRange{address(rewriter, loc, c.getDst()), address(rewriter, loc, c.getSrc()), bytes});
    rewriter.eraseOp(c);
    return success();
  }

  /// Library calls (tgrt_matmul_f32, ...) go to libtgrt_cuda's versions.
  static void renameLibraryCalls(ModuleOp module) {
    for (auto fn : llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
      StringRef name = fn.getName();
      if (!fn.isDeclaration() || !name.starts_with("tgrt_") || name.starts_with("tgrt_cuda_"))
        continue;
      std::string renamed = abi::cudaSymbol(std::string_view(name.data(), name.size()));
      if (failed(SymbolTable::replaceAllSymbolUses(fn, StringAttr::get(fn.getContext(), renamed),
                                                   module)))
        continue;
      fn.setName(renamed);
    }
  }
};

} // namespace
} // namespace tg
