//===- ManifestBuilder.h - the manifest of a compiled module ----*- C++ -*-===//
#ifndef TG_CODEGEN_COMMON_MANIFESTBUILDER_H
#define TG_CODEGEN_COMMON_MANIFESTBUILDER_H

#include "support/Manifest.h"

#include "mlir/IR/BuiltinOps.h"

namespace tg {

/// The backend-neutral part of the manifest of a tg-level module (after
/// tg-strip-non-entry): one entry per function with every argument's and
/// result's name, role, dtype, shape, initializer, default and alias, and the
/// training spec. The backend adds its target, options and kernel calls.
/// Errors name the function and the argument or result.
absl::StatusOr<Manifest> describeEntries(mlir::ModuleOp module);

} // namespace tg

#endif // TG_CODEGEN_COMMON_MANIFESTBUILDER_H
