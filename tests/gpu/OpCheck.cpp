//===- OpCheck.cpp - tg-op-check: an artifact of the op cases vs goldens --===//
//
// Runs every function of an artifact compiled from tg-op-cases' module on
// the exported inputs and compares each result with the interpreter's, with
// the case's tolerance. Needs only libtgrt, so it runs on the GPU machines
// (scripts/gpu-check.sh, there with TGRT_CUDA_POISON=1: results start as NaN).
//
//===----------------------------------------------------------------------===//
#include "support/Manifest.h"
#include "tests/gpu/ToolUtil.h"
#include "tg/tg_runtime.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

int fail(const std::string &m) {
  std::fprintf(stderr, "tg-op-check: %s\n", m.c_str());
  return 1;
}

using tg::gpucheck::readFile;

/// Element `i` of `bytes` in `dtype`, as a double.
double valueAt(const std::string &bytes, tg::DType dtype, size_t i) {
  auto get = [&](auto v) {
    std::memcpy(&v, bytes.data() + i * sizeof v, sizeof v);
    return double(v);
  };
  switch (dtype) {
  case tg::DType::f32:
    return get(float());
  case tg::DType::f64:
    return get(double());
  case tg::DType::i32:
    return get(int32_t());
  case tg::DType::i64:
    return get(int64_t());
  case tg::DType::i1:
    return get(int8_t());
  default:
    return std::nan("");
  }
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: tg-op-check OPS.tgx DIR\n"
                         "Runs each op case f<i> of DIR/cases.txt (written by tg-op-cases) on\n"
                         "its inputs and compares its result with the interpreter's.\n"
                         "Exit 77: cannot run here (skip).\n");
    return 2;
  }
  std::string model = argv[1], dir = argv[2];
  auto opened = tg::gpucheck::openArtifact(model);
  if (!opened.ok())
    return fail(std::string(opened.status().message()));
  tg_artifact *artifact = opened->artifact.get();
  const tg::Manifest *manifest = &opened->manifest;
  tg_session *session = nullptr;
  if (tg_status st = tg_session_create(artifact, 1, &session); st != TG_OK) {
    std::printf("SKIP: %s\n", tg_last_error());
    return st == TG_FAILED_PRECONDITION ? 77 : 1;
  }
  std::unique_ptr<tg_session, void (*)(tg_session *)> sessionOwner(session, tg_session_destroy);
  std::ifstream list(dir + "/cases.txt");
  if (!list)
    return fail("cannot read " + dir + "/cases.txt");
  int cases = 0, bad = 0;
  std::string line;
  while (std::getline(list, line)) {
    std::istringstream is(line);
    int index = 0;
    std::string name;
    double rtol = 0, atol = 0;
    if (!(is >> index >> name >> rtol >> atol))
      return fail(dir + "/cases.txt: bad line '" + line + "'");
    std::string fn = "f" + std::to_string(index);
    const tg::EntrySpec *entry = manifest->findEntry(fn);
    if (!entry)
      return fail(model + " has no entry point " + fn + " (" + name + ")");
    for (const tg::BufferSpec &a : entry->args) {
      std::string bytes;
      if (!readFile(dir + "/" + a.name + ".bin", bytes) || bytes.size() != a.byteSize())
        return fail("cannot read " + dir + "/" + a.name + ".bin (or its size is not " +
                    std::to_string(a.byteSize()) + " bytes)");
      if (tg_session_write(session, a.name.c_str(), bytes.data(), bytes.size()) != TG_OK)
        return fail(tg_last_error());
    }
    if (tg_session_run(session, fn.c_str()) != TG_OK)
      return fail(name + ": " + tg_last_error());
    const tg::BufferSpec *y = entry->findResult(fn + ".y");
    std::string got(y ? y->byteSize() : 0, '\0'), want;
    if (!y || tg_session_read(session, y->name.c_str(), got.data(), got.size()) != TG_OK)
      return fail(name + ": cannot read its result " + fn + ".y");
    size_t n = size_t(y->numElements());
    if (!readFile(dir + "/" + fn + ".y.bin", want) || want.size() != n * 8)
      return fail("cannot read " + dir + "/" + fn + ".y.bin (or its size differs)");
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; ++i) {
      double g = valueAt(got, y->dtype, i), w = valueAt(want, tg::DType::f64, i);
      double excess = std::fabs(g - w) - (atol + rtol * std::fabs(w));
      if (!(excess <= worst)) { // NaN (an element never written) counts too
        worst = std::isnan(excess) ? INFINITY : excess;
        at = i;
      }
    }
    ++cases;
    if (worst > 0) {
      ++bad;
      std::printf("MISMATCH %s (%s): element %zu is %.9g, interpreter %.9g\n", name.c_str(),
                  fn.c_str(), at, valueAt(got, y->dtype, at), valueAt(want, tg::DType::f64, at));
    }
  }
  std::printf("op cases of %s: %d run, %s\n", model.c_str(), cases,
              bad ? (std::to_string(bad) + " MISMATCH").c_str() : "all match the interpreter");
  return bad ? 1 : 0;
}
