//===- CliTarget.cpp - fuzz target: the tgc command line ------------------===//
//
// The input is a tgc command line, one argument per line ("train\nmodel.tgx\n
// --steps\n2"), run in process through tgcMain, the same code as the tgc
// executable. It runs in a sandbox directory with a small model, its
// artifact, data, a checkpoint and metrics, so valid command lines reach the
// compiler, the runtime and the trainer, and invalid ones their errors. A
// command may fail with an error; it may not crash, hang, abort or exit.
//
// Kept inside the sandbox: arguments that are absolute paths or contain ".."
// are dropped, and files the commands write are removed after each input
// (fixtures they overwrite are restored). Kept short: the step counts
// (--epochs, --steps, --repeat) are capped at 3, as a long valid run is not a
// bug.
//
//===----------------------------------------------------------------------===//
#include "examples/Models.h"
#include "tg/Npy.h"
#include "tools/Commands.h"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

[[noreturn]] void harnessBroken(const std::string &what) {
  std::fprintf(stderr, "tg-fuzz-cli: harness set-up failed: %s\n", what.c_str());
  std::abort();
}

int tgc(std::vector<std::string> args) {
  args.insert(args.begin(), "tgc");
  std::vector<char *> argv;
  for (std::string &a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  return tg::tools::tgcMain(int(args.size()), argv.data());
}

/// f32 in [0, 1) or i32 labels in 0..9, from a small LCG.
tg::NpyArray array(const char *dtype, std::vector<int64_t> shape, uint32_t seed) {
  tg::NpyArray a{dtype, shape, {}};
  size_t n = 1;
  for (int64_t d : shape)
    n *= size_t(d);
  a.bytes.resize(n * 4);
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    if (a.dtype == "f32") {
      float v = float(seed >> 8) / float(1 << 24);
      std::memcpy(&a.bytes[i * 4], &v, 4);
    } else {
      int32_t v = int32_t((seed >> 8) % 10);
      std::memcpy(&a.bytes[i * 4], &v, 4);
    }
  }
  return a;
}

/// The sandbox: fixture files by path (relative to it) with their contents.
struct Sandbox {
  fs::path dir;
  std::map<std::string, std::string> fixtures;
};

std::string readAll(const fs::path &p) {
  std::string s;
  if (FILE *f = std::fopen(p.c_str(), "rb")) {
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
      s.append(buf, n);
    std::fclose(f);
  }
  return s;
}

const Sandbox &sandbox() {
  static Sandbox box = [] {
    Sandbox b;
    const char *tmp = std::getenv("TMPDIR");
    b.dir = fs::path(tmp && *tmp ? tmp : "/tmp") / ("tg-fuzz-cli-" + std::to_string(getpid()));
    fs::remove_all(b.dir);
    fs::create_directories(b.dir);
    fs::current_path(b.dir);
    // A small MLP (784-8-10, batch 4) and 8 examples: every command runs in
    // well under a second once compiled.
    tg::Graph g("mlp");
    tg::examples::MlpConfig config;
    config.batch = 4;
    config.hidden = {8};
    tg::examples::buildFashionMlp(g, config);
    if (!g.save("model.tg.mlir").ok())
      harnessBroken("saving model.tg.mlir");
    if (!tg::writeNpy("image.npy", array("f32", {8, 784}, 1)).ok() ||
        !tg::writeNpy("label.npy", array("i32", {8}, 2)).ok() ||
        !tg::writeNpy("x4.npy", array("f32", {4, 784}, 3)).ok())
      harnessBroken("writing the .npy data");
    if (tgc({"compile", "model.tg.mlir", "-o", "model.tgx"}) != 0)
      harnessBroken("tgc compile of the fixture model");
    if (tgc({"train", "model.tgx", "--data", "image=image.npy", "--data", "label=label.npy",
             "--steps", "2", "--checkpoint-dir", "ck", "--metrics", "metrics.jsonl",
             "--progress=none"}) != 0)
      harnessBroken("tgc train of the fixture model");
    for (const auto &e : fs::recursive_directory_iterator(b.dir))
      if (e.is_regular_file())
        b.fixtures[fs::relative(e.path(), b.dir).string()] = readAll(e.path());
    return b;
  }();
  return box;
}

/// Removes what the last command wrote and restores fixtures it changed.
void restore(const Sandbox &b) {
  std::error_code ec;
  std::vector<fs::path> extra;
  for (auto it = fs::recursive_directory_iterator(b.dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    std::string rel = fs::relative(it->path(), b.dir).string();
    bool isFixtureDir = false;
    for (const auto &[f, _] : b.fixtures)
      isFixtureDir |= f.rfind(rel + "/", 0) == 0;
    if (!b.fixtures.count(rel) && !isFixtureDir) {
      extra.push_back(it->path());
      it.disable_recursion_pending();
    }
  }
  for (const fs::path &p : extra) {
    fs::permissions(p, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(p, ec);
  }
  for (const auto &[rel, bytes] : b.fixtures) {
    fs::path p = b.dir / rel;
    if (!fs::is_regular_file(p) || readAll(p) != bytes) {
      fs::remove_all(p, ec);
      fs::create_directories(p.parent_path(), ec);
      if (FILE *f = std::fopen(p.c_str(), "wb")) {
        std::fwrite(bytes.data(), 1, bytes.size(), f);
        std::fclose(f);
      }
    }
  }
  fs::current_path(b.dir, ec);
}

bool capped(const std::string &flag) {
  return flag == "--epochs" || flag == "--steps" || flag == "--repeat";
}

/// "--steps=N" or the value after "--steps": at most 3 when it is a number.
std::string cap(const std::string &value) {
  bool digits = !value.empty();
  for (char c : value)
    digits &= c >= '0' && c <= '9';
  return digits && (value.size() > 1 || value[0] > '3') ? "3" : value;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const Sandbox &box = sandbox();
  std::vector<std::string> args;
  std::string text(reinterpret_cast<const char *>(data), size);
  size_t start = 0;
  while (start <= text.size() && args.size() < 32) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos)
      end = text.size();
    std::string a = text.substr(start, end - start);
    start = end + 1;
    if (a.find('\0') != std::string::npos || (!a.empty() && a[0] == '/') ||
        a.find("..") != std::string::npos)
      continue; // not expressible in argv, or outside the sandbox
    size_t eq = a.find('=');
    if (eq != std::string::npos && capped(a.substr(0, eq)))
      a = a.substr(0, eq + 1) + cap(a.substr(eq + 1));
    else if (!args.empty() && capped(args.back()))
      a = cap(a);
    args.push_back(a);
  }
  (void)tgc(args);
  restore(box);
  return 0;
}
