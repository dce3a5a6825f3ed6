//===- GradientBuilder.cpp - emitting tg ops from C++ passes --------------===//
#include "ir/GradientBuilder.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/ErrorHandling.h"

using namespace mlir;

namespace tg {

Value GradientBuilder::createNamed(StringRef name, ValueRange operands,
                                   ArrayRef<NamedAttribute> attrs, Type resultType) {
  OperationState state(loc, name);
  state.addOperands(operands);
  state.addAttributes(attrs);
  if (resultType) {
    state.addTypes(resultType);
  } else {
    auto info = RegisteredOperationName::lookup(name, b.getContext());
    auto *iface = info ? info->getInterface<InferTypeOpInterface>() : nullptr;
    SmallVector<Type, 1> types;
    // Gradient rules build only well-typed ops; a failure here is a bug in a
    // rule, reported with the op's own diagnostic before we stop.
    if (!iface || failed(iface->inferReturnTypes(b.getContext(), loc, operands,
                                                 state.attributes.getDictionary(b.getContext()),
                                                 OpaqueProperties(nullptr), {}, types)))
      llvm::report_fatal_error(llvm::Twine("tg: cannot infer the type of ") + name +
                               " built by a gradient rule");
    state.addTypes(types);
  }
  return b.create(state)->getResult(0);
}

Value GradientBuilder::scalar(double value, Type elt) {
  return splat(RankedTensorType::get({}, elt), value);
}

Value GradientBuilder::splat(RankedTensorType type, double value) {
  Attribute v;
  if (auto f = llvm::dyn_cast<FloatType>(type.getElementType()))
    v = FloatAttr::get(f, value);
  else
    v = IntegerAttr::get(type.getElementType(), int64_t(value));
  return create<ConstantOp>({}, {attr("value", DenseElementsAttr::get(type, v))});
}

Value GradientBuilder::add(Value a, Value c) { return create<AddOp>({a, c}); }
Value GradientBuilder::sub(Value a, Value c) { return create<SubOp>({a, c}); }
Value GradientBuilder::mul(Value a, Value c) { return create<MulOp>({a, c}); }
Value GradientBuilder::div(Value a, Value c) { return create<DivOp>({a, c}); }
Value GradientBuilder::neg(Value a) { return create<NegOp>({a}, {}, a.getType()); }

Value GradientBuilder::mask(Value a, Value c, StringRef predicate, Type elt) {
  Value m = create<CompareOp>({a, c}, {attr("predicate", b.getStringAttr(predicate))});
  return cast(m, elt);
}

Value GradientBuilder::cast(Value v, Type elt) {
  auto t = typeOf(v);
  if (t.getElementType() == elt)
    return v;
  return create<CastOp>({v}, {}, RankedTensorType::get(t.getShape(), elt));
}

Value GradientBuilder::reshape(Value v, ArrayRef<int64_t> shape) {
  auto t = typeOf(v);
  if (t.getShape() == shape)
    return v;
  return create<ReshapeOp>({v}, {}, RankedTensorType::get(shape, t.getElementType()));
}

Value GradientBuilder::broadcastTo(Value v, ArrayRef<int64_t> shape) {
  auto t = typeOf(v);
  if (t.getShape() == shape)
    return v;
  return create<BroadcastToOp>({v}, {}, RankedTensorType::get(shape, t.getElementType()));
}

Value GradientBuilder::reduce(Value v, StringRef kind, ArrayRef<int64_t> axes, bool keepdims) {
  return create<ReduceOp>({v}, {attr("kind", b.getStringAttr(kind)), arrayAttr("axes", axes),
                                attr("keepdims", b.getBoolAttr(keepdims))});
}

Value GradientBuilder::unbroadcast(Value v, RankedTensorType target) {
  auto t = typeOf(v);
  if (t.getShape() == target.getShape())
    return v;
  int64_t lead = t.getRank() - target.getRank();
  SmallVector<int64_t> axes;
  for (int64_t i = 0; i < t.getRank(); ++i)
    if (i < lead || (target.getDimSize(i - lead) == 1 && t.getDimSize(i) != 1))
      axes.push_back(i);
  if (!axes.empty())
    v = reduce(v, "sum", axes, /*keepdims=*/false);
  return reshape(v, target.getShape());
}

} // namespace tg
