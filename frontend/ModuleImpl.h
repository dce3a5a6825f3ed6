//===- ModuleImpl.h - MLIR side of tg::Module (internal) -------*- C++ -*-===//
#ifndef TG_FRONTEND_MODULEIMPL_H
#define TG_FRONTEND_MODULEIMPL_H

#include "tg/Module.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

namespace tg {

struct Module::Impl {
  // Declared first so that it is destroyed last.
  std::unique_ptr<mlir::MLIRContext> context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

/// A context with the tg and func dialects loaded.
std::unique_ptr<mlir::MLIRContext> createContext();

/// Wraps a module that has passed verification.
Module wrapModule(std::unique_ptr<mlir::MLIRContext> context,
                  mlir::OwningOpRef<mlir::ModuleOp> module);

/// Function `name` of the module, or the only function when `name` is empty.
absl::StatusOr<mlir::func::FuncOp> findFunction(mlir::ModuleOp module, absl::string_view name);

/// tg.name of an argument/result, or "arg<i>" / "result<i>".
std::string argName(mlir::func::FuncOp fn, unsigned i);
std::string resultName(mlir::func::FuncOp fn, unsigned i);

} // namespace tg

#endif // TG_FRONTEND_MODULEIMPL_H
