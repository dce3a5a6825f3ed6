//===- PlanMemory.cpp - tg-plan-memory ------------------------------------===//
//
// A static memory plan for each entry point's temporaries: after
// bufferization and deallocation (which frees every buffer at the end of
// its block), each statically shaped memref.alloc at the top of an entry
// function gets a live range from its allocation to its last use (through
// views, casts and the ops that contain a use), and the buffers are laid
// out in one arena by greedy first-fit, largest first: buffers whose ranges
// do not overlap share bytes. The allocs become memref.view ops into the
// arena, which is allocated once per call (the runtime's caching allocator
// hands back the same block each step). The arena's size and the bytes the
// buffers would take without reuse are recorded on the function
// (tg.arena_bytes, tg.temp_bytes) for the manifest and tgc inspect.
//
// Any memref an op makes from a buffer (a view, a cast, a loop's or
// branch's result) is taken to alias it.
//
// Left to the allocator: allocations inside loops or branches, dynamic
// shapes, sub-byte element types (i1), and any buffer that escapes (is
// returned or passed to a call other than the runtime's kernels).
//
//===----------------------------------------------------------------------===//
#include "codegen/host/Passes.h"
#include "ir/Dialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/Debug.h"

#include <algorithm>

#define DEBUG_TYPE "tg-plan-memory"

namespace tg {
#define GEN_PASS_DEF_PLANMEMORY
#include "codegen/host/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {
namespace {

constexpr int64_t kAlignment = 64;

struct Buffer {
  memref::AllocOp alloc;
  int64_t bytes = 0, start = 0, end = 0, offset = 0;
};

/// The bytes of a statically shaped memref of whole-byte elements, or -1.
int64_t byteSize(MemRefType t) {
  if (!t.hasStaticShape() || !t.getLayout().isIdentity() || t.getMemorySpace())
    return -1;
  Type e = t.getElementType();
  if (!e.isIntOrFloat() || e.getIntOrFloatBitWidth() % 8 != 0)
    return -1;
  return t.getNumElements() * int64_t(e.getIntOrFloatBitWidth() / 8);
}

struct PlanMemoryPass : impl::PlanMemoryBase<PlanMemoryPass> {
  void runOnOperation() override {
    getOperation().walk([&](func::FuncOp fn) {
      if (fn.isExternal()) // every defined function is an entry point here
        return;
      plan(fn);
    });
  }

  /// The position of `op`'s ancestor in `block`, or -1 if it has none.
  static int64_t positionIn(Operation *op, Block &block,
                            const llvm::DenseMap<Operation *, int64_t> &position) {
    Operation *top = block.findAncestorOpInBlock(*op);
    if (!top)
      return -1;
    return position.lookup(top);
  }

  /// The last position that uses `root` or a view of it; -1 if it escapes.
  static int64_t lastUse(Value root, Block &block,
                         const llvm::DenseMap<Operation *, int64_t> &position,
                         SmallVectorImpl<Operation *> &deallocs) {
    int64_t last = 0;
    SmallVector<Value> work{root};
    llvm::DenseSet<Value> seen{root};
    while (!work.empty()) {
      Value v = work.pop_back_val();
      for (OpOperand &use : v.getUses()) {
        Operation *user = use.getOwner();
        if (llvm::isa<memref::DeallocOp>(user)) {
          if (user->getBlock() != &block)
            return -1; // freed conditionally: leave it alone
          deallocs.push_back(user);
          continue;
        }
        if (llvm::isa<func::ReturnOp>(user))
          return -1;
        if (auto call = llvm::dyn_cast<func::CallOp>(user))
          if (!call.getCallee().starts_with("tgrt_"))
            return -1; // another function might keep it
        int64_t p = positionIn(user, block, position);
        if (p < 0)
          return -1;
        last = std::max(last, p);
        // Any memref an op makes from the buffer may alias it (views, casts,
        // a loop's iter_args results, an scf.if's): their uses count too.
        for (Value r : user->getResults())
          if (llvm::isa<BaseMemRefType>(r.getType()) && seen.insert(r).second)
            work.push_back(r);
        // A loop or branch yields it out through its terminator: the
        // enclosing op's results carry it (covered above for the op that
        // owns the region, as `user` is then a yield inside it).
        if (user->hasTrait<OpTrait::IsTerminator>())
          if (Operation *parent = user->getParentOp(); parent && parent != block.getParentOp())
            for (Value r : parent->getResults())
              if (llvm::isa<BaseMemRefType>(r.getType()) && seen.insert(r).second)
                work.push_back(r);
      }
    }
    return last;
  }

