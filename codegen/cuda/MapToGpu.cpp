//===- MapToGpu.cpp - tg-cuda-map-to-gpu ----------------------------------===//
//
// One kernel per loop nest, with a flat grid-stride loop: thread t of a grid
// of G blocks of B threads visits the parallel points t, t + G*B, ... and
// runs the reductions of each point sequentially. This shape covers every
// rank and size with one block size and keeps consecutive threads on
// consecutive (innermost) elements so loads coalesce.
//
// Long reductions whose combiner is associative (a sum, product, max or min)
// get a warp or a whole block per output point instead: each thread folds a
// strided share of the reduction, and the partial results meet in shared
// memory in a fixed tree. The barriers of that tree are at the top level of
// the kernel, so tg-cuda-emulate-launches can still run it exactly on a CPU.
//
//===----------------------------------------------------------------------===//
#include "codegen/cuda/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/Support/Debug.h"

#include <functional>

#define DEBUG_TYPE "tg-cuda-map-to-gpu"

namespace tg {
#define GEN_PASS_DEF_MAPTOGPU
#include "codegen/cuda/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {
namespace {

/// The memref a view, cast or metadata extraction reads from, up to its
/// allocation or block argument.
Value rootMemref(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (auto view = dyn_cast<ViewLikeOpInterface>(def))
      v = view.getViewSource();
    else if (auto cast = dyn_cast<memref::CastOp>(def))
      v = cast.getSource();
    else if (auto meta = dyn_cast<memref::ExtractStridedMetadataOp>(def))
      v = meta.getSource();
    else
      break;
  }
  return v;
}

/// Parallel loops first, reductions after (in their order), so that the
/// parallel points form the outer scf.parallel of linalgOpToParallelLoops.
FailureOr<linalg::GenericOp> parallelFirst(RewriterBase &rewriter, linalg::GenericOp op) {
  SmallVector<unsigned> order;
  auto iterators = op.getIteratorTypesArray();
  for (unsigned i = 0; i < iterators.size(); ++i)
    if (iterators[i] == utils::IteratorType::parallel)
      order.push_back(i);
  for (unsigned i = 0; i < iterators.size(); ++i)
    if (iterators[i] != utils::IteratorType::parallel)
      order.push_back(i);
  bool identity = true;
  for (unsigned i = 0; i < order.size(); ++i)
    identity &= order[i] == i;
  if (identity)
    return op;
  return linalg::interchangeGenericOp(rewriter, op, order);
}

struct MapToGpuPass : impl::MapToGpuBase<MapToGpuPass> {
  using MapToGpuBase::MapToGpuBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (blockSize < 1 || blockSize > 1024 || maxBlocks < 1) {
      module.emitError() << "tg-cuda-map-to-gpu: block-size must be in 1..1024 and max-blocks "
                            "positive (got "
                         << blockSize << ", " << maxBlocks << ")";
      return signalPassFailure();
    }
    for (auto fn : module.getOps<func::FuncOp>()) {
      if (fn.isDeclaration())
        continue;
      if (failed(wrapSequentialLoops(fn)) || failed(mapLoopNests(fn)) ||
          failed(expandIntegerPowers(fn)) || failed(uploadConstants(fn)) ||
          failed(moveHostArraysToStack(fn)) || failed(checkHostAccesses(fn)))
        return signalPassFailure();
    }
  }

  /// A sequential loop of loads and stores (scatter_add's read-modify-write
  /// in update order) runs as one GPU thread: the order, and so the sum, is
  /// the CPU's and the interpreter's.
  LogicalResult wrapSequentialLoops(func::FuncOp fn) {
    auto deviceAccess = [](scf::ForOp loop) {
      bool access = false, other = false;
      loop.walk([&](Operation *op) {
        if (isa<memref::LoadOp, memref::StoreOp>(op)) {
          Value m = isa<memref::LoadOp>(op) ? cast<memref::LoadOp>(op).getMemRef()
                                            : cast<memref::StoreOp>(op).getMemRef();
          access |= !rootMemref(m).getDefiningOp<memref::AllocaOp>();
        } else if (isa<linalg::LinalgOp, memref::CopyOp, memref::AllocOp, memref::DeallocOp,
                       func::CallOp, gpu::LaunchOp>(op)) {
          other = true;
        }
      });
      return access && !other;
    };
    SmallVector<scf::ForOp> loops;
    fn.walk<WalkOrder::PreOrder>([&](scf::ForOp loop) {
      if (!deviceAccess(loop))
        return WalkResult::advance();
      loops.push_back(loop);
      return WalkResult::skip();
    });
    IRRewriter rewriter(&getContext());
    for (scf::ForOp loop : loops) {
      rewriter.setInsertionPoint(loop);
      Value one = rewriter.create<arith::ConstantIndexOp>(loop.getLoc(), 1);
      auto launch = rewriter.create<gpu::LaunchOp>(loop.getLoc(), one, one, one, one, one, one);
      Block &body = launch.getBody().front();
      rewriter.setInsertionPointToEnd(&body);
      rewriter.create<gpu::TerminatorOp>(loop.getLoc());
      if (loop.getNumResults() != 0)
        return loop->emitError() << "tg-cuda-map-to-gpu: a sequential loop with results";
      rewriter.moveOpBefore(loop, body.getTerminator());
    }
    return success();
  }

