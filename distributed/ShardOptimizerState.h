//===- ShardOptimizerState.h - ZeRO stage 1 in tg-distribute ----*- C++ -*-===//
//
// tg-distribute's shard-state=N (tgc compile --shard-optimizer-state=N): the
// optimizer update of train_step runs on this rank's shard of every param,
// gradient and slot, flattened into one vector, instead of on whole tensors.
//
//===----------------------------------------------------------------------===//
#ifndef TG_DISTRIBUTED_SHARDOPTIMIZERSTATE_H
#define TG_DISTRIBUTED_SHARDOPTIMIZERSTATE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>
#include <vector>

namespace tg {

/// Where the flat vector's pieces come from: params in train_step's order.
struct ShardPlan {
  int64_t world = 0, shardSize = 0; ///< N ranks, S elements each
  std::vector<std::string> params;  ///< in flat order
  std::vector<int64_t> elements;    ///< each param's element count
  std::vector<std::string> slots;   ///< slot suffixes ("m", "v"), in buffer order
  std::vector<std::string> buffers; ///< the shard buffers: "shard.<slot>"
};

/// Rewrites `step` (after its gradients' tg.param_grad markers, before any
/// other distribution): the gradients are concatenated and reduce-scattered
/// (a rank-ordered mean: the bits of the allreduce), the update runs once on
/// this rank's flat shard with state buffers "shard.<slot>" of S floats in
/// place of each param's slots, and the updated shards are all-gathered into
/// the params. Every param's update must be the same elementwise rule on
/// (param, gradient, slots) with shared scalars; otherwise (clipping by the
/// global norm, a per-param rule) an error says why. The markers are gone
/// afterwards.
mlir::LogicalResult shardOptimizerState(mlir::func::FuncOp step, int64_t world, ShardPlan &plan);

} // namespace tg

#endif // TG_DISTRIBUTED_SHARDOPTIMIZERSTATE_H
