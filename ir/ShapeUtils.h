//===- ShapeUtils.h - shape rules shared by verifiers and interpreter -----===//
//
// Pure functions on shapes, so the verifier, the frontend and the reference
// interpreter apply exactly one rule per op.
//
//===----------------------------------------------------------------------===//
#ifndef TG_IR_SHAPEUTILS_H
#define TG_IR_SHAPEUTILS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/ADT/SmallVector.h"
#include <cstdint>
#include <optional>
#include <string>

namespace tg {

using Shape = llvm::SmallVector<int64_t, 4>;

/// NumPy broadcast of two shapes; nullopt if incompatible.
std::optional<Shape> broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b);

/// True if `from` broadcasts to exactly `to`.
bool broadcastsTo(llvm::ArrayRef<int64_t> from, llvm::ArrayRef<int64_t> to);

/// Product of dimensions.
int64_t numElements(llvm::ArrayRef<int64_t> shape);

/// "[2, 3]" for messages.
std::string shapeStr(llvm::ArrayRef<int64_t> shape);

/// Output size of a sliding window along one dimension (non-negative
/// operands); <= 0 when the window does not fit, std::nullopt when the padded
/// input or the dilated window overflows 64 bits (callers report both).
inline std::optional<int64_t> windowOutputSize(int64_t in, int64_t padLo, int64_t padHi,
                                               int64_t kernel, int64_t stride,
                                               int64_t dilation = 1) {
  std::optional<int64_t> dilated = llvm::checkedMul(dilation, kernel - 1);
  std::optional<int64_t> span = dilated ? llvm::checkedAdd(*dilated, int64_t(1)) : std::nullopt;
  std::optional<int64_t> lo = llvm::checkedAdd(in, padLo);
  std::optional<int64_t> padded = lo ? llvm::checkedAdd(*lo, padHi) : std::nullopt;
  if (!span || !padded)
    return std::nullopt;
  if (*padded < *span)
    return 0;
  return (*padded - *span) / stride + 1;
}

/// Conv2D geometry checked once for conv2d and both of its gradient ops.
struct Conv2DGeometry {
  llvm::ArrayRef<int64_t> strides, padding, dilations;
  int64_t groups;
};

/// Output shape of conv2d(input, filter) or an error message.
std::optional<Shape> conv2dOutputShape(llvm::ArrayRef<int64_t> input,
                                       llvm::ArrayRef<int64_t> filter, const Conv2DGeometry &g,
                                       std::string &error);

/// Output shape of 2-D pooling or an error message.
std::optional<Shape> pool2dOutputShape(llvm::ArrayRef<int64_t> input,
                                       llvm::ArrayRef<int64_t> kernel,
                                       llvm::ArrayRef<int64_t> strides,
                                       llvm::ArrayRef<int64_t> padding, std::string &error);

/// Row-major strides of a shape.
Shape rowMajorStrides(llvm::ArrayRef<int64_t> shape);

} // namespace tg

#endif // TG_IR_SHAPEUTILS_H
