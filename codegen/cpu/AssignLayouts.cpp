//===- AssignLayouts.cpp - tg-assign-layouts ------------------------------===//
//
// Keeps NCHW activations in oneDNN's blocked layout (nChw16c with AVX-512,
// nChw8c with AVX2) between the library calls that produce and consume them,
// so that conv -> pool -> conv chains and their gradients run without a
// reorder per call. Values are grouped into components joined by elementwise
// ops whose operands all have the result's shape (or are scalars): such an
// op reads and writes every buffer at the same offset, so it computes the
// same on any layout shared by all of them, and generated code needs no
// change. A component is stored blocked when it has more library ports
// (activation operands and results of f32 conv/pool ops) than the reorders
// at its boundary would cost: one tg.relayout to blocked after each value
// defined outside it (an argument, a reshape), one back to plain for each
// value used outside it (a reduction, a reshape, a return). Library ops get
// a tg.blocked mask of their blocked ports.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpu/Passes.h"
#include "codegen/host/Passes.h"
#include "ir/Dialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Debug.h"

#include <functional>

#define DEBUG_TYPE "tg-assign-layouts"

namespace tg {
#define GEN_PASS_DEF_ASSIGNLAYOUTS
#include "codegen/cpu/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {
namespace {

/// The NCHW activation operands of a library op (its result is a port too
/// unless it is a filter gradient, and its bias gradient); empty for other
/// ops.
SmallVector<unsigned> activationOperands(Operation *op) {
  if (llvm::isa<Conv2DOp, FusedConv2DOp, Conv2DBackpropInputOp, MaxPool2DOp, AvgPool2DOp,
                AvgPool2DGradOp>(op))
    return {0};
  if (llvm::isa<Conv2DBackpropFilterOp, Conv2DBackpropFilterBiasOp, MaxPool2DGradOp>(op))
    return {0, 1};
  return {};
}

bool isWindowOp(Operation *op) { return !activationOperands(op).empty(); }
bool resultIsActivation(Operation *op) {
  return !llvm::isa<Conv2DBackpropFilterOp, Conv2DBackpropFilterBiasOp>(op);
}

int64_t groupsOf(Operation *op) {
  if (auto g = op->getAttrOfType<IntegerAttr>("groups"))
    return g.getInt();
  return 1;
}

bool isElementwise(Operation *op) {
  return op->hasTrait<OpTrait::Elementwise>() ||
         llvm::isa<AddOp, SubOp, MulOp, DivOp, PowOp, MaximumOp, MinimumOp, CompareOp, SelectOp,
                   CastOp>(op);
}

RankedTensorType typeOf(Value v) { return llvm::dyn_cast<RankedTensorType>(v.getType()); }

struct AssignLayoutsPass : impl::AssignLayoutsBase<AssignLayoutsPass> {
  using AssignLayoutsBase::AssignLayoutsBase;

  /// A value that can be stored blocked: NCHW with whole channel blocks.
  bool blockable(Value v) const {
    RankedTensorType t = typeOf(v);
    return t && t.getRank() == 4 && t.hasStaticShape() && t.getDimSize(1) % block == 0;
  }

  /// An elementwise op whose non-scalar operands all have its result's
  /// shape: layout-agnostic.
  bool agnostic(Operation *op) const {
    if (!isElementwise(op) || op->getNumResults() != 1 || !blockable(op->getResult(0)))
      return false;
    for (Value v : op->getOperands()) {
      RankedTensorType t = typeOf(v);
      if (!t || (t.getRank() != 0 && t.getShape() != typeOf(op->getResult(0)).getShape()))
        return false;
    }
    return true;
  }

  /// A library op that can take `v` blocked at this use or result.
  bool port(Operation *op, Value v) const {
    if (!isWindowOp(op) || !isLibraryOp(op) || groupsOf(op) != 1 || !blockable(v))
      return false;
    if (resultIsActivation(op) && op->getResult(0) == v)
      return true;
    for (unsigned i : activationOperands(op))
      if (op->getOperand(i) == v)
        return true;
    return false;
  }

  void runOnOperation() override {
    if (block != 8 && block != 16) {
      getOperation().emitError() << "tg-assign-layouts: block must be 8 or 16, got " << block;
      return signalPassFailure();
    }
    getOperation().walk([&](func::FuncOp fn) { assign(fn); });
  }

