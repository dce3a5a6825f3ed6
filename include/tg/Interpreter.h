//===- Interpreter.h - run a tg function on host tensors --------*- C++ -*-===//
//
// The reference interpreter: gives every tg op an executable meaning. Slow
// and exact; compiled code and gradients are checked against it.
//
//===----------------------------------------------------------------------===//
/// \file
/// The reference interpreter's entry points: run a function of a Module on
/// host tensors, draw its initial params, and run one training step.

#ifndef TG_INTERPRETER_H
#define TG_INTERPRETER_H

#include "tg/InterpretOptions.h"
#include "tg/Module.h"
#include "tg/Tensor.h"

#include "absl/status/statusor.h"

namespace tg {

/// Runs function `fn` ("" = the only one) on positional arguments, which
/// must match the function's argument types exactly; returns its results in
/// order. After each op, values are rounded to its element type unless
/// `options.float64`. An error names the argument or the op at fault.
absl::StatusOr<std::vector<Tensor>> interpret(const Module &module, absl::string_view fn,
                                              const std::vector<Tensor> &args,
                                              const InterpretOptions &options = {});

/// Runs `fn` with arguments given by name (tg.name); returns results by name.
/// Every argument must be given, and no unknown name.
absl::StatusOr<NamedTensors> interpretNamed(const Module &module, absl::string_view fn,
                                            const NamedTensors &inputs,
                                            const InterpretOptions &options = {});

/// Initial values of the params and state arguments of `fn`: each from its
/// tg.init, drawn with Philox from `seed` (the same seed gives the same
/// values); zeros for a state without one.
absl::StatusOr<NamedTensors> initializeParams(const Module &module, absl::string_view fn,
                                              uint64_t seed);

/// One step the way the runtime runs an entry point: runs `fn` on `inputs`
/// (hyper arguments missing there take their tg.default) and writes every
/// result that aliases an argument (tg.alias) back into `inputs`, as the
/// compiled step updates params and state in place. Returns all results.
absl::StatusOr<NamedTensors> interpretStep(const Module &module, absl::string_view fn,
                                           NamedTensors &inputs,
                                           const InterpretOptions &options = {});

} // namespace tg

#endif // TG_INTERPRETER_H
