//===- ReverseMode.h - the reverse sweep shared by autodiff and scan VJPs -===//
//
// tg-autodiff runs one ReverseSweep over a function body; the VJP of a
// tg.scan runs another over (a copy of) the scan's body, so nested scans
// differentiate by recursion.
//
//===----------------------------------------------------------------------===//
#ifndef TG_PASSES_REVERSEMODE_H
#define TG_PASSES_REVERSEMODE_H

#include "ir/Dialect.h"
#include "ir/GradientBuilder.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"

#include <functional>

namespace tg {

class ReverseSweep {
public:
  /// `active(v)`: v is a float value that depends on a differentiated input.
  ReverseSweep(mlir::OpBuilder &b, mlir::Location loc, std::function<bool(mlir::Value)> active,
               llvm::StringRef lossName)
      : b(b), gb(b, loc), active(std::move(active)), lossName(lossName) {}

  mlir::OpBuilder &builder() { return b; }
  GradientBuilder &gradients() { return gb; }
  bool isActive(mlir::Value v) const { return active(v); }
  llvm::StringRef loss() const { return lossName; }

  /// Adds `g` to the cotangent of `v`.
  void accumulate(mlir::Value v, mlir::Value g);
  /// The cotangent of `v` so far (null if none reached it).
  mlir::Value lookup(mlir::Value v) const { return cotangent.lookup(v); }

  /// Differentiates `ops` (program order) in reverse, emitting gradient code
  /// at the builder's insertion point.
  mlir::LogicalResult run(llvm::ArrayRef<mlir::Operation *> ops);

private:
  mlir::OpBuilder &b;
  GradientBuilder gb;
  std::function<bool(mlir::Value)> active;
  std::string lossName;
  llvm::DenseMap<mlir::Value, mlir::Value> cotangent;
};

/// The VJP of a tg.scan (ScanGradient.cpp): a reverse scan, emitted at the
/// sweep's insertion point, taking the cotangents of `op`'s results from the
/// sweep and adding those of its operands and of the values its body uses
/// from outside. `op` is replaced by a scan that also stacks what the
/// reverse scan needs.
mlir::LogicalResult buildScanVjp(ScanOp op, ReverseSweep &sweep);

/// A ranked tensor of floats: what a cotangent can flow through.
inline bool isFloatTensor(mlir::Value v) {
  auto t = llvm::dyn_cast<mlir::RankedTensorType>(v.getType());
  return t && llvm::isa<mlir::FloatType>(t.getElementType());
}

/// The operands of `op` and the values its regions use from outside it.
void usedValues(mlir::Operation *op, llvm::SmallVectorImpl<mlir::Value> &out);

} // namespace tg

#endif // TG_PASSES_REVERSEMODE_H
