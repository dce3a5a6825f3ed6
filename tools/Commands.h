//===- Commands.h - tgc subcommands in their own files ----------*- C++ -*-===//
//
// One file per subcommand (Compile.cpp, Run.cpp, Train.cpp, Inspect.cpp,
// Plot.cpp, Viz.cpp, Export.cpp, Data.cpp, Sample.cpp); tgc.cpp only dispatches. Each command gets main's
// argc/argv, its options starting at argv[2], and returns the exit status.
//
//===----------------------------------------------------------------------===//
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

/// Reads the value of option `flag` at argv[i], spelled `flag=VALUE` or
/// `flag VALUE` (then i moves past it); false when argv[i] is another option.
/// A missing value (the flag is the last argument) takes it with an empty
/// value and is recorded for takeMissingValue.
bool takeValue(int &i, int argc, char **argv, const std::string &flag, std::string &out);

/// "FLAG needs a value" when takeValue met a flag without its value since the
/// last call, else empty. Option parsers call it after their loop.
std::string takeMissingValue();

/// The whole command line: `tgc COMMAND ...`; returns the exit status. Never
/// exits the process, so the fuzz harness can run it (tests/fuzz).
int tgcMain(int argc, char **argv);

/// Finds `program` on PATH; empty when it is not installed.
std::string findProgram(const std::string &program);

int compileCommand(int argc, char **argv); ///< tgc compile
int runCommand(int argc, char **argv);     ///< tgc run
int trainCommand(int argc, char **argv);   ///< tgc train
int inspectCommand(int argc, char **argv); ///< tgc inspect
int vizCommand(int argc, char **argv);     ///< tgc viz
int plotCommand(int argc, char **argv);    ///< tgc plot
int exportCommand(int argc, char **argv);  ///< tgc export
int dataCommand(int argc, char **argv);    ///< tgc data (pack, inspect, verify)
int sampleCommand(int argc, char **argv);  ///< tgc sample

} // namespace tools
} // namespace tg

#endif // TG_TOOLS_COMMANDS_H
