//===- GradientBuilder.h - emitting tg ops from C++ passes -----*- C++ -*-===//
//
// A thin builder over OpBuilder for code that writes tg math (gradient rules,
// optimizer updates): ops are created generically with inferred result types,
// scalars are rank-0 constants that broadcast.
//
//===----------------------------------------------------------------------===//
#ifndef TG_IR_GRADIENTBUILDER_H
#define TG_IR_GRADIENTBUILDER_H

#include "ir/Dialect.h"

#include "mlir/IR/Builders.h"

namespace tg {

class GradientBuilder {
public:
  GradientBuilder(mlir::OpBuilder &b, mlir::Location loc) : b(b), loc(loc) {}

  mlir::OpBuilder &builder() { return b; }
  mlir::Location location() const { return loc; }

  /// Creates op `OpTy` with the given operands and attributes. With a null
  /// `resultType` the type is inferred (the op must implement inference).
  template <typename OpTy>
  mlir::Value create(mlir::ValueRange operands, llvm::ArrayRef<mlir::NamedAttribute> attrs = {},
                     mlir::Type resultType = {}) {
    return createNamed(OpTy::getOperationName(), operands, attrs, resultType);
  }
  mlir::Value createNamed(llvm::StringRef name, mlir::ValueRange operands,
                          llvm::ArrayRef<mlir::NamedAttribute> attrs, mlir::Type resultType);

  mlir::NamedAttribute attr(llvm::StringRef name, mlir::Attribute value) {
    return b.getNamedAttr(name, value);
  }
  mlir::NamedAttribute i64Attr(llvm::StringRef name, int64_t v) {
    return attr(name, b.getI64IntegerAttr(v));
  }
  mlir::NamedAttribute arrayAttr(llvm::StringRef name, llvm::ArrayRef<int64_t> v) {
    return attr(name, b.getDenseI64ArrayAttr(v));
  }

  /// A rank-0 constant of element type `elt`.
  mlir::Value scalar(double value, mlir::Type elt);
  /// A splat constant of `type`.
  mlir::Value splat(mlir::RankedTensorType type, double value);
  mlir::Value zerosLike(mlir::Value v) { return splat(typeOf(v), 0.0); }

  mlir::Value add(mlir::Value a, mlir::Value b);
  mlir::Value sub(mlir::Value a, mlir::Value b);
  mlir::Value mul(mlir::Value a, mlir::Value b);
  mlir::Value div(mlir::Value a, mlir::Value b);
  mlir::Value neg(mlir::Value a);
  mlir::Value mul(mlir::Value a, double s) { return mul(a, scalar(s, eltOf(a))); }
  mlir::Value add(mlir::Value a, double s) { return add(a, scalar(s, eltOf(a))); }
  /// cast(compare(a, b, predicate)) to element type `elt`: 1 where true.
  mlir::Value mask(mlir::Value a, mlir::Value b, llvm::StringRef predicate, mlir::Type elt);
  mlir::Value cast(mlir::Value v, mlir::Type elt);
  mlir::Value reshape(mlir::Value v, llvm::ArrayRef<int64_t> shape);
  mlir::Value broadcastTo(mlir::Value v, llvm::ArrayRef<int64_t> shape);
  mlir::Value reduce(mlir::Value v, llvm::StringRef kind, llvm::ArrayRef<int64_t> axes,
                     bool keepdims);
  /// Sums a broadcast result back to `target`'s shape (NumPy rules).
  mlir::Value unbroadcast(mlir::Value v, mlir::RankedTensorType target);

  static mlir::RankedTensorType typeOf(mlir::Value v) {
    return llvm::cast<mlir::RankedTensorType>(v.getType());
  }
  static mlir::Type eltOf(mlir::Value v) { return typeOf(v).getElementType(); }

private:
  mlir::OpBuilder &b;
  mlir::Location loc;
};

} // namespace tg

#endif // TG_IR_GRADIENTBUILDER_H
