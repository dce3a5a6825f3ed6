//===- Api.cpp - public entry points of the reference interpreter ---------===//
#include "frontend/ModuleImpl.h"
#include "interpreter/Interpreter.h"
#include "ir/Dialect.h"

#include "absl/strings/str_cat.h"

using namespace mlir;

namespace tg {

absl::StatusOr<std::vector<Tensor>> interpret(const Module &module, absl::string_view name,
                                              const std::vector<Tensor> &args,
                                              const InterpretOptions &options) {
  auto fn = findFunction(*module.impl().module, name);
  if (!fn.ok())
    return fn.status();
  return interpretFunction(*fn, args, options);
}

absl::StatusOr<NamedTensors> interpretNamed(const Module &module, absl::string_view name,
                                            const NamedTensors &inputs,
                                            const InterpretOptions &options) {
  auto fn = findFunction(*module.impl().module, name);
  if (!fn.ok())
    return fn.status();
  std::vector<Tensor> args;
  size_t used = 0;
  for (unsigned i = 0; i < fn->getNumArguments(); ++i) {
    std::string argN = argName(*fn, i);
    auto it = inputs.find(argN);
    if (it == inputs.end())
      return absl::InvalidArgumentError(absl::StrCat("no value given for argument '", argN,
                                                     "' of '", fn->getSymName().str(), "'"));
    args.push_back(it->second);
    ++used;
  }
  if (used != inputs.size())
    for (const auto &[key, value] : inputs) {
      bool known = false;
      for (unsigned i = 0; i < fn->getNumArguments(); ++i)
        known = known || argName(*fn, i) == key;
      if (!known)
        return absl::InvalidArgumentError(
            absl::StrCat("'", fn->getSymName().str(), "' has no argument named '", key, "'"));
    }
  auto results = interpretFunction(*fn, args, options);
  if (!results.ok())
    return results.status();
  NamedTensors out;
  for (unsigned i = 0; i < results->size(); ++i)
    out[resultName(*fn, i)] = std::move((*results)[i]);
  return out;
}

absl::StatusOr<NamedTensors> initializeParams(const Module &module, absl::string_view name,
                                              uint64_t seed) {
  auto fn = findFunction(*module.impl().module, name);
  if (!fn.ok())
    return fn.status();
  NamedTensors params;
  for (unsigned i = 0; i < fn->getNumArguments(); ++i) {
    if (!isPersistent(argRole(*fn, i)))
      continue;
    if (!fn->getArgAttr(i, TgDialect::kInitAttr)) { // state without an initializer: zeros
      auto t = llvm::cast<RankedTensorType>(fn->getArgumentTypes()[i]);
      auto dt = dtypeOf(t.getElementType());
      if (!dt.ok())
        return dt.status();
      params[argName(*fn, i)] = Tensor::full(*dt, {t.getShape().begin(), t.getShape().end()});
      continue;
    }
    auto value = initialValue(*fn, i, seed);
    if (!value.ok())
      return value.status();
    params[argName(*fn, i)] = std::move(*value);
  }
  return params;
}

absl::StatusOr<NamedTensors> interpretStep(const Module &module, absl::string_view name,
                                           NamedTensors &inputs, const InterpretOptions &options) {
  auto fn = findFunction(*module.impl().module, name);
  if (!fn.ok())
    return fn.status();
  NamedTensors feed = inputs;
  for (unsigned i = 0; i < fn->getNumArguments(); ++i) {
    std::string argN = argName(*fn, i);
    auto dflt = fn->getArgAttr(i, TgDialect::kDefaultAttr);
    if (feed.count(argN) || !dflt)
      continue;
    double v = 0;
    if (auto f = llvm::dyn_cast<FloatAttr>(dflt))
      v = f.getValueAsDouble();
    else if (auto n = llvm::dyn_cast<IntegerAttr>(dflt))
      v = double(n.getInt());
    auto dt = dtypeOf(llvm::cast<RankedTensorType>(fn->getArgumentTypes()[i]).getElementType());
    if (!dt.ok())
      return dt.status();
    feed[argN] = Tensor::scalar(v, *dt);
  }
  auto out = interpretNamed(module, name, feed, options);
  if (!out.ok())
    return out.status();
  for (unsigned i = 0; i < fn->getNumResults(); ++i)
    if (auto alias = fn->getResultAttrOfType<IntegerAttr>(i, TgDialect::kAliasAttr))
      inputs[argName(*fn, unsigned(alias.getInt()))] = out->at(resultName(*fn, i));
  return out;
}

} // namespace tg
