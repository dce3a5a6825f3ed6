//===- Vocabulary.h - the typed core vocabulary of tgc ----------*- C++ -*-===//
//
// Argument roles and optimizer kinds as enums with one string table each.
// The strings are the on-disk spelling (tg.role, tg.train's optimizer.kind,
// the manifest); code compares enums, never those strings.
//
//===----------------------------------------------------------------------===//
/// \file
/// The Role and OptimizerKind enums with their on-disk spellings (tg.role,
/// tg.train's optimizer.kind, the manifest) and the predicates code tests
/// them with.

#ifndef TG_VOCABULARY_H
#define TG_VOCABULARY_H

#include <array>
#include <optional>
#include <string_view>

namespace tg {

/// The role of a graph function's argument (`tg.role`).
enum class Role {
  None,  ///< no role (a plain function argument, or a result)
  Param, ///< trainable, with an initializer (tg.init)
  State, ///< optimizer or recurrent state, updated in place
  Data,  ///< an input batch
  Label, ///< a target batch
  Hyper, ///< a scalar hyperparameter with a default (tg.default)
};

/// Every role except Role::None, in declaration order.
inline constexpr std::array<Role, 5> kAllRoles = {Role::Param, Role::State, Role::Data, Role::Label,
                                                  Role::Hyper};

/// "param", "state", "data", "label", "hyper"; "" for Role::None.
std::string_view roleName(Role role);
/// The role spelled `name`; nullopt for an unknown name ("" is Role::None).
std::optional<Role> parseRole(std::string_view name);

/// Buffers the runtime owns across steps (params and state).
inline bool isPersistent(Role role) { return role == Role::Param || role == Role::State; }
/// Buffers a training loop feeds from data files.
inline bool isBatchInput(Role role) { return role == Role::Data || role == Role::Label; }

/// The optimizer of a training step (`tg.train`'s optimizer.kind); the update
/// rules are listed in tg/Optim.h.
enum class OptimizerKind { Sgd, Momentum, Nesterov, RmsProp, Adam, AdamW };

/// Every optimizer kind, in declaration order.
inline constexpr std::array<OptimizerKind, 6> kAllOptimizers = {
    OptimizerKind::Sgd,     OptimizerKind::Momentum, OptimizerKind::Nesterov,
    OptimizerKind::RmsProp, OptimizerKind::Adam,     OptimizerKind::AdamW};

/// "sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw".
std::string_view optimizerName(OptimizerKind kind);
/// The optimizer spelled `name` (as optimizerName() gives it); nullopt for
/// an unknown name.
std::optional<OptimizerKind> parseOptimizer(std::string_view name);

/// Optimizers with a velocity slot (momentum, nesterov).
inline bool hasVelocity(OptimizerKind k) {
  return k == OptimizerKind::Momentum || k == OptimizerKind::Nesterov;
}
/// Optimizers with Adam's two moment slots and bias corrections.
inline bool isAdamFamily(OptimizerKind k) {
  return k == OptimizerKind::Adam || k == OptimizerKind::AdamW;
}
/// Optimizers that take an epsilon (rmsprop, adam, adamw).
inline bool hasEpsilon(OptimizerKind k) { return k == OptimizerKind::RmsProp || isAdamFamily(k); }

} // namespace tg

#endif // TG_VOCABULARY_H
