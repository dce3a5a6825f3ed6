//===- Autodiff.cpp - tg-autodiff: reverse-mode gradients -----------------===//
//
// Differentiates a tg function with respect to its params. The function is
// cloned into `<name>_grad`; in the clone, ops are visited in reverse and each
// one that lies on a path param -> loss asks its GradientOpInterface for the
// cotangents of its operands, which are summed per value.
//
//===----------------------------------------------------------------------===//
#include "ir/GradientBuilder.h"
#include "passes/Passes.h"
#include "passes/ReverseMode.h"

#include "mlir/Transforms/RegionUtils.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "tg-autodiff"

namespace tg {
#define GEN_PASS_DEF_AUTODIFF
#include "passes/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {
namespace {

StringRef argName(func::FuncOp fn, unsigned i) {
  auto s = fn.getArgAttrOfType<StringAttr>(i, TgDialect::kNameAttr);
  return s ? s.getValue() : StringRef();
}

bool isParam(func::FuncOp fn, unsigned i) { return argRole(fn, i) == Role::Param; }

std::optional<unsigned> findResult(func::FuncOp fn, StringRef name) {
  for (unsigned i = 0; i < fn.getNumResults(); ++i) {
    auto s = fn.getResultAttrOfType<StringAttr>(i, TgDialect::kNameAttr);
    if (s && s.getValue() == name)
      return i;
  }
  return std::nullopt;
}

} // namespace

void usedValues(Operation *op, SmallVectorImpl<Value> &out) {
  out.append(op->operand_begin(), op->operand_end());
  if (op->getNumRegions() == 0)
    return;
  llvm::SetVector<Value> above;
  getUsedValuesDefinedAbove(op->getRegions(), above);
  out.append(above.begin(), above.end());
}

void ReverseSweep::accumulate(Value v, Value g) {
  auto [it, inserted] = cotangent.try_emplace(v, g);
  if (!inserted)
    it->second = gb.add(it->second, g);
}

LogicalResult ReverseSweep::run(ArrayRef<Operation *> ops) {
  for (Operation *op : llvm::reverse(ops)) {
    if (auto scan = llvm::dyn_cast<ScanOp>(op)) {
      if (llvm::none_of(scan.getResults(), [&](Value r) { return cotangent.count(r); }))
        continue;
      if (failed(buildScanVjp(scan, *this)))
        return failure();
      LLVM_DEBUG(llvm::dbgs() << "tg-autodiff: differentiated a tg.scan\n");
      continue;
    }
    if (op->getNumResults() != 1 || !cotangent.count(op->getResult(0)))
      continue;
    SmallVector<bool> needed;
    for (Value v : op->getOperands())
      needed.push_back(active(v));
    if (!llvm::is_contained(needed, true))
      continue;
    auto iface = llvm::dyn_cast<GradientOpInterface>(op);
    if (!iface) {
      InFlightDiagnostic d = op->emitError()
                             << "tg-autodiff: '" << op->getName()
                             << "' has no gradient, but it lies between a param and the loss '"
                             << lossName << "'";
      return d;
    }
    SmallVector<Value> grads;
    if (failed(iface.buildVjp(b, cotangent[op->getResult(0)], needed, grads)))
      return failure();
    for (auto [v, g] : llvm::zip(op->getOperands(), grads))
      if (g)
        accumulate(v, g);
    LLVM_DEBUG(llvm::dbgs() << "tg-autodiff: differentiated " << op->getName() << "\n");
  }
  return success();
}

FailureOr<func::FuncOp> buildGradientFunction(func::FuncOp fn, StringRef lossName) {
  std::optional<unsigned> lossIndex = findResult(fn, lossName);
  if (!lossIndex)
    return fn.emitError() << "tg-autodiff: @" << fn.getSymName() << " has no result named '"
                          << lossName << "' to differentiate";
  auto lossType = llvm::dyn_cast<RankedTensorType>(fn.getResultTypes()[*lossIndex]);
  if (!lossType || lossType.getRank() != 0 || !llvm::isa<FloatType>(lossType.getElementType()))
    return fn.emitError() << "tg-autodiff: the loss '" << lossName << "' of @" << fn.getSymName()
                          << " must be a scalar float tensor, got "
                          << fn.getResultTypes()[*lossIndex];
  if (fn.getBody().getBlocks().size() != 1)
    return fn.emitError() << "tg-autodiff: @" << fn.getSymName() << " must have one block";

  auto module = fn->getParentOfType<ModuleOp>();
  std::string gradName = (fn.getSymName() + "_grad").str();
  if (module && SymbolTable::lookupSymbolIn(module, gradName))
    return fn.emitError() << "tg-autodiff: @" << gradName << " already exists";

  // Differentiate a clone, so the forward function stays as it was.
  OpBuilder b(fn);
  b.setInsertionPointAfter(fn);
  auto grad = llvm::cast<func::FuncOp>(b.clone(*fn));
  grad.setSymName(gradName);
  grad->setAttr(TgDialect::kGradientOfAttr, b.getStringAttr(fn.getSymName()));
  Block &body = grad.getBody().front();
  auto ret = llvm::cast<func::ReturnOp>(body.getTerminator());
  Value loss = ret.getOperand(*lossIndex);

  // Active values: float values that depend on a param and reach the loss.
  // A scan's body uses values from outside (e.g. its weights): they count as
  // its operands here.
  DenseSet<Value> dependsOnParam, reachesLoss;
  for (BlockArgument arg : body.getArguments())
    if (isParam(grad, arg.getArgNumber()) && isFloatTensor(arg))
      dependsOnParam.insert(arg);
  SmallVector<Value> used;
  for (Operation &op : body.without_terminator()) {
    used.clear();
    usedValues(&op, used);
    if (llvm::any_of(used, [&](Value v) { return dependsOnParam.contains(v); }))
      for (Value r : op.getResults())
        if (isFloatTensor(r))
          dependsOnParam.insert(r);
  }
  reachesLoss.insert(loss);
  for (Operation &op : llvm::reverse(body.without_terminator()))
    if (llvm::any_of(op.getResults(), [&](Value v) { return reachesLoss.contains(v); })) {
      used.clear();
      usedValues(&op, used);
      reachesLoss.insert(used.begin(), used.end());
    }
  auto active = [&](Value v) {
    return isFloatTensor(v) && dependsOnParam.contains(v) && reachesLoss.contains(v);
  };

  // Gradient code goes after the forward code, before the return.
  b.setInsertionPoint(ret);
  GradientBuilder gb(b, fn.getLoc());
  ReverseSweep sweep(b, fn.getLoc(), active, lossName);
  if (active(loss))
    sweep.accumulate(loss, gb.scalar(1.0, lossType.getElementType()));
  SmallVector<Operation *> forward;
  for (Operation &op : body.without_terminator())
    forward.push_back(&op);
  if (failed(sweep.run(forward)))
    return failure();

  // Results: the forward results, then one gradient per param.
  SmallVector<Value> results(ret.getOperands());
  SmallVector<Type> resultTypes(grad.getResultTypes());
  SmallVector<DictionaryAttr> resultAttrs;
  for (unsigned i = 0; i < grad.getNumResults(); ++i)
    resultAttrs.push_back(grad.getResultAttrDict(i));
  for (BlockArgument arg : body.getArguments()) {
    unsigned i = arg.getArgNumber();
    if (!isParam(grad, i))
      continue;
    StringRef name = argName(grad, i);
    std::string label = name.empty() ? ("#" + llvm::Twine(i)).str() : name.str();
    Value g = sweep.lookup(arg);
    if (!g) {
      fn.emitWarning() << "tg-autodiff: param '" << label << "' does not reach the loss '"
                       << lossName << "'; its gradient is zero";
      g = gb.zerosLike(arg);
    }
    results.push_back(g);
    resultTypes.push_back(arg.getType());
    resultAttrs.push_back(
        b.getDictionaryAttr({b.getNamedAttr(TgDialect::kNameAttr, b.getStringAttr(label + ".grad")),
                             b.getNamedAttr(TgDialect::kGradOfAttr, b.getStringAttr(label))}));
  }
  b.create<func::ReturnOp>(ret.getLoc(), results);
  ret.erase();
  grad.setFunctionType(b.getFunctionType(grad.getArgumentTypes(), resultTypes));
  grad.setAllResultAttrs(resultAttrs);
  return grad;
}

namespace {

struct AutodiffPass : impl::AutodiffBase<AutodiffPass> {
  using AutodiffBase::AutodiffBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> targets;
    if (!function.empty()) {
      auto fn = module.lookupSymbol<func::FuncOp>(function);
      if (!fn) {
        module.emitError() << "tg-autodiff: no function named @" << function;
        return signalPassFailure();
      }
      targets.push_back(fn);
    } else {
      for (auto fn : module.getOps<func::FuncOp>())
        if (findResult(fn, loss) && !fn->hasAttr(TgDialect::kGradientOfAttr) &&
            !fn->hasAttr(TgDialect::kEntryAttr))
          targets.push_back(fn);
    }
    for (func::FuncOp fn : targets)
      if (failed(buildGradientFunction(fn, loss)))
        return signalPassFailure();
  }
};

} // namespace
} // namespace tg
