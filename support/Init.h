//===- Init.h - initial values of params and state --------------*- C++ -*-===//
//
// One implementation of the tg.init kinds, shared by the reference
// interpreter and the runtime, so an artifact starts from exactly the values
// the interpreter would use. Values come from Philox keyed by the seed and a
// stream derived from the buffer's name (not its position in a function, so
// train_step, eval_step and the model function agree).
//
//===----------------------------------------------------------------------===//
#ifndef TG_SUPPORT_INIT_H
#define TG_SUPPORT_INIT_H

#include "absl/status/statusor.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tg {

struct InitSpec {
  std::string kind = "zeros";           ///< zeros ones constant uniform normal glorot_* he_*
  std::map<std::string, double> fields; ///< value low high mean stddev gain fan_in fan_out
};

/// The Philox stream of a buffer: FNV-1a of its name, folded to 32 bits.
uint32_t initStream(const std::string &name);

/// Values (row-major, in double) of a tensor of `shape` under `spec`.
absl::StatusOr<std::vector<double>> initialValues(const InitSpec &spec,
                                                  const std::vector<int64_t> &shape, uint64_t seed,
                                                  const std::string &name);

} // namespace tg

#endif // TG_SUPPORT_INIT_H