  /// Every linalg op and memref.copy outside a kernel becomes one kernel.
  LogicalResult mapLoopNests(func::FuncOp fn) {
    SmallVector<Operation *> work;
    fn.walk([&](Operation *op) {
      if (op->getParentOfType<gpu::LaunchOp>())
        return;
      if (isa<memref::CopyOp>(op) ||
          (isa<linalg::LinalgOp>(op) && cast<linalg::LinalgOp>(op).hasPureBufferSemantics()))
        work.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *op : work) {
      rewriter.setInsertionPoint(op);
      if (auto copy = dyn_cast<memref::CopyOp>(op))
        op = rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, copy.getSource(), copy.getTarget());
      rewriter.setInsertionPoint(op);
      auto linalgOp = cast<linalg::LinalgOp>(op);
      // All-parallel ops (linalg.map from bufferized tensor.generate, fill,
      // copy) are mapped as they are; the others are reordered as generics.
      if (linalgOp.getNumParallelLoops() == linalgOp.getNumLoops()) {
        if (failed(mapToKernel(rewriter, linalgOp)))
          return failure();
        continue;
      }
      linalg::GenericOp generic = dyn_cast<linalg::GenericOp>(op);
      if (!generic) {
        FailureOr<linalg::GenericOp> g = linalg::generalizeNamedOp(rewriter, linalgOp);
        if (failed(g))
          return op->emitError() << "tg-cuda-map-to-gpu: cannot generalize '" << op->getName()
                                 << "' into a linalg.generic";
        generic = *g;
      }
      FailureOr<linalg::GenericOp> ordered = parallelFirst(rewriter, generic);
      if (failed(ordered))
        return generic->emitError() << "tg-cuda-map-to-gpu: cannot reorder its loops";
      if (failed(mapToKernel(rewriter, *ordered)))
        return failure();
    }
    return success();
  }

  LogicalResult mapToKernel(IRRewriter &rewriter, linalg::LinalgOp op) {
    Location loc = op.getLoc();
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    int64_t parallel = op.getNumParallelLoops(), points = 1;
    for (int64_t i = 0; i < int64_t(ranges.size()); ++i) {
      if (ShapedType::isDynamic(ranges[i]))
        return op->emitError() << "tg-cuda-map-to-gpu: dynamic loop range (loop " << i
                               << "): the CUDA backend needs static shapes";
      if (ranges[i] == 0) { // nothing to compute
        rewriter.eraseOp(op);
        return success();
      }
      if (i < parallel)
        points *= ranges[i];
    }
    if (parallel < int64_t(ranges.size()))
      if (std::optional<Combiner> combiner = combinerOf(op)) {
        int64_t length = 1; // the reduction's terms per output point
        for (int64_t d = parallel; d < int64_t(ranges.size()); ++d)
          length *= ranges[d];
        int64_t group = groupSize(op, ranges, points, length);
        if (group > 1)
          return cooperativeReduce(rewriter, op, *combiner, ranges, points, length, group);
      }
    // Small ops get one block of whole warps; the rest full blocks, capped.
    int64_t block = parallel == 0 ? 1 : std::min<int64_t>(blockSize, (points + 31) / 32 * 32);
    int64_t grid = std::min<int64_t>(maxBlocks, (points + block - 1) / block);
    rewriter.setInsertionPoint(op);
    auto c = [&](int64_t v) { return rewriter.create<arith::ConstantIndexOp>(loc, v); };
    Value one = c(1);
    auto launch = rewriter.create<gpu::LaunchOp>(loc, c(grid), one, one, c(block), one, one);
    Block &body = launch.getBody().front();
    rewriter.setInsertionPointToEnd(&body);
    rewriter.create<gpu::TerminatorOp>(loc);
    rewriter.moveOpBefore(op, body.getTerminator());

    if (parallel < int64_t(ranges.size()))
      return reduceInKernel(rewriter, launch, op, ranges, points);
    rewriter.setInsertionPoint(op);
    FailureOr<linalg::LinalgLoops> loops = linalg::linalgOpToParallelLoops(rewriter, op);
    if (failed(loops))
      return op->emitError() << "tg-cuda-map-to-gpu: cannot lower this op to loops";
    rewriter.eraseOp(op);
    if (parallel == 0)
      return success(); // a 0-d op: one thread, no loop
    auto outer = dyn_cast<scf::ParallelOp>(loops->front());
    if (!outer || int64_t(outer.getNumLoops()) != parallel)
      return launch->emitError() << "tg-cuda-map-to-gpu: expected the " << parallel
                                 << " parallel loops outermost";
    return gridStride(rewriter, launch, outer, ranges, points);
  }

