//===- Commands.h - tgc subcommands in their own files ----------*- C++ -*-===//
#ifndef TG_TOOLS_COMMANDS_H
#define TG_TOOLS_COMMANDS_H

#include <cstdio>
#include <string>

namespace tg {
namespace tools {

/// Prints "tgc: error: MESSAGE" and returns the exit status 1.
inline int error(const std::string &message) {
  std::fprintf(stderr, "tgc: error: %s\n", message.c_str());
  return 1;
}

/// Finds `program` on PATH; empty when it is not installed.
std::string findProgram(const std::string &program);

int vizCommand(int argc, char **argv);  ///< tgc viz
int plotCommand(int argc, char **argv); ///< tgc plot

} // namespace tools
} // namespace tg

#endif // TG_TOOLS_COMMANDS_H
