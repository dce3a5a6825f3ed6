//===- Options.h - the compile options: one table, one check ----*- C++ -*-===//
//
// The options of a compilation, generated from the table in Options.def, and
// the functions every front door shares: `tgc compile` sets them from flags,
// tg-opt's --tg-pipeline from its pipeline options, tg::compile from
// tg::CompileOptions; all of them are then checked by
// validateCompilerOptions.
//
//===----------------------------------------------------------------------===//
#ifndef TG_DRIVER_OPTIONS_H
#define TG_DRIVER_OPTIONS_H

#include "codegen/host/Target.h"
#include "driver/Pipeline.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include "absl/status/status.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tg {

struct CompilerOptions {
  // One field per row of Options.def (the help text there documents it).
#define TG_COMPILE_OPTION(FIELD, TYPE, NAME, DEFAULT, META, HELP) TYPE FIELD = DEFAULT;
#include "driver/Options.def"

  /// The phase to stop after: text phases (tg ... llvm) are returned as text,
  /// obj writes the artifact (tgc compile --emit).
  Phase emit = Phase::Obj;
  /// Per-phase wall times, appended to when non-null.
  std::vector<std::pair<std::string, double>> *timings = nullptr;
  /// Warnings of the passes ("file:line:col: message"), appended to when
  /// non-null.
  std::vector<std::string> *warnings = nullptr;

  /// The backend; Cpu until validateCompilerOptions has accepted `target`.
  Target targetKind() const { return parseTarget(target).value_or(Target::Cpu); }
};

/// One row of Options.def, for the tools that parse or list the options.
struct CompileOptionInfo {
  llvm::StringRef name;    ///< "bucket-mb"
  llvm::StringRef meta;    ///< "N" (empty for bools)
  llvm::StringRef help;    ///< tgc's help text, lines split by "\n"
  std::string oneLineHelp; ///< the same on one line (tg-opt's --help)
  bool isBool;
};

/// Every row of the table, in its order.
llvm::ArrayRef<CompileOptionInfo> compileOptionTable();
/// The row named `name`, or null.
const CompileOptionInfo *findCompileOption(llvm::StringRef name);

/// Sets the option `name` from its text: a bool from true|false|1|0, a
/// number, a string as is, a list from comma-separated items (appended).
/// Checks only the syntax of numbers and bools (the error names the flag and
/// the value); the rest is validateCompilerOptions'.
absl::Status setCompileOption(CompilerOptions &options, llvm::StringRef name,
                              llvm::StringRef value);

/// Checks every option and their combinations: the values of --target,
/// --precision, --layouts, --data-parallel, --cuda-arch, the range of
/// --bucket-mb and --opt-level, the CUDA-only options and phases without
/// --target=cuda. The error names the flag and the bad value.
absl::Status validateCompilerOptions(const CompilerOptions &options);

/// The option lines of `tgc compile --help`, from the table: "  --NAME=META"
/// (a bool: "  --[no-]NAME") with the help text beside it.
std::string compileOptionsHelp();

} // namespace tg

#endif // TG_DRIVER_OPTIONS_H
