//===- Plot.cpp - tgc plot: training curves from metrics JSON lines -------===//
//
// One panel per metric (loss first), train and eval series against the step,
// drawn as SVG. PNG goes through an installed SVG rasterizer (rsvg-convert or
// ImageMagick's convert).
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include "absl/strings/str_format.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace tg {
namespace tools {
namespace {

const char *kPlotUsage = R"(usage: tgc plot METRICS.jsonl -o OUT.{svg,png} [--title TEXT]

Draws the curves of a `tgc train` metrics file: one panel per metric (loss,
accuracy, ...), the training series (every --log-every steps) and the
evaluation at each epoch end, against the step. PNG needs rsvg-convert
(apt-get install librsvg2-bin) or ImageMagick's convert.
)";

using Series = std::vector<std::pair<double, double>>; // (step, value)

struct Panel {
  std::string metric;
  Series train, eval;
};

/// A round tick spacing giving about `n` ticks over `range`.
double niceStep(double range, int n) {
  double raw = range / n, mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * mag >= raw)
      return m * mag;
  return 10 * mag;
}

std::string number(double v) {
  std::string s = absl::StrFormat("%.4g", v);
  return s == "-0" ? "0" : s;
}

void drawPanel(std::string &svg, const Panel &p, double x0, double y0, double w, double h,
               double maxStep) {
  double lo = INFINITY, hi = -INFINITY;
  for (const Series *s : {&p.train, &p.eval})
    for (auto &[x, y] : *s) {
      lo = std::min(lo, y);
      hi = std::max(hi, y);
    }
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  double yStep = niceStep(hi - lo, 5);
  lo = std::floor(lo / yStep) * yStep;
  hi = std::ceil(hi / yStep) * yStep;
  double xStep = niceStep(std::max(maxStep, 1.0), 6);
  double px = x0 + 60, py = y0 + 30, pw = w - 80, ph = h - 70;
  auto X = [&](double s) { return px + pw * s / std::max(maxStep, 1.0); };
  auto Y = [&](double v) { return py + ph * (1 - (v - lo) / (hi - lo)); };
  svg += absl::StrFormat(R"(<text x="%.1f" y="%.1f" font-size="14" font-weight="bold">%s</text>)"
                         "\n",
                         px, y0 + 18, p.metric);
  svg += absl::StrFormat(
      R"(<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#888"/>)"
      "\n",
      px, py, pw, ph);
  for (double v = lo; v <= hi + yStep / 2; v += yStep) {
    svg += absl::StrFormat(R"(<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>)"
                           "\n",
                           px, Y(v), px + pw, Y(v));
    svg += absl::StrFormat(R"(<text x="%.1f" y="%.1f" font-size="11" text-anchor="end">%s</text>)"
                           "\n",
                           px - 6, Y(v) + 4, number(v));
  }
  for (double s = 0; s <= maxStep + xStep / 2; s += xStep)
    svg +=
        absl::StrFormat(R"(<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle">%s</text>)"
                        "\n",
                        X(s), py + ph + 16, number(s));
  svg +=
      absl::StrFormat(R"(<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle">step</text>)"
                      "\n",
                      px + pw / 2, py + ph + 32);
  auto line = [&](const Series &s, const char *color, bool dots) {
    if (s.empty())
      return;
    std::string pts;
    for (auto &[x, y] : s)
      pts += absl::StrFormat("%.1f,%.1f ", X(x), Y(y));
    svg += absl::StrFormat(R"(<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>)"
                           "\n",
                           color, pts);
    if (dots)
      for (auto &[x, y] : s)
        svg += absl::StrFormat(R"(<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>)"
                               "\n",
                               X(x), Y(y), color);
  };
  line(p.train, "#1f77b4", false);
  line(p.eval, "#ff7f0e", true);
  // Legend in the top right corner, or the bottom right when a rising curve
  // ends up there.
  const Series &last = p.train.empty() ? p.eval : p.train;
  bool high = !last.empty() && Y(last.back().second) < py + ph * 0.4;
  double lx = px + pw - 150, ly = high ? py + ph - 40 : py + 8;
  int row = 0;
  for (auto [name, color, s] :
       {std::tuple<const char *, const char *, const Series *>{"train", "#1f77b4", &p.train},
        {"eval", "#ff7f0e", &p.eval}}) {
    if (s->empty())
      continue;
    double y = ly + 16 * row++;
    svg += absl::StrFormat(
        R"(<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/>)"
        R"(<text x="%.1f" y="%.1f" font-size="11">%s (last %s)</text>)"
        "\n",
        lx, y + 4, lx + 18, y + 4, color, lx + 24, y + 8, name, number(s->back().second));
  }
}

} // namespace

