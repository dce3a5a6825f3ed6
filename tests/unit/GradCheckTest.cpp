//===- GradCheckTest.cpp - tg-autodiff against finite differences ---------===//
//
// Every differentiable op, at several shapes (broadcasting, size-1 dims), and
// the three example models: the gradient built by tg-autodiff and run by the
// interpreter in float64 must match central differences of the loss with
// relative error < 1e-6 (norm-wise per param).
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"
#include "examples/Models.h"
#include "tg/Layers.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <cmath>

namespace tg {
namespace {

using testing::randomTensor;

/// Passes run after tg-autodiff (e.g. ",canonicalize": the scan rewrites).
std::string afterAutodiff;

/// Largest relative error seen over the whole suite (printed at the end).
double worstRelativeError = 0;
int checks = 0;

struct GradCheckResult {
  double relError = 0;
  std::string worstParam;
};

/// Checks d loss / d param for every param of `fn` in `m` at `inputs`.
/// `maxElements` bounds the perturbed elements per param (a fixed subset).
GradCheckResult checkGradients(const Module &m, const std::string &fn, const NamedTensors &inputs,
                               int64_t maxElements = 64) {
  GradCheckResult result;
  std::vector<std::string> warnings;
  auto withGrad =
      m.transform(absl::StrCat("tg-autodiff{function=", fn, "}", afterAutodiff), &warnings);
  EXPECT_TRUE(withGrad.ok()) << withGrad.status();
  if (!withGrad.ok())
    return {1e9, "<autodiff failed>"};
  InterpretOptions f64{/*float64=*/true};
  auto grads = interpretNamed(*withGrad, fn + "_grad", inputs, f64);
  EXPECT_TRUE(grads.ok()) << grads.status();
  if (!grads.ok())
    return {1e9, "<interpreter failed>"};
  auto lossAt = [&](const NamedTensors &in) {
    auto out = interpretNamed(m, fn, in, f64);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? out->at("loss").data[0] : NAN;
  };
  auto sig = m.signature(fn);
  EXPECT_TRUE(sig.ok()) << sig.status();
  if (!sig.ok())
    return {1e9, "<no signature>"};
  for (const ValueInfo &a : sig->args) {
    if (a.role != Role::Param)
      continue;
    const Tensor &g = grads->at(a.name + ".grad");
    EXPECT_EQ(g.shape, a.shape) << a.name;
    NamedTensors in = inputs;
    Tensor &p = in.at(a.name);
    int64_t n = p.numElements(), stride = std::max<int64_t>(1, n / maxElements);
    double diff2 = 0, ad2 = 0, fd2 = 0;
    for (int64_t i = 0; i < n; i += stride) {
      double x = p.data[size_t(i)];
      double h = 1e-5 * std::max(1.0, std::fabs(x));
      p.data[size_t(i)] = x + h;
      double up = lossAt(in);
      p.data[size_t(i)] = x - h;
      double down = lossAt(in);
      p.data[size_t(i)] = x;
      double fd = (up - down) / (2 * h), ad = g.data[size_t(i)];
      diff2 += (fd - ad) * (fd - ad);
      ad2 += ad * ad;
      fd2 += fd * fd;
    }
    double scale = std::max({std::sqrt(ad2), std::sqrt(fd2), 1e-7});
    double rel = std::sqrt(diff2) / scale;
    ++checks;
    if (rel > result.relError) {
      result.relError = rel;
      result.worstParam = a.name;
    }
  }
  worstRelativeError = std::max(worstRelativeError, result.relError);
  return result;
}

//===----------------------------------------------------------------------===//
// Single ops
//===----------------------------------------------------------------------===//

struct Operand {
  std::string name, type;
  double low = -1, high = 1; ///< float params: uniform range
  int64_t intMax = 0;        ///< > 0: an integer data argument in [0, intMax)
};

struct OpCase {
  std::string name;
  std::vector<Operand> operands;
  std::string body;  ///< defines %y
  std::string yType; ///< type of %y, e.g. tensor<2x3xf64>
};

/// Wraps the case into @f(params..., r) -> sum(y * r) and checks it.
void checkOp(const OpCase &c) {
  std::vector<std::string> args;
  for (const Operand &o : c.operands)
    args.push_back(absl::StrCat("%", o.name, ": ", o.type, " {tg.name = \"", o.name,
                                "\", tg.role = \"", o.intMax > 0 ? "data" : "param", "\"}"));
  args.push_back(absl::StrCat("%r: ", c.yType, " {tg.name = \"r\", tg.role = \"data\"}"));
  std::string text = absl::StrCat("func.func @f(", absl::StrJoin(args, ", "),
                                  ") -> (tensor<f64> {tg.name = \"loss\"}) {\n", c.body,
                                  "\n  %m = tg.mul %y, %r : (", c.yType, ", ", c.yType, ") -> ",
                                  c.yType, "\n  %l = tg.reduce %m {kind = \"sum\"} : (", c.yType,
                                  ") -> tensor<f64>\n", "  return %l : tensor<f64>\n}\n");
  auto m = Module::parse(text, c.name + ".mlir");
  ASSERT_TRUE(m.ok()) << c.name << ": " << m.status() << "\n" << text;
  auto sig = m->signature("f");
  ASSERT_TRUE(sig.ok());
  NamedTensors in;
  unsigned seed = 7;
  for (size_t i = 0; i < c.operands.size(); ++i) {
    const Operand &o = c.operands[i];
    const ValueInfo &a = sig->args[i];
    Tensor t = randomTensor(a.shape, seed++, a.dtype);
    for (double &v : t.data)
      v = o.intMax > 0 ? std::floor((v + 1) / 2 * double(o.intMax))
                       : o.low + (v + 1) / 2 * (o.high - o.low);
    in[o.name] = t;
  }
  in["r"] = randomTensor(sig->args.back().shape, 99, DType::f64);
  GradCheckResult r = checkGradients(*m, "f", in);
  EXPECT_LT(r.relError, 1e-6) << c.name << ": d loss / d " << r.worstParam;
  if (getenv("TG_DEBUG_GRADCHECK") && r.relError >= 1e-6)
    std::printf("%s\n", m->transform("tg-autodiff{function=f}")->str().c_str());
}

std::string t(const std::string &shape) { return "tensor<" + shape + "xf64>"; }
const std::string kScalar = "tensor<f64>";

Operand P(std::string name, std::string type, double low = -1, double high = 1) {
  return {std::move(name), std::move(type), low, high, 0};
}
Operand Idx(std::string name, std::string type, int64_t max) {
  return {std::move(name), std::move(type), 0, 0, max};
}

/// `%y = tg.<op> %a : type` cases for the unary ops at two shapes.
std::vector<OpCase> unaryCases() {
  struct U {
    std::string op;
    double low, high;
    std::string attrs;
  };
  std::vector<U> ops = {{"neg", -1, 1, ""},     {"abs", -1, 1, ""},
                        {"sign", -1, 1, ""},    {"exp", -1, 1, ""},
                        {"log", 0.2, 2, ""},    {"sqrt", 0.2, 2, ""},
                        {"rsqrt", 0.2, 2, ""},  {"tanh", -2, 2, ""},
                        {"sigmoid", -3, 3, ""}, {"relu", -1, 1, ""},
                        {"erf", -2, 2, ""},     {"sin", -3, 3, ""},
                        {"cos", -3, 3, ""},     {"floor", 1.2, 1.8, ""},
                        {"gelu", -3, 3, ""},    {"gelu", -3, 3, " {approximate = true}"}};
  std::vector<OpCase> cases;
  for (const U &u : ops)
    for (std::string shape : {"2x3", "1x4x1"})
      cases.push_back({u.op + u.attrs + " " + shape,
                       {P("a", t(shape), u.low, u.high)},
                       absl::StrCat("  %y = tg.", u.op, " %a", u.attrs, " : ", t(shape)),
                       t(shape)});
  return cases;
}

std::string binary(const std::string &op, const std::string &a, const std::string &b,
                   const std::string &y) {
  return absl::StrCat("  %y = tg.", op, " %a, %b : (", a, ", ", b, ") -> ", y);
}

std::vector<OpCase> binaryCases() {
  struct Shapes {
    std::string a, b, y;
  };
  std::vector<Shapes> shapes = {{t("2x3"), t("2x3"), t("2x3")},
                                {t("2x3"), t("3"), t("2x3")},
                                {t("2x1"), t("1x3"), t("2x3")},
                                {t("4x1x3"), t("2x1"), t("4x2x3")},
                                {t("2x3"), kScalar, t("2x3")}};
  std::vector<OpCase> cases;
  for (std::string op : {"add", "sub", "mul", "div", "pow", "maximum", "minimum"})
    for (const Shapes &s : shapes) {
      // pow and div need a positive base / denominator.
      double lowA = op == "pow" ? 0.5 : -1, highA = op == "pow" ? 2 : 1;
      double lowB = op == "div" ? 0.5 : -1, highB = op == "div" ? 2 : 1;
      cases.push_back({op + " " + s.a + " " + s.b,
                       {P("a", s.a, lowA, highA), P("b", s.b, lowB, highB)},
                       binary(op, s.a, s.b, s.y),
                       s.y});
    }
  return cases;
}

std::vector<OpCase> otherCases() {
  std::vector<OpCase> c;
  c.push_back({"select broadcast",
               {Idx("k", "tensor<2x3xi32>", 2), P("a", t("2x3")), P("b", t("3"))},
               "  %c = tg.cast %k : (tensor<2x3xi32>) -> tensor<2x3xi1>\n"
               "  %y = tg.select %c, %a, %b : (tensor<2x3xi1>, tensor<2x3xf64>, tensor<3xf64>) -> "
               "tensor<2x3xf64>",
               t("2x3")});
  for (auto [ta, tb] : {std::pair{false, false}, {true, false}, {false, true}, {true, true}}) {
    std::string a = ta ? t("4x3") : t("3x4"), b = tb ? t("5x4") : t("4x5");
    std::string attrs = absl::StrCat(" {transpose_lhs = ", ta ? "true" : "false",
                                     ", transpose_rhs = ", tb ? "true" : "false", "}");
    c.push_back(
        {"matmul" + attrs,
         {P("a", a), P("b", b)},
         absl::StrCat("  %y = tg.matmul %a, %b", attrs, " : (", a, ", ", b, ") -> ", t("3x5")),
         t("3x5")});
  }
  c.push_back(
      {"matmul batched broadcast",
       {P("a", t("2x3x4")), P("b", t("4x2"))},
       "  %y = tg.matmul %a, %b : (tensor<2x3x4xf64>, tensor<4x2xf64>) -> tensor<2x3x2xf64>",
       t("2x3x2")});
  c.push_back({"matmul batch 1 vs 2",
               {P("a", t("1x3x4")), P("b", t("2x4x2"))},
               "  %y = tg.matmul %a, %b {transpose_lhs = false} : (tensor<1x3x4xf64>, "
               "tensor<2x4x2xf64>) -> tensor<2x3x2xf64>",
               t("2x3x2")});
  // tg.attention: q, k and v at once through tg.attention_grad.
  c.push_back({"attention causal",
               {P("a", t("2x4x3")), P("b", t("2x4x3")), P("c", t("2x4x2"))},
               "  %y = tg.attention %a, %b, %c {causal = true, scale = 0.7 : f64} : "
               "(tensor<2x4x3xf64>, tensor<2x4x3xf64>, tensor<2x4x2xf64>) -> tensor<2x4x2xf64>",
               t("2x4x2")});
  // Row 2 sees no key (zeros, zero gradient), key 3 is hidden from all.
  c.push_back({"attention masked, Tq != Tk, a row with no key",
               {P("a", t("4x3")), P("b", t("5x3")), P("c", t("5x2"))},
               "  %ri = tg.iota {dimension = 0 : i64} : tensor<4x1xi32>\n"
               "  %ki = tg.iota {dimension = 1 : i64} : tensor<1x5xi32>\n"
               "  %two = tg.constant dense<2> : tensor<i32>\n"
               "  %three = tg.constant dense<3> : tensor<i32>\n"
               "  %rm = tg.compare %ri, %two {predicate = \"ne\"} : (tensor<4x1xi32>, tensor<i32>) "
               "-> tensor<4x1xi1>\n"
               "  %km = tg.compare %ki, %three {predicate = \"ne\"} : (tensor<1x5xi32>, "
               "tensor<i32>) -> tensor<1x5xi1>\n"
               "  %mk = tg.select %rm, %km, %rm : (tensor<4x1xi1>, tensor<1x5xi1>, tensor<4x1xi1>) "
               "-> tensor<4x5xi1>\n"
               "  %y = tg.attention %a, %b, %c, %mk {scale = 1.1 : f64} : (tensor<4x3xf64>, "
               "tensor<5x3xf64>, tensor<5x2xf64>, tensor<4x5xi1>) -> tensor<4x2xf64>",
               t("4x2")});
  c.push_back({"transpose",
               {P("a", t("2x3x4"))},
               "  %y = tg.transpose %a {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf64>) -> "
               "tensor<4x2x3xf64>",
               t("4x2x3")});
  c.push_back({"reshape",
               {P("a", t("2x6"))},
               "  %y = tg.reshape %a : (tensor<2x6xf64>) -> tensor<3x1x4xf64>",
               t("3x1x4")});
  c.push_back({"broadcast_to",
               {P("a", t("2x1"))},
               "  %y = tg.broadcast_to %a : (tensor<2x1xf64>) -> tensor<3x2x4xf64>",
               t("3x2x4")});
  for (auto [kind, axes, keep, out] : {std::tuple{"sum", "1", false, "2x4"},
                                       {"mean", "0, 2", true, "1x3x1"},
                                       {"max", "1", false, "2x4"},
                                       {"min", "", false, ""},
                                       {"mean", "", true, "1x1x1"}}) {
    std::string y = std::string(out).empty() ? kScalar : t(out);
    c.push_back({absl::StrCat("reduce ", kind, " [", axes, "]", keep ? " keepdims" : ""),
                 {P("a", t("2x3x4"))},
                 absl::StrCat("  %y = tg.reduce %a {kind = \"", kind, "\", axes = array<i64",
                              std::string(axes).empty() ? "" : ": ", axes, ">, keepdims = ",
                              keep ? "true" : "false", "} : (tensor<2x3x4xf64>) -> ", y),
                 y});
  }
  for (auto [op, axis] : {std::pair{"softmax", 1}, {"log_softmax", 0}, {"softmax", 0}})
    c.push_back({absl::StrCat(op, " axis ", axis),
                 {P("a", t("3x4"), -2, 2)},
                 absl::StrCat("  %y = tg.", op, " %a {axis = ", axis, "} : tensor<3x4xf64>"),
                 t("3x4")});
  // Convolutions: plain, strided + padded, grouped, dilated.
  struct Conv {
    std::string name, x, w, attrs, y;
  };
  std::vector<Conv> convs = {
      {"conv2d", "2x3x5x5", "4x3x3x3", "", "2x4x3x3"},
      {"conv2d stride 2 pad 1", "1x2x6x5", "3x2x3x2",
       " {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 0, 1>}", "1x3x3x3"},
      {"conv2d groups 2", "1x4x4x4", "6x2x2x2", " {groups = 2}", "1x6x3x3"},
      {"conv2d dilation 2", "1x1x6x6", "2x1x2x2", " {dilations = array<i64: 2, 2>}", "1x2x4x4"}};
  for (const Conv &cv : convs) {
    c.push_back({cv.name,
                 {P("x", t(cv.x)), P("w", t(cv.w))},
                 absl::StrCat("  %y = tg.conv2d %x, %w", cv.attrs, " : (", t(cv.x), ", ", t(cv.w),
                              ") -> ", t(cv.y)),
                 t(cv.y)});
    c.push_back({cv.name + " backprop_input",
                 {P("g", t(cv.y)), P("w", t(cv.w))},
                 absl::StrCat("  %y = tg.conv2d_backprop_input %g, %w", cv.attrs, " : (", t(cv.y),
                              ", ", t(cv.w), ") -> ", t(cv.x)),
                 t(cv.x)});
    c.push_back({cv.name + " backprop_filter",
                 {P("x", t(cv.x)), P("g", t(cv.y))},
                 absl::StrCat("  %y = tg.conv2d_backprop_filter %x, %g", cv.attrs, " : (", t(cv.x),
                              ", ", t(cv.y), ") -> ", t(cv.w)),
                 t(cv.w)});
  }
  c.push_back({"max_pool2d",
               {P("x", t("2x2x4x4"))},
               "  %y = tg.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : "
               "(tensor<2x2x4x4xf64>) -> tensor<2x2x2x2xf64>",
               t("2x2x2x2")});
  c.push_back({"max_pool2d overlapping padded",
               {P("x", t("1x1x5x5"))},
               "  %y = tg.max_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, "
               "padding = array<i64: 1, 1, 1, 1>} : (tensor<1x1x5x5xf64>) -> tensor<1x1x5x5xf64>",
               t("1x1x5x5")});
  for (std::string include : {"false", "true"}) {
    std::string attrs = "{kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = "
                        "array<i64: 1, 1, 1, 1>, count_include_pad = " +
                        include + "}";
    c.push_back(
        {"avg_pool2d count_include_pad=" + include,
         {P("x", t("1x2x5x5"))},
         "  %y = tg.avg_pool2d %x " + attrs + " : (tensor<1x2x5x5xf64>) -> tensor<1x2x3x3xf64>",
         t("1x2x3x3")});
    c.push_back({"avg_pool2d_grad count_include_pad=" + include,
                 {P("g", t("1x2x3x3"))},
                 "  %y = tg.avg_pool2d_grad %g " + attrs +
                     " : (tensor<1x2x3x3xf64>) -> tensor<1x2x5x5xf64>",
                 t("1x2x5x5")});
  }
  c.push_back({"concat",
               {P("a", t("2x3")), P("b", t("2x1")), P("c", t("2x2"))},
               "  %y = tg.concat %a, %b, %c {axis = 1} : (tensor<2x3xf64>, tensor<2x1xf64>, "
               "tensor<2x2xf64>) -> tensor<2x6xf64>",
               t("2x6")});
  c.push_back({"slice",
               {P("a", t("4x5"))},
               "  %y = tg.slice %a {start = array<i64: 1, 1>, limit = array<i64: 3, 4>, strides = "
               "array<i64: 1, 1>} : (tensor<4x5xf64>) -> tensor<2x3xf64>",
               t("2x3")});
  c.push_back({"slice strided",
               {P("a", t("4x5x2"))},
               "  %y = tg.slice %a {start = array<i64: 0, 1, 0>, limit = array<i64: 4, 5, 2>, "
               "strides = array<i64: 2, 2, 1>} : (tensor<4x5x2xf64>) -> tensor<2x2x2xf64>",
               t("2x2x2")});
  c.push_back({"pad",
               {P("a", t("2x3"))},
               "  %y = tg.pad %a {low = array<i64: 1, 0>, high = array<i64: 0, 2>, value = 0.5} : "
               "(tensor<2x3xf64>) -> tensor<3x5xf64>",
               t("3x5")});
  c.push_back({"gather (repeated indices)",
               {P("a", t("5x3")), Idx("k", "tensor<2x4xi32>", 5)},
               "  %y = tg.gather %a, %k : (tensor<5x3xf64>, tensor<2x4xi32>) -> tensor<2x4x3xf64>",
               t("2x4x3")});
  c.push_back({"gather axis 1",
               {P("a", t("2x5")), Idx("k", "tensor<3xi32>", 5)},
               "  %y = tg.gather %a, %k {axis = 1} : (tensor<2x5xf64>, tensor<3xi32>) -> "
               "tensor<2x3xf64>",
               t("2x3")});
  c.push_back({"scatter_add",
               {P("a", t("4x3")), Idx("k", "tensor<5xi32>", 4), P("u", t("5x3"))},
               "  %y = tg.scatter_add %a, %k, %u : (tensor<4x3xf64>, tensor<5xi32>, "
               "tensor<5x3xf64>) -> tensor<4x3xf64>",
               t("4x3")});
  c.push_back({"cast f64 -> f32 -> f64",
               {P("a", t("2x3"))},
               "  %h = tg.cast %a : (tensor<2x3xf64>) -> tensor<2x3xf32>\n"
               "  %y = tg.cast %h : (tensor<2x3xf32>) -> tensor<2x3xf64>",
               t("2x3")});
  for (std::string red : {"mean", "sum"})
    c.push_back({"softmax_cross_entropy " + red,
                 {P("a", t("4x5"), -2, 2), Idx("k", "tensor<4xi32>", 5)},
                 "  %y = tg.softmax_cross_entropy %a, %k {reduction = \"" + red +
                     "\"} : (tensor<4x5xf64>, tensor<4xi32>) -> tensor<f64>",
                 kScalar});
  c.push_back({"softmax_cross_entropy none rank 3",
               {P("a", t("2x3x4"), -2, 2), Idx("k", "tensor<2x3xi32>", 4)},
               "  %y = tg.softmax_cross_entropy %a, %k {reduction = \"none\"} : "
               "(tensor<2x3x4xf64>, tensor<2x3xi32>) -> tensor<2x3xf64>",
               t("2x3")});
  for (std::string red : {"mean", "sum", "none"}) {
    std::string y = red == "none" ? t("3x2") : kScalar;
    c.push_back({"mean_squared_error " + red,
                 {P("a", t("3x2")), P("b", t("3x2"))},
                 "  %y = tg.mean_squared_error %a, %b {reduction = \"" + red +
                     "\"} : (tensor<3x2xf64>, tensor<3x2xf64>) -> " + y,
                 y});
  }
  // A value used several times: cotangents accumulate.
  c.push_back({"shared subexpression",
               {P("a", t("2x3")), P("b", t("3"))},
               "  %s = tg.mul %a, %b : (tensor<2x3xf64>, tensor<3xf64>) -> tensor<2x3xf64>\n"
               "  %e = tg.tanh %s : tensor<2x3xf64>\n"
               "  %q = tg.mul %s, %e : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>\n"
               "  %y = tg.add %q, %s : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>",
               t("2x3")});
  return c;
}

/// A tanh RNN with two outputs as a tg.scan of `steps` steps over [steps, 2, 3]:
/// h' = tanh(x_t + h U + b), outputs h' and h' * h; %y stacks the outputs
/// and the final carry. `attrs` goes on the scan (reverse, recompute).
OpCase rnnScan(int64_t steps, const std::string &attrs) {
  std::string T = std::to_string(steps), seq = t(T + "x2x3"), st = t("2x3");
  std::string body = absl::StrCat(
      "  %hT, %hs, %os = tg.scan (%xs) carry (%h0) ", attrs, " : (", seq, ", ", st, ") -> (", st,
      ", ", seq, ", ", seq, ") {\n", "  ^bb0(%x: ", st, ", %h: ", st, "):\n",
      "    %m = tg.matmul %h, %u : (", st, ", ", t("3x3"), ") -> ", st, "\n",
      "    %z = tg.add %m, %x : (", st, ", ", st, ") -> ", st, "\n", "    %zb = tg.add %z, %b : (",
      st, ", ", t("3"), ") -> ", st, "\n", "    %n = tg.tanh %zb : ", st, "\n",
      "    %o = tg.mul %n, %h : (", st, ", ", st, ") -> ", st, "\n",
      "    tg.yield %n, %n, %o : ", st, ", ", st, ", ", st, "\n  }\n", "  %f = tg.reshape %hT : (",
      st, ") -> ", t("1x2x3"), "\n", "  %y = tg.concat %hs, %os, %f {axis = 0} : (", seq, ", ", seq,
      ", ", t("1x2x3"), ") -> ", t(std::to_string(2 * steps + 1) + "x2x3"));
  return {"scan rnn " + T + " steps " + attrs,
          {P("xs", seq), P("h0", st), P("u", t("3x3")), P("b", t("3"))},
          body,
          t(std::to_string(2 * steps + 1) + "x2x3")};
}

std::vector<OpCase> scanCases() {
  std::vector<OpCase> c;
  for (int64_t steps : {1, 2, 7})
    for (std::string attrs : {"", "{recompute}", "{reverse}"})
      c.push_back(rnnScan(steps, attrs));
  // Two carried values (an LSTM-like pair), one of them never stacked.
  c.push_back({"scan two carries",
               {P("xs", t("4x3")), P("a0", t("3")), P("c0", t("3")), P("w", t("3"))},
               "  %a, %c, %as = tg.scan (%xs) carry (%a0, %c0) : (tensor<4x3xf64>, tensor<3xf64>, "
               "tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>, tensor<4x3xf64>) {\n"
               "  ^bb0(%x: tensor<3xf64>, %p: tensor<3xf64>, %q: tensor<3xf64>):\n"
               "    %s = tg.sigmoid %x : tensor<3xf64>\n"
               "    %pq = tg.mul %p, %q : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>\n"
               "    %c2 = tg.add %pq, %s : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>\n"
               "    %wc = tg.mul %c2, %w : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>\n"
               "    %a2 = tg.tanh %wc : tensor<3xf64>\n"
               "    tg.yield %a2, %c2, %a2 : tensor<3xf64>, tensor<3xf64>, tensor<3xf64>\n  }\n"
               "  %ac = tg.mul %a, %c : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>\n"
               "  %y = tg.add %as, %ac : (tensor<4x3xf64>, tensor<3xf64>) -> tensor<4x3xf64>",
               t("4x3")});
  // A scan in a scan: the inner one runs over the rows of each outer step
  // and carries a running product with a weight from outside both.
  for (std::string attrs : {"", "{recompute}"})
    c.push_back(
        {"scan nested " + attrs,
         {P("xs", t("3x2x2")), P("h0", t("2")), P("w", t("2"))},
         "  %h, %hs = tg.scan (%xs) carry (%h0) " + attrs +
             " : (tensor<3x2x2xf64>, tensor<2xf64>) -> (tensor<2xf64>, tensor<3x2xf64>) {\n"
             "  ^bb0(%x: tensor<2x2xf64>, %p: tensor<2xf64>):\n"
             "    %g, %gs = tg.scan (%x) carry (%p) " +
             attrs +
             " : (tensor<2x2xf64>, tensor<2xf64>) -> (tensor<2xf64>, tensor<2x2xf64>) {\n"
             "    ^bb0(%rr: tensor<2xf64>, %q: tensor<2xf64>):\n"
             "      %rw = tg.mul %rr, %w : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>\n"
             "      %qr = tg.mul %q, %rw : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>\n"
             "      %t = tg.tanh %qr : tensor<2xf64>\n"
             "      tg.yield %t, %t : tensor<2xf64>, tensor<2xf64>\n    }\n"
             "    %gp = tg.add %g, %p : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>\n"
             "    tg.yield %gp, %gp : tensor<2xf64>, tensor<2xf64>\n  }\n"
             "  %y = tg.add %hs, %h : (tensor<3x2xf64>, tensor<2xf64>) -> tensor<3x2xf64>",
         t("3x2")});
  return c;
}

void checkAll(const std::vector<OpCase> &cases) {
  for (const OpCase &c : cases)
    checkOp(c);
  // ctest runs each test in its own process: these are this test's numbers.
  std::printf("[ gradcheck ] %zu ops/shapes, %d param gradients, largest relative error %.3g\n",
              cases.size(), checks, worstRelativeError);
}

TEST(GradCheck, UnaryOps) { checkAll(unaryCases()); }
TEST(GradCheck, BinaryOpsWithBroadcasting) { checkAll(binaryCases()); }
TEST(GradCheck, LayoutConvPoolDataMovementLosses) { checkAll(otherCases()); }
TEST(GradCheck, Scans) { checkAll(scanCases()); }

// The same after canonicalization: hoisted invariants, carried matrix
// product sums turned into one product over the stacked steps.
TEST(GradCheck, ScansCanonicalized) {
  afterAutodiff = ",canonicalize,cse";
  checkAll(scanCases());
  afterAutodiff.clear();
}

//===----------------------------------------------------------------------===//
// Example models
//===----------------------------------------------------------------------===//

/// Random params (not their initial values, which are zero for biases and
/// peepholes and would hide mistakes), random data, labels in range.
NamedTensors modelInputs(const Module &m, const std::string &fn, int64_t classes) {
  NamedTensors in;
  unsigned seed = 11;
  auto sig = m.signature(fn);
  EXPECT_TRUE(sig.ok()) << sig.status();
  if (!sig.ok())
    return in;
  for (const ValueInfo &a : sig->args) {
    Tensor t = randomTensor(a.shape, seed++, DType::f64);
    t.dtype = a.dtype;
    if (!isFloat(a.dtype))
      for (double &v : t.data)
        v = std::floor((v + 1) / 2 * double(classes));
    else if (a.role == Role::Param || a.role == Role::State)
      for (double &v : t.data)
        v *= 0.5;
    in[a.name] = t;
  }
  return in;
}

void checkModel(Graph &g, const std::string &fn, int64_t classes) {
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  GradCheckResult r = checkGradients(*m, fn, modelInputs(*m, fn, classes), 24);
  EXPECT_LT(r.relError, 1e-6) << fn << ": d loss / d " << r.worstParam;
  std::printf("[ gradcheck ] %s: largest relative error %.3g (%s)\n", fn.c_str(), r.relError,
              r.worstParam.c_str());
}

TEST(GradCheck, FashionMlp) {
  Graph g("fashion_mlp");
  examples::buildFashionMlp(g, {/*batch=*/3, /*hidden=*/{6, 5}});
  checkModel(g, "fashion_mlp", 10);
}

TEST(GradCheck, FashionCnn) {
  Graph g("fashion_cnn");
  examples::buildFashionCnn(g, {/*batch=*/2, /*filters1=*/2, /*filters2=*/3, /*dense=*/4});
  checkModel(g, "fashion_cnn", 10);
}

// The layers people port from PyTorch: padded strided conv, average pooling
// with padding (both counting modes), max pooling with padding, global
// average pooling.
TEST(GradCheck, PaddedConvAndPoolingLayers) {
  for (bool includePad : {true, false}) {
    Graph g("pooling_net");
    Value x = g.data("x", {2, 2, 7, 7});
    Value y = g.label("y", {2});
    Value c = layers::Conv2D(3, {3, 3}, "conv").strides({2, 2}).padding(1).biasInit(
        Init::constant(0.1))(x);
    Value a = layers::AvgPool2D({3, 3}).strides({1, 1}).padding({1, 1, 1, 1}).countIncludePad(
        includePad)(layers::activate(c, layers::Activation::tanh));
    Value p = layers::MaxPool2D({2, 2}).strides({1, 1}).padding({0, 1, 0, 1})(a);
    Value logits = layers::Dense(4, "fc")(layers::GlobalAvgPool2D()(p));
    g.output("loss", ops::softmaxCrossEntropy(logits, y));
    checkModel(g, "pooling_net", 4);
  }
}

TEST(GradCheck, PyTorchLstmWithTwoBiases) {
  Graph g("torch_lstm");
  Value x = g.data("x", {2, 3, 4});
  Value y = g.label("y", {2});
  Value h0 = g.state("h0", {2, 3}), c0 = g.state("c0", {2, 3});
  auto out = layers::LSTM(3, "lstm").pytorch()(x, h0, c0);
  g.output("loss", ops::softmaxCrossEntropy(layers::Dense(5, "fc")(out.h), y));
  checkModel(g, "torch_lstm", 5);
}

TEST(GradCheck, GruAndLayerNorm) {
  Graph g("gru_net");
  Value x = g.data("x", {2, 3, 4});
  Value y = g.label("y", {2});
  Value h0 = g.state("h0", {2, 3});
  auto out = layers::GRU(3, "gru")(layers::LayerNorm(1, "ln")(x), h0);
  g.output("loss", ops::softmaxCrossEntropy(layers::Dense(5, "fc")(out.h), y));
  checkModel(g, "gru_net", 5);
}

// A GPT block: causal attention (iota mask, softmax over -inf), LayerNorms,
// the tanh GELU, residuals; a tied output layer.
TEST(GradCheck, TransformerBlockWithTiedEmbedding) {
  Graph g("gpt");
  Value ids = g.data("ids", {2, 3}, DType::i32);
  Value y = g.label("y", {2, 3});
  layers::Embedding emb(5, 4, "wte");
  Value h = layers::TransformerBlock(4, 2, "h0")(emb(ids));
  g.output("loss", ops::softmaxCrossEntropy(emb.attend(layers::LayerNorm(1, "ln_f")(h)), y));
  checkModel(g, "gpt", 5);
}

// Cross-attention with a key padding mask, S != T.
TEST(GradCheck, MultiHeadAttentionWithPadding) {
  Graph g("mha");
  Value q = g.data("q", {2, 3, 4}), kv = g.data("kv", {2, 2, 4});
  Value pad = g.data("pad", {2, 2}, DType::i1);
  Value y = g.label("y", {2, 3});
  Value a = layers::MultiHeadAttention(4, 2, "mha")(q, kv, kv, pad);
  g.output("loss", ops::softmaxCrossEntropy(layers::Dense(3, "fc")(a), y));
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  NamedTensors in = modelInputs(*m, "mha", 3);
  in["pad"] = Tensor::full(DType::i1, {2, 2}, 0.0);
  in["pad"].data[3] = 1; // example 1 ignores its last key
  GradCheckResult r = checkGradients(*m, "mha", in, 24);
  EXPECT_LT(r.relError, 1e-6) << "d loss / d " << r.worstParam;
}

// In training mode (the batch's statistics), the way train_step runs it.
TEST(GradCheck, BatchNormInTraining) {
  Graph g("bn_net");
  Value x = g.data("x", {3, 2, 3, 3});
  Value y = g.label("y", {3});
  // No biases before BatchNorm: it cancels them (their gradient is zero).
  Value h = layers::BatchNorm("bn")(layers::Conv2D(2, {2, 2}, "conv").useBias(false)(x));
  Value v =
      layers::BatchNorm("bn1d")(layers::Dense(4, "fc1").useBias(false)(layers::Flatten()(ops::tanh(h))));
  g.output("loss", ops::softmaxCrossEntropy(layers::Dense(3, "fc2")(ops::tanh(v)), y));
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  NamedTensors in = modelInputs(*m, "bn_net", 3);
  in["training"] = Tensor::scalar(1.0);
  for (const char *s : {"bn.running_var", "bn1d.running_var"})
    for (double &v : in[s].data)
      v = std::fabs(v) + 0.5;
  GradCheckResult r = checkGradients(*m, "bn_net", in, 24);
  EXPECT_LT(r.relError, 1e-6) << "d loss / d " << r.worstParam;
  std::printf("[ gradcheck ] bn_net: largest relative error %.3g (%s)\n", r.relError,
              r.worstParam.c_str());
}

TEST(GradCheck, CharLstm) {
  Graph g("char_lstm");
  examples::buildCharLstm(g, {/*batch=*/2, /*steps=*/3, /*vocab=*/5, /*hidden=*/4});
  checkModel(g, "char_lstm", 5);
}

TEST(GradCheck, CharLstmRecomputeAndUnrolled) {
  for (bool unrolled : {false, true}) {
    Graph g("char_lstm");
    examples::CharLstmConfig c{/*batch=*/2, /*steps=*/4, /*vocab=*/5, /*hidden=*/3};
    c.unrolled = unrolled;
    c.recompute = !unrolled;
    examples::buildCharLstm(g, c);
    checkModel(g, "char_lstm", 5);
  }
}

} // namespace
} // namespace tg
