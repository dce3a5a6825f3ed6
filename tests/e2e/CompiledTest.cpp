//===- CompiledTest.cpp - compiled code against the reference interpreter -===//
//
// Every op the CPU code generator supports and the example models' train
// steps, compiled with the same pipeline as `tgc compile` and run through
// libtgrt, against the interpreter (f32, rtol 1e-4). Bad artifacts and bad
// inputs get clear errors.
//
//===----------------------------------------------------------------------===//
#include "examples/Models.h"
#include "runtime/Kernels.h"
#include "support/Trailer.h"
#include "tg/Compile.h"
#include "tg/Interpreter.h"
#include "tg/Layers.h"
#include "tg/Ops.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>

namespace tg {
namespace {

using ::testing::HasSubstr;

Tensor randomTensor(const std::vector<int64_t> &shape, DType dtype, unsigned seed, double lo,
                    double hi) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  Tensor t = Tensor::full(dtype, shape);
  for (double &x : t.data) {
    x = dist(gen);
    if (!isFloat(dtype))
      x = std::floor(x);
    else if (dtype == DType::f32)
      x = double(float(x));
  }
  return t;
}

/// |a - b| <= atol + rtol |b| elementwise.
void expectClose(const Tensor &got, const Tensor &want, const std::string &what, double rtol = 1e-4,
                 double atol = 1e-5) {
  ASSERT_EQ(got.shape, want.shape) << what;
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < got.data.size(); ++i) {
    double excess = std::fabs(got.data[i] - want.data[i]) - (atol + rtol * std::fabs(want.data[i]));
    if (excess > worst) {
      worst = excess;
      at = i;
    }
  }
  EXPECT_LE(worst, 0) << what << ": element " << at << " is " << got.data[at] << ", interpreter "
                      << want.data[at];
}

//===----------------------------------------------------------------------===//
// Every op: one module, one function per case, one compile.
//===----------------------------------------------------------------------===//

struct Arg {
  std::string type;
  double lo = -2, hi = 2;
};

struct OpCase {
  std::string name;
  std::vector<Arg> args; ///< named %a, %b, %c
  std::string body;      ///< defines %y
  std::string yType;
  double rtol = 1e-4, atol = 1e-5;
};

