//===- Tensor.h - host tensors for the interpreter and tests ----*- C++ -*-===//
//
// A deliberately simple host tensor: a dtype tag, a row-major shape and the
// values as doubles. Doubles hold every f32/f16/bf16 value and every integer
// up to 2^53 exactly, so one storage type serves every dtype and the float64
// mode of the interpreter.
//
//===----------------------------------------------------------------------===//
#ifndef TG_TENSOR_H
#define TG_TENSOR_H

#include "absl/status/statusor.h"

#include "absl/strings/string_view.h"
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tg {

enum class DType { f32, f16, bf16, f64, i1, i32, i64 };

/// "f32", "i64", ... (the MLIR spelling).
absl::string_view dtypeName(DType dtype);
/// Parses an MLIR element type spelling; error for anything else.
absl::StatusOr<DType> parseDType(absl::string_view name);
bool isFloat(DType dtype);

/// "[2, 3]".
std::string shapeToString(const std::vector<int64_t> &shape);
int64_t numElements(const std::vector<int64_t> &shape);

struct Tensor {
  DType dtype = DType::f32;
  std::vector<int64_t> shape;
  std::vector<double> data;

  /// A tensor filled with `value`.
  static Tensor full(DType dtype, std::vector<int64_t> shape, double value = 0.0);
  /// A tensor holding `values` (row-major); error if the count does not fit.
  static absl::StatusOr<Tensor> of(DType dtype, std::vector<int64_t> shape,
                                   std::vector<double> values);
  /// A rank-0 tensor.
  static Tensor scalar(double value, DType dtype = DType::f32);

  int64_t numElements() const { return static_cast<int64_t>(data.size()); }
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  /// Element at a multi-index (no bounds check beyond an assertion: for tests).
  double at(const std::vector<int64_t> &index) const;
  /// "tensor<2x3xf32>".
  std::string typeString() const;
};

using NamedTensors = std::map<std::string, Tensor>;

} // namespace tg

#endif // TG_TENSOR_H
