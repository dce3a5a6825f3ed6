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

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace tg {
namespace tools {
namespace {

const char *kCompileUsage =
    R"(usage: tgc compile MODEL.tg.mlir [-o OUT] [--emit=PHASE] [--target=cpu|cuda] [--target-cpu=CPU]
                   [--cuda-arch=LIST] [--cuda-toolkit=DIR] [--cuda-emulate] [--no-fusion]
                   [--layouts=blocked|plain] [--precision=f32|bf16-mixed] [--no-memory-plan]
                   [--data-parallel=MODE] [--bucket-mb=N] [--opt-level=N] [--timing]

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
  --target=T         cpu (default: oneDNN + generated loops) or cuda (generated
                     kernels + cuBLASLt/cuDNN calls; host code for this CPU)
  --target-cpu=CPU   native (default), x86-64, x86-64-v2, x86-64-v3, x86-64-v4, or an
                     LLVM CPU name; the artifact records the features it needs
  --cuda-arch=LIST   GPU archs of the fatbin, e.g. sm_80,sm_90 (default); the PTX
                     of the oldest is included for newer GPUs
  --cuda-toolkit=DIR the CUDA toolkit (default: $CUDA_HOME, $CUDA_PATH,
                     /usr/local/cuda); needs bin/ptxas, bin/fatbinary, libdevice
  --cuda-emulate     with --target=cuda: run the CUDA kernels as loops on the CPU
                     (a CPU artifact, for checking the kernels without a GPU)
  --no-fusion        keep every op its own loop nest (tg-fuse-elementwise off)
  --precision=P      f32 (default), or bf16-mixed: matmuls and convolutions take
                     their inputs in bf16 with f32 accumulation (oneDNN on
                     AVX512_BF16); params, optimizer state and the loss stay f32
  --no-memory-plan   temporaries from the runtime's allocator one by one instead of
                     one arena per entry point laid out at compile time
                     (tg-plan-memory; tgc inspect shows the arena's size)
  --layouts=L        blocked (default): activations stay in oneDNN's blocked layout
                     (nChw16c with AVX-512, nChw8c with AVX2) between convolution and
                     pooling calls, converted at the chain's ends (tg-assign-layouts);
                     plain: every tensor NCHW
  --data-parallel=MODE  data-parallel training under mpirun (the artifact still runs
                     as one process):
                       none       no collectives (default)
                       allreduce  gradients averaged across ranks every step, in
                                  buckets overlapped with backward: N ranks x batch B
                                  train like 1 x N*B
                       average:K  each rank takes K local steps, then params and
                                  optimizer state are averaged (DL4J parameter averaging)
  --bucket-mb=N      largest gradient bucket in MiB (default 25, as PyTorch DDP)
  --no-average-state average:K averages params only, not the optimizer state
  --keep=FN[,FN]     also export these functions as entry points: the model
                     function, or its gradient FN_grad (built by tg-autodiff:
                     the loss and d loss / d param per param)
  --opt-level=N      LLVM optimization level 0-3 (default 3)
  --timing           print the time of each phase
)";

struct CompileFlags {
  std::string input, output;
  CompilerOptions options;
  bool timing = false;
};

/// Parses the flags; a non-zero status on error (or after --help, 0 with
/// `done`).
int parseCompileFlags(int argc, char **argv, CompileFlags &f, bool &done) {
  std::string emit = "obj";
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::printf("%s", kCompileUsage);
      done = true;
      return 0;
    }
    if (takeValue(i, argc, argv, "-o", f.output) || takeValue(i, argc, argv, "--emit", emit) ||
        takeValue(i, argc, argv, "--target-cpu", f.options.targetCpu) ||
        takeValue(i, argc, argv, "--target", f.options.target) ||
        takeValue(i, argc, argv, "--cuda-arch", f.options.cudaArch) ||
        takeValue(i, argc, argv, "--cuda-toolkit", f.options.cudaToolkit))
      continue;
    if (a == "--cuda-emulate") {
      f.options.cudaEmulate = true;
      continue;
    }
    if (a == "--timing") {
      f.timing = true;
      continue;
    }
    if (a == "--no-fusion") {
      f.options.fusion = false;
      continue;
    }
    if (takeValue(i, argc, argv, "--precision", f.options.precision)) {
      if (f.options.precision != "f32" && f.options.precision != "bf16-mixed")
        return error("compile: --precision needs f32 or bf16-mixed, got '" +
                     f.options.precision + "'");
      continue;
    }
    std::string layouts;
    if (takeValue(i, argc, argv, "--layouts", layouts)) {
      if (layouts != "blocked" && layouts != "plain")
        return error("compile: --layouts needs blocked or plain, got '" + layouts + "'");
      f.options.blockedLayouts = layouts == "blocked";
      continue;
    }
    if (a == "--no-memory-plan") {
      f.options.planMemory = false;
      continue;
    }
    if (a == "--no-average-state") {
      f.options.averageState = false;
      continue;
    }
    if (takeValue(i, argc, argv, "--data-parallel", f.options.dataParallel))
      continue;
    std::string keep;
    if (takeValue(i, argc, argv, "--keep", keep)) {
      for (llvm::StringRef name : llvm::split(keep, ','))
        if (!name.trim().empty())
          f.options.keepFunctions.push_back(name.trim().str());
      continue;
    }
    std::string bucket;
    if (takeValue(i, argc, argv, "--bucket-mb", bucket)) {
      char *end = nullptr;
      f.options.bucketCapMb = std::strtod(bucket.c_str(), &end);
      if (bucket.empty() || *end || !(f.options.bucketCapMb > 0) ||
          !(f.options.bucketCapMb <= 4096))
        return error("compile: --bucket-mb needs a number of MiB in (0, 4096], got '" + bucket + "'");
      continue;
    }
    std::string level;
    if (takeValue(i, argc, argv, "--opt-level", level)) {
      if (level.size() != 1 || level[0] < '0' || level[0] > '3')
        return error("compile: --opt-level needs 0, 1, 2 or 3, got '" + level + "'");
      f.options.optLevel = level[0] - '0';
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
