//===- Passes.td - tg passes ------------------------------*- tablegen -*-===//
#ifndef TG_PASSES_TD
#define TG_PASSES_TD

include "mlir/Pass/PassBase.td"

def Autodiff : Pass<"tg-autodiff", "mlir::ModuleOp"> {
  let summary = "Reverse-mode differentiation of a tg function";
  let description = [{
    For a function `@f` with a scalar float result named `loss`, adds
    `@f_grad` with the same arguments, returning `@f`'s results followed by
    d loss / d param for every `param` argument (result attributes
    `tg.name = "<param>.grad"`, `tg.grad_of = "<param>"`).

    Each op's vector-Jacobian product comes from its GradientOpInterface.
    Cotangents of a value used several times are summed once; ops that do not
    lie on a path from a param to the loss get no gradient code; data, label,
    state and hyper arguments get no gradient. A param that does not reach the
    loss gets a zero gradient and a warning. A differentiable path through an
    op without a gradient is an error naming the op.
  }];
  let options = [
    Option<"function", "function", "std::string", /*default=*/"\"\"",
           "Function to differentiate (default: every function with a `loss` result)">,
    Option<"loss", "loss", "std::string", /*default=*/"\"loss\"",
           "Name (tg.name) of the result to differentiate">
  ];
  let dependentDialects = ["::tg::TgDialect", "::mlir::func::FuncDialect"];
}

def BuildTrainStep : Pass<"tg-build-train-step", "mlir::ModuleOp"> {
  let summary = "Builds train_step, eval_step and predict from the module's tg.train spec";
  let description = [{
    Reads the module's `tg.train` attribute (model function, loss, optimizer)
    and adds three entry points:

    * `train_step(params, optimizer state, step, model state, data, labels,
      hypers, lr) -> (loss, metrics, params', optimizer state', step',
      model state')`: gradients (through tg-autodiff), coupled L2, clipping
      by global norm, the optimizer update and the learning-rate schedule
      driven by the step counter. Each updated buffer is a result with
      `tg.alias` set to its argument, so it is updated in place.
    * `eval_step(params, model state, data, labels, hypers) -> (loss,
      metrics, model state')`.
    * `predict(params, model state, data, hypers) -> (outputs that do not
      depend on labels)`.

    Model state outputs (results with `tg.alias` in the model function, such
    as an LSTM's final hidden state) become the next value of that state, and
    no gradient flows into a state argument: a window of T steps with states
    in and out is truncated backpropagation through time.

    With `if-needed`, a module without `tg.train` or that already has
    `train_step` is left alone (the compile pipelines run it that way).

    With `microbatches=M` (> 1) every entry point takes M times the model's
    batch: data and labels `[M * b, ...]` are read as M micro-batches of the
    model's `[b, ...]` by a `tg.scan` (marked `microbatches`, so its sums of
    products stay per step and no micro-batch's activations outlive it).
    train_step sums each micro-batch's loss, metrics and gradients in order
    and divides by M before the one update; eval_step averages loss and
    metrics; predict stacks its outputs along their leading dimension
    (`[M, d0, ...]` -> `[M * d0, ...]`) and averages float scalars. An
    output that does not depend on the batch passes through. A model with
    state (recurrent state, batch-norm statistics), random ops, no data, or
    data arguments of different leading lengths is refused.
  }];
  let options = [
    Option<"ifNeeded", "if-needed", "bool", /*default=*/"false",
           "Do nothing when the module has no tg.train spec or already has train_step">,
    Option<"microbatches", "microbatches", "int64_t", /*default=*/"1",
           "Micro-batches of the model's batch per step (gradient accumulation)">
  ];
  let dependentDialects = ["::tg::TgDialect", "::mlir::func::FuncDialect"];
}

def StripNonEntry : Pass<"tg-strip-non-entry", "mlir::ModuleOp"> {
  let summary = "Removes the functions that are not entry points";
  let description = [{
    Once entry points exist (functions with `tg.entry`: train_step,
    eval_step, predict, ...), the model function and any gradient function
    are only their ingredients: they are inlined into the entry points and not
    compiled on their own. This pass erases them, so the module holds exactly
    what the artifact exports. A module without entry points (a plain
    function module compiled as is) is left alone.

    `keep` names functions to export as entry points of their own (kind: the
    name), e.g. the model function, or its gradient `@f_grad`, which is
    built with tg-autodiff when the module does not have it yet.
  }];
  let options = [
    ListOption<"keep", "keep", "std::string",
               "Functions to keep as entry points (f_grad: built by tg-autodiff if missing)">
  ];
  let dependentDialects = ["::tg::TgDialect", "::mlir::func::FuncDialect"];
}

#endif // TG_PASSES_TD