std::vector<OpCase> opCases() {
  std::vector<OpCase> c;
  auto t = [](const std::string &s) { return "tensor<" + s + "xf32>"; };
  struct U {
    std::string op;
    double lo, hi;
  };
  for (U u : std::vector<U>{{"neg", -2, 2},
                            {"abs", -2, 2},
                            {"sign", -2, 2},
                            {"exp", -3, 3},
                            {"log", 0.1, 4},
                            {"sqrt", 0.1, 4},
                            {"rsqrt", 0.1, 4},
                            {"tanh", -4, 4},
                            {"sigmoid", -6, 6},
                            {"relu", -2, 2},
                            {"erf", -3, 3},
                            {"sin", -6, 6},
                            {"cos", -6, 6},
                            {"floor", -3, 3},
                            {"gelu", -4, 4}})
    c.push_back({u.op, {{t("37"), u.lo, u.hi}}, "%y = tg." + u.op + " %a : " + t("37"), t("37")});
  c.push_back({"gelu approximate",
               {{t("37"), -4, 4}},
               "%y = tg.gelu %a {approximate = true} : " + t("37"),
               t("37")});
  for (std::string op : {"add", "sub", "mul", "div", "pow", "maximum", "minimum"}) {
    double lo = op == "pow" || op == "div" ? 0.5 : -2;
    c.push_back(
        {op + " broadcast",
         {{t("3x1x5"), lo, 2}, {t("4x1"), lo, 2}},
         "%y = tg." + op + " %a, %b : (" + t("3x1x5") + ", " + t("4x1") + ") -> " + t("3x4x5"),
         t("3x4x5")});
    c.push_back({op + " scalar",
                 {{t("6"), lo, 2}, {"tensor<f32>", lo, 2}},
                 "%y = tg." + op + " %a, %b : (" + t("6") + ", tensor<f32>) -> " + t("6"),
                 t("6")});
  }
  c.push_back({"compare + select",
               {{t("4x5")}, {t("5")}},
               "%m = tg.compare %a, %b {predicate = \"gt\"} : (tensor<4x5xf32>, tensor<5xf32>) -> "
               "tensor<4x5xi1>\n"
               "  %y = tg.select %m, %a, %b : (tensor<4x5xi1>, tensor<4x5xf32>, tensor<5xf32>) -> "
               "tensor<4x5xf32>",
               t("4x5")});
  c.push_back({"cast f32 -> i32 -> f32",
               {{t("9"), -5, 5}},
               "%i = tg.cast %a : (tensor<9xf32>) -> tensor<9xi32>\n"
               "  %y = tg.cast %i : (tensor<9xi32>) -> tensor<9xf32>",
               t("9")});
  // (Divisors from 1: the interpreter reports division by zero as an error,
  // compiled code yields 0.)
  c.push_back({"integer div, max, pow",
               {{"tensor<8xi32>", -6, 6}, {"tensor<8xi32>", 1, 3}},
               "%q = tg.div %a, %b : (tensor<8xi32>, tensor<8xi32>) -> tensor<8xi32>\n"
               "  %m = tg.maximum %q, %b : (tensor<8xi32>, tensor<8xi32>) -> tensor<8xi32>\n"
               "  %p = tg.pow %m, %b : (tensor<8xi32>, tensor<8xi32>) -> tensor<8xi32>\n"
               "  %y = tg.cast %p : (tensor<8xi32>) -> tensor<8xf32>",
               t("8")});
  for (auto [ta, tb] : {std::pair{false, false}, {true, false}, {false, true}, {true, true}}) {
    std::string a = ta ? t("24x17") : t("17x24"), b = tb ? t("9x24") : t("24x9");
    std::string attrs = absl::StrCat("{transpose_lhs = ", ta ? "true" : "false",
                                     ", transpose_rhs = ", tb ? "true" : "false", "}");
    c.push_back(
        {"matmul " + attrs,
         {{a}, {b}},
         absl::StrCat("%y = tg.matmul %a, %b ", attrs, " : (", a, ", ", b, ") -> ", t("17x9")),
         t("17x9")});
  }
  c.push_back(
      {"matmul batched, broadcast batch",
       {{t("2x1x3x4")}, {t("5x4x6")}},
       "%y = tg.matmul %a, %b : (tensor<2x1x3x4xf32>, tensor<5x4x6xf32>) -> tensor<2x5x3x6xf32>",
       t("2x5x3x6")});
  c.push_back({"matmul f64 (generic path)",
               {{"tensor<3x4xf64>"}, {"tensor<2x4x5xf64>"}},
               "%m = tg.matmul %a, %b : (tensor<3x4xf64>, tensor<2x4x5xf64>) -> tensor<2x3x5xf64>\n"
               "  %y = tg.cast %m : (tensor<2x3x5xf64>) -> tensor<2x3x5xf32>",
               t("2x3x5")});
  c.push_back({"transpose",
               {{t("2x3x4")}},
               "%y = tg.transpose %a {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> "
               "tensor<4x2x3xf32>",
               t("4x2x3")});
  c.push_back({"reshape",
               {{t("2x6")}},
               "%y = tg.reshape %a : (tensor<2x6xf32>) -> tensor<3x1x4xf32>",
               t("3x1x4")});
  c.push_back({"reshape to scalar and back",
               {{t("1x1")}},
               "%s = tg.reshape %a : (tensor<1x1xf32>) -> tensor<f32>\n"
               "  %y = tg.reshape %s : (tensor<f32>) -> tensor<1xf32>",
               t("1")});
  c.push_back({"broadcast_to",
               {{t("3x1")}},
               "%y = tg.broadcast_to %a : (tensor<3x1xf32>) -> tensor<2x3x4xf32>",
               t("2x3x4")});
  for (auto [kind, axes, keep, out] : {std::tuple{"sum", "1", false, "2x4"},
                                       {"mean", "0, 2", true, "1x3x1"},
                                       {"max", "1", false, "2x4"},
                                       {"min", "", false, ""},
                                       {"mean", "", true, "1x1x1"}}) {
    std::string y = std::string(out).empty() ? "tensor<f32>" : t(out);
    c.push_back({absl::StrCat("reduce ", kind, " [", axes, "]"),
                 {{t("2x3x4")}},
                 absl::StrCat("%y = tg.reduce %a {kind = \"", kind, "\", axes = array<i64",
                              std::string(axes).empty() ? "" : ": ", axes, ">, keepdims = ",
                              keep ? "true" : "false", "} : (tensor<2x3x4xf32>) -> ", y),
                 y});
  }
  c.push_back({"argmax",
               {{t("4x7")}},
               "%i = tg.argmax %a {axis = 1} : (tensor<4x7xf32>) -> tensor<4xi32>\n"
               "  %y = tg.cast %i : (tensor<4xi32>) -> tensor<4xf32>",
               t("4")});
  c.push_back({"softmax",
               {{t("3x10"), -8, 8}},
               "%y = tg.softmax %a {axis = 1} : tensor<3x10xf32>",
               t("3x10")});
  c.push_back({"log_softmax axis 0",
               {{t("6x2"), -8, 8}},
               "%y = tg.log_softmax %a {axis = 0} : tensor<6x2xf32>",
               t("6x2")});
  for (std::string red : {"mean", "sum", "none"}) {
    std::string y = red == "none" ? t("5") : "tensor<f32>";
    c.push_back({"softmax_cross_entropy " + red,
                 {{t("5x7"), -4, 4}, {"tensor<5xi32>", 0, 7}},
                 "%y = tg.softmax_cross_entropy %a, %b {reduction = \"" + red +
                     "\"} : (tensor<5x7xf32>, tensor<5xi32>) -> " + y,
                 y});
    c.push_back({"mean_squared_error " + red,
                 {{t("3x4")}, {t("3x4")}},
                 "%y = tg.mean_squared_error %a, %b {reduction = \"" + red +
                     "\"} : (tensor<3x4xf32>, tensor<3x4xf32>) -> " +
                     (red == "none" ? t("3x4") : "tensor<f32>"),
                 red == "none" ? t("3x4") : "tensor<f32>"});
  }
  // Large enough (>= 64K iteration points) to run as parallel loops, with
  // sequential reductions inside.
  c.push_back({"softmax_cross_entropy, parallel rows",
               {{t("1024x80"), -4, 4}, {"tensor<1024xi32>", 0, 80}},
               "%y = tg.softmax_cross_entropy %a, %b {reduction = \"none\"} : "
               "(tensor<1024x80xf32>, tensor<1024xi32>) -> " +
                   t("1024"),
               t("1024")});
  c.push_back(
      {"reduce sum, parallel rows",
       {{t("300x300")}},
       "%y = tg.reduce %a {kind = \"sum\", axes = array<i64: 1>} : (tensor<300x300xf32>) -> " +
           t("300"),
       t("300")});
  c.push_back({"one_hot",
               {{"tensor<2x3xi32>", 0, 4}},
               "%y = tg.one_hot %a {on_value = 2.0, off_value = -1.0} : (tensor<2x3xi32>) -> "
               "tensor<2x3x4xf32>",
               t("2x3x4")});
  c.push_back({"concat",
               {{t("2x3")}, {t("2x1")}},
               "%y = tg.concat %a, %b, %a {axis = 1} : (tensor<2x3xf32>, tensor<2x1xf32>, "
               "tensor<2x3xf32>) -> tensor<2x7xf32>",
               t("2x7")});
  c.push_back({"slice strided",
               {{t("5x6")}},
               "%y = tg.slice %a {start = array<i64: 1, 0>, limit = array<i64: 5, 6>, strides = "
               "array<i64: 2, 3>} : (tensor<5x6xf32>) -> tensor<2x2xf32>",
               t("2x2")});
  c.push_back({"pad",
               {{t("2x3")}},
               "%y = tg.pad %a {low = array<i64: 1, 0>, high = array<i64: 0, 2>, value = 0.5} : "
               "(tensor<2x3xf32>) -> tensor<3x5xf32>",
               t("3x5")});
  c.push_back(
      {"gather axis 1",
       {{t("3x5")}, {"tensor<2x2xi32>", 0, 5}},
       "%y = tg.gather %a, %b {axis = 1} : (tensor<3x5xf32>, tensor<2x2xi32>) -> tensor<3x2x2xf32>",
       t("3x2x2")});
  // The window ops in f32 (oneDNN on the CPU, cuDNN on the GPU) and in f64
  // (linalg.generic gathers, WindowToLinalg.cpp), which match the
  // interpreter to rounding: they add in its order.
  for (std::string elt : {"f32", "f64"}) {
    auto t = [&](const std::string &s) { return "tensor<" + s + "x" + elt + ">"; };
    std::string suffix = elt == "f32" ? "" : " f64";
    double rtol = elt == "f32" ? 1e-4 : 1e-13, atol = elt == "f32" ? 1e-5 : 1e-13;
    std::vector<OpCase> window;
    struct Conv {
      std::string name, x, w, attrs, y;
    };
    for (const Conv &cv : std::vector<Conv>{
             {"conv2d", "2x3x7x7", "4x3x3x3", "", "2x4x5x5"},
             {"conv2d stride 2 pad", "1x2x8x7", "3x2x3x2",
              " {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 0, 1>}", "1x3x4x4"},
             {"conv2d groups 2", "1x4x5x5", "6x2x2x2", " {groups = 2}", "1x6x4x4"},
             {"conv2d dilation 2", "1x1x7x7", "2x1x2x2", " {dilations = array<i64: 2, 2>}",
              "1x2x5x5"}}) {
      window.push_back(
          {cv.name,
           {{t(cv.x)}, {t(cv.w)}},
           "%y = tg.conv2d %a, %b" + cv.attrs + " : (" + t(cv.x) + ", " + t(cv.w) + ") -> " + t(cv.y),
           t(cv.y)});
      window.push_back({cv.name + " backprop_input",
                   {{t(cv.y)}, {t(cv.w)}},
                   "%y = tg.conv2d_backprop_input %a, %b" + cv.attrs + " : (" + t(cv.y) + ", " +
                       t(cv.w) + ") -> " + t(cv.x),
                   t(cv.x)});
      window.push_back({cv.name + " backprop_filter",
                   {{t(cv.x)}, {t(cv.y)}},
                   "%y = tg.conv2d_backprop_filter %a, %b" + cv.attrs + " : (" + t(cv.x) + ", " +
                       t(cv.y) + ") -> " + t(cv.w),
                   t(cv.w)});
    }
    std::string pool =
        "kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>";
    window.push_back({"max_pool2d",
                 {{t("2x3x6x6")}},
                 "%y = tg.max_pool2d %a {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : "
                 "(tensor<2x3x6x6xf32>) -> tensor<2x3x3x3xf32>",
                 t("2x3x3x3")});
    window.push_back(
        {"max_pool2d overlapping padded",
         {{t("1x2x5x5")}},
         "%y = tg.max_pool2d %a {" + pool + "} : (tensor<1x2x5x5xf32>) -> tensor<1x2x3x3xf32>",
         t("1x2x3x3")});
    window.push_back({"max_pool2d_grad",
                 {{t("1x2x5x5")}, {t("1x2x3x3")}},
                 "%y = tg.max_pool2d_grad %a, %b {" + pool +
                     "} : (tensor<1x2x5x5xf32>, tensor<1x2x3x3xf32>) -> tensor<1x2x5x5xf32>",
                 t("1x2x5x5")});
    for (std::string include : {"false", "true"}) {
      window.push_back({"avg_pool2d count_include_pad=" + include,
                   {{t("1x2x5x5")}},
                   "%y = tg.avg_pool2d %a {" + pool + ", count_include_pad = " + include +
                       "} : (tensor<1x2x5x5xf32>) -> tensor<1x2x3x3xf32>",
                   t("1x2x3x3")});
      window.push_back({"avg_pool2d_grad count_include_pad=" + include,
                   {{t("1x2x3x3")}},
                   "%y = tg.avg_pool2d_grad %a {" + pool + ", count_include_pad = " + include +
                       "} : (tensor<1x2x3x3xf32>) -> tensor<1x2x5x5xf32>",
                   t("1x2x5x5")});
    }
    for (OpCase &w : window) {
      absl::StrReplaceAll({{"xf32>", "x" + elt + ">"}}, &w.body); // the pooling cases' types
      w.name += suffix;
      w.rtol = rtol;
      w.atol = atol;
      c.push_back(std::move(w));
    }
  }
  c.push_back({"scatter_add (repeated indices)",
               {{t("4x3")}, {"tensor<5xi32>", 0, 4}, {t("5x3")}},
               "%y = tg.scatter_add %a, %b, %c : (tensor<4x3xf32>, tensor<5xi32>, tensor<5x3xf32>) "
               "-> tensor<4x3xf32>",
               t("4x3")});
  c.push_back({"scatter_add axis 1",
               {{t("2x4")}, {"tensor<3xi32>", 0, 4}, {t("2x3")}},
               "%y = tg.scatter_add %a, %b, %c {axis = 1} : (tensor<2x4xf32>, tensor<3xi32>, "
               "tensor<2x3xf32>) -> tensor<2x4xf32>",
               t("2x4")});
  c.push_back(
      {"random_uniform",
       {{"tensor<i64>", 0, 1000000}},
       "%y = tg.random_uniform %a {low = -2.0, high = 3.0} : (tensor<i64>) -> tensor<3x50xf32>",
       t("3x50")});
  c.push_back(
      {"random_normal",
       {{"tensor<i64>", 0, 1000000}},
       "%y = tg.random_normal %a {mean = 1.0, stddev = 0.5} : (tensor<i64>) -> tensor<64xf32>",
       t("64")});
  // Loops: an RNN step with a library matmul in the body, forward and
  // reverse; a scan in a scan.
  for (std::string attrs : {"", "{reverse}"})
    c.push_back(
        {"scan " + attrs,
         {{t("5x4x3")}, {t("4x3")}, {t("3x3"), -0.5, 0.5}},
         "%h, %hs = tg.scan (%a) carry (%b) " + attrs +
             " : (tensor<5x4x3xf32>, tensor<4x3xf32>) -> (tensor<4x3xf32>, tensor<5x4x3xf32>) {\n"
             "  ^bb0(%x: tensor<4x3xf32>, %p: tensor<4x3xf32>):\n"
             "    %m = tg.matmul %p, %c : (tensor<4x3xf32>, tensor<3x3xf32>) -> tensor<4x3xf32>\n"
             "    %z = tg.add %m, %x : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>\n"
             "    %n = tg.tanh %z : tensor<4x3xf32>\n"
             "    tg.yield %n, %n : tensor<4x3xf32>, tensor<4x3xf32>\n  }\n"
             "  %y = tg.add %hs, %h : (tensor<5x4x3xf32>, tensor<4x3xf32>) -> tensor<5x4x3xf32>",
         t("5x4x3")});
  c.push_back({"scan nested",
               {{t("3x2x4")}, {t("4")}},
               "%h, %hs = tg.scan (%a) carry (%b) : (tensor<3x2x4xf32>, tensor<4xf32>) -> "
               "(tensor<4xf32>, tensor<3x4xf32>) {\n"
               "  ^bb0(%x: tensor<2x4xf32>, %p: tensor<4xf32>):\n"
               "    %g, %gs = tg.scan (%x) carry (%p) : (tensor<2x4xf32>, tensor<4xf32>) -> "
               "(tensor<4xf32>, tensor<2x4xf32>) {\n"
               "    ^bb0(%r: tensor<4xf32>, %q: tensor<4xf32>):\n"
               "      %s = tg.mul %q, %r : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>\n"
               "      %t = tg.sin %s : tensor<4xf32>\n"
               "      tg.yield %t, %t : tensor<4xf32>, tensor<4xf32>\n    }\n"
               "    %gp = tg.add %g, %p : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>\n"
               "    tg.yield %gp, %gp : tensor<4xf32>, tensor<4xf32>\n  }\n"
               "  %y = tg.add %hs, %h : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>",
               t("3x4")});
  c.push_back({"constant",
               {{t("3")}},
               "%k = tg.constant dense<[1.5, -2.0, 4.0]> : tensor<3xf32>\n"
               "  %y = tg.mul %a, %k : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>",
               t("3")});
  return c;
}

