//===- TgInterfaces.td - tg op interfaces -------------------*- tablegen -*-===//
//
// GradientOpInterface: the per-op rule that tg-autodiff chains in reverse.
//
//===----------------------------------------------------------------------===//

#ifndef TG_INTERFACES_TD
#define TG_INTERFACES_TD

include "mlir/IR/OpBase.td"

def Tg_GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let cppNamespace = "::tg";
  let description = [{
    A differentiable op builds its vector-Jacobian product out of `tg` ops:
    given the cotangent of its result, it emits ops (at the builder's
    insertion point) computing the cotangent of each operand. The cotangent of
    an operand has exactly that operand's type (broadcasts are summed back).
    Operands whose gradient is not needed, or that are not floating point,
    get a null value.
  }];
  let methods = [
    InterfaceMethod<
      /*desc=*/[{Builds d(loss)/d(operand) for every operand with `needed[i]`
      set, from `resultGrad` = d(loss)/d(result). Fills `operandGrads`
      (one entry per operand, null when not built).}],
      /*retTy=*/"::mlir::LogicalResult",
      /*methodName=*/"buildVjp",
      /*args=*/(ins "::mlir::OpBuilder &":$builder, "::mlir::Value":$resultGrad,
                    "::llvm::ArrayRef<bool>":$needed,
                    "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>
  ];
}

#endif // TG_INTERFACES_TD
