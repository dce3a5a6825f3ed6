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

def PipelineSplit : Pass<"tg-pipeline-split", "mlir::ModuleOp"> {
  let summary = "Splits a model into pipeline stages, each with its own train step";
  let description = [{
    Model distribution (GPipe, PipeDream-1F1B): the model function of the
    module's `tg.train` spec is cut into `stages` contiguous stages, and each
    stage k gets entry points `train_step.stage<k>` and `eval_step.stage<k>`
    (attribute `tg.stage = k`) that take only that stage's params and
    optimizer state. A step runs `microbatches` micro-batches of the model's
    batch: a stage receives its inputs from stage k-1 (`tg.recv_start` /
    `tg.recv_wait`), runs its part of the forward, sends its outputs to stage
    k+1 (`tg.send_start` / `tg.send_wait`), and later receives their
    gradients back, runs its part of the backward (its forward values kept
    from the forward, no recomputation) and sends its inputs' gradients to
    stage k-1. Gradients are summed over the micro-batches in order and
    divided by M before each stage's update: the bits of `tg-build-train-step
    microbatches=M` on one process. The last stage returns the loss and the
    metrics.

    The schedule is generated code, unrolled: `gpipe` runs every forward, then
    every backward; `1f1b` runs S-k-1 forwards, then alternates one forward
    and one backward, so at most S-k micro-batches' activations are alive on
    stage k.

    Where to cut: ops that do not depend on a param (constants, data
    reshapes) are recomputed by every stage that needs them; the others are
    cut at points where no param is used on both sides. Without stage marks
    the cuts balance an op cost model: a roofline estimate max(FLOPs / 370
    GFLOP/s, bytes / 36 GB/s) per op (the ceilings measured on the 2-core dev
    machines), plus the update's bytes; ties go to fewer bytes crossing. With
    marks (`tg.stage = k` on ops, from the frontend's Graph::stage) the cuts
    follow them. The plan (per stage: ops, FLOPs, bytes, params, estimated
    seconds, bytes sent) is the module's `tg.pipeline` attribute. A plan
    whose slowest stage is more than `imbalance` above the mean is a warning
    with the costs.

    Refused with an error naming why: fewer cut points than stages, a stage
    mark inside a recurrence (a tg.scan runs in one stage), marks out of
    order, models with state, random ops, clipping by global norm, models
    without data.
  }];
  let options = [
    Option<"stages", "stages", "int64_t", /*default=*/"1",
           "Pipeline stages (1: leave the module alone)">,
    Option<"microbatches", "microbatches", "int64_t", /*default=*/"1",
           "Micro-batches of the model's batch per step">,
    Option<"schedule", "schedule", "std::string", /*default=*/"\"1f1b\"",
           "gpipe | 1f1b">,
    Option<"imbalance", "imbalance", "double", /*default=*/"0.5",
           "Warn when the slowest stage's estimate exceeds the mean by this fraction">
  ];
  let dependentDialects = ["::tg::TgDialect", "::mlir::func::FuncDialect"];
}

#endif // TG_DISTRIBUTED_PASSES_TD
