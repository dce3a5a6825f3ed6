//===- Flags.cpp - option parsing shared by the tgc subcommands -----------===//
#include "tools/Commands.h"

#include <cstdlib>

namespace tg {
namespace tools {

bool takeValue(int &i, int argc, char **argv, const std::string &flag, std::string &out) {
  std::string a = argv[i];
  if (a.rfind(flag + "=", 0) == 0) {
    out = a.substr(flag.size() + 1);
    return true;
  }
  if (a == flag) {
    if (i + 1 >= argc) {
      error(flag + " needs a value");
      std::exit(1);
    }
    out = argv[++i];
    return true;
  }
  return false;
}

} // namespace tools
} // namespace tg
