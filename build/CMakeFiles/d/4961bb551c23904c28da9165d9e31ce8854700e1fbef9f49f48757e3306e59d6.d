ir/ir/TgDialect.cpp.inc: \
  /usr/lib/llvm-19/include/mlir/IR/AttrTypeBase.td \
  /usr/lib/llvm-19/include/mlir/IR/CommonAttrConstraints.td \
  /usr/lib/llvm-19/include/mlir/IR/CommonTypeConstraints.td \
  /usr/lib/llvm-19/include/mlir/IR/Constraints.td \
  /usr/lib/llvm-19/include/mlir/IR/DialectBase.td \
  /usr/lib/llvm-19/include/mlir/IR/Interfaces.td \
  /usr/lib/llvm-19/include/mlir/IR/OpBase.td \
  /usr/lib/llvm-19/include/mlir/IR/Properties.td \
  /usr/lib/llvm-19/include/mlir/IR/Traits.td \
  /usr/lib/llvm-19/include/mlir/IR/Utils.td \
  /usr/lib/llvm-19/include/mlir/Interfaces/InferTypeOpInterface.td \
  /usr/lib/llvm-19/include/mlir/Interfaces/SideEffectInterfaceBase.td \
  /usr/lib/llvm-19/include/mlir/Interfaces/SideEffectInterfaces.td \
  /work/main/ir/TgBase.td
