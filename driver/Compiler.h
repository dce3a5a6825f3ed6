//===- Compiler.h - compiling a tg module, up to any phase ------*- C++ -*-===//
//
// The one compile driver behind `tgc compile` and tg::compile: runs the
// pipeline (Pipeline.h) up to the requested phase and, for `llvm` and `obj`,
// the CPU backend's artifact writer (codegen/cpu/Artifact.h), with the
// manifest taken from the module between the phases.
//
//===----------------------------------------------------------------------===//
#ifndef TG_DRIVER_COMPILER_H
#define TG_DRIVER_COMPILER_H

#include "driver/Pipeline.h"

#include "mlir/IR/BuiltinOps.h"

#include "absl/status/statusor.h"

#include <string>
#include <utility>
#include <vector>

namespace tg {

struct CompilerOptions {
  /// The phase to stop after: text phases (tg ... llvm) are returned as text,
  /// obj writes the artifact.
  Phase emit = Phase::Obj;
  /// LLVM CPU name ("native", "x86-64-v3", "skylake-avx512", ...).
  std::string targetCpu = "native";
  /// The backend's fusion passes (tgc compile --no-fusion turns them off).
  bool fusion = true;
  /// CPU: keep activations in oneDNN's blocked layout between convolution
  /// and pooling calls (tg-assign-layouts; block 16 with AVX-512, 8 with
  /// AVX2). tgc compile --layouts=plain turns it off.
  bool blockedLayouts = true;
  /// CPU: lay out each entry point's temporaries in one arena at compile
  /// time (tg-plan-memory); tgc compile --no-memory-plan turns it off.
  bool planMemory = true;
  /// "f32" or "bf16-mixed" (tg-mixed-precision; needs AVX512_BF16).
  std::string precision = "f32";
  /// Data parallelism (tg-distribute): none | allreduce | average:K, the
  /// bucket cap in MiB, and whether average:K averages optimizer state.
  std::string dataParallel = "none";
  /// Functions to export as entry points too (e.g. "mlp_grad").
  std::vector<std::string> keepFunctions;
  double bucketCapMb = 25.0;
  bool averageState = true;
  /// LLVM optimization level 0-3.
  int optLevel = 3;
  /// The backend: "cpu" (default) or "cuda".
  std::string target = "cpu";
  /// CUDA: archs ("sm_80,sm_90"; empty: the default), the toolkit (empty:
  /// CUDA_HOME, CUDA_PATH, /usr/local/cuda), and emulation (the kernels run
  /// as CPU loops: a CPU artifact that checks their index logic).
  std::string cudaArch, cudaToolkit;
  bool cudaEmulate = false;
  /// Per-phase wall times, appended to when non-null.
  std::vector<std::pair<std::string, double>> *timings = nullptr;
  /// Warnings of the passes ("file:line:col: message"), appended to when
  /// non-null.
  std::vector<std::string> *warnings = nullptr;
};

/// Compiles `module` (a verified tg module; modified in place) up to
/// `options.emit`. Returns the text of a text phase (the PTX for `ptx`, the
/// fatbin's bytes for `fatbin`), or "" after writing the artifact to `path`. Errors carry every
/// error diagnostic as "file:line:col: message", one per line.
absl::StatusOr<std::string> compileModule(mlir::ModuleOp module, const CompilerOptions &options,
                                          const std::string &path);

} // namespace tg

#endif // TG_DRIVER_COMPILER_H
