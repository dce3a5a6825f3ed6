//===- Initializers.cpp - initial values of params from tg.init -----------===//
//
// The tg.init attribute, read into an InitSpec; the values come from the
// runtime's implementation (runtime/Init.cpp), shared with compiled artifacts.
//
//===----------------------------------------------------------------------===//
#include "interpreter/Interpreter.h"
#include "ir/Dialect.h"
#include "support/Init.h"

#include "absl/strings/str_cat.h"

#include <cmath>

using namespace mlir;

namespace tg {

absl::StatusOr<Tensor> initialValue(func::FuncOp fn, unsigned argIndex, uint64_t seed) {
  auto type = llvm::cast<RankedTensorType>(fn.getArgumentTypes()[argIndex]);
  auto dt = dtypeOf(type.getElementType());
  if (!dt.ok())
    return dt.status();
  std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
  Tensor t = Tensor::full(*dt, shape, 0.0);
  auto init = fn.getArgAttrOfType<DictionaryAttr>(argIndex, TgDialect::kInitAttr);
  if (!init)
    return t;
  InitSpec spec;
  spec.kind = init.getAs<StringAttr>("kind").getValue().str();
  for (NamedAttribute a : init) {
    if (auto f = llvm::dyn_cast<FloatAttr>(a.getValue()))
      spec.fields[a.getName().str()] = f.getValueAsDouble();
    else if (auto i = llvm::dyn_cast<IntegerAttr>(a.getValue()))
      spec.fields[a.getName().str()] = double(i.getInt());
  }
  auto name = fn.getArgAttrOfType<StringAttr>(argIndex, TgDialect::kNameAttr);
  auto values = initialValues(spec, shape, seed,
                              name ? name.getValue().str() : "#" + std::to_string(argIndex));
  if (!values.ok())
    return values.status();
  t.data = std::move(*values);
  for (double &x : t.data)
    x = isFloat(t.dtype) && t.dtype != DType::f64 ? double(float(x)) : x;
  return t;
}

} // namespace tg
