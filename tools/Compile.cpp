//===- Compile.cpp - tgc compile: a tg module into a .tgx artifact --------===//
//
// Parses and verifies the module, then hands it to the compile driver
// (driver/Compiler.h: the one pipeline, phases tg ... obj); --emit stops
// after a phase and writes that phase's text instead of the artifact.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include "driver/Compiler.h"
#include "frontend/ModuleImpl.h"
#include "tg/Module.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include "absl/strings/str_cat.h"

#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace tg {
namespace tools {
namespace {

// The flags of tgc compile alone: what to write and where. The compile
// options (what is compiled) come from driver/Options.def, with their help.
const char *kCompileUsage =
    R"(usage: tgc compile MODEL.tg.mlir [-o OUT] [--emit=PHASE] [--timing] [COMPILE-OPTION...]

Compiles a tg module into one artifact (.tgx: a shared object with every entry
point and an embedded manifest). A module with a tg.train spec (Graph::minimize)
gets train_step, eval_step and predict first (tg-build-train-step).

  -o OUT             output file (default: MODEL.tgx, or stdout for text phases)
  --emit=PHASE       stop after a phase and write it:
                       tg        the input module
                       trained   after tg-build-train-step
                       distributed  after tg-distribute (the collectives of
                                 --data-parallel) and tg-strip-non-entry: what the
                                 artifact exports
                       fused     after tg-fuse-epilogues (matmul/conv + bias + activation)
                       linalg    lowered to linalg on tensors (fused)
                       bufferized  on buffers, in-place updates resolved
                       gpu       (cuda) every loop nest a gpu.launch
                       ptx       (cuda) the kernels' PTX
                       fatbin    (cuda) the fatbin: SASS per --cuda-arch + PTX
                       llvm      LLVM IR (optimized; for cuda the host code)
                       obj       the .tgx artifact (default)
  --timing           print the time of each phase

compile options (the same names in tg-opt --tg-pipeline='NAME=VALUE ...' and in
tg::CompileOptions; a bool --[no-]NAME is also --NAME=true|false):
)";

struct CompileFlags {
  std::string input, output;
  CompilerOptions options;
  bool timing = false;
};

/// Takes argv[i] when it is a compile option of driver/Options.def:
/// --NAME=VALUE or --NAME VALUE, for a bool --NAME, --no-NAME or
/// --NAME=true|false. nullopt when it is none; else whether its value parses.
std::optional<absl::Status> takeCompileOption(int &i, int argc, char **argv,
                                              CompilerOptions &options) {
  llvm::StringRef arg = argv[i];
  if (!arg.consume_front("--"))
    return std::nullopt;
  auto [name, value] = arg.split('=');
  bool hasValue = arg.contains('=');
  const CompileOptionInfo *option = findCompileOption(name);
  if (!option) {
    llvm::StringRef negated = name;
    if (hasValue || !negated.consume_front("no-"))
      return std::nullopt;
    option = findCompileOption(negated);
    if (!option || !option->isBool)
      return std::nullopt;
    return setCompileOption(options, negated, "false");
  }
  if (option->isBool)
    return setCompileOption(options, name, hasValue ? value : "true");
  if (!hasValue) {
    if (i + 1 >= argc)
      return absl::InvalidArgumentError(absl::StrCat("--", name.str(), " needs a value"));
    value = argv[++i];
  }
  return setCompileOption(options, name, value);
}

/// Parses the flags; a non-zero status on error (or after --help, 0 with
/// `done`).
int parseCompileFlags(int argc, char **argv, CompileFlags &f, bool &done) {
  std::string emit = "obj";
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::printf("%s%s", kCompileUsage, compileOptionsHelp().c_str());
      done = true;
      return 0;
    }
    if (takeValue(i, argc, argv, "-o", f.output) || takeValue(i, argc, argv, "--emit", emit))
      continue;
    if (a == "--timing") {
      f.timing = true;
      continue;
    }
    if (std::optional<absl::Status> taken = takeCompileOption(i, argc, argv, f.options)) {
      if (!taken->ok())
        return error("compile: " + std::string(taken->message()));
      continue;
    }
    if (!a.empty() && a[0] == '-')
      return error("compile: unknown option '" + a + "' (see tgc compile --help)");
    if (!f.input.empty())
      return error("compile: more than one input file ('" + f.input + "', '" + a + "')");
    f.input = a;
  }
  if (std::string missing = takeMissingValue(); !missing.empty())
    return error("compile: " + missing);
  if (f.input.empty())
    return error("compile: no input file (see tgc compile --help)");
  std::optional<Phase> phase = parsePhase(emit);
  if (!phase)
    return error("compile: unknown --emit=" + emit + " (" + phaseList() + ")");
  f.options.emit = *phase;
  // Before the module is read: bad options fail fast.
  if (absl::Status s = validateCompilerOptions(f.options); !s.ok())
    return error("compile: " + std::string(s.message()));
  if (f.output.empty() && f.options.emit == Phase::Obj) {
    f.output = f.input;
    for (const char *ext : {".tg.mlir", ".mlir"})
      if (f.output.size() > strlen(ext) &&
          f.output.compare(f.output.size() - strlen(ext), strlen(ext), ext) == 0) {
        f.output.resize(f.output.size() - strlen(ext));
        break;
      }
    f.output += ".tgx";
  }
  if (f.output.empty() && f.options.emit == Phase::Fatbin)
    return error("compile: --emit=fatbin writes binary data: name the file with -o");
  return 0;
}

/// Writes a text phase to `output`, or to stdout when it is empty or "-".
int writeText(const std::string &output, const std::string &text) {
  if (output.empty() || output == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  std::error_code ec;
  llvm::raw_fd_ostream os(output, ec);
  if (ec)
    return error("cannot write '" + output + "': " + ec.message());
  os << text;
  return 0;
}

void printTimings(const std::string &input,
                  const std::vector<std::pair<std::string, double>> &timings) {
  double total = 0;
  for (auto &[phase, sec] : timings)
    total += sec;
  std::fprintf(stderr, "tgc compile timing (%s):\n", input.c_str());
  for (auto &[phase, sec] : timings)
    std::fprintf(stderr, "  %-40s %8.3f s\n", phase.c_str(), sec);
  std::fprintf(stderr, "  %-40s %8.3f s\n", "total", total);
}

} // namespace

int compileCommand(int argc, char **argv) {
  CompileFlags f;
  bool done = false;
  if (int rc = parseCompileFlags(argc, argv, f, done); rc != 0 || done)
    return rc;
  std::vector<std::pair<std::string, double>> timings;
  std::vector<std::string> warnings;
  f.options.timings = &timings;
  f.options.warnings = &warnings;
  auto t0 = std::chrono::steady_clock::now();
  auto module = Module::load(f.input);
  if (!module.ok())
    return error(std::string(module.status().message()));
  timings.push_back({phaseDescription(Phase::Tg).str(),
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()});
  absl::StatusOr<std::string> out = compileModule(*module->impl().module, f.options, f.output);
  for (const std::string &w : warnings)
    std::fprintf(stderr, "tgc: warning: %s\n", w.c_str());
  if (!out.ok())
    return error(std::string(out.status().message()));
  if (f.timing)
    printTimings(f.input, timings);
  if (f.options.emit != Phase::Obj)
    return writeText(f.output, *out);
  std::fprintf(stderr, "tgc: wrote %s\n", f.output.c_str());
  return 0;
}

} // namespace tools
} // namespace tg
