//===- Module.h - a verified tg module --------------------------*- C++ -*-===//
//
// A parsed and verified `tg` MLIR module, from text, a .tg.mlir file or a
// frontend Graph. Copies share the underlying module.
//
//===----------------------------------------------------------------------===//
/// \file
/// tg::Module, a parsed and verified `tg` MLIR module, and the Signature that
/// describes one of its functions.

#ifndef TG_MODULE_H
#define TG_MODULE_H

#include "tg/Tensor.h"
#include "tg/Vocabulary.h"

#include "absl/status/statusor.h"

#include "absl/strings/string_view.h"
#include <memory>
#include <string>
#include <vector>

namespace tg {

/// One argument or result of a graph function.
struct ValueInfo {
  std::string name;           ///< tg.name, or "arg<i>" / "result<i>" when absent
  Role role = Role::None;     ///< tg.role of an argument; Role::None for results
  DType dtype = DType::f32;   ///< Element type.
  std::vector<int64_t> shape; ///< Static shape.
  /// Results: the index of the argument it updates in place (tg.alias); -1
  /// for arguments and for results without one.
  int alias = -1;
};

/// The arguments and results of a graph function, in order.
struct Signature {
  std::vector<ValueInfo> args;    ///< Arguments, in order.
  std::vector<ValueInfo> results; ///< Results, in order.
};

/// A parsed and verified `tg` module, from text, a .tg.mlir file or
/// Graph::build(). Immutable: transform() returns a new module. Copies share
/// the underlying MLIR module and context.
class Module {
public:
  /// Parses and verifies MLIR text; errors carry `bufferName:line:col`.
  static absl::StatusOr<Module> parse(absl::string_view text,
                                      absl::string_view bufferName = "<string>");
  /// Reads, parses and verifies a .tg.mlir file; errors as parse(), or the
  /// errno status when the file cannot be read.
  static absl::StatusOr<Module> load(const std::string &path);

  /// The module as MLIR text.
  std::string str() const;
  /// Names of the functions, in order.
  std::vector<std::string> functionNames() const;
  /// Argument and result descriptions of `fn` (the only function if empty).
  /// NotFound for an unknown name; InvalidArgument if `fn` is empty and the
  /// module has not exactly one function.
  absl::StatusOr<Signature> signature(absl::string_view fn = "") const;

  /// A copy of this module with a pass pipeline applied, in tg-opt syntax:
  /// "tg-autodiff", "tg-build-train-step,canonicalize". Pass errors come back
  /// as the status (with their location); warnings are appended to
  /// `warnings` when given.
  absl::StatusOr<Module> transform(absl::string_view pipeline,
                                   std::vector<std::string> *warnings = nullptr) const;

  struct Impl;
  /// Internal: the MLIR context and module (frontend/ModuleImpl.h).
  const Impl &impl() const { return *impl_; }
  /// Internal: wraps a verified module; use parse(), load() or Graph::build().
  explicit Module(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

private:
  std::shared_ptr<Impl> impl_;
};

} // namespace tg

#endif // TG_MODULE_H
