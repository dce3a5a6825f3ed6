//===- Compiler.h - compiling a tg module, up to any phase ------*- C++ -*-===//
//
// The one compile driver behind `tgc compile` and tg::compile: runs the
// pipeline (Pipeline.h) up to the requested phase and, for `llvm` and `obj`,
// the host artifact writer (codegen/host/Artifact.h), with the
// manifest taken from the module between the phases.
//
//===----------------------------------------------------------------------===//
#ifndef TG_DRIVER_COMPILER_H
#define TG_DRIVER_COMPILER_H

#include "driver/Options.h"
#include "driver/Pipeline.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

#include "absl/status/statusor.h"

#include <string>

namespace tg {

/// Compiles `module` (a verified tg module; modified in place) up to
/// `options.emit`. Returns the text of a text phase (the PTX for `ptx`, the
/// fatbin's bytes for `fatbin`), or "" after writing the artifact to `path`.
/// Errors carry every error diagnostic as "file:line:col: message", one per line.
absl::StatusOr<std::string> compileModule(mlir::ModuleOp module, const CompilerOptions &options,
                                          const std::string &path);

/// Adds the passes of `options` up to `options.emit` (what tg-opt's
/// --tg-pipeline runs): validates them and selects the targets as
/// compileModule does, without its per-phase work (manifest, fatbin).
absl::Status buildCompilerPipeline(mlir::OpPassManager &pm, const CompilerOptions &options);

} // namespace tg

#endif // TG_DRIVER_COMPILER_H
