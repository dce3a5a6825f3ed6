//===- Module.cpp - parsing, verifying and describing tg modules ----------===//
#include "frontend/ModuleImpl.h"
#include "ir/DTypes.h"
#include "ir/Dialect.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include "absl/strings/str_cat.h"

using namespace mlir;

namespace tg {

std::unique_ptr<MLIRContext> createContext() {
  auto ctx = std::make_unique<MLIRContext>(MLIRContext::Threading::DISABLED);
  ctx->loadDialect<TgDialect, func::FuncDialect>();
  // Errors name their location and what is wrong; attaching the offending op
  // would print invalid IR, and MLIR 19's printer crashes on some (fuzzing
  // found an i1 dense array in an i64 array attribute: a null memcpy).
  ctx->printOpOnDiagnostic(false);
  return ctx;
}

Module wrapModule(std::unique_ptr<MLIRContext> context, OwningOpRef<ModuleOp> module) {
  auto impl = std::make_shared<Module::Impl>();
  impl->context = std::move(context);
  impl->module = std::move(module);
  return Module(std::move(impl));
}

absl::StatusOr<Module> Module::parse(absl::string_view text, absl::string_view bufferName) {
  auto ctx = createContext();
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(text.data(), text.size()),
                                           llvm::StringRef(bufferName.data(), bufferName.size())),
      llvm::SMLoc());
  std::string errors;
  llvm::raw_string_ostream os(errors);
  OwningOpRef<ModuleOp> module;
  {
    SourceMgrDiagnosticHandler handler(sourceMgr, ctx.get(), os);
    module = parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(ctx.get()));
  }
  if (!module)
    return absl::InvalidArgumentError(errors.empty() ? absl::StrCat(bufferName, ": invalid module")
                                                     : errors);
  return wrapModule(std::move(ctx), std::move(module));
}

absl::StatusOr<Module> Module::load(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return absl::ErrnoToStatus(buffer.getError().value(), absl::StrCat("cannot read '", path, "'"));
  return parse((*buffer)->getBuffer().str(), path);
}

std::string Module::str() const {
  std::string s;
  llvm::raw_string_ostream os(s);
  impl_->module->print(os);
  return s;
}

std::vector<std::string> Module::functionNames() const {
  std::vector<std::string> names;
  for (auto fn : impl_->module->getOps<func::FuncOp>())
    names.push_back(fn.getSymName().str());
  return names;
}

absl::StatusOr<func::FuncOp> findFunction(ModuleOp module, absl::string_view name) {
  auto fns = module.getOps<func::FuncOp>();
  if (name.empty()) {
    if (std::distance(fns.begin(), fns.end()) != 1)
      return absl::InvalidArgumentError(
          "the module has several functions (or none): name the one to use");
    return *fns.begin();
  }
  if (auto fn = module.lookupSymbol<func::FuncOp>(llvm::StringRef(name.data(), name.size())))
    return fn;
  std::string known;
  for (auto fn : fns)
    absl::StrAppend(&known, known.empty() ? "" : ", ", fn.getSymName().str());
  return absl::NotFoundError(
      absl::StrCat("no function '", name, "' in the module (it has: ", known, ")"));
}

std::string argName(func::FuncOp fn, unsigned i) {
  if (auto s = fn.getArgAttrOfType<StringAttr>(i, TgDialect::kNameAttr))
    return s.getValue().str();
  return absl::StrCat("arg", i);
}

std::string resultName(func::FuncOp fn, unsigned i) {
  if (auto s = fn.getResultAttrOfType<StringAttr>(i, TgDialect::kNameAttr))
    return s.getValue().str();
  return absl::StrCat("result", i);
}

static absl::StatusOr<ValueInfo> describe(Type type, std::string name, Role role) {
  auto t = llvm::dyn_cast<RankedTensorType>(type);
  if (!t)
    return absl::InvalidArgumentError(absl::StrCat("'", name, "' is not a ranked tensor"));
  auto dt = dtypeOf(t.getElementType());
  if (!dt.ok())
    return dt.status();
  return ValueInfo{std::move(name), role, *dt,
                   std::vector<int64_t>(t.getShape().begin(), t.getShape().end())};
}

absl::StatusOr<Signature> Module::signature(absl::string_view name) const {
  auto fn = findFunction(*impl_->module, name);
  if (!fn.ok())
    return fn.status();
  Signature sig;
  for (unsigned i = 0; i < fn->getNumArguments(); ++i) {
    auto info = describe(fn->getArgumentTypes()[i], argName(*fn, i), argRole(*fn, i));
    if (!info.ok())
      return info.status();
    sig.args.push_back(*info);
  }
  for (unsigned i = 0; i < fn->getNumResults(); ++i) {
    auto info = describe(fn->getResultTypes()[i], resultName(*fn, i), Role::None);
    if (!info.ok())
      return info.status();
    if (auto alias = fn->getResultAttrOfType<IntegerAttr>(i, TgDialect::kAliasAttr))
      info->alias = int(alias.getInt());
    sig.results.push_back(*info);
  }
  return sig;
}

} // namespace tg
