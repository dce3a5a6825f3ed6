//===- Tensor.cpp - host tensors -------------------------------------------===//
#include "tg/Tensor.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <cassert>

namespace tg {

absl::string_view dtypeName(DType dtype) {
  switch (dtype) {
  case DType::f32:
    return "f32";
  case DType::f16:
    return "f16";
  case DType::bf16:
    return "bf16";
  case DType::f64:
    return "f64";
  case DType::i1:
    return "i1";
  case DType::i32:
    return "i32";
  case DType::i64:
    return "i64";
  }
  return "?";
}

absl::StatusOr<DType> parseDType(absl::string_view name) {
  for (DType d :
       {DType::f32, DType::f16, DType::bf16, DType::f64, DType::i1, DType::i32, DType::i64})
    if (dtypeName(d) == name)
      return d;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown dtype '", name, "' (expected f32, f16, bf16, f64, i1, i32 or i64)"));
}

bool isFloat(DType dtype) {
  return dtype == DType::f32 || dtype == DType::f16 || dtype == DType::bf16 || dtype == DType::f64;
}

std::string shapeToString(const std::vector<int64_t> &shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

int64_t numElements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

Tensor Tensor::full(DType dtype, std::vector<int64_t> shape, double value) {
  Tensor t;
  t.dtype = dtype;
  t.data.assign(size_t(tg::numElements(shape)), value);
  t.shape = std::move(shape);
  return t;
}

absl::StatusOr<Tensor> Tensor::of(DType dtype, std::vector<int64_t> shape,
                                  std::vector<double> values) {
  for (int64_t d : shape)
    if (d < 0)
      return absl::InvalidArgumentError(
          absl::StrCat("negative dimension in shape ", shapeToString(shape)));
  if (int64_t(values.size()) != tg::numElements(shape))
    return absl::InvalidArgumentError(absl::StrCat("shape ", shapeToString(shape), " needs ",
                                                   tg::numElements(shape), " values, got ",
                                                   values.size()));
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.data = std::move(values);
  return t;
}

Tensor Tensor::scalar(double value, DType dtype) { return full(dtype, {}, value); }

double Tensor::at(const std::vector<int64_t> &index) const {
  assert(index.size() == shape.size() && "index rank mismatch");
  int64_t off = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    off = off * shape[d] + index[d];
  return data[size_t(off)];
}

std::string Tensor::typeString() const {
  std::string s = "tensor<";
  for (int64_t d : shape)
    absl::StrAppend(&s, d, "x");
  absl::StrAppend(&s, dtypeName(dtype), ">");
  return s;
}

} // namespace tg
