//===- OpContractTest.cpp - every tg op has every piece -------------------===//
//
// docs/CONTRIBUTING.md "Adding an op" as a test: each op the tg dialect
// registers needs an interpreter case, a lowering pattern or a library kernel,
// a VJP or the NotDifferentiable trait, a case in the compiled-vs-interpreter
// suite and a round-trip line. Each piece is read from where the compiler
// itself reads it, and one failure lists every missing piece.
//
//===----------------------------------------------------------------------===//
#include "codegen/common/TgToLinalg.h"
#include "codegen/host/Passes.h"
#include "interpreter/Interpreter.h"
#include "ir/Dialect.h"
#include "tests/e2e/OpCases.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/StringSet.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

namespace tg {
namespace {

struct Exemption {
  llvm::StringLiteral op, why;
};

/// Ops that no op case compiles alone, and why.
constexpr Exemption kNoOpCase[] = {
    {Conv2DBackpropFilterBiasOp::getOperationName(),
     "tg-fuse-epilogues makes it for the CPU only (the CUDA backend rejects it); the CNN train "
     "steps of tg-e2e-tests compile it"},
    {RelayoutOp::getOperationName(),
     "tg-assign-layouts makes it between CPU library calls (the CUDA runtime has no relayout); "
     "every CNN train step of tg-e2e-tests compiles it"},
    {ParamGradOp::getOperationName(), "tg-distribute removes it before code generation"},
    {AllreduceStartOp::getOperationName(),
     "tg-distribute makes it; it needs a communicator (tests/dist)"},
    {AllreduceWaitOp::getOperationName(),
     "tg-distribute makes it; it needs a communicator (tests/dist)"},
    {ReduceScatterOp::getOperationName(),
     "tg-distribute's shard-state makes it; it needs a communicator (tests/dist, case shard)"},
    {AllgatherOp::getOperationName(),
     "tg-distribute's shard-state makes it; it needs a communicator (tests/dist, case shard)"},
    {LocalShardOp::getOperationName(),
     "tg-distribute's shard-state makes it; its offset is the rank (tests/dist, case shard)"},
    {SendStartOp::getOperationName(),
     "tg-pipeline-split makes it; it needs another stage (tg-pipeline-tests, dist.train.pipeline)"},
    {SendWaitOp::getOperationName(),
     "tg-pipeline-split makes it; it needs another stage (tg-pipeline-tests, dist.train.pipeline)"},
    {RecvStartOp::getOperationName(),
     "tg-pipeline-split makes it; it needs another stage (tg-pipeline-tests, dist.train.pipeline)"},
    {RecvWaitOp::getOperationName(),
     "tg-pipeline-split makes it; it needs another stage (tg-pipeline-tests, dist.train.pipeline)"},
};

/// Ops differentiated without a GradientOpInterface rule, and why.
constexpr Exemption kNoVjpInterface[] = {
    {ScanOp::getOperationName(),
     "the reverse sweep builds its VJP, a reverse tg.scan (passes/ScanGradient.cpp)"},
    {YieldOp::getOperationName(), "differentiated with its tg.scan"},
};

template <size_t N> const Exemption *find(const Exemption (&list)[N], llvm::StringRef op) {
  for (const Exemption &e : list)
    if (e.op == op)
      return &e;
  return nullptr;
}

llvm::StringSet<> opNames(mlir::ModuleOp module) {
  llvm::StringSet<> names;
  module.walk([&](mlir::Operation *op) { names.insert(op->getName().getStringRef()); });
  return names;
}

TEST(OpContract, EveryOpHasEveryPiece) {
  mlir::MLIRContext ctx;
  ctx.loadDialect<TgDialect, mlir::func::FuncDialect>();

  mlir::RewritePatternSet patterns(&ctx);
  populateTgToLinalgPatterns(patterns, /*keep=*/{});
  llvm::StringSet<> lowered;
  for (const auto &p : patterns.getNativePatterns())
    if (std::optional<mlir::OperationName> root = p->getRootKind())
      lowered.insert(root->getStringRef());

  mlir::OwningOpRef<mlir::ModuleOp> cases =
      mlir::parseSourceString<mlir::ModuleOp>(opCasesModule(opCases()), &ctx);
  ASSERT_TRUE(cases) << "tests/e2e/OpCases.cpp: the op cases do not parse";
  llvm::StringSet<> inCases = opNames(*cases);

  const char *roundTripPath = TG_SOURCE_DIR "/tests/lit/dialect/round-trip.mlir";
  mlir::OwningOpRef<mlir::ModuleOp> roundTrip =
      mlir::parseSourceFile<mlir::ModuleOp>(roundTripPath, &ctx);
  ASSERT_TRUE(roundTrip) << roundTripPath << " does not parse";
  llvm::StringSet<> inRoundTrip = opNames(*roundTrip);

  std::vector<std::string> missing;
  auto report = [&](llvm::StringRef op, const std::string &what) {
    missing.push_back((op + ": " + what).str());
  };
  auto need = [&](llvm::StringRef op, bool has, llvm::StringRef piece, llvm::StringRef where) {
    if (!has)
      report(op, ("no " + piece + " (where to add it: " + where + ")").str());
  };
  auto stale = [&](llvm::StringRef op, const Exemption *e, bool has, llvm::StringRef list) {
    if (e && has)
      report(op, ("has the piece that " + list + " exempts it from: drop the exemption").str());
  };

  size_t checked = 0;
  for (mlir::RegisteredOperationName name : ctx.getRegisteredOperations()) {
    if (name.getDialectNamespace() != TgDialect::getDialectNamespace())
      continue;
    ++checked;
    llvm::StringRef op = name.getStringRef();

    need(op, interpreterHandles(op), "interpreter case",
         "interpreter/Interpreter.cpp, Interpreter::handlers");

    std::optional<NoPatternRule> byDesign = noPatternRule(op);
    bool hasPattern = lowered.contains(op);
    need(op, hasPattern || hasLibraryKernel(op) || byDesign, "lowering pattern or library kernel",
         "codegen/common/TgToLinalg.cpp, populateTgToLinalgPatterns; or a backend's library "
         "list, LibraryKernelOps in codegen/host/LowerToLinalg.cpp; or, by design, noPatternRule "
         "in codegen/common/TgToLinalg.cpp");
    if (byDesign && hasPattern)
      report(op, "has a pattern, but noPatternRule says it has none: drop the rule");

    bool vjp = name.hasInterface<GradientOpInterface>();
    bool notDifferentiable = name.hasTrait<NotDifferentiable>();
    const Exemption *noVjp = find(kNoVjpInterface, op);
    need(op, vjp || notDifferentiable || noVjp, "VJP or NotDifferentiable trait",
         "ir/Gradients.cpp with Tg_Differentiable in ir/TgOps.td, or Tg_NotDifferentiable in "
         "ir/TgOps.td");
    if (vjp && notDifferentiable)
      report(op, "has a VJP and the NotDifferentiable trait: drop one");
    stale(op, noVjp, vjp || notDifferentiable, "kNoVjpInterface");

    const Exemption *noCase = find(kNoOpCase, op);
    need(op, inCases.contains(op) || noCase, "op case", "tests/e2e/OpCases.cpp, opCases()");
    stale(op, noCase, inCases.contains(op), "kNoOpCase");

    need(op, inRoundTrip.contains(op), "round-trip line", "tests/lit/dialect/round-trip.mlir");
  }
  EXPECT_GT(checked, 0u) << "no tg ops registered";
  llvm::sort(missing);
  std::string message;
  for (const std::string &m : missing)
    message += "  " + m + "\n";
  EXPECT_TRUE(missing.empty()) << missing.size() << " missing pieces (docs/CONTRIBUTING.md, "
                               << "\"Adding an op\"):\n"
                               << message;
  std::printf("[ contract  ] %zu tg ops checked, %zu exempt from an op case, %zu from a VJP\n",
              checked, std::size(kNoOpCase), std::size(kNoVjpInterface));
}

} // namespace
} // namespace tg
