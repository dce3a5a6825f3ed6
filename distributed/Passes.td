//===- Passes.td - the data-parallel pass -------------------*- tablegen -*-===//
#ifndef TG_DISTRIBUTED_PASSES_TD
#define TG_DISTRIBUTED_PASSES_TD

include "mlir/Pass/PassBase.td"

def Distribute : Pass<"tg-distribute", "mlir::ModuleOp"> {
  let summary = "Inserts the collectives of data-parallel training";
  let description = [{
    Rewrites the entry points built by tg-build-train-step for data-parallel
    training and records the plan in the module's `tg.data_parallel`
    attribute (the manifest's `data_parallel` section, with a plan hash that
    ranks compare at start).

    * `mode=allreduce` (default): every `tg.param_grad` of `train_step` is
      averaged across ranks before regularization and the optimizer, so N
      ranks with batch B train like one with batch N*B. Gradients are packed
      into buckets of at most `bucket-cap-mb` MiB (one larger gradient gets a
      bucket of its own) in the order backward completes them; each bucket's
      `tg.allreduce_start` comes right after its last gradient is computed
      and its `tg.allreduce_wait` right before the first use of one of its
      gradients, so the collective overlaps the rest of backward. The loss and
      the metrics are averaged too (one last bucket, waited for at the
      return).
    * `mode=average:K`: DL4J's parameter averaging. `train_step` stays local;
      a new entry point `average_params` averages the params (and, with
      `average-state`, the optimizer's float state) across ranks, and the
      runtime calls it after every K local steps.
    * `mode=none`: removes the `tg.param_grad` markers; nothing else.

    Data-parallel modes need a `train_step` with `tg.param_grad` markers and
    f32 params.
  }];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"allreduce\"",
           "none | allreduce | average:K">,
    Option<"bucketCapMb", "bucket-cap-mb", "double", /*default=*/"25.0",
           "Largest bucket in MiB (PyTorch DDP's default)">,
    Option<"averageState", "average-state", "bool", /*default=*/"true",
           "average:K also averages the optimizer state (DL4J's saveUpdater)">,
    Option<"compress", "compress", "std::string", /*default=*/"\"none\"",
           "How allreduce's gradients travel: none | bf16 | threshold:T (recorded in the plan)">,
    Option<"shardState", "shard-state", "int64_t", /*default=*/"0",
           "allreduce: N > 0 shards the optimizer state over N ranks (ZeRO stage 1): the "
           "gradients are reduce-scattered, each rank updates its shard of the params and "
           "slots, and the params are all-gathered; 0: off">
  ];
  let dependentDialects = ["::tg::TgDialect", "::mlir::func::FuncDialect"];
}

#endif // TG_DISTRIBUTED_PASSES_TD
