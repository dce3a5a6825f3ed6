// RUN: tg-opt %s --tg-build-train-step=microbatches=3 --split-input-file --verify-diagnostics | FileCheck %s
// RUN: tg-opt %s --tg-build-train-step=microbatches=3 --canonicalize --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=CANON

// Three micro-batches of the model's 4 rows: every entry takes 12. The data
// and labels are read as [3, 4, ...] sequences of a tg.scan marked
// microbatches; train_step's scan sums the loss, the accuracy and the
// gradient of w, each divided by 3 after it, and the update follows (the
// gradient's tg.param_grad marker after the scan).
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: tensor<12x3xf32> {tg.name = "x", tg.role = "data"}
// CHECK-SAME: tensor<12xi32> {tg.name = "label", tg.role = "label"}
// CHECK: %[[X:.*]] = tg.reshape %{{.*}} : (tensor<12x3xf32>) -> tensor<3x4x3xf32>
// CHECK: %[[L:.*]] = tg.reshape %{{.*}} : (tensor<12xi32>) -> tensor<3x4xi32>
// CHECK: %[[R:.*]]:3 = tg.scan(%[[X]], %[[L]]) carry(%{{.*}}, %{{.*}}, %{{.*}}) {microbatches}
// CHECK-SAME: -> (tensor<f32>, tensor<f32>, tensor<3x2xf32>)
// CHECK: tg.softmax_cross_entropy
// CHECK: tg.matmul {{.*}} {transpose_lhs = true}
// CHECK: tg.yield
// CHECK: %[[M:.*]] = tg.constant dense<3.000000e+00> : tensor<f32>
// CHECK: tg.div %[[R]]#0, %[[M]]
// CHECK: tg.div %[[R]]#2
// CHECK: tg.param_grad
// CHECK-LABEL: func.func @eval_step(
// CHECK-SAME: tensor<12x3xf32>
// CHECK: tg.scan{{.*}}{microbatches}
// Predict stacks the logits of the micro-batches in batch order; the
// param it returns as it is (not computed from the batch) passes through.
// CHECK-LABEL: func.func @predict(
// CHECK-SAME: -> (tensor<12x2xf32> {tg.name = "logits"}, tensor<3x2xf32> {tg.name = "w_out"})
// CHECK: %[[S:.*]]:2 = tg.scan{{.*}}{microbatches}{{.*}} -> (tensor<3x2xf32>, tensor<3x4x2xf32>)
// CHECK: %[[L:.*]] = tg.reshape %[[S]]#1 : (tensor<3x4x2xf32>) -> tensor<12x2xf32>
// CHECK: return %[[L]], %[[S]]#0
// Canonicalized, the weight gradient's sum stays a per-step GEMM in the
// loop (the scan's sum-of-products hoisting would stack every micro-batch's
// activations: a 12-row x^T dy after the loop).
// CANON-LABEL: func.func @train_step(
// CANON: tg.scan
// CANON: tg.matmul {{.*}} {transpose_lhs = true} : (tensor<4x3xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
// CANON: tg.yield
// CANON-NOT: tensor<12x3xf32>, tensor<12x2xf32>) -> tensor<3x2xf32>
// CANON-LABEL: func.func @eval_step(
module attributes {tg.train = {loss = "loss", optimizer = {kind = "sgd", lr = 0.1 : f64}}} {
func.func @mlp(%x: tensor<4x3xf32> {tg.name = "x", tg.role = "data"},
               %l: tensor<4xi32> {tg.name = "label", tg.role = "label"},
               %w: tensor<3x2xf32> {tg.name = "w", tg.role = "param", tg.init = {kind = "glorot_uniform"}})
    -> (tensor<f32> {tg.name = "loss"}, tensor<f32> {tg.name = "accuracy"}, tensor<4x2xf32> {tg.name = "logits"}, tensor<3x2xf32> {tg.name = "w_out"}) {
  %0 = tg.matmul %x, %w : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x2xf32>
  %1 = tg.softmax_cross_entropy %0, %l : (tensor<4x2xf32>, tensor<4xi32>) -> tensor<f32>
  %2 = tg.argmax %0 {axis = 1 : i64} : (tensor<4x2xf32>) -> tensor<4xi32>
  %3 = tg.compare %2, %l {predicate = "eq"} : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi1>
  %4 = tg.cast %3 : (tensor<4xi1>) -> tensor<4xf32>
  %5 = tg.reduce %4 {kind = "mean"} : (tensor<4xf32>) -> tensor<f32>
  return %1, %5, %0, %w : tensor<f32>, tensor<f32>, tensor<4x2xf32>, tensor<3x2xf32>
}
}

// -----

