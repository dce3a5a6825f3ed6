//===- DTypes.h - tg::DType <-> MLIR element types --------------*- C++ -*-===//
#ifndef TG_IR_DTYPES_H
#define TG_IR_DTYPES_H

#include "tg/Tensor.h"

#include "mlir/IR/Types.h"

namespace tg {

/// DType of an MLIR element type (error for unsupported ones).
absl::StatusOr<DType> dtypeOf(mlir::Type elementType);

} // namespace tg

#endif // TG_IR_DTYPES_H