int plotCommand(int argc, char **argv) {
  std::string input, output, title;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::printf("%s", kPlotUsage);
      return 0;
    }
    if ((a == "-o" || a == "--title") && i + 1 < argc)
      (a == "-o" ? output : title) = argv[++i];
    else if (!a.empty() && a[0] == '-')
      return error("plot: unknown option or missing value '" + a + "' (see tgc plot --help)");
    else if (!input.empty())
      return error("plot: more than one metrics file ('" + input + "', '" + a + "')");
    else
      input = a;
  }
  if (input.empty() || output.empty())
    return error("plot: needs METRICS.jsonl and -o OUT (see tgc plot --help)");
  bool png = output.size() > 4 && output.compare(output.size() - 4, 4, ".png") == 0;
  bool svgOut = output.size() > 4 && output.compare(output.size() - 4, 4, ".svg") == 0;
  if (!png && !svgOut)
    return error("plot: -o '" + output + "': use a .svg or .png file");
  std::ifstream in(input);
  if (!in)
    return error("plot: cannot open '" + input + "'");
  std::map<std::string, Panel> panels;
  double maxStep = 0;
  int lineNo = 0, points = 0;
  for (std::string line; std::getline(in, line);) {
    ++lineNo;
    if (line.empty())
      continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return error(absl::StrFormat("plot: %s:%d: not a JSON object", input, lineNo));
    std::string event = j.value("event", "");
    if ((event != "train" && event != "eval") || !j.contains("step") || !j["step"].is_number())
      continue;
    double step = j["step"].get<double>();
    maxStep = std::max(maxStep, step);
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string &k = it.key();
      if (!it.value().is_number() || k == "step" || k == "epoch" || k == "time_s" ||
          k == "examples_per_s" || k == "examples")
        continue;
      Panel &p = panels[k];
      p.metric = k;
      (event == "train" ? p.train : p.eval).push_back({step, it.value().get<double>()});
      ++points;
    }
  }
  if (points == 0)
    return error("plot: '" + input +
                 "' has no train or eval metrics (write them with tgc train "
                 "--metrics FILE or --checkpoint-dir)");
  std::vector<Panel *> order;
  if (panels.count("loss"))
    order.push_back(&panels["loss"]);
  for (auto &[k, p] : panels)
    if (k != "loss")
      order.push_back(&p);
  const double W = 720, H = 300, top = title.empty() ? 0 : 30;
  std::string svg = absl::StrFormat(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="Helvetica, Arial, sans-serif">)"
      "\n"
      R"(<rect width="100%%" height="100%%" fill="white"/>)"
      "\n",
      W, H * double(order.size()) + top);
  if (!title.empty())
    svg += absl::StrFormat(R"(<text x="%.1f" y="22" font-size="16" text-anchor="middle">%s</text>)"
                           "\n",
                           W / 2, title);
  for (size_t i = 0; i < order.size(); ++i)
    drawPanel(svg, *order[i], 0, top + H * double(i), W, H, maxStep);
  svg += "</svg>\n";

  std::string svgPath = output;
  llvm::SmallString<128> temp;
  std::string rasterizer;
  if (png) {
    for (const char *p : {"rsvg-convert", "convert"})
      if (rasterizer.empty())
        rasterizer = findProgram(p);
    if (rasterizer.empty())
      return error("plot: PNG needs an SVG rasterizer: install one with 'sudo apt-get install "
                   "librsvg2-bin', or write -o " +
                   output.substr(0, output.size() - 3) + "svg");
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile("tgc-plot", "svg", temp))
      return error("plot: cannot create a temporary file: " + ec.message());
    svgPath = temp.str().str();
  }
  {
    std::ofstream out(svgPath);
    out << svg;
    if (!out.flush())
      return error("plot: cannot write '" + svgPath + "'");
  }
  if (png) {
    std::string errMsg;
    bool rsvg = llvm::StringRef(rasterizer).ends_with("rsvg-convert");
    llvm::SmallVector<llvm::StringRef, 6> args;
    if (rsvg)
      args = {rasterizer, "-o", output, svgPath};
    else
      args = {rasterizer, svgPath, output};
    int rc = llvm::sys::ExecuteAndWait(rasterizer, args, std::nullopt, {}, 0, 0, &errMsg);
    llvm::sys::fs::remove(svgPath);
    if (rc != 0)
      return error("plot: " + rasterizer + " failed (" +
                   (errMsg.empty() ? "exit " + std::to_string(rc) : errMsg) +
                   "); 'sudo apt-get install librsvg2-bin' gives rsvg-convert, or write .svg");
  }
  std::fprintf(stderr, "tgc: wrote %s (%zu panels, %d points, up to step %.0f)\n", output.c_str(),
               order.size(), points, maxStep);
  return 0;
}

} // namespace tools
} // namespace tg
