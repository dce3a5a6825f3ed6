//===- Export.cpp - tgc export: an artifact's params as files -------------===//
//
// The params of an artifact (its initial values for a seed, or those of a
// checkpoint) as one safetensors file or one .npy per param, for other tools
// and frameworks; `tgc train --init` reads the safetensors form back.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include "train/ParamFiles.h"
#include "support/Manifest.h"
#include "tg/Runtime.h"

#include "absl/strings/str_cat.h"

#include <cerrno>
#include <cstdlib>
#include <string>

namespace tg {
namespace tools {
namespace {

const char *kExportUsage = R"(usage: tgc export MODEL.tgx -o OUT [--checkpoint CK.safetensors] [--seed S]
                  [--format=safetensors|npy] [--with-state]

Writes the artifact's params (those of train_step, else predict, else its only
entry point) by name: their initial values for --seed (default 0), or the
trained values of a tgc train checkpoint.
  -o OUT             the safetensors file, or with --format=npy a directory
                     with NAME.npy per param
  --format=F         safetensors (default; what tgc train --init reads) or npy
  --with-state       also the model's state (e.g. recurrent state), not only params
Layouts are tg's: a Dense kernel is [in, out] (PyTorch's Linear weight is
[out, in]); README "Weights from and to PyTorch" maps the layers.
)";

struct ExportArgs {
  std::string path, output, checkpoint, format = "safetensors", seed = "0";
  bool withState = false;
};

absl::Status exportCommandImpl(const ExportArgs &a) {
  auto artifact = rt::Artifact::open(a.path);
  if (!artifact.ok())
    return artifact.status();
  auto manifest = parseManifest(artifact->manifest(), a.path);
  if (!manifest.ok())
    return manifest.status();
  const EntrySpec *entry = manifest->findEntry("train_step");
  if (!entry)
    entry = manifest->findEntry("predict");
  if (!entry && manifest->entries.size() == 1)
    entry = &manifest->entries[0];
  if (!entry)
    return absl::InvalidArgumentError(absl::StrCat("export: '", a.path,
                                                   "' has no train_step or predict"));
  char *end = nullptr;
  errno = 0;
  uint64_t seed = std::strtoull(a.seed.c_str(), &end, 10);
  if (a.seed.empty() || *end || a.seed[0] == '-' || errno == ERANGE)
    return absl::InvalidArgumentError("export: --seed needs a non-negative integer, got '" +
                                      a.seed + "'");
  auto session = rt::Session::create(*artifact, seed);
  if (!session.ok())
    return session.status();
  if (!a.checkpoint.empty()) {
    auto loaded = loadParams(a.checkpoint, *entry, *session, ParamLoad::ParamsAndStates);
    if (!loaded.ok())
      return absl::Status(loaded.status().code(),
                          absl::StrCat("export: checkpoint ", loaded.status().message()));
  }
  auto written = exportParams(*entry, *session, a.output, a.format == "npy", a.withState);
  if (!written.ok())
    return written.status();
  std::printf("wrote %d tensors to %s\n", *written, a.output.c_str());
  return absl::OkStatus();
}

} // namespace

int exportCommand(int argc, char **argv) {
  ExportArgs a;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::printf("%s", kExportUsage);
      return 0;
    }
    if (takeValue(i, argc, argv, "-o", a.output) ||
        takeValue(i, argc, argv, "--checkpoint", a.checkpoint) ||
        takeValue(i, argc, argv, "--format", a.format) ||
        takeValue(i, argc, argv, "--seed", a.seed))
      continue;
    if (arg == "--with-state") {
      a.withState = true;
      continue;
    }
    if (!arg.empty() && arg[0] == '-')
      return error("export: unknown option '" + arg + "' (see tgc export --help)");
    if (!a.path.empty())
      return error("export: more than one artifact ('" + a.path + "', '" + arg + "')");
    a.path = arg;
  }
  if (std::string missing = takeMissingValue(); !missing.empty())
    return error("export: " + missing);
  if (a.path.empty() || a.output.empty())
    return error("export: needs MODEL.tgx and -o OUT (see tgc export --help)");
  if (a.format != "safetensors" && a.format != "npy")
    return error("export: --format needs safetensors or npy, got '" + a.format + "'");
  if (absl::Status s = exportCommandImpl(a); !s.ok())
    return error(std::string(s.message()));
  return 0;
}

} // namespace tools
} // namespace tg
