//===- Run.cpp - tgc run: run an entry point of an artifact ---------------===//
//
// Creates a session (initializers with --seed, hypers at their defaults),
// optionally loads trained params from a checkpoint, binds .npy inputs, runs
// the entry point --repeat times and writes or summarizes its results. Every
// buffer's dtype and shape come from the artifact's manifest.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include "tg/Checkpoint.h"
#include "tg/Npy.h"
#include "train/ParamFiles.h"
#include "support/Manifest.h"
#include "tg/Runtime.h"

#include "llvm/Support/FileSystem.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace tg {
namespace tools {
namespace {

const char *kRunUsage =
    R"(usage: tgc run MODEL.tgx [--fn NAME] [--input NAME=FILE.npy ...] [--output DIR]
                    [--seed S] [--repeat N] [--checkpoint FILE.safetensors]

Creates a session (params and state from their initializers with the seed,
hypers at their defaults), binds the inputs, runs the entry point and writes
every result to DIR/<name>.npy.

  --fn NAME          entry point (default: predict, else the only one)
  --input NAME=FILE  a .npy file for argument NAME (dtype and shape must match)
  --output DIR       where results go (default: print a summary only)
  --seed S           initializer seed (default 0)
  --repeat N         run the entry point N times (a train step N steps)
  --checkpoint FILE  params (and state) from a tgc train checkpoint, matched by
                     name; dtypes and shapes must agree
)";

struct RunArgs {
  std::string path, fn, outputDir, checkpoint;
  std::vector<std::pair<std::string, std::string>> inputs; ///< argument, .npy file
  unsigned long long seed = 0;
  long repeat = 1;
  bool help = false;
};

absl::Status parseRunArgs(int argc, char **argv, RunArgs &args) {
  std::string seedText = "0", repeatText = "1";
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i], v;
    if (a == "-h" || a == "--help") {
      args.help = true;
      return absl::OkStatus();
    }
    if (takeValue(i, argc, argv, "--fn", args.fn) ||
        takeValue(i, argc, argv, "--output", args.outputDir) ||
        takeValue(i, argc, argv, "--seed", seedText) ||
        takeValue(i, argc, argv, "--repeat", repeatText) ||
        takeValue(i, argc, argv, "--checkpoint", args.checkpoint))
      continue;
    if (takeValue(i, argc, argv, "--input", v)) {
      size_t eq = v.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == v.size())
        return absl::InvalidArgumentError("run: --input needs NAME=FILE.npy, got '" + v + "'");
      args.inputs.push_back({v.substr(0, eq), v.substr(eq + 1)});
      continue;
    }
    if (!a.empty() && a[0] == '-')
      return absl::InvalidArgumentError("run: unknown option '" + a + "' (see tgc run --help)");
    if (!args.path.empty())
      return absl::InvalidArgumentError("run: more than one artifact ('" + args.path + "', '" + a +
                                        "')");
    args.path = a;
  }
  if (std::string missing = takeMissingValue(); !missing.empty())
    return absl::InvalidArgumentError("run: " + missing);
  if (args.path.empty())
    return absl::InvalidArgumentError("run: no artifact (see tgc run --help)");
  char *end = nullptr;
  errno = 0;
  args.seed = std::strtoull(seedText.c_str(), &end, 10);
  if (seedText.empty() || *end || !std::isdigit(static_cast<unsigned char>(seedText[0])) ||
      errno == ERANGE)
    return absl::InvalidArgumentError("run: --seed needs a non-negative integer, got '" + seedText +
                                      "'");
  args.repeat = std::strtol(repeatText.c_str(), &end, 10);
  if (repeatText.empty() || *end || args.repeat < 1 || errno == ERANGE)
    return absl::InvalidArgumentError("run: --repeat needs an integer >= 1, got '" + repeatText +
                                      "'");
  return absl::OkStatus();
}

/// --fn, else predict, else the only entry point.
absl::StatusOr<const EntrySpec *> chooseEntry(const Manifest &m, const RunArgs &args) {
  std::string fn = args.fn;
  if (fn.empty()) {
    if (m.findEntry("predict"))
      fn = "predict";
    else if (m.entries.size() == 1)
      fn = m.entries[0].name;
    else
      return absl::InvalidArgumentError("run: '" + args.path +
                                        "' has several entry points; choose one with --fn");
  }
  const EntrySpec *entry = m.findEntry(fn);
  if (!entry)
    return absl::NotFoundError("run: no entry point '" + fn + "' in '" + args.path +
                               "' (it has: " + absl::StrJoin(m.entryNames(), ", ") + ")");
  return entry;
}

