//===- Viz.cpp - tgc viz: draw a tg graph with Graphviz -------------------===//
//
// Writes one function of a tg module as a Graphviz digraph: arguments as
// ellipses coloured by role, ops as boxes, results as octagons, edges labelled
// with tensor types. `dot` renders it to SVG/PNG/PDF when it is installed.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include "frontend/ModuleImpl.h"
#include "ir/Dialect.h"
#include "tg/Module.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace tg {
namespace tools {
namespace {

const char *kVizUsage = R"(usage: tgc viz MODEL.tg.mlir -o OUT.{svg,png,pdf,dot} [--fn NAME]

Draws a function of a tg module as a graph: arguments coloured by role
(param, state, data, label, hyper), one box per op, results, and edges
labelled with tensor types. OUT.dot writes Graphviz source; other extensions
are rendered with Graphviz's `dot` (apt-get install graphviz).

  -o OUT      output file; its extension picks the format
  --fn NAME   the function (default: the module's only or first one); train_step,
              eval_step and predict are built first when the module has a
              training spec but not those functions
)";

std::string escape(const std::string &s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out;
}

std::string typeLabel(mlir::Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  if (auto rt = mlir::dyn_cast<mlir::RankedTensorType>(t)) {
    for (int64_t d : rt.getShape())
      os << d << "x";
    os << rt.getElementType();
  } else {
    os << t;
  }
  return s;
}

const char *roleColor(Role role) {
  switch (role) {
  case Role::Param:
    return "#b7e1b0";
  case Role::State:
    return "#d9c8ef";
  case Role::Data:
    return "#b8d4f0";
  case Role::Label:
    return "#f7d3a8";
  case Role::Hyper:
    return "#e0e0e0";
  case Role::None:
    break;
  }
  return "#ffffff";
}

std::string toDot(mlir::func::FuncOp fn) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "digraph \"" << escape(fn.getSymName().str()) << "\" {\n"
     << "  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];\n"
     << "  edge [fontname=\"Helvetica\", fontsize=8, color=\"#555555\"];\n";
  llvm::DenseMap<mlir::Value, std::string> ids;
  for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
    Role role = argRole(fn, i);
    std::string id = "a" + std::to_string(i);
    ids[fn.getArgument(i)] = id;
    os << "  " << id << " [shape=ellipse, style=filled, fillcolor=\"" << roleColor(role)
       << "\", label=\"" << escape(argName(fn, i)) << "\\n"
       << (role != Role::None ? std::string(roleName(role)) + " " : "")
       << escape(typeLabel(fn.getArgument(i).getType())) << "\"];\n";
  }
  unsigned n = 0;
  for (mlir::Operation &op : fn.getBody().front()) {
    if (mlir::isa<mlir::func::ReturnOp>(op)) {
      for (unsigned i = 0; i < op.getNumOperands(); ++i) {
        std::string id = "r" + std::to_string(i);
        os << "  " << id << " [shape=octagon, style=filled, fillcolor=\"#fff3b0\", label=\""
           << escape(resultName(fn, i)) << "\\n"
           << escape(typeLabel(op.getOperand(i).getType())) << "\"];\n";
        auto it = ids.find(op.getOperand(i));
        if (it != ids.end())
          os << "  " << it->second << " -> " << id << ";\n";
      }
      continue;
    }
    std::string id = "n" + std::to_string(n++);
    std::string name = op.getName().getStringRef().str();
    if (name.rfind("tg.", 0) == 0)
      name = name.substr(3);
    bool constant = name == "constant";
    os << "  " << id << " [shape=box, style=\"rounded,filled\", fillcolor=\""
       << (constant ? "#f5f5f5" : "#ffffff") << "\", label=\"" << escape(name);
    if (constant && op.getNumResults() == 1)
      os << "\\n" << escape(typeLabel(op.getResult(0).getType()));
    os << "\"];\n";
    for (mlir::Value v : op.getOperands()) {
      auto it = ids.find(v);
      if (it != ids.end())
        os << "  " << it->second << " -> " << id << " [label=\"" << escape(typeLabel(v.getType()))
           << "\"];\n";
    }
    for (mlir::Value r : op.getResults())
      ids[r] = id;
  }
  os << "}\n";
  return s;
}

} // namespace