/// The backends the compiled tests run on: the CPU pipeline with and
/// without fusion, and the CUDA pipeline with its kernels emulated on the CPU
/// (tg-cuda-emulate-launches: proves the kernels' index logic without a GPU).
/// Cuda runs on a GPU when there is one, and is Skipped (with the reason)
/// when there is no driver or device.
enum class Backend { Fused, Unfused, CudaEmulated, Cuda };

CompileOptions backendOptions(Backend b, uint64_t seed = 0) {
  CompileOptions o;
  o.seed = seed;
  o.fusion = b != Backend::Unfused;
  if (b == Backend::CudaEmulated || b == Backend::Cuda) {
    o.target = "cuda";
    o.cudaEmulate = b == Backend::CudaEmulated;
  }
  return o;
}

/// Why a CUDA executable cannot run on this machine (no toolkit, runtime,
/// driver or GPU), or "" when it could have.
std::string noGpuReason(Backend b, const absl::Status &s) {
  if (b != Backend::Cuda || s.ok())
    return "";
  std::string m(s.message());
  for (const char *why : {"no CUDA toolkit", "without the CUDA device runtime", "libcuda.so.1",
                          "cuInit failed", "no CUDA device"})
    if (m.find(why) != std::string::npos)
      return m;
  return "";
}

