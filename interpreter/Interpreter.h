//===- Interpreter.h - reference interpreter for tg functions --*- C++ -*-===//
//
// Evaluates a func.func of tg ops on host tensors, op by op, in double
// precision with results rounded to their element type (or not, in float64
// mode, for finite-difference gradient checks). Simple loops, no tricks: it
// is the oracle every compiled result is compared with.
//
//===----------------------------------------------------------------------===//
#ifndef TG_INTERPRETER_INTERPRETER_H
#define TG_INTERPRETER_INTERPRETER_H

#include "ir/DTypes.h"
#include "tg/InterpretOptions.h"
#include "tg/Tensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace tg {

/// Runs `fn` on `args` (one per argument, in order; dtypes and shapes must
/// match the signature).
absl::StatusOr<std::vector<Tensor>> interpretFunction(mlir::func::FuncOp fn,
                                                      const std::vector<Tensor> &args,
                                                      const InterpretOptions &options);

/// True when the interpreter evaluates ops named `opName` (e.g. "tg.add"):
/// a look-up in the table its dispatch uses.
bool interpreterHandles(llvm::StringRef opName);

/// The initial value of a param argument from its tg.init attribute.
absl::StatusOr<Tensor> initialValue(mlir::func::FuncOp fn, unsigned argIndex, uint64_t seed);

} // namespace tg

#endif // TG_INTERPRETER_INTERPRETER_H
