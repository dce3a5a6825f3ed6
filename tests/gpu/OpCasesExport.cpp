//===- OpCasesExport.cpp - tg-op-cases: the op cases as files -------------===//
//
// Writes the compiled-code tests' op cases for a machine without MLIR
// (scripts/gpu-bundle.sh): the module, every case's inputs in their dtype's
// bytes, and the interpreter's result as f64; tg-op-check runs an artifact
// of the module on them.
//
//===----------------------------------------------------------------------===//
#include "tests/e2e/OpCases.h"
#include "tg/Interpreter.h"
#include "tg/Module.h"

#include "absl/strings/str_cat.h"

#include <cstdio>
#include <cstring>
#include <fstream>

namespace {

int fail(const std::string &m) {
  std::fprintf(stderr, "tg-op-cases: %s\n", m.c_str());
  return 1;
}

/// The tensor's values in `dtype`'s bytes (the runtime's layout).
std::string bytesOf(const tg::Tensor &t, tg::DType dtype) {
  std::string out;
  auto put = [&](const auto v) { out.append(reinterpret_cast<const char *>(&v), sizeof v); };
  for (double x : t.data) {
    switch (dtype) {
    case tg::DType::f32:
      put(float(x));
      break;
    case tg::DType::f64:
      put(x);
      break;
    case tg::DType::i32:
      put(int32_t(x));
      break;
    case tg::DType::i64:
      put(int64_t(x));
      break;
    default:
      return {};
    }
  }
  return out;
}

bool write(const std::string &path, const std::string &bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), std::streamsize(bytes.size()));
  return bool(f);
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2 || std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0) {
    std::fprintf(argc == 2 ? stdout : stderr,
                 "usage: tg-op-cases DIR\n"
                 "Writes DIR/ops.tg.mlir (function @f<i> per op case), DIR/cases.txt (\"i name\n"
                 "rtol atol\" lines), and per case DIR/f<i>.<arg>.bin (inputs, in their dtype)\n"
                 "and DIR/f<i>.y.bin (the interpreter's result, f64).\n");
    return argc == 2 ? 0 : 2;
  }
  std::string dir = argv[1];
  std::vector<tg::OpCase> cases = tg::opCases();
  std::string text = tg::opCasesModule(cases);
  auto m = tg::Module::parse(text, "ops.mlir");
  if (!m.ok())
    return fail(std::string(m.status().message()));
  if (!write(dir + "/ops.tg.mlir", text))
    return fail("cannot write " + dir + "/ops.tg.mlir");
  std::ofstream list(dir + "/cases.txt");
  for (size_t i = 0; i < cases.size(); ++i) {
    const tg::OpCase &c = cases[i];
    std::string fn = absl::StrCat("f", i);
    auto sig = m->signature(fn);
    if (!sig.ok())
      return fail(std::string(sig.status().message()));
    tg::NamedTensors in;
    for (size_t k = 0; k < c.args.size(); ++k) {
      const tg::ValueInfo &a = sig->args[k];
      // The seeds of tg-e2e-tests' EveryOpMatchesTheInterpreter.
      in[a.name] = tg::randomTensor(a.shape, a.dtype, unsigned(100 * i + k), c.args[k].lo,
                                    c.args[k].hi);
      std::string bytes = bytesOf(in[a.name], a.dtype);
      if (bytes.empty() && in[a.name].numElements() > 0)
        return fail(c.name + ": an input of a dtype the export does not write");
      if (!write(dir + "/" + a.name + ".bin", bytes))
        return fail("cannot write " + dir + "/" + a.name + ".bin");
    }
    auto want = tg::interpretNamed(*m, fn, in);
    if (!want.ok())
      return fail(c.name + ": " + std::string(want.status().message()));
    const tg::Tensor &y = want->at(fn + ".y");
    if (!write(dir + "/" + fn + ".y.bin", bytesOf(y, tg::DType::f64)))
      return fail("cannot write " + dir + "/" + fn + ".y.bin");
    std::string name = c.name;
    for (char &ch : name)
      if (ch == ' ')
        ch = '_';
    list << i << " " << name << " " << c.rtol << " " << c.atol << "\n";
  }
  std::printf("tg-op-cases: wrote %zu op cases to %s\n", cases.size(), dir.c_str());
  return list ? 0 : fail("cannot write " + dir + "/cases.txt");
}
