//===- Passes.h - the data-parallel pass -------------------------*- C++ -*-===//
#ifndef TG_DISTRIBUTED_PASSES_H
#define TG_DISTRIBUTED_PASSES_H

#include "ir/Dialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace tg {

#define GEN_PASS_DECL
#include "distributed/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "distributed/Passes.h.inc"

} // namespace tg

#endif // TG_DISTRIBUTED_PASSES_H
