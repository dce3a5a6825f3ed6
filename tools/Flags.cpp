//===- Flags.cpp - option parsing shared by the tgc subcommands -----------===//
#include "tools/Commands.h"

namespace tg {
namespace tools {

namespace {
// The flag whose value was missing (a command parses on one thread).
thread_local std::string missingFlag;
} // namespace

bool takeValue(int &i, int argc, char **argv, const std::string &flag, std::string &out) {
  std::string a = argv[i];
  if (a.rfind(flag + "=", 0) == 0) {
    out = a.substr(flag.size() + 1);
    return true;
  }
  if (a == flag) {
    if (i + 1 >= argc) { // only the last argument can miss its value
      missingFlag = flag;
      out.clear();
      return true;
    }
    out = argv[++i];
    return true;
  }
  return false;
}

std::string takeMissingValue() {
  std::string flag;
  std::swap(flag, missingFlag);
  return flag.empty() ? flag : flag + " needs a value";
}

} // namespace tools
} // namespace tg