  void plan(func::FuncOp fn) {
    Block &block = fn.getBody().front();
    llvm::DenseMap<Operation *, int64_t> position;
    int64_t i = 0;
    for (Operation &op : block)
      position[&op] = i++;

    std::vector<Buffer> buffers;
    SmallVector<Operation *> deallocs;
    int64_t temp = 0;
    for (Operation &op : block) {
      auto alloc = llvm::dyn_cast<memref::AllocOp>(op);
      if (!alloc || !alloc.getDynamicSizes().empty() || !alloc.getSymbolOperands().empty())
        continue;
      int64_t bytes = byteSize(alloc.getType());
      if (bytes <= 0)
        continue;
      SmallVector<Operation *> own;
      int64_t end = lastUse(alloc.getResult(), block, position, own);
      if (end < 0)
        continue;
      buffers.push_back({alloc, (bytes + kAlignment - 1) / kAlignment * kAlignment,
                         position.lookup(alloc), end, 0});
      deallocs.append(own);
      temp += buffers.back().bytes;
    }
    if (buffers.empty())
      return;

    // Largest first; each at the lowest offset clear of every placed buffer
    // whose live range overlaps its own.
    std::vector<Buffer *> order;
    for (Buffer &b : buffers)
      order.push_back(&b);
    std::stable_sort(order.begin(), order.end(),
                     [](const Buffer *a, const Buffer *b) { return a->bytes > b->bytes; });
    std::vector<Buffer *> placed;
    int64_t arena = 0;
    for (Buffer *b : order) {
      std::vector<std::pair<int64_t, int64_t>> taken;
      for (Buffer *p : placed)
        if (p->start <= b->end && b->start <= p->end)
          taken.push_back({p->offset, p->offset + p->bytes});
      std::sort(taken.begin(), taken.end());
      int64_t offset = 0;
      for (auto [lo, hi] : taken) {
        if (offset + b->bytes <= lo)
          break;
        offset = std::max(offset, hi);
      }
      b->offset = offset;
      arena = std::max(arena, offset + b->bytes);
      placed.push_back(b);
    }

    // One arena per call, its buffers views into it.
    OpBuilder builder(fn.getContext());
    builder.setInsertionPointToStart(&block);
    Location loc = fn.getLoc();
    auto arenaType = MemRefType::get({arena}, builder.getI8Type());
    Value base = builder.create<memref::AllocOp>(loc, arenaType,
                                                 builder.getI64IntegerAttr(kAlignment));
    for (Buffer &b : buffers) {
      builder.setInsertionPoint(b.alloc);
      Value shift = builder.create<arith::ConstantIndexOp>(b.alloc.getLoc(), b.offset);
      Value view = builder.create<memref::ViewOp>(b.alloc.getLoc(), b.alloc.getType(), base,
                                                  shift, ValueRange{});
      b.alloc.getResult().replaceAllUsesWith(view);
      b.alloc.erase();
    }
    for (Operation *d : deallocs)
      d->erase();
    builder.setInsertionPoint(block.getTerminator());
    builder.create<memref::DeallocOp>(loc, base);
    fn->setAttr(TgDialect::kArenaBytesAttr, builder.getI64IntegerAttr(arena));
    fn->setAttr(TgDialect::kTempBytesAttr, builder.getI64IntegerAttr(temp));
    LLVM_DEBUG(llvm::dbgs() << fn.getSymName() << ": " << buffers.size() << " buffers, " << temp
                            << " bytes without reuse, arena " << arena << "\n");
  }
};

} // namespace
} // namespace tg
