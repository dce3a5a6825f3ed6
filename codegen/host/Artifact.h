//===- Artifact.h - the CPU artifact: LLVM IR, object, .tgx -----*- C++ -*-===//
//
// A .tgx artifact is one ELF shared object: the compiled entry points (each
// exported as `tg_entry_<name>(void **descriptors)`), and the manifest
// (`tg_manifest`, JSON; support/Manifest.h) describing every entry point,
// buffer, initializer, the compile options and the CPU features the code
// needs, followed by an integrity trailer (support/Trailer.h).
//
//===----------------------------------------------------------------------===//
#ifndef TG_CODEGEN_HOST_ARTIFACT_H
#define TG_CODEGEN_HOST_ARTIFACT_H

#include "support/Manifest.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Target/TargetMachine.h"

#include "absl/status/statusor.h"

#include <memory>
#include <string>
#include <vector>

namespace tg {

/// The LLVM target machine of --target-cpu and the CPU features the code
/// will need (those the runtime checks before loading).
struct CpuTarget {
  std::unique_ptr<llvm::TargetMachine> machine;
  std::string triple, cpu;
  std::vector<std::string> features;
  /// LLVM's feature string ("+avx2,..."; empty: the CPU's defaults).
  std::string llvmFeatures;
  /// A new target machine for (triple, cpu, llvmFeatures), as `machine` was
  /// made: one per thread that emits code.
  std::unique_ptr<llvm::TargetMachine> create() const;
};

/// "native" (this machine's CPU and features), "x86-64-v3", an LLVM CPU
/// name...; an unknown name is an error listing the accepted forms.
absl::StatusOr<CpuTarget> selectCpuTarget(const std::string &targetCpu);

/// Every distinct runtime kernel call of a bufferized module (symbol, operand
/// sizes and strides, integer parameters), for the manifest: the runtime
/// creates their oneDNN primitives when a session starts. Calls on buffers
/// with dynamic strides are left to the first step.
std::vector<KernelCall> collectKernelCalls(mlir::ModuleOp bufferized);

struct ArtifactOptions {
  /// LLVM optimization level 0-3.
  int optLevel = 3;
  /// Return the optimized LLVM IR as text instead of writing the .tgx.
  bool llvmText = false;
  /// Per-step wall times, appended to when non-null.
  std::vector<std::pair<std::string, double>> *timings = nullptr;
  /// CUDA artifacts: the fatbin, embedded as `tg_cuda_fatbin` (+ `_size`).
  std::string cudaFatbin;
};

/// Translates `module` (in the LLVM dialect) to LLVM IR, adds the packed
/// entry points and the manifest, optimizes it and writes the linked
/// artifact to `path` (returning ""), or returns the LLVM IR text.
absl::StatusOr<std::string> emitArtifact(mlir::ModuleOp module, const std::string &manifestText,
                                         CpuTarget &target, const ArtifactOptions &options,
                                         const std::string &path);

} // namespace tg

#endif // TG_CODEGEN_HOST_ARTIFACT_H
