//===- Artifact.h - compiling a tg module into a .tgx artifact --*- C++ -*-===//
//
// A .tgx artifact is one ELF shared object: the compiled entry points (each
// exported as `tg_entry_<name>(void **descriptors)`), and the manifest
// (`tg_manifest`, JSON) describing every entry point, buffer, initializer,
// the compile options and the CPU features the code needs.
//
//===----------------------------------------------------------------------===//
#ifndef TG_CODEGEN_CPU_ARTIFACT_H
#define TG_CODEGEN_CPU_ARTIFACT_H

#include "mlir/IR/BuiltinOps.h"

#include "absl/status/statusor.h"

#include <string>
#include <vector>

namespace tg {

inline constexpr int kArtifactFormatVersion = 1;

struct ArtifactOptions {
  /// LLVM CPU name ("native", "x86-64-v3", "skylake-avx512", ...).
  std::string targetCpu = "native";
  /// What to produce: "obj" (the .tgx), "llvm" (LLVM IR text).
  std::string emit = "obj";
  /// Fuse elementwise chains (tgc compile --no-fusion turns it off).
  bool fusion = true;
  /// LLVM optimization level 0-3.
  int optLevel = 3;
  /// Per-phase wall times, filled when non-null.
  std::vector<std::pair<std::string, double>> *timings = nullptr;
};

/// The manifest (JSON text) of `module` (tg level, before lowering).
absl::StatusOr<std::string> buildManifest(mlir::ModuleOp module, const ArtifactOptions &options,
                                          const std::vector<std::string> &cpuFeatures,
                                          const std::string &cpuName);

/// Lowers `module` (tg level; modified in place) and writes the artifact (or
/// LLVM IR text) to `path`. Diagnostics go to the module context's handler.
absl::Status writeArtifact(mlir::ModuleOp module, const ArtifactOptions &options,
                           const std::string &path);

} // namespace tg

#endif // TG_CODEGEN_CPU_ARTIFACT_H