const char *backendName(Backend b) {
  return b == Backend::Fused          ? "fused"
         : b == Backend::Unfused      ? "unfused"
         : b == Backend::CudaEmulated ? "cuda_emulated"
                                      : "cuda";
}

class CompiledFusion : public ::testing::TestWithParam<Backend> {};

TEST_P(CompiledFusion, EveryOpMatchesTheInterpreter) {
  std::vector<OpCase> cases = opCases();
  std::string text = "module {\n";
  for (size_t i = 0; i < cases.size(); ++i) {
    const OpCase &c = cases[i];
    std::vector<std::string> args;
    const char *names[] = {"a", "b", "c"};
    for (size_t k = 0; k < c.args.size(); ++k)
      args.push_back(absl::StrCat("%", names[k], ": ", c.args[k].type, " {tg.name = \"f", i, ".",
                                  names[k], "\", tg.role = \"data\"}"));
    absl::StrAppend(&text, "func.func @f", i, "(", absl::StrJoin(args, ", "), ") -> (", c.yType,
                    " {tg.name = \"f", i, ".y\"}) {\n  ", c.body, "\n  return %y : ", c.yType,
                    "\n}\n");
  }
  text += "}\n";
  auto m = Module::parse(text, "ops.mlir");
  ASSERT_TRUE(m.ok()) << m.status();
  auto exe = compile(*m, backendOptions(GetParam()));
  if (std::string why = noGpuReason(GetParam(), exe.status()); !why.empty())
    GTEST_SKIP() << why;
  ASSERT_TRUE(exe.ok()) << exe.status();
  for (size_t i = 0; i < cases.size(); ++i) {
    const OpCase &c = cases[i];
    std::string fn = absl::StrCat("f", i);
    auto sig = m->signature(fn);
    ASSERT_TRUE(sig.ok());
    NamedTensors in;
    for (size_t k = 0; k < c.args.size(); ++k) {
      const ValueInfo &a = sig->args[k];
      in[a.name] =
          randomTensor(a.shape, a.dtype, unsigned(100 * i + k), c.args[k].lo, c.args[k].hi);
      ASSERT_TRUE(exe->set(a.name, in[a.name]).ok()) << c.name;
    }
    auto want = interpretNamed(*m, fn, in);
    ASSERT_TRUE(want.ok()) << c.name << ": " << want.status();
    ASSERT_TRUE(exe->run(fn).ok()) << c.name;
    auto got = exe->get(fn + ".y");
    ASSERT_TRUE(got.ok()) << c.name << ": " << got.status();
    expectClose(*got, want->at(fn + ".y"), c.name, c.rtol, c.atol);
  }
  std::printf("[ compiled  ] %zu op cases match the interpreter (%s)\n", cases.size(),
              backendName(GetParam()));
}

