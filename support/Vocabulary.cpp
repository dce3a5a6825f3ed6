//===- Vocabulary.cpp - string tables of the core enums ------------------===//
#include "tg/Vocabulary.h"

namespace tg {

namespace {
struct RoleName {
  Role role;
  std::string_view name;
};
constexpr RoleName kRoleNames[] = {{Role::None, ""},       {Role::Param, "param"},
                                   {Role::State, "state"}, {Role::Data, "data"},
                                   {Role::Label, "label"}, {Role::Hyper, "hyper"}};

struct OptimizerName {
  OptimizerKind kind;
  std::string_view name;
};
constexpr OptimizerName kOptimizerNames[] = {
    {OptimizerKind::Sgd, "sgd"},           {OptimizerKind::Momentum, "momentum"},
    {OptimizerKind::Nesterov, "nesterov"}, {OptimizerKind::RmsProp, "rmsprop"},
    {OptimizerKind::Adam, "adam"},         {OptimizerKind::AdamW, "adamw"}};
} // namespace

std::string_view roleName(Role role) {
  for (const RoleName &r : kRoleNames)
    if (r.role == role)
      return r.name;
  return "";
}

std::optional<Role> parseRole(std::string_view name) {
  for (const RoleName &r : kRoleNames)
    if (r.name == name)
      return r.role;
  return std::nullopt;
}

std::string_view optimizerName(OptimizerKind kind) {
  for (const OptimizerName &o : kOptimizerNames)
    if (o.kind == kind)
      return o.name;
  return "";
}

std::optional<OptimizerKind> parseOptimizer(std::string_view name) {
  for (const OptimizerName &o : kOptimizerNames)
    if (o.name == name)
      return o.kind;
  return std::nullopt;
}

} // namespace tg