  /// At the rewriter's insertion point inside `launch`:
  ///   for (i = blockIdx*blockDim + threadIdx; i < points; i += gridDim*blockDim)
  /// with i delinearized over ranges[0, parallel) (innermost fastest) into
  /// `ivs`; the insertion point is left at the start of the loop's body.
  static void emitGridStrideLoop(IRRewriter &rewriter, Location loc, gpu::LaunchOp launch,
                                 ArrayRef<int64_t> ranges, int64_t parallel, int64_t points,
                                 SmallVectorImpl<Value> &ivs) {
    auto c = [&](int64_t v) -> Value { return rewriter.create<arith::ConstantIndexOp>(loc, v); };
    Value gid = rewriter.create<arith::AddIOp>(
        loc, rewriter.create<arith::MulIOp>(loc, launch.getBlockIds().x, launch.getBlockSize().x),
        launch.getThreadIds().x);
    Value stride =
        rewriter.create<arith::MulIOp>(loc, launch.getGridSize().x, launch.getBlockSize().x);
    auto loop = rewriter.create<scf::ForOp>(loc, gid, c(points), stride);
    rewriter.setInsertionPointToStart(loop.getBody());
    delinearize(rewriter, loc, loop.getInductionVar(), ranges.take_front(parallel),
                MutableArrayRef<Value>(ivs).take_front(parallel));
  }

  /// `linear` split over `sizes` (the last fastest) into `out`.
  static void delinearize(IRRewriter &rewriter, Location loc, Value linear,
                          ArrayRef<int64_t> sizes, MutableArrayRef<Value> out) {
    Value rest = linear;
    for (int64_t d = int64_t(sizes.size()) - 1; d >= 0; --d) {
      Value iv = rest;
      if (d > 0) {
        Value size = rewriter.create<arith::ConstantIndexOp>(loc, sizes[d]);
        iv = rewriter.create<arith::RemUIOp>(loc, rest, size);
        rest = rewriter.create<arith::DivUIOp>(loc, rest, size);
      }
      out[size_t(d)] = iv;
    }
  }