//===----------------------------------------------------------------------===//
// Example models: 5 compiled train steps against 5 interpreted ones.
//===----------------------------------------------------------------------===//

void checkTrainSteps(Graph &g, int64_t classes, Backend backend, double rtol = 1e-4,
                     double atol = 1e-5) {
  auto model = g.build();
  ASSERT_TRUE(model.ok()) << model.status();
  auto trained = model->transform("tg-build-train-step");
  ASSERT_TRUE(trained.ok()) << trained.status();
  auto exe = compile(*trained, backendOptions(backend, /*seed=*/7));
  if (std::string why = noGpuReason(backend, exe.status()); !why.empty())
    GTEST_SKIP() << why;
  ASSERT_TRUE(exe.ok()) << exe.status();
  auto state = initializeParams(*trained, "train_step", 7);
  ASSERT_TRUE(state.ok()) << state.status();
  auto sig = trained->signature("train_step");
  for (int step = 0; step < 5; ++step) {
    for (const ValueInfo &a : sig->args)
      if (a.role == Role::Data || a.role == Role::Label) {
        Tensor v = randomTensor(a.shape, a.dtype, unsigned(step * 31 + a.name.size()),
                                isFloat(a.dtype) ? 0 : 0, isFloat(a.dtype) ? 1 : double(classes));
        (*state)[a.name] = v;
        ASSERT_TRUE(exe->set(a.name, v).ok());
      }
    auto want = interpretStep(*trained, "train_step", *state);
    ASSERT_TRUE(want.ok()) << want.status();
    ASSERT_TRUE(exe->run("train_step").ok());
    auto loss = exe->get("loss");
    ASSERT_TRUE(loss.ok());
    expectClose(*loss, want->at("loss"), absl::StrCat("loss at step ", step), rtol, atol);
  }
  for (const ValueInfo &a : sig->args)
    if (a.role == Role::Param || a.role == Role::State) {
      auto got = exe->get(a.name);
      ASSERT_TRUE(got.ok()) << got.status();
      expectClose(*got, state->at(a.name), a.name + " after 5 steps", 10 * rtol, 10 * atol);
    }
}

TEST_P(CompiledFusion, FashionMlpTrainStepMatchesTheInterpreter) {
  Graph g("mlp");
  examples::buildFashionMlp(g, {/*batch=*/16, /*hidden=*/{32, 16}});
  checkTrainSteps(g, 10, GetParam());
}

TEST_P(CompiledFusion, CharLstmTrainStepMatchesTheInterpreter) {
  Graph g("lstm");
  examples::buildCharLstm(g, {/*batch=*/2, /*steps=*/4, /*vocab=*/6, /*hidden=*/8});
  checkTrainSteps(g, 6, GetParam());
}

TEST_P(CompiledFusion, FashionCnnTrainStepMatchesTheInterpreter) {
  Graph g("cnn");
  examples::buildFashionCnn(g, {/*batch=*/4, /*filters1=*/3, /*filters2=*/4, /*dense=*/8});
  checkTrainSteps(g, 10, GetParam());
}

// Channels in whole blocks of 16: tg-assign-layouts keeps the activations
// blocked (nChw16c on AVX-512, nChw8c on AVX2) through conv -> pool -> conv
// chains, the ReLU masks and the pooling and convolution gradients; the
// bias gradients read them through tg.relayout. (On a CPU without AVX2 this
// runs plain.)
TEST_P(CompiledFusion, BlockedLayoutCnnTrainStepMatchesTheInterpreter) {
  Graph g("blocked_cnn");
  Value x = g.data("image", {2, 3, 10, 10});
  Value y = g.label("label", {2});
  Value c = layers::Conv2D(16, {3, 3}, "conv1").padding(1).activation(layers::Activation::relu)(x);
  Value a = layers::AvgPool2D({3, 3}).strides({1, 1}).padding({1, 1, 1, 1})(c);
  Value d = layers::Conv2D(32, {3, 3}, "conv2").padding(1).activation(layers::Activation::relu)(a);
  Value p = layers::MaxPool2D({2, 2})(d);
  Value e = layers::Conv2D(16, {3, 3}, "conv3").padding(1)(p);
  Value logits = layers::Dense(5, "fc")(layers::Flatten()(ops::relu(e)));
  Value loss = ops::softmaxCrossEntropy(logits, y);
  g.output("loss", loss);
  g.minimize(loss, optim::Adam(1e-2));
  checkTrainSteps(g, 5, GetParam());
}

// A CNN in PyTorch's style: padded strided conv, average pooling with
// padding (counting the padded zeros), padded max pooling, global average.
TEST_P(CompiledFusion, PaddedConvAndPoolingLayersTrainStepMatchesTheInterpreter) {
  Graph g("torch_cnn");
  Value x = g.data("image", {4, 1, 12, 12});
  Value y = g.label("label", {4});
  Value c = layers::Conv2D(4, {3, 3}, "conv").strides({2, 2}).padding(1).activation(
      layers::Activation::relu)(x);
  Value a = layers::AvgPool2D({3, 3}).strides({1, 1}).padding({1, 1, 1, 1})(c);
  Value p = layers::MaxPool2D({2, 2}).strides({2, 2})(a);
  Value logits = layers::Dense(10, "fc")(layers::GlobalAvgPool2D()(p));
  Value loss = ops::softmaxCrossEntropy(logits, y);
  g.output("loss", loss);
  g.minimize(loss, optim::Adam(1e-2));
  checkTrainSteps(g, 10, GetParam());
}

