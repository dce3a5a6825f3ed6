//===- Diagnostics.h - MLIR diagnostics as status messages ------*- C++ -*-===//
#ifndef TG_IR_DIAGNOSTICS_H
#define TG_IR_DIAGNOSTICS_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"

#include <string>
#include <vector>

namespace tg {

/// "file:line:col" for a file location (what users click on), else the
/// location as MLIR prints it.
std::string locationString(mlir::Location loc);

/// While it lives, collects the context's error diagnostics as
/// "file:line:col: message" lines, and its warnings into `warnings` when
/// given; nothing is printed. Used where passes run on a user's module.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(mlir::MLIRContext *ctx,
                               std::vector<std::string> *warnings = nullptr);
  /// The errors, one per line, or `fallback` when there were none.
  std::string errorsOr(const std::string &fallback) const {
    return errors.empty() ? fallback : errors;
  }

private:
  std::string errors;
  std::vector<std::string> *warnings;
  mlir::ScopedDiagnosticHandler handler; // last: it writes the members above
};

} // namespace tg

#endif // TG_IR_DIAGNOSTICS_H
