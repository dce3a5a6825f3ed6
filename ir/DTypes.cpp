//===- DTypes.cpp - tg::DType <-> MLIR element types ---------------------===//
#include "ir/DTypes.h"

#include "llvm/Support/raw_ostream.h"

#include "absl/strings/str_cat.h"

namespace tg {

absl::StatusOr<DType> dtypeOf(mlir::Type t) {
  if (t.isF32())
    return DType::f32;
  if (t.isF16())
    return DType::f16;
  if (t.isBF16())
    return DType::bf16;
  if (t.isF64())
    return DType::f64;
  if (t.isInteger(1))
    return DType::i1;
  if (t.isInteger(32))
    return DType::i32;
  if (t.isInteger(64))
    return DType::i64;
  std::string s;
  llvm::raw_string_ostream(s) << t;
  return absl::InvalidArgumentError(absl::StrCat("unsupported element type ", s));
}

} // namespace tg