// The same layers in f64: convolution and pooling and their gradients are
// generated loops (no oneDNN kernel takes f64). Each op matches the
// interpreter to 1e-13 (EveryOpMatchesTheInterpreter); over 5 Adam steps,
// which amplify the rounding of small gradients, to 1e-8 (f32 would give 1e-4).
TEST_P(CompiledFusion, Float64ConvAndPoolingTrainStepMatchesTheInterpreter) {
  Graph g("f64_cnn");
  Value x = g.data("image", {3, 2, 9, 9}, DType::f64);
  Value y = g.label("label", {3});
  Value c = layers::Conv2D(4, {3, 3}, "conv").strides({2, 2}).padding(1).activation(
      layers::Activation::relu)(x);
  Value a = layers::AvgPool2D({3, 3}).strides({1, 1}).padding({1, 1, 1, 1})(c);
  Value p = layers::MaxPool2D({3, 3}).strides({2, 2}).padding({1, 1, 1, 1})(a);
  Value logits = layers::Dense(5, "fc")(layers::Flatten()(p));
  Value loss = ops::softmaxCrossEntropy(logits, y);
  g.output("loss", loss);
  g.minimize(loss, optim::Adam(1e-2));
  checkTrainSteps(g, 5, GetParam(), /*rtol=*/1e-8, /*atol=*/1e-10);
}

// nn.LSTM's cell (two bias params, no forget bias) under Adam.
TEST_P(CompiledFusion, PyTorchLstmTrainStepMatchesTheInterpreter) {
  Graph g("torch_lstm");
  Value x = g.data("x", {3, 5, 4});
  Value y = g.label("y", {3});
  Value h0 = g.state("h0", {3, 6}), c0 = g.state("c0", {3, 6});
  auto out = layers::LSTM(6, "lstm").pytorch()(x, h0, c0);
  Value loss = ops::softmaxCrossEntropy(layers::Dense(7, "fc")(out.h), y);
  g.output("loss", loss);
  g.minimize(loss, optim::Adam(1e-2));
  checkTrainSteps(g, 7, GetParam());
}

// nn.GRU's cell after a LayerNorm, under Adam.
TEST_P(CompiledFusion, GruAndLayerNormTrainStepMatchesTheInterpreter) {
  Graph g("gru_net");
  Value x = g.data("x", {3, 5, 4});
  Value y = g.label("y", {3});
  Value h0 = g.state("h0", {3, 6});
  auto out = layers::GRU(6, "gru")(layers::LayerNorm(1, "ln")(x), h0);
  Value loss = ops::softmaxCrossEntropy(layers::Dense(7, "fc")(out.h), y);
  g.output("loss", loss);
  g.minimize(loss, optim::Adam(1e-2));
  checkTrainSteps(g, 7, GetParam());
}

// BatchNorm after a conv and a dense layer (without biases, which BatchNorm
// cancels: their gradient is rounding noise that Adam would amplify): the
// running statistics (states) are compared too.
TEST_P(CompiledFusion, BatchNormTrainStepMatchesTheInterpreter) {
  Graph g("bn_cnn");
  Value x = g.data("image", {4, 1, 8, 8});
  Value y = g.label("label", {4});
  Value c = layers::BatchNorm("bn")(layers::Conv2D(3, {3, 3}, "conv").padding(1).useBias(false)(x));
  Value h = layers::MaxPool2D({2, 2})(ops::relu(c));
  Value d = layers::BatchNorm("bn1d")(layers::Dense(8, "fc1").useBias(false)(layers::Flatten()(h)));
  Value loss = ops::softmaxCrossEntropy(layers::Dense(10, "fc2")(ops::relu(d)), y);
  g.output("loss", loss);
  g.minimize(loss, optim::Adam(1e-2));
  checkTrainSteps(g, 10, GetParam());
}

// At the README's size (parallel loops, oneDNN GEMMs). SGD: RMSProp at a
// large rate turns rounding differences into different updates.
TEST(CompiledLarge, CharLstmTrainStepAtTrainingSize) {
  Graph g("lstm");
  examples::buildCharLstm(
      g, {/*batch=*/32, /*steps=*/4, /*vocab=*/77, /*hidden=*/128, optim::SGD(0.5)});
  checkTrainSteps(g, 77, Backend::Fused);
}

INSTANTIATE_TEST_SUITE_P(Backends, CompiledFusion,
                         ::testing::Values(Backend::Fused, Backend::Unfused, Backend::CudaEmulated,
                                           Backend::Cuda),
                         [](const ::testing::TestParamInfo<Backend> &info) {
                           return std::string(backendName(info.param));
                         });

// CompileOptions::keepFunctions: the model's gradient function (built by
// tg-autodiff in the pipeline) is an entry point of the training artifact,
// sharing its param buffers, and gives the interpreter's gradients.
TEST(Compiled, KeptGradientFunctionMatchesTheInterpreter) {
  Graph g("mlp");
  examples::buildFashionMlp(g, {/*batch=*/8, /*hidden=*/{16}});
  auto model = g.build();
  ASSERT_TRUE(model.ok()) << model.status();
  CompileOptions o;
  o.keepFunctions = {"mlp_grad"};
  auto exe = compile(g, o);
  ASSERT_TRUE(exe.ok()) << exe.status();
  auto grad = model->transform("tg-autodiff");
  ASSERT_TRUE(grad.ok()) << grad.status();
  auto sig = grad->signature("mlp_grad");
  ASSERT_TRUE(sig.ok()) << sig.status();
  auto in = initializeParams(*grad, "mlp_grad", 5);
  ASSERT_TRUE(in.ok()) << in.status();
  for (const ValueInfo &a : sig->args) {
    if (a.role == Role::Data || a.role == Role::Label)
      (*in)[a.name] = randomTensor(a.shape, a.dtype, unsigned(a.name.size()), 0,
                                   isFloat(a.dtype) ? 1 : 10);
    ASSERT_TRUE(exe->set(a.name, in->at(a.name)).ok()) << a.name;
  }
  auto want = interpretNamed(*grad, "mlp_grad", *in);
  ASSERT_TRUE(want.ok()) << want.status();
  ASSERT_TRUE(exe->run("mlp_grad").ok());
  int grads = 0;
  for (const ValueInfo &r : sig->results) {
    auto got = exe->get(r.name);
    ASSERT_TRUE(got.ok()) << r.name << ": " << got.status();
    expectClose(*got, want->at(r.name), r.name);
    grads += absl::EndsWith(r.name, ".grad");
  }
  EXPECT_EQ(grads, 4); // fc1/fc2 kernel and bias
  // The training entry points are still there.
  EXPECT_TRUE(exe->run("train_step").ok());
}