  /// An op with reductions (parallel loops first): each thread loads its
  /// outputs once, carries them through its reduction loops in registers
  /// (scf.for iter_args) and stores them once. linalg's own loops would load
  /// and store the output every iteration, which the GPU compiler cannot
  /// keep in a register (input and output may alias).
  LogicalResult reduceInKernel(IRRewriter &rewriter, gpu::LaunchOp launch, linalg::LinalgOp op,
                               ArrayRef<int64_t> ranges, int64_t points) {
    Location loc = op.getLoc();
    int64_t parallel = op.getNumParallelLoops(), loops = int64_t(ranges.size());
    rewriter.setInsertionPoint(op);
    auto c = [&](int64_t v) -> Value { return rewriter.create<arith::ConstantIndexOp>(loc, v); };
    SmallVector<Value> ivs(static_cast<size_t>(loops));
    if (parallel > 0)
      emitGridStrideLoop(rewriter, loc, launch, ranges, parallel, points, ivs);
    // Outputs are indexed by parallel dimensions only.
    Value zero = c(0);
    auto indices = [&](AffineMap map, ArrayRef<Value> at) {
      SmallVector<Value> out;
      for (unsigned k = 0; k < map.getNumResults(); ++k)
        out.push_back(rewriter.create<affine::AffineApplyOp>(loc, map.getSubMap({k}), at));
      return out;
    };
    SmallVector<Value> outerIvs(ivs.begin(), ivs.end());
    for (int64_t d = parallel; d < loops; ++d)
      outerIvs[size_t(d)] = zero;
    SmallVector<Value> inits;
    SmallVector<SmallVector<Value>> outIndices;
    for (OpOperand &init : op.getDpsInitsMutable()) {
      outIndices.push_back(indices(op.getMatchingIndexingMap(&init), outerIvs));
      inits.push_back(rewriter.create<memref::LoadOp>(loc, init.get(), outIndices.back()));
    }
    // One scf.for per reduction dimension, carrying the outputs.
    std::function<SmallVector<Value>(int64_t, ValueRange)> nest =
        [&](int64_t d, ValueRange acc) -> SmallVector<Value> {
      if (d == loops) {
        IRMapping map;
        Block *body = op.getBlock();
        for (OpOperand *in : op.getDpsInputOperands()) {
          Value v = in->get();
          if (isa<MemRefType>(v.getType()))
            v = rewriter.create<memref::LoadOp>(loc, v,
                                                indices(op.getMatchingIndexingMap(in), ivs));
          map.map(op.getMatchingBlockArgument(in), v);
        }
        for (auto [k, init] : llvm::enumerate(op.getDpsInitsMutable()))
          map.map(op.getMatchingBlockArgument(&init), acc[k]);
        for (Operation &inner : body->without_terminator()) {
          if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
            map.map(index.getResult(), ivs[index.getDim()]);
            continue;
          }
          rewriter.clone(inner, map);
        }
        SmallVector<Value> yielded;
        for (Value y : body->getTerminator()->getOperands())
          yielded.push_back(map.lookupOrDefault(y));
        return yielded;
      }
      auto loop = rewriter.create<scf::ForOp>(loc, zero, c(ranges[d]), c(1), acc);
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(loop.getBody());
      ivs[size_t(d)] = loop.getInductionVar();
      SmallVector<Value> next = nest(d + 1, loop.getRegionIterArgs());
      rewriter.create<scf::YieldOp>(loc, next);
      return SmallVector<Value>(loop.getResults());
    };
    SmallVector<Value> results = nest(parallel, inits);
    for (auto [k, init] : llvm::enumerate(op.getDpsInitsMutable()))
      rewriter.create<memref::StoreOp>(loc, results[k], init.get(), outIndices[k]);
    rewriter.eraseOp(op);
    return success();
  }

  /// out = out (+) term, with (+) associative and commutative: the body of
  /// a reduction that several threads can share, each folding its part
  /// from the identity.
  struct Combiner {
    Operation *combine; // (+); its other operand is the output's block argument
    BlockArgument acc;
    Value term;
    TypedAttr identity;
  };

  static std::optional<Combiner> combinerOf(linalg::LinalgOp op) {
    if (op.getNumDpsInits() != 1)
      return std::nullopt;
    Block *body = op.getBlock();
    BlockArgument acc = op.getMatchingBlockArgument(op.getDpsInitOperand(0));
    auto type = dyn_cast<FloatType>(acc.getType());
    if (!type || !(type.isF32() || type.isF64()) || !acc.hasOneUse())
      return std::nullopt;
    Operation *combine = body->getTerminator()->getOperand(0).getDefiningOp();
    if (!combine || combine->getBlock() != body || combine->getNumOperands() != 2 ||
        *acc.getUsers().begin() != combine)
      return std::nullopt;
    Value term = combine->getOperand(0) == acc ? combine->getOperand(1) : combine->getOperand(0);
    if (term == acc)
      return std::nullopt;
    const llvm::fltSemantics &sem = type.getFloatSemantics();
    std::optional<APFloat> identity;
    if (isa<arith::AddFOp>(combine)) {
      identity = APFloat::getZero(sem, /*Negative=*/true); // -0 + x == x, also for x = -0
    } else if (isa<arith::MulFOp>(combine)) {
      bool lost = false;
      APFloat one(1.0);
      one.convert(sem, APFloat::rmNearestTiesToEven, &lost);
      identity = one;
    } else if (isa<arith::MaximumFOp, arith::MaxNumFOp>(combine)) {
      identity = APFloat::getInf(sem, /*Negative=*/true);
    } else if (isa<arith::MinimumFOp, arith::MinNumFOp>(combine)) {
      identity = APFloat::getInf(sem, /*Negative=*/false);
    } else {
      return std::nullopt;
    }
    return Combiner{combine, acc, term, FloatAttr::get(type, *identity)};
  }

  /// Threads per output point: 1 (the grid-stride shape), a warp, or a
  /// block. Sharing pays for long reductions whose lanes read consecutive
  /// elements (the innermost loop indexes the inputs' last dimension), or
  /// whose few output points would leave most of the GPU idle.
  int64_t groupSize(linalg::LinalgOp op, ArrayRef<int64_t> ranges, int64_t points,
                    int64_t length) const {
    int64_t loops = int64_t(ranges.size());
    if (length < 64 || blockSize < 32 || !llvm::isPowerOf2_64(uint64_t(blockSize)))
      return 1;
    bool contiguous = false;
    for (OpOperand *in : op.getDpsInputOperands()) {
      AffineMap map = op.getMatchingIndexingMap(in);
      if (map.getNumResults() > 0)
        if (auto dim = dyn_cast<AffineDimExpr>(map.getResults().back()))
          contiguous |= int64_t(dim.getPosition()) == loops - 1;
    }
    if (!contiguous && points >= 2048)
      return 1;
    int64_t group = points <= 1024 && length >= 4096 ? 256 : 32;
    return std::min<int64_t>(group, blockSize);
  }

  /// `group` threads per output point, blockSize/group points per block
  /// (fewer when there are fewer points):
  ///   partial = identity; for (r = lane; r < length; r += group) partial (+)= term(r)
  ///   shared[tid] = partial; barrier
  ///   for (s = group/2; s > 0; s /= 2) { if (lane < s) shared[tid] (+)= shared[tid+s]; barrier }
  ///   if (lane == 0) out = out (+) shared[tid]
  /// Each step reads only its own thread's ids (no value crosses a barrier),
  /// and the sum's order depends only on the shape, so results are
  /// deterministic.
  LogicalResult cooperativeReduce(IRRewriter &rewriter, linalg::LinalgOp op,
                                  const Combiner &combiner, ArrayRef<int64_t> ranges,
                                  int64_t points, int64_t length, int64_t group) {
    Location loc = op.getLoc();
    int64_t parallel = op.getNumParallelLoops(), loops = int64_t(ranges.size());
    // Fewer points than a block holds (a full reduction) get a smaller block.
    int64_t slots = std::min<int64_t>(blockSize / group, points);
    int64_t threads = slots * group;
    auto c = [&](int64_t v) -> Value { return rewriter.create<arith::ConstantIndexOp>(loc, v); };
    Type element = combiner.acc.getType();
    auto shared =
        MemRefType::get({threads}, element, MemRefLayoutAttrInterface(),
                        gpu::AddressSpaceAttr::get(&getContext(), gpu::AddressSpace::Workgroup));
    rewriter.setInsertionPoint(op);
    Value one = c(1);
    auto launch = rewriter.create<gpu::LaunchOp>(
        loc, c((points + slots - 1) / slots), one, one, c(threads), one, one,
        /*dynamicSharedMemorySize=*/Value(), /*asyncTokenType=*/Type(), ValueRange(),
        TypeRange{shared});
    Value buffer = launch.getWorkgroupAttributions().front();
    Block &body = launch.getBody().front();
    rewriter.setInsertionPointToEnd(&body);
    auto terminator = rewriter.create<gpu::TerminatorOp>(loc);
    rewriter.setInsertionPoint(terminator);

    auto combine = [&](Value acc, Value term) {
      IRMapping map;
      map.map(combiner.acc, acc);
      map.map(combiner.term, term);
      return rewriter.clone(*combiner.combine, map)->getResult(0);
    };
    // This thread's ids, recomputed after every barrier.
    struct Ids {
      Value tid, lane, point, valid;
    };
    auto ids = [&]() {
      Value tid = launch.getThreadIds().x;
      Value lane = rewriter.create<arith::RemUIOp>(loc, tid, c(group));
      Value slot = rewriter.create<arith::DivUIOp>(loc, tid, c(group));
      Value point = rewriter.create<arith::AddIOp>(
          loc, rewriter.create<arith::MulIOp>(loc, launch.getBlockIds().x, c(slots)), slot);
      Value valid = rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, point, c(points));
      return Ids{tid, lane, point, valid};
    };
    auto indices = [&](AffineMap map, ArrayRef<Value> at) {
      SmallVector<Value> out;
      for (unsigned k = 0; k < map.getNumResults(); ++k)
        out.push_back(rewriter.create<affine::AffineApplyOp>(loc, map.getSubMap({k}), at));
      return out;
    };
    Value identity = rewriter.create<arith::ConstantOp>(loc, combiner.identity);
    SmallVector<Value> ivs(static_cast<size_t>(loops));

    // Each thread's share, folded from the identity.
    Ids first = ids();
    auto share = rewriter.create<scf::IfOp>(loc, TypeRange{element}, first.valid, true, true);
    {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(&share.getThenRegion().front());
      delinearize(rewriter, loc, first.point, ranges.take_front(parallel),
                  MutableArrayRef<Value>(ivs).take_front(parallel));
      auto loop = rewriter.create<scf::ForOp>(loc, first.lane, c(length), c(group),
                                              ValueRange{identity});
      rewriter.setInsertionPointToStart(loop.getBody());
      delinearize(rewriter, loc, loop.getInductionVar(), ranges.drop_front(parallel),
                  MutableArrayRef<Value>(ivs).drop_front(parallel));
      IRMapping map;
      for (OpOperand *in : op.getDpsInputOperands()) {
        Value v = in->get();
        if (isa<MemRefType>(v.getType()))
          v = rewriter.create<memref::LoadOp>(loc, v, indices(op.getMatchingIndexingMap(in), ivs));
        map.map(op.getMatchingBlockArgument(in), v);
      }
      for (Operation &inner : op.getBlock()->without_terminator()) {
        if (&inner == combiner.combine)
          continue;
        if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
          map.map(index.getResult(), ivs[index.getDim()]);
          continue;
        }
        rewriter.clone(inner, map);
      }
      Value next = combine(loop.getRegionIterArgs().front(), map.lookupOrDefault(combiner.term));
      rewriter.create<scf::YieldOp>(loc, next);
      rewriter.setInsertionPointAfter(loop);
      rewriter.create<scf::YieldOp>(loc, loop.getResult(0));
      rewriter.setInsertionPointToStart(&share.getElseRegion().front());
      rewriter.create<scf::YieldOp>(loc, identity);
    }
    rewriter.create<memref::StoreOp>(loc, share.getResult(0), buffer, first.tid);
    rewriter.create<gpu::BarrierOp>(loc);

    // The tree, halving the active lanes each step.
    for (int64_t step = group / 2; step > 0; step /= 2) {
      Ids now = ids();
      Value active = rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, now.lane,
                                                    c(step));
      auto branch = rewriter.create<scf::IfOp>(loc, active, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(&branch.getThenRegion().front());
      Value mine = rewriter.create<memref::LoadOp>(loc, buffer, now.tid);
      Value other = rewriter.create<memref::LoadOp>(
          loc, buffer, ValueRange{rewriter.create<arith::AddIOp>(loc, now.tid, c(step))});
      rewriter.create<memref::StoreOp>(loc, combine(mine, other), buffer, now.tid);
      if (step > 1) { // lane 0 reads back only what it wrote itself
        rewriter.setInsertionPointAfter(branch);
        rewriter.create<gpu::BarrierOp>(loc);
      }
    }

    // Lane 0 adds the point's total to the output.
    Ids last = ids();
    Value lead = rewriter.create<arith::AndIOp>(
        loc, last.valid,
        rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, last.lane, c(0)));
    auto store = rewriter.create<scf::IfOp>(loc, lead, /*withElseRegion=*/false);
    rewriter.setInsertionPointToStart(&store.getThenRegion().front());
    delinearize(rewriter, loc, last.point, ranges.take_front(parallel),
                MutableArrayRef<Value>(ivs).take_front(parallel));
    Value zero = c(0);
    for (int64_t d = parallel; d < loops; ++d)
      ivs[size_t(d)] = zero;
    OpOperand *out = op.getDpsInitOperand(0);
    SmallVector<Value> at = indices(op.getMatchingIndexingMap(out), ivs);
    Value init = rewriter.create<memref::LoadOp>(loc, out->get(), at);
    Value total = rewriter.create<memref::LoadOp>(loc, buffer, last.tid);
    rewriter.create<memref::StoreOp>(loc, combine(init, total), out->get(), at);
    rewriter.eraseOp(op);
    return success();
  }

  /// for (i = blockIdx*blockDim + threadIdx; i < points; i += gridDim*blockDim)
  ///   { delinearize i (innermost fastest); the parallel loop's body }
  LogicalResult gridStride(IRRewriter &rewriter, gpu::LaunchOp launch, scf::ParallelOp par,
                           ArrayRef<int64_t> ranges, int64_t points) {
    Location loc = par.getLoc();
    for (auto [lb, step] : llvm::zip(par.getLowerBound(), par.getStep()))
      if (!matchPattern(lb, m_Zero()) || !matchPattern(step, m_One()))
        return par->emitError() << "tg-cuda-map-to-gpu: expected loops from 0 by 1";
    rewriter.setInsertionPoint(par);
    unsigned n = par.getNumLoops();
    SmallVector<Value> ivs(n);
    emitGridStrideLoop(rewriter, loc, launch, ranges, int64_t(n), points, ivs);
    IRMapping map;
    for (unsigned d = 0; d < n; ++d)
      map.map(par.getInductionVars()[d], ivs[d]);
    for (Operation &inner : par.getBody()->without_terminator())
      rewriter.clone(inner, map);
    rewriter.eraseOp(par);
    return success();
  }

  /// math.ipowi has no NVVM lowering or libdevice function (the CPU calls a
  /// helper from convert-math-to-funcs, which cannot go into a kernel):
  /// square-and-multiply over the exponent's bits, and for a negative
  /// exponent what convert-math-to-funcs gives (1 for base 1, +-1 for base
  /// -1, else 0).
  LogicalResult expandIntegerPowers(func::FuncOp fn) {
    SmallVector<math::IPowIOp> powers;
    fn.walk([&](math::IPowIOp p) {
      if (p->getParentOfType<gpu::LaunchOp>())
        powers.push_back(p);
    });
    IRRewriter rewriter(&getContext());
    for (math::IPowIOp p : powers) {
      auto type = dyn_cast<IntegerType>(p.getType());
      if (!type)
        return p->emitError() << "tg-cuda-map-to-gpu: vector math.ipowi";
      Location loc = p.getLoc();
      rewriter.setInsertionPoint(p);
      auto c = [&](int64_t v) -> Value {
        return rewriter.create<arith::ConstantOp>(loc, rewriter.getIntegerAttr(type, v));
      };
      Value base = p.getLhs(), exp = p.getRhs();
      Value zero = c(0), one = c(1);
      Value lb = rewriter.create<arith::ConstantIndexOp>(loc, 0);
      Value ub = rewriter.create<arith::ConstantIndexOp>(loc, type.getWidth());
      Value step = rewriter.create<arith::ConstantIndexOp>(loc, 1);
      auto loop = rewriter.create<scf::ForOp>(
          loc, lb, ub, step, ValueRange{one, base, exp},
          [&](OpBuilder &b, Location l, Value, ValueRange acc) {
            Value bit = b.create<arith::AndIOp>(l, acc[2], one);
            Value odd = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ne, bit, zero);
            Value times = b.create<arith::MulIOp>(l, acc[0], acc[1]);
            Value result = b.create<arith::SelectOp>(l, odd, times, acc[0]);
            Value square = b.create<arith::MulIOp>(l, acc[1], acc[1]);
            Value rest = b.create<arith::ShRUIOp>(l, acc[2], one);
            b.create<scf::YieldOp>(l, ValueRange{result, square, rest});
          });
      Value negative = rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, exp, zero);
      Value isOne = rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, base, one);
      Value isMinusOne = rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, base, c(-1));
      Value oddExp = rewriter.create<arith::CmpIOp>(
          loc, arith::CmpIPredicate::ne, rewriter.create<arith::AndIOp>(loc, exp, one), zero);
      Value signOfMinusOne = rewriter.create<arith::SelectOp>(loc, oddExp, c(-1), one);
      Value negResult = rewriter.create<arith::SelectOp>(
          loc, isOne, one, rewriter.create<arith::SelectOp>(loc, isMinusOne, signOfMinusOne, zero));
      rewriter.replaceOpWithNewOp<arith::SelectOp>(p, negative, negResult, loop.getResult(0));
    }
    return success();
  }

  /// A constant read by a kernel gets a device copy for the call.
  LogicalResult uploadConstants(func::FuncOp fn) {
    SmallVector<memref::GetGlobalOp> globals;
    fn.walk([&](memref::GetGlobalOp g) {
      if (!g->getParentOfType<gpu::LaunchOp>())
        globals.push_back(g);
    });
    IRRewriter rewriter(&getContext());
    for (memref::GetGlobalOp g : globals) {
      Location loc = g.getLoc();
      rewriter.setInsertionPointAfter(g);
      auto type = cast<MemRefType>(g.getType());
      auto device = rewriter.create<memref::AllocOp>(loc, type);
      rewriter.replaceAllUsesExcept(g.getResult(), device.getResult(), {});
      rewriter.create<gpu::MemcpyOp>(loc, TypeRange(), ValueRange(), device.getResult(),
                                     g.getResult());
      rewriter.setInsertionPoint(g->getBlock()->getTerminator());
      rewriter.create<memref::DeallocOp>(loc, device.getResult());
    }
    return success();
  }

  /// True if `v` (a memref) is only read, written, passed to functions of
  /// this module or freed on the host: the deallocation pipeline's arrays.
  static bool hostOnly(Value v) {
    for (Operation *user : v.getUsers()) {
      if (user->getParentOfType<gpu::LaunchOp>())
        return false;
      if (isa<memref::LoadOp, memref::StoreOp, memref::DeallocOp,
              memref::ExtractAlignedPointerAsIndexOp>(user))
        continue;
      if (auto cast = dyn_cast<memref::CastOp>(user)) {
        if (!hostOnly(cast.getResult()))
          return false;
        continue;
      }
      if (auto call = dyn_cast<func::CallOp>(user)) {
        auto callee =
            SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(call, call.getCalleeAttr());
        if (callee && !callee.isDeclaration())
          continue;
      }
      return false;
    }
    return true;
  }

  /// Host arrays (of index or i1: what the deallocation pipeline makes)
  /// become stack buffers of the function (each is freed in the
  /// block that made it, so one slot per allocation site suffices), leaving
  /// memref.alloc to device memory.
  LogicalResult moveHostArraysToStack(func::FuncOp fn) {
    SmallVector<memref::AllocOp> host;
    fn.walk([&](memref::AllocOp a) {
      Type element = a.getType().getElementType();
      if (!a->getParentOfType<gpu::LaunchOp>() && (element.isIndex() || element.isInteger(1)) &&
          hostOnly(a.getResult()))
        host.push_back(a);
    });
    IRRewriter rewriter(&getContext());
    for (memref::AllocOp a : host) {
      if (!a.getType().hasStaticShape())
        return a->emitError() << "tg-cuda-map-to-gpu: host array of dynamic size";
      for (Operation *user : a->getUsers())
        if (isa<memref::DeallocOp>(user) && user->getBlock() != a->getBlock())
          return a->emitError() << "tg-cuda-map-to-gpu: host array freed in another block";
      for (Operation *user : llvm::make_early_inc_range(a->getUsers()))
        if (isa<memref::DeallocOp>(user))
          rewriter.eraseOp(user);
      rewriter.setInsertionPointToStart(&fn.getBody().front());
      auto stack = rewriter.create<memref::AllocaOp>(a.getLoc(), a.getType(), a.getAlignmentAttr());
      rewriter.replaceOp(a, stack.getResult());
    }
    return success();
  }

  /// Host code may touch only its own stack arrays; any other load or
  /// store outside a kernel would dereference device memory.
  LogicalResult checkHostAccesses(func::FuncOp fn) {
    WalkResult r = fn.walk([&](Operation *op) {
      if (!isa<memref::LoadOp, memref::StoreOp>(op) || op->getParentOfType<gpu::LaunchOp>())
        return WalkResult::advance();
      Value m = isa<memref::LoadOp>(op) ? cast<memref::LoadOp>(op).getMemRef()
                                        : cast<memref::StoreOp>(op).getMemRef();
      Value root = rootMemref(m);
      if (root.getDefiningOp<memref::AllocaOp>())
        return WalkResult::advance();
      // Arguments of the module's own helpers are its callers' host arrays.
      if (auto arg = dyn_cast<BlockArgument>(root))
        if (!fn->hasAttr("tg.entry") && arg.getOwner()->isEntryBlock() &&
            arg.getOwner()->getParentOp() == fn)
          return WalkResult::advance();
      op->emitError() << "tg-cuda-map-to-gpu: host code would access device memory here (an "
                         "op the CUDA backend does not map to a kernel yet)";
      return WalkResult::interrupt();
    });
    if (r.wasInterrupted())
      return failure();
    // And kernels may not touch the host's stack.
    WalkResult k = fn.walk([&](gpu::LaunchOp launch) {
      WalkResult inner = launch.getBody().walk([&](Operation *op) {
        for (Value v : op->getOperands())
          if (isa<MemRefType>(v.getType()) && !launch.getBody().isAncestor(v.getParentRegion()) &&
              rootMemref(v).getDefiningOp<memref::AllocaOp>()) {
            op->emitError() << "tg-cuda-map-to-gpu: a kernel would read a host stack buffer";
            return WalkResult::interrupt();
          }
        return WalkResult::advance();
      });
      return inner;
    });
    return failure(k.wasInterrupted());
  }
};

} // namespace
} // namespace tg