// State would pass between micro-batches: refused.
module attributes {tg.train = {loss = "loss", optimizer = {kind = "sgd", lr = 0.1 : f64}}} {
// expected-error @+1 {{tg-build-train-step: --microbatches=3 needs a model without state, and @rnn has state 'h0'}}
func.func @rnn(%x: tensor<4x3xf32> {tg.name = "x", tg.role = "data"},
               %h: tensor<4x3xf32> {tg.name = "h0", tg.role = "state"},
               %w: tensor<3x3xf32> {tg.name = "w", tg.role = "param"})
    -> (tensor<f32> {tg.name = "loss"}, tensor<4x3xf32> {tg.name = "h", tg.alias = 1 : i64}) {
  %0 = tg.matmul %x, %w : (tensor<4x3xf32>, tensor<3x3xf32>) -> tensor<4x3xf32>
  %1 = tg.add %0, %h : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %2 = tg.reduce %1 {kind = "mean"} : (tensor<4x3xf32>) -> tensor<f32>
  return %2, %1 : tensor<f32>, tensor<4x3xf32>
}
}

// -----

// The batch dimension is the leading one; a scalar data argument has none.
module attributes {tg.train = {loss = "loss", optimizer = {kind = "sgd", lr = 0.1 : f64}}} {
// expected-error @+1 {{--microbatches=3 splits the leading (batch) dimension, and the data argument 's' is a scalar}}
func.func @scalar(%s: tensor<f32> {tg.name = "s", tg.role = "data"},
                  %w: tensor<f32> {tg.name = "w", tg.role = "param"})
    -> (tensor<f32> {tg.name = "loss"}) {
  %0 = tg.mul %s, %w : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}
}

// -----

// Every data and label argument is split along its leading dimension: one
// of another length is not a batch.
module attributes {tg.train = {loss = "loss", optimizer = {kind = "sgd", lr = 0.1 : f64}}} {
// expected-error @+1 {{splits the leading (batch) dimension of every data and label argument, and they differ: 'x' has 4, 'pos' 7}}
func.func @pos(%x: tensor<4x3xf32> {tg.name = "x", tg.role = "data"},
               %p: tensor<7xf32> {tg.name = "pos", tg.role = "data"},
               %w: tensor<3xf32> {tg.name = "w", tg.role = "param"})
    -> (tensor<f32> {tg.name = "loss"}) {
  %0 = tg.mul %x, %w : (tensor<4x3xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  %1 = tg.reduce %0 {kind = "mean"} : (tensor<4x3xf32>) -> tensor<f32>
  %2 = tg.reduce %p {kind = "mean"} : (tensor<7xf32>) -> tensor<f32>
  %3 = tg.add %1, %2 : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %3 : tensor<f32>
}
}

// -----

// Dropout's masks would repeat in every micro-batch: refused, at the op.
module attributes {tg.train = {loss = "loss", optimizer = {kind = "sgd", lr = 0.1 : f64}}} {
func.func @drop(%x: tensor<4x3xf32> {tg.name = "x", tg.role = "data"},
                %s: tensor<i64> {tg.name = "seed", tg.role = "hyper"},
                %w: tensor<3xf32> {tg.name = "w", tg.role = "param"})
    -> (tensor<f32> {tg.name = "loss"}) {
  // expected-error @+1 {{--microbatches=3 does not support random ops in the model yet (dropout)}}
  %u = tg.random_uniform %s : (tensor<i64>) -> tensor<4x3xf32>
  %0 = tg.mul %x, %u : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %1 = tg.mul %0, %w : (tensor<4x3xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  %2 = tg.reduce %1 {kind = "mean"} : (tensor<4x3xf32>) -> tensor<f32>
  return %2 : tensor<f32>
}
}

// -----

// Nothing to split.
module attributes {tg.train = {loss = "loss", optimizer = {kind = "sgd", lr = 0.1 : f64}}} {
// expected-error @+1 {{--microbatches=3 splits the data and labels, and @nodata has none}}
func.func @nodata(%w: tensor<3xf32> {tg.name = "w", tg.role = "param"})
    -> (tensor<f32> {tg.name = "loss"}) {
  %0 = tg.reduce %w {kind = "sum"} : (tensor<3xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}
}

// -----

// An integer scalar computed from the batch has no mean across micro-batches.
module attributes {tg.train = {loss = "loss", optimizer = {kind = "sgd", lr = 0.1 : f64}}} {
// expected-error @+1 {{result #1 of @count ('tensor<i32>') is a scalar computed from the batch that is not a float mean}}
func.func @count(%x: tensor<4xi32> {tg.name = "x", tg.role = "data"},
                 %w: tensor<f32> {tg.name = "w", tg.role = "param"})
    -> (tensor<f32> {tg.name = "loss"}, tensor<i32> {tg.name = "n"}) {
  %0 = tg.reduce %x {kind = "sum"} : (tensor<4xi32>) -> tensor<i32>
  %1 = tg.cast %0 : (tensor<i32>) -> tensor<f32>
  %2 = tg.mul %1, %w : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %2, %0 : tensor<f32>, tensor<i32>
}
}