TEST(Compiled, PrimitivesAreCreatedWhenTheSessionStarts) {
  Graph g("cnn");
  examples::buildFashionCnn(g, {/*batch=*/2, /*filters1=*/2, /*filters2=*/3, /*dense=*/4});
  size_t before = cachedPrimitiveCount();
  auto exe = compile(g);
  ASSERT_TRUE(exe.ok()) << exe.status();
  size_t prepared = cachedPrimitiveCount();
  EXPECT_GE(prepared - before, 10u) << "conv, pooling and matmul primitives of the CNN";
  for (const std::string entry : {"train_step", "eval_step", "predict"})
    ASSERT_TRUE(exe->run(entry).ok()) << entry;
  EXPECT_EQ(cachedPrimitiveCount(), prepared) << "a step created a oneDNN primitive";
}

// --precision=bf16-mixed: matmuls and convolutions round their inputs to
// bf16 (8 significant bits) and accumulate in f32. Under SGD (no Adam to
// amplify rounding noise), 5 steps stay within 3e-2 of the f64 interpreter
// (params: 3e-2 of their largest value, plus 5e-3),
// and the first loss differs from the f32 artifact's (bf16 is in effect).
TEST(Compiled, Bf16MixedTrainStepsFollowTheInterpreter) {
  Graph g("bf16_cnn");
  Value x = g.data("image", {4, 3, 10, 10});
  Value y = g.label("label", {4});
  Value c = layers::Conv2D(16, {3, 3}, "conv1").padding(1).activation(layers::Activation::relu)(x);
  Value p = layers::MaxPool2D({2, 2})(c);
  Value d = layers::Conv2D(16, {3, 3}, "conv2").padding(1).activation(layers::Activation::relu)(p);
  Value h = layers::Dense(32, "fc1").activation(layers::Activation::relu)(layers::Flatten()(d));
  Value loss = ops::softmaxCrossEntropy(layers::Dense(5, "fc2")(h), y);
  g.output("loss", loss);
  g.minimize(loss, optim::SGD(0.05));
  auto model = g.build();
  ASSERT_TRUE(model.ok()) << model.status();
  auto trained = model->transform("tg-build-train-step");
  ASSERT_TRUE(trained.ok()) << trained.status();
  CompileOptions o = backendOptions(Backend::Fused, /*seed=*/7);
  auto f32 = compile(*trained, o);
  ASSERT_TRUE(f32.ok()) << f32.status();
  o.precision = "bf16-mixed";
  auto exe = compile(*trained, o);
  if (!exe.ok() && absl::StrContains(exe.status().message(), "needs a CPU with AVX512_BF16"))
    GTEST_SKIP() << exe.status().message();
  ASSERT_TRUE(exe.ok()) << exe.status();
  auto state = initializeParams(*trained, "train_step", 7);
  ASSERT_TRUE(state.ok()) << state.status();
  auto sig = trained->signature("train_step");
  InterpretOptions f64{/*float64=*/true};
  for (int step = 0; step < 5; ++step) {
    for (const ValueInfo &a : sig->args)
      if (a.role == Role::Data || a.role == Role::Label) {
        Tensor v = randomTensor(a.shape, a.dtype, unsigned(step * 31 + a.name.size()), 0,
                                isFloat(a.dtype) ? 1 : 5);
        (*state)[a.name] = v;
        ASSERT_TRUE(exe->set(a.name, v).ok());
        ASSERT_TRUE(f32->set(a.name, v).ok());
      }
    auto want = interpretStep(*trained, "train_step", *state, f64);
    ASSERT_TRUE(want.ok()) << want.status();
    ASSERT_TRUE(exe->run("train_step").ok());
    ASSERT_TRUE(f32->run("train_step").ok());
    auto loss = exe->get("loss");
    ASSERT_TRUE(loss.ok());
    expectClose(*loss, want->at("loss"), absl::StrCat("bf16 loss at step ", step), 3e-2, 0);
    if (step == 0)
      EXPECT_NE(loss->data[0], f32->get("loss")->data[0]) << "bf16 compute not in effect";
  }
  for (const ValueInfo &a : sig->args)
    if (a.role == Role::Param) {
      auto got = exe->get(a.name);
      ASSERT_TRUE(got.ok()) << got.status();
      double diff = 0, scale = 0;
      for (size_t i = 0; i < got->data.size(); ++i) {
        diff = std::max(diff, std::fabs(got->data[i] - state->at(a.name).data[i]));
        scale = std::max(scale, std::fabs(state->at(a.name).data[i]));
      }
      // Biases start at 0 and their gradients are cancelling sums (the
      // rounding is relative to each term, not to the sum): 5e-3 absolute.
      EXPECT_LE(diff, 3e-2 * scale + 5e-3) << a.name << " after 5 bf16 steps";
    }
}

