//===- Target.cpp - the backends and their library rules ------------------===//
#include "codegen/host/Target.h"

#include <array>
#include <mutex>

namespace tg {

llvm::StringRef targetName(Target target) {
  switch (target) {
  case Target::Cpu:
    return "cpu";
  case Target::Cuda:
    return "cuda";
  }
  return "";
}

std::optional<Target> parseTarget(llvm::StringRef name) {
  for (Target t : {Target::Cpu, Target::Cuda})
    if (targetName(t) == name)
      return t;
  return std::nullopt;
}

namespace {
struct Registry {
  std::mutex mutex;
  std::array<std::optional<LibraryRules>, 2> rules;
};
Registry &registry() {
  static Registry r;
  return r;
}
} // namespace

void registerLibraryRules(Target target, const LibraryRules &rules) {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.rules[size_t(target)] = rules;
}

const LibraryRules *libraryRules(Target target) {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  const std::optional<LibraryRules> &rules = r.rules[size_t(target)];
  return rules ? &*rules : nullptr;
}

} // namespace tg
