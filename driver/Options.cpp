//===- Options.cpp - the compile options: one table, one check ------------===//
#include "driver/Options.h"
#include "codegen/cuda/Target.h"
#include "support/Manifest.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/Twine.h"

#include "absl/strings/str_cat.h"

#include <cstdlib>
#include <type_traits>

namespace tg {
namespace {

// The parsers behind setCompileOption, one per TYPE of the table.
absl::Status parseValue(llvm::StringRef name, llvm::StringRef value, bool &out) {
  if (value == "true" || value == "1")
    out = true;
  else if (value == "false" || value == "0")
    out = false;
  else
    return absl::InvalidArgumentError(
        ("--" + name + " needs true or false, got '" + value + "'").str());
  return absl::OkStatus();
}

absl::Status parseValue(llvm::StringRef name, llvm::StringRef value, int &out) {
  if (value.getAsInteger(10, out))
    return absl::InvalidArgumentError(
        ("--" + name + " needs an integer, got '" + value + "'").str());
  return absl::OkStatus();
}

absl::Status parseValue(llvm::StringRef name, llvm::StringRef value, double &out) {
  std::string text = value.str();
  char *end = nullptr;
  out = std::strtod(text.c_str(), &end);
  // Out of range is a number too ("1e999" is inf): the range is validated.
  if (text.empty() || *end)
    return absl::InvalidArgumentError(("--" + name + " needs a number, got '" + value + "'").str());
  return absl::OkStatus();
}

absl::Status parseValue(llvm::StringRef, llvm::StringRef value, std::string &out) {
  out = value.str();
  return absl::OkStatus();
}

absl::Status parseValue(llvm::StringRef, llvm::StringRef value, std::vector<std::string> &out) {
  for (llvm::StringRef item : llvm::split(value, ','))
    if (!item.trim().empty())
      out.push_back(item.trim().str());
  return absl::OkStatus();
}

std::string oneLine(llvm::StringRef help) {
  std::string s;
  for (llvm::StringRef word : llvm::split(help, ' '))
    for (llvm::StringRef w : llvm::split(word, '\n'))
      if (!w.empty())
        s += (s.empty() ? "" : " ") + w.str();
  return s;
}

absl::Status badValue(llvm::StringRef flag, llvm::StringRef expected, llvm::StringRef got) {
  return absl::InvalidArgumentError(
      ("--" + flag + " needs " + expected + ", got '" + got + "'").str());
}

/// none | allreduce | average:K with an integer K >= 1.
bool isDataParallelMode(llvm::StringRef mode) {
  int64_t every = 0;
  if (mode == "none" || mode == "allreduce")
    return true;
  return mode.consume_front("average:") && !mode.getAsInteger(10, every) && every >= 1;
}

} // namespace

llvm::ArrayRef<CompileOptionInfo> compileOptionTable() {
  static const std::vector<CompileOptionInfo> table = {
#define TG_COMPILE_OPTION(FIELD, TYPE, NAME, DEFAULT, META, HELP)                                  \
  {NAME, META, HELP, oneLine(HELP), std::is_same_v<TYPE, bool>},
#include "driver/Options.def"
  };
  return table;
}

const CompileOptionInfo *findCompileOption(llvm::StringRef name) {
  for (const CompileOptionInfo &o : compileOptionTable())
    if (o.name == name)
      return &o;
  return nullptr;
}

absl::Status setCompileOption(CompilerOptions &options, llvm::StringRef name,
                              llvm::StringRef value) {
#define TG_COMPILE_OPTION(FIELD, TYPE, NAME, DEFAULT, META, HELP)                                  \
  if (name == NAME)                                                                                \
    return parseValue(name, value, options.FIELD);
#include "driver/Options.def"
  return absl::InvalidArgumentError(("unknown compile option '" + name + "'").str());
}

absl::Status validateCompilerOptions(const CompilerOptions &o) {
  std::optional<Target> target = parseTarget(o.target);
  if (!target)
    return badValue("target", "cpu or cuda", o.target);
  if (o.precision != "f32" && o.precision != "bf16-mixed")
    return badValue("precision", "f32 or bf16-mixed", o.precision);
  if (o.layouts != "blocked" && o.layouts != "plain")
    return badValue("layouts", "blocked or plain", o.layouts);
  if (!isDataParallelMode(o.dataParallel))
    return badValue("data-parallel", "none, allreduce or average:K with an integer K >= 1",
                    o.dataParallel);
  if (!parseCompress(o.compress))
    return badValue("compress", "none, bf16 or threshold:T with a number T in [1.2e-38, 1e30]",
                    o.compress);
  if (o.compress != "none" && o.dataParallel != "allreduce")
    return absl::InvalidArgumentError(absl::StrCat(
        "--compress=", o.compress, " compresses the gradients of --data-parallel=allreduce; "
        "this is --data-parallel=", o.dataParallel));
  if (o.shardOptimizerState < 0 || o.shardOptimizerState > 65536)
    return badValue("shard-optimizer-state", "a world size in 1..65536, or 0 (off)",
                    absl::StrCat(o.shardOptimizerState));
  if (o.shardOptimizerState > 0 && o.dataParallel != "allreduce")
    return absl::InvalidArgumentError(absl::StrCat(
        "--shard-optimizer-state shards the update of --data-parallel=allreduce; this is "
        "--data-parallel=", o.dataParallel));
  if (o.shardOptimizerState > 0 && o.compress != "none")
    return absl::InvalidArgumentError(absl::StrCat(
        "--shard-optimizer-state reduce-scatters f32 gradients; drop --compress=", o.compress));
  if (o.compress != "none" && *target == Target::Cuda)
    return absl::InvalidArgumentError(absl::StrCat(
        "--compress=", o.compress, ": the CUDA backend's NCCL allreduce does not compress yet"));
  if (o.shardOptimizerState > 0 && *target == Target::Cuda)
    return absl::InvalidArgumentError(
        "--shard-optimizer-state: the CUDA backend has no reduce-scatter yet (CPU only)");
  if (!(o.bucketCapMb > 0) || !(o.bucketCapMb <= 4096))
    return badValue("bucket-mb", "a number of MiB in (0, 4096]", absl::StrCat(o.bucketCapMb));
  if (o.microbatches < 1 || o.microbatches > 65536)
    return badValue("microbatches", "an integer in 1..65536", absl::StrCat(o.microbatches));
  if (o.pipelineStages < 1 || o.pipelineStages > 1024)
    return badValue("pipeline-stages", "an integer in 1..1024", absl::StrCat(o.pipelineStages));
  if (o.schedule != "1f1b" && o.schedule != "gpipe")
    return badValue("schedule", "1f1b or gpipe", o.schedule);
  if (o.pipelineStages > 1 && *target == Target::Cuda)
    return absl::InvalidArgumentError(
        "--pipeline-stages: the CUDA backend has no point-to-point transfers yet (CPU only)");
  if (o.pipelineStages > 1 && o.dataParallel != "none" &&
      (o.dataParallel != "allreduce" || o.shardOptimizerState > 0 || o.compress != "none"))
    return absl::InvalidArgumentError(absl::StrCat(
        "--pipeline-stages composes with --data-parallel=allreduce (S x D ranks) only; "
        "parameter averaging, --shard-optimizer-state and --compress with pipeline stages are "
        "not built yet (got --data-parallel=",
        o.dataParallel, o.shardOptimizerState > 0 ? " --shard-optimizer-state" : "",
        o.compress != "none" ? " --compress=" + o.compress : "", ")"));
  if (o.optLevel < 0 || o.optLevel > 3)
    return badValue("opt-level", "0, 1, 2 or 3", absl::StrCat(o.optLevel));

  // What only the CUDA backend has.
  if (*target != Target::Cuda) {
    for (Phase p : {Phase::Gpu, Phase::Ptx, Phase::Fatbin})
      if (o.emit == p)
        return absl::InvalidArgumentError(
            absl::StrCat("--emit=", phaseName(p).str(), " needs --target=cuda"));
    for (auto [flag, set] :
         {std::pair{"cuda-emulate", o.cudaEmulate}, std::pair{"cuda-arch", !o.cudaArch.empty()},
          std::pair{"cuda-toolkit", !o.cudaToolkit.empty()}})
      if (set)
        return absl::InvalidArgumentError(absl::StrCat("--", flag, " needs --target=cuda"));
  }
  if (o.cudaEmulate && (o.emit == Phase::Ptx || o.emit == Phase::Fatbin))
    return absl::InvalidArgumentError(
        "--cuda-emulate runs the kernels on the CPU: there is no ptx or fatbin to emit");
  if (o.precision == "bf16-mixed" && *target == Target::Cuda)
    return absl::UnimplementedError(
        "--precision=bf16-mixed is for the CPU backend (oneDNN on AVX512_BF16); the CUDA "
        "backend computes in f32");
  // Even when emulating or stopping before the PTX.
  if (absl::StatusOr<std::vector<std::string>> archs = parseCudaArchs(o.cudaArch); !archs.ok())
    return archs.status();
  return absl::OkStatus();
}

std::string compileOptionsHelp() {
  // Help starts at this column, as for tgc compile's other flags.
  constexpr size_t kHelpColumn = 21;
  std::string s;
  for (const CompileOptionInfo &o : compileOptionTable()) {
    std::string flag = o.isBool ? absl::StrCat("  --[no-]", o.name.str())
                                : absl::StrCat("  --", o.name.str(), "=", o.meta.str());
    flag += flag.size() + 1 < kHelpColumn ? std::string(kHelpColumn - flag.size(), ' ') : "  ";
    s += flag;
    bool first = true;
    for (llvm::StringRef line : llvm::split(o.help, '\n')) {
      if (!first)
        s += std::string(kHelpColumn, ' ');
      s += line.str() + "\n";
      first = false;
    }
  }
  return s;
}

} // namespace tg