// tg-fuse-epilogues makes fused ops for f32 only; written by hand in f64,
// one is a compile error naming it.
TEST(Compiled, UnsupportedOpsAreNamed) {
  auto m = Module::parse(R"(
    func.func @f(%x: tensor<1x1x4x4xf64> {tg.name = "x", tg.role = "data"}, %w: tensor<1x1x2x2xf64> {tg.name = "w", tg.role = "data"}, %b: tensor<1xf64> {tg.name = "b", tg.role = "data"}) -> (tensor<1x1x3x3xf64> {tg.name = "y"}) {
      %0 = tg.fused_conv2d %x, %w, %b {activation = "relu"} : (tensor<1x1x4x4xf64>, tensor<1x1x2x2xf64>, tensor<1xf64>) -> tensor<1x1x3x3xf64>
      return %0 : tensor<1x1x3x3xf64>
    })");
  ASSERT_TRUE(m.ok()) << m.status();
  auto exe = compile(*m);
  ASSERT_FALSE(exe.ok());
  EXPECT_THAT(std::string(exe.status().message()),
              HasSubstr("'tg.fused_conv2d' is made for f32 only (tg-fuse-epilogues)"));
}

TEST_P(CompiledFusion, EmbeddingAndDropoutTrainStep) {
  // gather + scatter_add (the embedding gradient) and random masks.
  Graph g("emb");
  Value ids = g.data("ids", {6}, DType::i32);
  Value y = g.label("y", {6});
  Value h = layers::Embedding(9, 5, "emb")(ids);
  h = layers::Dropout(0.25, g.data("seed", {}, DType::i64))(h);
  Value logits = layers::Dense(3, "out")(h);
  g.minimize(ops::softmaxCrossEntropy(logits, y), optim::SGD(0.5));
  checkTrainSteps(g, 3, GetParam());
}

//===----------------------------------------------------------------------===//
// Bad artifacts and bad inputs
//===----------------------------------------------------------------------===//

std::string tempPath(const std::string &name) { return (::testing::TempDir() + "/" + name); }

std::string compileTo(const std::string &path) {
  Graph g("tiny");
  Value x = g.data("x", {4});
  Value w = g.param("w", {4}, Init::ones());
  g.output("y", ops::reduceSum(x * w));
  auto exe = compile(g, {"native", path, 0});
  EXPECT_TRUE(exe.ok()) << exe.status();
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

/// Re-seals a patched artifact with a valid trailer, so the runtime's
/// manifest checks (not the checksum) are what rejects it.
std::string reseal(std::string artifact) {
  artifact.resize(artifact.size() - kTrailerSize);
  return artifact + makeTrailer(artifact);
}

TEST(Artifact, RunsAndRejectsBadBuffers) {
  std::string path = tempPath("tiny.tgx");
  compileTo(path);
  auto a = rt::Artifact::open(path);
  ASSERT_TRUE(a.ok()) << a.status();
  auto s = rt::Session::create(*a, 0);
  ASSERT_TRUE(s.ok()) << s.status();
  float x[4] = {1, 2, 3, 4};
  ASSERT_TRUE(s->write("x", x, sizeof x).ok());
  ASSERT_TRUE(s->run("tiny").ok());
  float y = 0;
  ASSERT_TRUE(s->read("y", &y, sizeof y).ok());
  EXPECT_EQ(y, 10.0f);
  absl::Status bad = s->write("x", x, 3 * sizeof(float));
  EXPECT_THAT(std::string(bad.message()), HasSubstr("buffer 'x' holds 16 bytes (f32 [4]), got 12"));
  bad = s->write("nope", x, sizeof x);
  EXPECT_EQ(bad.code(), absl::StatusCode::kNotFound);
  bad = s->run("train_step");
  EXPECT_THAT(std::string(bad.message()),
              HasSubstr("no entry point 'train_step' (the artifact has: tiny)"));
}

TEST(Artifact, TruncatedCorruptedAndForeignFilesAreErrors) {
  std::string good = compileTo(tempPath("good.tgx"));
  ASSERT_GT(good.size(), 1000u);
  writeFile(tempPath("truncated.tgx"), good.substr(0, good.size() / 2));
  auto a = rt::Artifact::open(tempPath("truncated.tgx"));
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()), HasSubstr("is truncated"));

  std::string flipped = good;
  flipped[flipped.size() / 3] ^= 0x5a;
  writeFile(tempPath("flipped.tgx"), flipped);
  a = rt::Artifact::open(tempPath("flipped.tgx"));
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()), HasSubstr("is corrupted (checksum mismatch)"));

  writeFile(tempPath("text.tgx"), "module {}\n");
  a = rt::Artifact::open(tempPath("text.tgx"));
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()), HasSubstr("is not a tgx artifact"));

  a = rt::Artifact::open(tempPath("missing.tgx"));
  EXPECT_EQ(a.status().code(), absl::StatusCode::kNotFound);

  // A manifest that asks for a CPU feature no machine has (same length, so
  // the ELF layout is unchanged).
  std::string patched = good;
  size_t at = patched.find("\"sse4.2\"");
  ASSERT_NE(at, std::string::npos) << "compiled for a CPU without SSE4.2?";
  patched.replace(at, 8, "\"zzz4.2\"");
  writeFile(tempPath("future.tgx"), reseal(patched));
  a = rt::Artifact::open(tempPath("future.tgx"));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(a.status().message()),
              HasSubstr("compiled for CPU features this machine lacks: zzz4.2"));

  // A manifest from a newer format version.
  patched = good;
  at = patched.find("\"version\": 1");
  ASSERT_NE(at, std::string::npos);
  patched.replace(at, strlen("\"version\": 1"), "\"version\": 9");
  writeFile(tempPath("newer.tgx"), reseal(patched));
  a = rt::Artifact::open(tempPath("newer.tgx"));
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()),
              HasSubstr("artifact format version 9 is not supported"));

  // A manifest whose JSON is broken.
  patched = good;
  at = patched.find("\"entries\"");
  ASSERT_NE(at, std::string::npos);
  patched[at] = '{';
  writeFile(tempPath("broken.tgx"), reseal(patched));
  a = rt::Artifact::open(tempPath("broken.tgx"));
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()), HasSubstr("manifest"));
}

} // namespace
} // namespace tg
