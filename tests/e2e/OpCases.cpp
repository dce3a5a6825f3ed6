//===- OpCases.cpp - one small module per op ------------------------------===//
#include "tests/e2e/OpCases.h"
#include "tg/Layers.h"
#include "tg/Ops.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

#include <cmath>
#include <iterator>
#include <random>

namespace tg {

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
  // tg.attention: key blocks of 64 in a loop plus a shorter last block
  // (150 = 2 x 64 + 22), a user mask that leaves some query rows no key
  // (zeros), f64 through generated GEMMs, and the gradient.
  {
    std::string q = t("2x3x150x16"), v = t("2x3x150x8"), o = t("2x3x150x8");
    c.push_back({"attention causal, blocks + tail",
                 {{q}, {q}, {v}},
                 absl::StrCat("%y = tg.attention %a, %b, %c {causal = true, scale = 0.25 : f64} : (",
                              q, ", ", q, ", ", v, ") -> ", o),
                 o});
    std::string q2 = t("2x5x12"), k2 = t("2x20x12"), v2 = t("2x20x7"), o2 = t("2x5x7");
    c.push_back(
        {"attention masked, Tq != Tk, rows with no key",
         {{q2}, {k2}, {v2}, {t("2x5x1"), -3, 3}, {t("2x1x20")}},
         absl::StrCat("%r = tg.compare %d, %e {predicate = \"lt\"} : (", t("2x5x1"), ", ",
                      t("2x1x20"), ") -> tensor<2x5x20xi1>\n"
                      "  %y = tg.attention %a, %b, %c, %r {scale = 0.3 : f64} : (", q2, ", ", k2,
                      ", ", v2, ", tensor<2x5x20xi1>) -> ", o2),
         o2});
    std::string q3 = "tensor<3x70x4xf64>";
    c.push_back({"attention f64 causal masked (generated GEMMs)",
                 {{q3}, {q3}, {q3}, {"tensor<3x1x70xf64>"}},
                 absl::StrCat("%r = tg.compare %d, %d {predicate = \"eq\"} : (tensor<3x1x70xf64>, "
                              "tensor<3x1x70xf64>) -> tensor<3x1x70xi1>\n"
                              "  %o = tg.attention %a, %b, %c, %r {causal = true, scale = 0.5 : f64} : (",
                              q3, ", ", q3, ", ", q3, ", tensor<3x1x70xi1>) -> ", q3,
                              "\n  %y = tg.cast %o : (", q3, ") -> ", t("3x70x4")),
                 t("3x70x4")});
    // Key j is seen by row i when j >= d_i (d in [0, 200)): some rows see
    // nothing in the first block of 64 (the running max stays -inf across
    // it), some see no key at all.
    std::string q6 = t("2x10x8"), k6 = t("2x150x8"), v6 = t("2x150x4"), o6 = t("2x10x4"),
                m6 = "tensor<2x10x150xi1>";
    std::string mask6 =
        "%i = tg.iota {dimension = 2 : i64} : tensor<2x10x150xi32>\n"
        "  %f = tg.cast %i : (tensor<2x10x150xi32>) -> tensor<2x10x150xf32>\n"
        "  %r = tg.compare %f, %d {predicate = \"ge\"} : (tensor<2x10x150xf32>, " +
        t("2x10x1") + ") -> " + m6 + "\n";
    c.push_back({"attention masked over key blocks, rows with no key",
                 {{q6}, {k6}, {v6}, {t("2x10x1"), 0, 200}},
                 absl::StrCat(mask6, "  %y = tg.attention %a, %b, %c, %r {scale = 0.4 : f64} : (",
                              q6, ", ", k6, ", ", v6, ", ", m6, ") -> ", o6),
                 o6});
    c.push_back(
        {"attention_grad masked over key blocks, rows with no key",
         {{q6}, {k6}, {v6}, {t("2x10x1"), 0, 200}, {o6}},
         absl::StrCat(mask6, "  %o = tg.attention %a, %b, %c, %r {scale = 0.4 : f64} : (", q6,
                      ", ", k6, ", ", v6, ", ", m6, ") -> ", o6,
                      "\n  %g:3 = tg.attention_grad %a, %b, %c, %o, %e, %r {scale = 0.4 : f64} : (",
                      q6, ", ", k6, ", ", v6, ", ", o6, ", ", o6, ", ", m6, ") -> (", q6, ", ", k6,
                      ", ", v6, ")\n  %gq = tg.reshape %g#0 : (", q6,
                      ") -> tensor<160xf32>\n  %gk = tg.reshape %g#1 : (", k6,
                      ") -> tensor<2400xf32>\n  %gv = tg.reshape %g#2 : (", v6,
                      ") -> tensor<1200xf32>\n  %y = tg.concat %gq, %gk, %gv {axis = 0} : "
                      "(tensor<160xf32>, tensor<2400xf32>, tensor<1200xf32>) -> tensor<3760xf32>"),
         t("3760")});
    std::string q4 = t("2x130x8"), g4 = t("2x130x24");
    c.push_back(
        {"attention_grad causal, blocks + tail",
         {{q4}, {q4}, {q4}, {q4}},
         absl::StrCat("%o = tg.attention %a, %b, %c {causal = true, scale = 0.35 : f64} : (", q4,
                      ", ", q4, ", ", q4, ") -> ", q4,
                      "\n  %g:3 = tg.attention_grad %a, %b, %c, %o, %d {causal = true, scale = "
                      "0.35 : f64} : (",
                      q4, ", ", q4, ", ", q4, ", ", q4, ", ", q4, ") -> (", q4, ", ", q4, ", ", q4,
                      ")\n  %y = tg.concat %g#0, %g#1, %g#2 {axis = 2} : (", q4, ", ", q4, ", ",
                      q4, ") -> ", g4),
         g4});
    std::string q5 = t("2x5x6"), g5 = t("2x5x18");
    c.push_back(
        {"attention_grad masked, rows with no key",
         {{q5}, {q5}, {q5}, {q5}, {t("2x5x1"), -3, 3}, {t("1x1x5")}},
         absl::StrCat("%k = tg.compare %e, %f {predicate = \"lt\"} : (", t("2x5x1"), ", ",
                      t("1x1x5"), ") -> tensor<2x5x5xi1>\n"
                      "  %g:3 = tg.attention_grad %a, %b, %c, %c, %d, %k {scale = 0.5 : f64} : (",
                      q5, ", ", q5, ", ", q5, ", ", q5, ", ", q5, ", tensor<2x5x5xi1>) -> (", q5,
                      ", ", q5, ", ", q5, ")\n  %y = tg.concat %g#0, %g#1, %g#2 {axis = 2} : (",
                      q5, ", ", q5, ", ", q5, ") -> ", g5),
         g5});
  }
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
  c.push_back({"iota",
               {{t("3x4")}},
               "%i = tg.iota {dimension = 1} : tensor<3x4xf32>\n"
               "  %y = tg.add %a, %i : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>",
               t("3x4")});
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
  // The f32 library ops tg-fuse-epilogues forms, written out (oneDNN post-ops
  // on the CPU, cuBLASLt/cuDNN epilogues on CUDA).
  c.push_back({"fused_matmul relu",
               {{t("5x7")}, {t("7x4")}, {t("4")}},
               "%y = tg.fused_matmul %a, %b, %c {activation = \"relu\"} : (tensor<5x7xf32>, "
               "tensor<7x4xf32>, tensor<4xf32>) -> tensor<5x4xf32>",
               t("5x4")});
  c.push_back({"fused_conv2d tanh padded",
               {{t("2x3x6x6")}, {t("4x3x3x3")}, {t("4")}},
               "%y = tg.fused_conv2d %a, %b, %c {activation = \"tanh\", padding = array<i64: 1, "
               "1, 1, 1>} : (tensor<2x3x6x6xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> "
               "tensor<2x4x6x6xf32>",
               t("2x4x6x6")});
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

std::string opCasesModule(const std::vector<OpCase> &cases) {
  std::string text = "module {\n";
  for (size_t i = 0; i < cases.size(); ++i) {
    const OpCase &c = cases[i];
    std::vector<std::string> args;
    const char *names[] = {"a", "b", "c", "d", "e", "f"};
    if (c.args.size() > std::size(names))
      return "// op case '" + c.name + "' has more arguments than names\n";
    for (size_t k = 0; k < c.args.size(); ++k)
      args.push_back(absl::StrCat("%", names[k], ": ", c.args[k].type, " {tg.name = \"f", i, ".",
                                  names[k], "\", tg.role = \"data\"}"));
    absl::StrAppend(&text, "func.func @f", i, "(", absl::StrJoin(args, ", "), ") -> (", c.yType,
                    " {tg.name = \"f", i, ".y\"}) {\n  ", c.body, "\n  return %y : ", c.yType,
                    "\n}\n");
  }
  text += "}\n";
  return text;
}

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

void buildOneSidedModel(Graph &g) {
  Value x = g.data("image", {3, 2, 10, 10});
  Value y = g.label("label", {3});
  // "same" at stride 2 on an even size pads the bottom and right only.
  Value c = layers::Conv2D(4, {3, 3}, "conv")
                .strides({2, 2})
                .explicitPadding({0, 1, 0, 1})
                .activation(layers::Activation::relu)(x);
  Value p = layers::MaxPool2D({2, 2}).strides({2, 2}).padding({0, 1, 0, 1})(c);
  Value h = layers::Dense(8, "fc1").activation(layers::Activation::tanh)(layers::Flatten()(p));
  Value s = layers::Dense(8, "fc2").activation(layers::Activation::sigmoid)(h);
  Value logits = layers::Dense(6, "fc3")(s);
  Value loss = ops::softmaxCrossEntropy(logits, y);
  g.output("loss", loss);
  g.minimize(loss, optim::Adam(1e-2));
}

} // namespace tg