std::string findProgram(const std::string &program) {
  auto path = llvm::sys::findProgramByName(program);
  return path ? *path : "";
}

int vizCommand(int argc, char **argv) {
  std::string input, output, fnName;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::printf("%s", kVizUsage);
      return 0;
    }
    if ((a == "-o" || a == "--fn") && i + 1 < argc) {
      (a == "-o" ? output : fnName) = argv[++i];
    } else if (a.rfind("--fn=", 0) == 0) {
      fnName = a.substr(5);
    } else if (!a.empty() && a[0] == '-') {
      return error("viz: unknown option or missing value '" + a + "' (see tgc viz --help)");
    } else if (!input.empty()) {
      return error("viz: more than one input file ('" + input + "', '" + a + "')");
    } else {
      input = a;
    }
  }
  if (input.empty() || output.empty())
    return error("viz: needs MODEL.tg.mlir and -o OUT (see tgc viz --help)");
  std::string ext =
      output.substr(output.rfind('.') == std::string::npos ? output.size() : output.rfind('.') + 1);
  if (ext != "dot" && ext != "svg" && ext != "png" && ext != "pdf")
    return error("viz: -o '" + output + "': use a .svg, .png, .pdf or .dot file");
  auto module = Module::load(input);
  if (!module.ok())
    return error(std::string(module.status().message()));
  mlir::ModuleOp m = *module->impl().module;
  bool entry = fnName == "train_step" || fnName == "eval_step" || fnName == "predict";
  if (entry && m->hasAttr("tg.train") && !m.lookupSymbol(fnName)) {
    auto trained = module->transform("tg-build-train-step");
    if (!trained.ok())
      return error(std::string(trained.status().message()));
    module = std::move(trained);
    m = *module->impl().module;
  }
  mlir::func::FuncOp fn;
  if (fnName.empty()) {
    auto fns = m.getOps<mlir::func::FuncOp>();
    if (fns.empty())
      return error("viz: '" + input + "' has no function");
    fn = *fns.begin();
  } else {
    auto found = findFunction(m, fnName);
    if (!found.ok())
      return error("viz: " + std::string(found.status().message()));
    fn = *found;
  }
  std::string dot = toDot(fn);
  std::string dotFile = output;
  llvm::SmallString<128> temp;
  if (ext != "dot") {
    std::string dotExe = findProgram("dot");
    if (dotExe.empty())
      return error("viz: Graphviz's 'dot' is not installed; install it with "
                   "'sudo apt-get install graphviz', or write Graphviz source with -o " +
                   output.substr(0, output.size() - ext.size()) + "dot");
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile("tgc-viz", "dot", temp))
      return error("viz: cannot create a temporary file: " + ec.message());
    dotFile = temp.str().str();
  }
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(dotFile, ec);
    if (ec)
      return error("viz: cannot write '" + dotFile + "': " + ec.message());
    os << dot;
  }
  if (ext == "dot") {
    std::fprintf(stderr, "tgc: wrote %s (@%s)\n", output.c_str(), fn.getSymName().str().c_str());
    return 0;
  }
  std::string dotExe = findProgram("dot"), errMsg;
  std::string format = "-T" + ext;
  llvm::SmallVector<llvm::StringRef, 6> args = {dotExe, format, dotFile, "-o", output};
  int rc = llvm::sys::ExecuteAndWait(dotExe, args, std::nullopt, {}, 0, 0, &errMsg);
  llvm::sys::fs::remove(dotFile);
  if (rc != 0)
    return error("viz: dot failed (" + (errMsg.empty() ? "exit " + std::to_string(rc) : errMsg) +
                 ") rendering '" + output + "'");
  std::fprintf(stderr, "tgc: wrote %s (@%s)\n", output.c_str(), fn.getSymName().str().c_str());
  return 0;
}

} // namespace tools
} // namespace tg
