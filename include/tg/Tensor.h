//===- Tensor.h - host tensors for the interpreter and tests ----*- C++ -*-===//
//
// A deliberately simple host tensor: a dtype tag, a row-major shape and the
// values as doubles. Doubles hold every f32/f16/bf16 value and every integer
// up to 2^53 exactly, so one storage type serves every dtype and the float64
// mode of the interpreter.
//
//===----------------------------------------------------------------------===//
/// \file
/// tg::Tensor, the host tensor that the reference interpreter, tg::compile's
/// Executable and the tests exchange, and the DType element types.

#ifndef TG_TENSOR_H
#define TG_TENSOR_H

#include "absl/status/statusor.h"

#include "absl/strings/string_view.h"
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tg {

/// Element type of a tensor, named by its MLIR spelling (dtypeName()): floats
/// f32, f16, bf16 (bfloat16) and f64; i1 booleans (0 or 1, e.g. the mask of
/// ops::compare); i32 and i64 signed integers.
enum class DType { f32, f16, bf16, f64, i1, i32, i64 };

/// "f32", "i64", ... (the MLIR spelling).
absl::string_view dtypeName(DType dtype);
/// Parses an MLIR element type spelling; error for anything else.
absl::StatusOr<DType> parseDType(absl::string_view name);
/// True for the floating-point types (f32, f16, bf16, f64).
bool isFloat(DType dtype);

/// "[2, 3]".
std::string shapeToString(const std::vector<int64_t> &shape);
/// The product of the dimensions (1 for a scalar's empty shape).
int64_t numElements(const std::vector<int64_t> &shape);

/// A host tensor: a dtype tag, a row-major shape and the values as doubles,
/// which hold every f32/f16/bf16 value and every integer up to 2^53 exactly.
/// Plain data: only Tensor::of() checks that `data` fits `shape`.
struct Tensor {
  DType dtype = DType::f32;   ///< Element type; values are kept as doubles.
  std::vector<int64_t> shape; ///< Dimensions, outermost first; empty for a scalar.
  std::vector<double> data;   ///< Values in row-major order.

  /// A tensor filled with `value`.
  static Tensor full(DType dtype, std::vector<int64_t> shape, double value = 0.0);
  /// A tensor holding `values` (row-major); InvalidArgument if a dimension is
  /// negative or the count does not fit the shape.
  static absl::StatusOr<Tensor> of(DType dtype, std::vector<int64_t> shape,
                                   std::vector<double> values);
  /// A rank-0 tensor.
  static Tensor scalar(double value, DType dtype = DType::f32);

  /// Number of stored values (data.size(), not recomputed from the shape).
  int64_t numElements() const { return static_cast<int64_t>(data.size()); }
  /// Number of dimensions (0 for a scalar).
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  /// Element at a multi-index (for tests: only the index's rank is asserted,
  /// no bounds are checked).
  double at(const std::vector<int64_t> &index) const;
  /// "tensor<2x3xf32>".
  std::string typeString() const;
};

/// Tensors by argument or result name (tg.name).
using NamedTensors = std::map<std::string, Tensor>;

} // namespace tg

#endif // TG_TENSOR_H
