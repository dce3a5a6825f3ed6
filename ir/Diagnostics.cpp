//===- Diagnostics.cpp - MLIR diagnostics as status messages --------------===//
#include "ir/Diagnostics.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace tg {

std::string locationString(Location loc) {
  std::string s;
  llvm::raw_string_ostream os(s);
  if (auto file = llvm::dyn_cast<FileLineColLoc>(loc))
    os << file.getFilename().getValue() << ":" << file.getLine() << ":" << file.getColumn();
  else
    os << loc;
  return s;
}

DiagnosticCollector::DiagnosticCollector(MLIRContext *ctx, std::vector<std::string> *warnings)
    : warnings(warnings), handler(ctx, [this](Diagnostic &d) {
        std::string line = locationString(d.getLocation()) + ": " + d.str();
        if (d.getSeverity() == DiagnosticSeverity::Error)
          errors += (errors.empty() ? "" : "\n") + line;
        else if (d.getSeverity() == DiagnosticSeverity::Warning && this->warnings)
          this->warnings->push_back(line);
        return success();
      }) {}

} // namespace tg
