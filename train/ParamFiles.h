//===- ParamFiles.h - params in and out of a session by name ----*- C++ -*-===//
//
// Parameters exchanged with other tools: loaded from a safetensors file by
// name (tgc train --init, tgc run --checkpoint) and exported as safetensors
// or one .npy per param (tgc export). Dtypes and shapes are checked; layouts
// are tg's (a Dense kernel is [in, out]: README "Weights from and to PyTorch").
//
//===----------------------------------------------------------------------===//
#ifndef TG_TRAIN_PARAMFILES_H
#define TG_TRAIN_PARAMFILES_H

#include "support/Manifest.h"
#include "tg/Checkpoint.h"
#include "tg/Runtime.h"

#include "absl/status/statusor.h"

#include <string>

namespace tg {

enum class ParamLoad {
  /// Every param of the entry, nothing else (states are optional): a file
  /// from another framework whose names must match exactly.
  ParamsExactly,
  /// Every param; states when present; other tensors ignored (a checkpoint
  /// of tgc train, which also holds the optimizer's slots).
  ParamsAndStates,
  /// Every param, nothing else (a sampler at another batch than training:
  /// its states have other shapes).
  Params,
};

/// Writes the tensors of safetensors `file` into `entry`'s params (and
/// states) in `session`, by name. Errors name the file and the tensor: a
/// missing param, a dtype or shape that differs from the artifact's, a name
/// that is not a param (ParamsExactly). Returns how many were loaded.
absl::StatusOr<int> loadParams(const std::string &file, const EntrySpec &entry,
                               rt::Session &session, ParamLoad mode);
/// The same from checkpoint `ck` already read from `file` (named in errors).
absl::StatusOr<int> loadParams(const Checkpoint &ck, const std::string &file,
                               const EntrySpec &entry, rt::Session &session, ParamLoad mode);

/// The vocabulary a tgc train checkpoint of a character model saved (its
/// "vocab" metadata: a JSON list of byte values, or a JSON string in older
/// checkpoints; "" when absent). Errors name `file`.
absl::StatusOr<std::string> checkpointVocabulary(const Checkpoint &ck, const std::string &file);

/// `entry`'s params (and states with `withState`) from `session` into
/// `path`: a safetensors file, or, when `npyDirectory`, a directory with
/// <name>.npy per tensor. Returns how many were written.
absl::StatusOr<int> exportParams(const EntrySpec &entry, const rt::Session &session,
                                 const std::string &path, bool npyDirectory, bool withState);

} // namespace tg

#endif // TG_TRAIN_PARAMFILES_H