  void assign(func::FuncOp fn) {
    // Components: values joined by layout-agnostic ops (union-find).
    llvm::DenseMap<Value, Value> parent;
    SmallVector<Value> values;
    std::function<Value(Value)> leader = [&](Value v) -> Value {
      Value p = parent.lookup(v);
      if (p == v)
        return v;
      Value root = leader(p);
      parent[v] = root;
      return root;
    };
    auto add = [&](Value v) {
      if (blockable(v) && parent.try_emplace(v, v).second)
        values.push_back(v);
    };
    fn.walk([&](Operation *op) {
      for (Value v : op->getResults())
        add(v);
      for (Value v : op->getOperands())
        add(v);
      if (!agnostic(op))
        return;
      for (Value v : op->getOperands())
        if (typeOf(v).getRank() != 0)
          parent[leader(v)] = leader(op->getResult(0));
    });

    // Per component: its ports, and the reorders at its boundary.
    struct Component {
      SmallVector<Value> members;
      int ports = 0, reorders = 0;
      bool poisoned = false;
    };
    llvm::MapVector<Value, Component> components;
    for (Value v : values) {
      Component &c = components[leader(v)];
      c.members.push_back(v);
      Operation *def = v.getDefiningOp();
      bool f32 = typeOf(v).getElementType().isF32();
      if (def && port(def, v))
        ++c.ports;
      else if (!def || !agnostic(def)) {
        ++c.reorders; // a tg.relayout to blocked after it
        c.poisoned |= !f32;
      }
      bool outside = false;
      for (OpOperand &use : v.getUses()) {
        Operation *user = use.getOwner();
        if (port(user, v))
          ++c.ports;
        else if (!agnostic(user))
          outside = true;
      }
      // A value defined outside needs no reorder back: its plain form stays.
      if (outside && def && (port(def, v) || agnostic(def))) {
        ++c.reorders;
        c.poisoned |= !f32;
      }
    }

    OpBuilder b(fn.getContext());
    for (auto &[leader, c] : components) {
      if (c.poisoned || c.ports <= c.reorders)
        continue;
      LLVM_DEBUG(llvm::dbgs() << "blocked: " << c.members.size() << " values, " << c.ports
                              << " ports, " << c.reorders << " reorders\n");
      llvm::SmallPtrSet<Value, 8> members(c.members.begin(), c.members.end());
      for (Value v : c.members)
        block1(b, v, members);
    }
  }

  /// Makes `v` (a member of a blocked component) blocked for its users in
  /// the component, with reorders where it meets the outside.
  void block1(OpBuilder &b, Value v, const llvm::SmallPtrSetImpl<Value> &members) {
    Operation *def = v.getDefiningOp();
    bool inside = def && (port(def, v) || agnostic(def));
    auto relayout = [&](bool toBlocked) {
      if (def)
        b.setInsertionPointAfter(def);
      else
        b.setInsertionPointToStart(llvm::cast<BlockArgument>(v).getOwner());
      return b.create<RelayoutOp>(v.getLoc(), v, toBlocked, int64_t(block));
    };
    if (!inside) {
      // Plain from outside: users inside read a blocked copy.
      RelayoutOp r = relayout(true);
      v.replaceUsesWithIf(r.getResult(), [&](OpOperand &use) {
        return use.getOwner() != r &&
               (port(use.getOwner(), v) || (agnostic(use.getOwner()) &&
                                            members.contains(use.getOwner()->getResult(0))));
      });
      markPorts(r.getResult());
      return;
    }
    markPorts(v);
    bool outside = llvm::any_of(v.getUses(), [&](OpOperand &use) {
      return !port(use.getOwner(), v) && !agnostic(use.getOwner());
    });
    if (!outside)
      return;
    RelayoutOp r = relayout(false);
    v.replaceUsesWithIf(r.getResult(), [&](OpOperand &use) {
      Operation *user = use.getOwner();
      return user != r && !port(user, v) && !agnostic(user);
    });
  }

  /// Sets the bits of `v`'s ports in their ops' tg.blocked masks.
  void markPorts(Value v) {
    auto mark = [&](Operation *op, unsigned bit) {
      int64_t mask = 0;
      if (auto m = op->getAttrOfType<IntegerAttr>(TgDialect::kBlockedAttr))
        mask = m.getInt();
      Builder b(op->getContext());
      op->setAttr(TgDialect::kBlockedAttr, b.getI64IntegerAttr(mask | (int64_t(1) << bit)));
      op->setAttr(TgDialect::kBlockAttr, b.getI64IntegerAttr(block));
    };
    if (Operation *def = v.getDefiningOp(); def && port(def, v))
      mark(def, unsigned(activationOperands(def).size()));
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (!port(user, v))
        continue;
      SmallVector<unsigned> operands = activationOperands(user);
      for (unsigned k = 0; k < operands.size(); ++k)
        if (operands[k] == use.getOperandNumber())
          mark(user, k);
    }
  }
};

} // namespace
} // namespace tg