/// Trained params (and state) by name; the entry's params must all be there.
absl::Status loadCheckpoint(const std::string &file, const EntrySpec &entry, rt::Session &session) {
  auto loaded = loadParams(file, entry, session, ParamLoad::ParamsAndStates);
  if (!loaded.ok())
    return absl::Status(loaded.status().code(),
                        absl::StrCat("run: checkpoint ", loaded.status().message()));
  std::printf("loaded %d tensors from %s\n", *loaded, file.c_str());
  return absl::OkStatus();
}

/// Each --input NAME=FILE.npy into argument NAME, dtype and shape checked.
absl::Status bindInputs(const RunArgs &args, const EntrySpec &entry, rt::Session &session) {
  for (auto &[name, file] : args.inputs) {
    const BufferSpec *spec = entry.findArg(name);
    if (!spec)
      return absl::NotFoundError("run: '" + entry.name + "' has no argument named '" + name + "'");
    auto array = readNpy(file);
    if (!array.ok())
      return array.status();
    if (array->dtype != dtypeName(spec->dtype) || array->shape != spec->shape)
      return absl::InvalidArgumentError("run: '" + file + "' holds " + array->dtype + " " +
                                        shapeToString(array->shape) + ", but argument '" + name +
                                        "' of '" + entry.name + "' is " + spec->typeString());
    if (absl::Status s = session.write(name, array->bytes.data(), array->bytes.size()); !s.ok())
      return s;
  }
  return absl::OkStatus();
}

/// Prints each result (scalars by value) and writes it to DIR/<name>.npy.
absl::Status writeResults(const EntrySpec &entry, const rt::Session &session,
                          const std::string &outputDir) {
  if (!outputDir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
      return absl::ErrnoToStatus(ec.value(), "run: cannot create '" + outputDir + "'");
  }
  for (const BufferSpec &r : entry.results) {
    // A result updated in place lives in its argument's buffer.
    const std::string &buffer = entry.bufferOf(r);
    NpyArray a{std::string(dtypeName(r.dtype)), r.shape, {}};
    a.bytes.resize(session.size(buffer));
    if (absl::Status s = session.read(buffer, a.bytes.data(), a.bytes.size()); !s.ok())
      return s;
    if (a.shape.empty() && r.dtype == DType::f32) {
      float v;
      std::memcpy(&v, a.bytes.data(), 4);
      std::printf("  %s = %g\n", r.name.c_str(), double(v));
    } else {
      std::printf("  %s: %s\n", r.name.c_str(), r.typeString().c_str());
    }
    if (!outputDir.empty())
      if (absl::Status s = writeNpy(outputDir + "/" + r.name + ".npy", a); !s.ok())
        return s;
  }
  return absl::OkStatus();
}

absl::Status run(const RunArgs &args) {
  auto artifact = rt::Artifact::open(args.path);
  if (!artifact.ok())
    return artifact.status();
  auto manifest = parseManifest(artifact->manifest(), args.path);
  if (!manifest.ok())
    return manifest.status();
  auto entry = chooseEntry(*manifest, args);
  if (!entry.ok())
    return entry.status();
  auto session = rt::Session::create(*artifact, args.seed);
  if (!session.ok())
    return session.status();
  if (!args.checkpoint.empty())
    if (absl::Status s = loadCheckpoint(args.checkpoint, **entry, *session); !s.ok())
      return s;
  if (absl::Status s = bindInputs(args, **entry, *session); !s.ok())
    return s;
  const std::string &fn = (*entry)->name;
  // The first run is cold (primitives created, pages faulted in): it is
  // reported apart, the rest as a median and spread.
  std::vector<double> ms;
  for (long r = 0; r < args.repeat; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    if (absl::Status s = session->run(fn); !s.ok())
      return s;
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  double total = 0;
  for (double m : ms)
    total += m;
  std::printf("ran %s %ld time(s) in %.3f ms: first %.3f ms", fn.c_str(), args.repeat, total,
              ms[0]);
  if (ms.size() > 1) {
    std::vector<double> rest(ms.begin() + 1, ms.end());
    std::sort(rest.begin(), rest.end());
    std::printf(", then median %.3f ms (min %.3f, p90 %.3f) over %zu", rest[rest.size() / 2],
                rest.front(), rest[rest.size() * 9 / 10], rest.size());
  }
  std::printf("\n");
  return writeResults(**entry, *session, args.outputDir);
}

} // namespace

int runCommand(int argc, char **argv) {
  RunArgs args;
  if (absl::Status s = parseRunArgs(argc, argv, args); !s.ok())
    return error(std::string(s.message()));
  if (args.help) {
    std::printf("%s", kRunUsage);
    return 0;
  }
  if (absl::Status s = run(args); !s.ok())
    return error(std::string(s.message()));
  return 0;
}

} // namespace tools
} // namespace tg
