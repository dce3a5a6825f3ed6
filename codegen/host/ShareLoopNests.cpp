//===- ShareLoopNests.cpp - tg-share-loop-nests ---------------------------===//
//
// Identical loop nests compile once. After bufferization every linalg op,
// and every scf.for at a function's top level (a tg.scan's steps, a
// tg.attention's key blocks), is moved into a private function of its own,
// keyed by the function's text (types, indexing maps, body, attributes); ops
// with the same key call the same function. The memory plan's arena views
// have identity layouts, so the same op in block 1 and block 12 of a
// transformer, or in train_step's forward and predict's, has the same key.
//
//===----------------------------------------------------------------------===//
#include "codegen/host/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"

#include <limits>

#define DEBUG_TYPE "tg-share-loop-nests"

namespace tg {
#define GEN_PASS_DEF_SHARELOOPNESTS
#include "codegen/host/Passes.h.inc"
} // namespace tg

using namespace mlir;

namespace tg {
namespace {

constexpr llvm::StringLiteral kPrefix = "tg_loop_nest";

/// The function's body as text: the key of identical loop nests.
std::string bodyKey(func::FuncOp fn) {
  std::string key;
  llvm::raw_string_ostream os(key);
  os << fn.getFunctionType();
  // Explicit flags: tg-opt's --mlir-print-* options must not change keys
  // (skipped regions or elided constants would merge different nests).
  OpPrintingFlags flags;
  flags.printGenericOpForm().useLocalScope().skipRegions(false).enableDebugInfo(false);
  flags.elideLargeElementsAttrs(std::numeric_limits<int64_t>::max());
  for (Operation &op : fn.getBody().front()) {
    op.print(os, flags);
    os << "\n";
  }
  return key;
}

/// Adds `fn` under a unique name, or erases it for the identical function
/// made before; returns the function to call.
func::FuncOp share(func::FuncOp fn, llvm::StringMap<func::FuncOp> &shared, SymbolTable &symbols) {
  std::string key = bodyKey(fn);
  auto [it, inserted] = shared.try_emplace(key, fn);
  if (!inserted) {
    fn.erase();
    return it->second;
  }
  MLIRContext *ctx = fn.getContext();
  symbols.insert(fn); // a unique name: tg_loop_nest, tg_loop_nest_0, ...
  // Internal, and never inlined: an inlined copy per call site would undo
  // the sharing.
  fn->setAttr("llvm.linkage", LLVM::LinkageAttr::get(ctx, LLVM::Linkage::Internal));
  fn->setAttr("passthrough", ArrayAttr::get(ctx, {StringAttr::get(ctx, "noinline")}));
  return fn;
}

/// Replaces `op` by a call of a private function holding a clone of it whose
/// operand i is `operands[i]`: one argument per distinct value among
/// `operands` (with `cloneConstantOperands`, constant ones are cloned in
/// instead) and per non-constant value its regions read from outside
/// (constants are cloned in: they are part of what the loop nest computes);
/// the function returns op's results. An identical function made before is
/// called instead.
void outline(Operation *op, ArrayRef<Value> operands, bool cloneConstantOperands,
             ModuleOp module, llvm::StringMap<func::FuncOp> &shared, SymbolTable &symbols) {
  MLIRContext *ctx = op->getContext();
  llvm::SetVector<Value> args;
  if (!cloneConstantOperands)
    args.insert(operands.begin(), operands.end());
  llvm::SetVector<Value> used(operands.begin(), operands.end());
  getUsedValuesDefinedAbove(op->getRegions(), used);
  SmallVector<Operation *> constants;
  for (Value v : used) {
    if (args.contains(v))
      continue;
    Operation *def = v.getDefiningOp();
    if (def && def->getNumResults() == 1 && def->getNumRegions() == 0 &&
        matchPattern(v, m_Constant()))
      constants.push_back(def);
    else
      args.insert(v);
  }
  SmallVector<Type> argTypes;
  for (Value v : args)
    argTypes.push_back(v.getType());
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  auto fn = b.create<func::FuncOp>(op->getLoc(), kPrefix,
                                   FunctionType::get(ctx, argTypes, op->getResultTypes()));
  fn.setPrivate();
  Block *entry = fn.addEntryBlock();
  IRMapping map;
  for (auto [value, arg] : llvm::zip(args, entry->getArguments()))
    map.map(value, arg);
  OpBuilder fb = OpBuilder::atBlockEnd(entry);
  for (Operation *c : constants)
    fb.clone(*c, map);
  Operation *clone = fb.clone(*op, map);
  for (auto [i, value] : llvm::enumerate(operands))
    clone->setOperand(unsigned(i), map.lookup(value));
  fb.create<func::ReturnOp>(op->getLoc(), clone->getResults());
  func::FuncOp callee = share(fn, shared, symbols);
  OpBuilder cb(op);
  auto call = cb.create<func::CallOp>(op->getLoc(), callee, args.getArrayRef());
  op->replaceAllUsesWith(call.getResults());
  op->erase();
}

struct ShareLoopNestsPass : impl::ShareLoopNestsBase<ShareLoopNestsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    llvm::StringMap<func::FuncOp> shared;
    // Whole loops first (their linalg ops are then shared like any other).
    SmallVector<scf::ForOp> loops;
    for (auto fn : module.getOps<func::FuncOp>())
      if (!fn.isExternal())
        for (Block &block : fn.getBody())
          for (auto loop : block.getOps<scf::ForOp>())
            loops.push_back(loop);
    for (scf::ForOp loop : loops)
      outline(loop, SmallVector<Value>(loop->getOperands()), /*cloneConstantOperands=*/true,
              module, shared, symbols);
    SmallVector<linalg::LinalgOp> ops;
    module.walk([&](linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics())
        ops.push_back(op);
    });
    for (linalg::LinalgOp linalgOp : ops) {
      Operation *op = linalgOp.getOperation();
      // A rank-0 input (a hyperparameter, a bias correction) is loaded
      // before the call and passed by value: in the function nothing tells
      // LLVM that the output does not alias it, so a load inside the loop
      // would stay there.
      SmallVector<Value> operands(op->getOperands());
      OpBuilder lb(op);
      // (linalg.generic only: named ops such as transpose take memrefs.)
      for (OpOperand *in : linalgOp.getDpsInputOperands()) {
        auto type = llvm::dyn_cast<MemRefType>(in->get().getType());
        if (type && type.getRank() == 0 && llvm::isa<linalg::GenericOp>(op))
          operands[in->getOperandNumber()] =
              lb.create<memref::LoadOp>(op->getLoc(), in->get(), ValueRange());
      }
      // One argument per distinct value: an in-place op (ins == outs) keeps
      // reading and writing one pointer, which LLVM vectorizes; as two
      // arguments its runtime alias check fails on every call and the loop
      // runs scalar (the MLP's in-place Adam update took 2x as long). A
      // fill's constant value stays an argument, so fills of one type share.
      outline(op, operands, /*cloneConstantOperands=*/false, module, shared, symbols);
    }
  }
};

} // namespace
} // namespace tg
