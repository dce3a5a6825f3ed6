// RUN: tg-opt %s --tg-build-train-step --split-input-file --verify-diagnostics | FileCheck %s

// RMSProp with L2 (the source document's configuration) on a tiny model.
// train_step: params, one slot per param, the step counter, data, labels, lr;
// every updated buffer is a result aliased to its argument.

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %arg0: tensor<3x2xf32> {tg.init = {kind = "glorot_uniform"}, tg.name = "w", tg.role = "param"}
// CHECK-SAME: %arg1: tensor<3x2xf32> {tg.init = {kind = "zeros"}, tg.name = "w.mean_square", tg.role = "state"}
// CHECK-SAME: %arg2: tensor<i64> {tg.init = {kind = "zeros"}, tg.name = "step", tg.role = "state"}
// CHECK-SAME: %arg3: tensor<4x3xf32> {tg.name = "x", tg.role = "data"}
// CHECK-SAME: %arg4: tensor<4xi32> {tg.name = "label", tg.role = "label"}
// CHECK-SAME: %arg5: tensor<f32> {tg.default = 1.000000e-01 : f64, tg.name = "lr", tg.role = "hyper"}
// CHECK-SAME: -> (tensor<f32> {tg.name = "loss"}, tensor<f32> {tg.name = "accuracy"},
// CHECK-SAME: tensor<3x2xf32> {tg.alias = 0 : i64, tg.name = "w"},
// CHECK-SAME: tensor<3x2xf32> {tg.alias = 1 : i64, tg.name = "w.mean_square"},
// CHECK-SAME: tensor<i64> {tg.alias = 2 : i64, tg.name = "step"})
// CHECK-SAME: attributes {tg.entry = "train_step"}
// The gradient of w, then L2, the second moment and the update:
// CHECK: %[[RAW:.*]] = tg.matmul %arg3, %{{.*}} {transpose_lhs = true}
// The complete gradient is marked for tg-distribute:
// CHECK: %[[G:.*]] = tg.param_grad %[[RAW]] {param = "w"} : tensor<3x2xf32>
// CHECK: %[[L2C:.*]] = tg.constant dense<1.000000e-03>
// CHECK: %[[L2:.*]] = tg.mul %arg0, %[[L2C]]
// CHECK: %[[GR:.*]] = tg.add %[[G]], %[[L2]]
// CHECK: tg.mul %arg1, %{{.*}}
// CHECK: %[[S:.*]] = tg.add
// CHECK: tg.sqrt %[[S]]
// CHECK: %[[NEWW:.*]] = tg.sub %arg0, %{{.*}}
// CHECK: %[[NEWSTEP:.*]] = tg.add %arg2, %{{.*}} : (tensor<i64>, tensor<i64>) -> tensor<i64>
// CHECK: return %{{.*}}, %{{.*}}, %[[NEWW]], %[[S]], %[[NEWSTEP]]

// eval_step: loss and metrics, no update.
// CHECK-LABEL: func.func @eval_step(
// CHECK-SAME: -> (tensor<f32> {tg.name = "loss"}, tensor<f32> {tg.name = "accuracy"}) attributes {tg.entry = "eval_step"}
// CHECK-NOT: tg.sqrt
// CHECK: return

// predict: no labels, the outputs that do not need them.
// CHECK-LABEL: func.func @predict(
// CHECK-SAME: %arg0: tensor<3x2xf32> {tg.init = {kind = "glorot_uniform"}, tg.name = "w", tg.role = "param"}, %arg1: tensor<4x3xf32> {tg.name = "x", tg.role = "data"})
// CHECK-SAME: -> (tensor<4x2xf32> {tg.name = "logits"}) attributes {tg.entry = "predict"}
// CHECK-NOT: softmax_cross_entropy
// CHECK: return
module attributes {tg.train = {loss = "loss", optimizer = {kind = "rmsprop", lr = 0.1 : f64, l2 = 1.0e-3 : f64}}} {
func.func @mlp(%x: tensor<4x3xf32> {tg.name = "x", tg.role = "data"},
               %l: tensor<4xi32> {tg.name = "label", tg.role = "label"},
               %w: tensor<3x2xf32> {tg.name = "w", tg.role = "param", tg.init = {kind = "glorot_uniform"}})
    -> (tensor<f32> {tg.name = "loss"}, tensor<f32> {tg.name = "accuracy"}, tensor<4x2xf32> {tg.name = "logits"}) {
  %0 = tg.matmul %x, %w : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x2xf32>
  %1 = tg.softmax_cross_entropy %0, %l : (tensor<4x2xf32>, tensor<4xi32>) -> tensor<f32>
  %2 = tg.argmax %0 {axis = 1 : i64} : (tensor<4x2xf32>) -> tensor<4xi32>
  %3 = tg.compare %2, %l {predicate = "eq"} : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi1>
  %4 = tg.cast %3 : (tensor<4xi1>) -> tensor<4xf32>
  %5 = tg.reduce %4 {kind = "mean"} : (tensor<4xf32>) -> tensor<f32>
  return %1, %5, %0 : tensor<f32>, tensor<f32>, tensor<4x2xf32>
}
}

// -----

// Adam keeps two slots; clipping computes one global norm over all params;
// a cosine schedule with warm-up scales the learning rate from the step.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: tg.name = "a.m"
// CHECK-SAME: tg.name = "a.v"
// CHECK-SAME: tg.name = "b.m"
// CHECK-SAME: tg.name = "b.v"
// CHECK: %[[T:.*]] = tg.cast %arg6 : (tensor<i64>) -> tensor<f32>
// CHECK: tg.cos
// CHECK: tg.minimum
// CHECK: %[[NORM:.*]] = tg.sqrt %{{.*}} : tensor<f32>
// CHECK: tg.maximum %[[NORM]]
// CHECK: tg.pow
// CHECK: tg.pow
module attributes {tg.train = {loss = "loss", optimizer = {kind = "adam", lr = 0.001 : f64, clip_norm = 1.0 : f64, schedule = {kind = "cosine", decay_steps = 100, warmup_steps = 10}}}} {
func.func @two(%a: tensor<2xf32> {tg.name = "a", tg.role = "param"},
               %b: tensor<f32> {tg.name = "b", tg.role = "param"})
    -> (tensor<f32> {tg.name = "loss"}) {
  %0 = tg.mul %a, %b : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
  %1 = tg.reduce %0 {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
  return %1 : tensor<f32>
}
}

// -----

// A state that only training moves (tg.train_only: BatchNorm's running
// statistics): train_step updates it, eval_step and predict take it but do
// not output it, so they are not stateful steps.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: tensor<2xf32> {tg.alias = 2 : i64, tg.name = "stat_next", tg.train_only}
// CHECK-LABEL: func.func @eval_step(
// CHECK-SAME: %arg1: tensor<2xf32> {tg.name = "stat", tg.role = "state"}
// CHECK-SAME: -> (tensor<f32> {tg.name = "loss"}) attributes
// CHECK-LABEL: func.func @predict(
// CHECK-SAME: -> (tensor<f32> {tg.name = "loss"}) attributes
module attributes {tg.train = {loss = "loss", optimizer = {kind = "sgd", lr = 0.1 : f64}}} {
func.func @bn(%stat: tensor<2xf32> {tg.name = "stat", tg.role = "state"},
              %w: tensor<2xf32> {tg.name = "w", tg.role = "param"},
              %x: tensor<2xf32> {tg.name = "x", tg.role = "data"})
    -> (tensor<f32> {tg.name = "loss"}, tensor<2xf32> {tg.name = "stat_next", tg.alias = 0 : i64, tg.train_only}) {
  %0 = tg.mul %x, %w : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %1 = tg.add %0, %stat : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %l = tg.reduce %1 {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
  return %l, %x : tensor<f32>, tensor<2xf32>
}
}

// -----

// Truncated BPTT: the state's next value is aliased to the state argument of
// train_step, and no gradient is built for the state.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %arg0: tensor<2xf32> {tg.name = "w", tg.role = "param"}
// CHECK-SAME: %arg1: tensor<i64> {tg.init = {kind = "zeros"}, tg.name = "step", tg.role = "state"}
// CHECK-SAME: %arg2: tensor<2xf32> {tg.name = "h0", tg.role = "state"}
// CHECK-SAME: tensor<2xf32> {tg.alias = 2 : i64, tg.name = "h"}
// CHECK-LABEL: func.func @eval_step(
// CHECK-SAME: %arg1: tensor<2xf32> {tg.name = "h0", tg.role = "state"}
// CHECK-SAME: tensor<2xf32> {tg.alias = 1 : i64, tg.name = "h"}
// CHECK-LABEL: func.func @predict(
// CHECK-SAME: tensor<2xf32> {tg.alias = 1 : i64, tg.name = "h"}
module attributes {tg.train = {loss = "loss", optimizer = {kind = "sgd", lr = 0.1 : f64}}} {
func.func @rnn(%h0: tensor<2xf32> {tg.name = "h0", tg.role = "state"},
               %w: tensor<2xf32> {tg.name = "w", tg.role = "param"},
               %x: tensor<2xf32> {tg.name = "x", tg.role = "data"})
    -> (tensor<f32> {tg.name = "loss"}, tensor<2xf32> {tg.name = "h", tg.alias = 0 : i64}) {
  %0 = tg.mul %h0, %w : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %1 = tg.add %0, %x : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %h = tg.tanh %1 : tensor<2xf32>
  %l = tg.reduce %h {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
  return %l, %h : tensor<f32>, tensor<2xf32>
}
}

// -----

// expected-error @+1 {{tg-build-train-step: the module has no tg.train attribute; build the model with Graph::minimize or add tg.train = {loss = "loss", optimizer = {kind = "sgd", lr = 0.01}}}}
module {
func.func @f(%w: tensor<2xf32> {tg.name = "w", tg.role = "param"}) -> (tensor<f32> {tg.name = "loss"}) {
  %l = tg.reduce %w {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
}

// -----

module attributes {tg.train = {loss = "cost", optimizer = {kind = "sgd"}}} {
// expected-error @+1 {{tg-build-train-step: @f has no result named 'cost' (the tg.train loss)}}
func.func @f(%w: tensor<2xf32> {tg.name = "w", tg.role = "param"}) -> (tensor<f32> {tg.name = "loss"}) {
  %l = tg.reduce %w {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
}

// -----

// expected-error @+1 {{tg-build-train-step: tg.train names @g, which is not in the module}}
module attributes {tg.train = {function = "g", optimizer = {kind = "sgd"}}} {
func.func @f(%w: tensor<2xf32> {tg.name = "w", tg.role = "param"}) -> (tensor<f32> {tg.name = "loss"}) {
  %l = tg.reduce %w {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
}

// -----

// expected-error @+1 {{tg-build-train-step: the module has several functions (@f, @g); name the model in tg.train's 'function'}}
module attributes {tg.train = {optimizer = {kind = "sgd"}}} {
func.func @f(%w: tensor<2xf32> {tg.name = "w", tg.role = "param"}) -> (tensor<f32> {tg.name = "loss"}) {
  %l = tg.reduce %w {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
func.func @g(%w: tensor<2xf32> {tg.name = "w", tg.role = "param"}) -> (tensor<f32> {tg.name = "loss"}) {
  %l = tg.reduce %w {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
}

// -----

module attributes {tg.train = {optimizer = {kind = "sgd"}}} {
// expected-error @+1 {{tg-build-train-step: @f has no param to train}}
func.func @f(%w: tensor<2xf32> {tg.name = "w", tg.role = "data"}) -> (tensor<f32> {tg.name = "loss"}) {
  %l = tg.reduce %w {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
}

// -----

module attributes {tg.train = {optimizer = {kind = "sgd"}}} {
// expected-error @+1 {{tg-build-train-step: result 'h' aliases argument #0, which is not a state}}
func.func @f(%w: tensor<2xf32> {tg.name = "w", tg.role = "param"}) -> (tensor<f32> {tg.name = "loss"}, tensor<2xf32> {tg.name = "h", tg.alias = 0 : i64}) {
  %l = tg.reduce %w {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
  return %l, %w : tensor<f32>, tensor<2xf32>
}
}

// -----

module attributes {tg.train = {optimizer = {kind = "sgd"}}} {
// expected-error @+1 {{tg-build-train-step: the hyper argument name 'lr' is reserved for the learning rate}}
func.func @f(%w: tensor<2xf32> {tg.name = "w", tg.role = "param"}, %lr: tensor<f32> {tg.name = "lr", tg.role = "hyper"}) -> (tensor<f32> {tg.name = "loss"}) {
  %l = tg.reduce %w {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
}

// -----

module attributes {tg.train = {optimizer = {kind = "sgd"}}} {
// expected-error @+1 {{tg-build-train-step: argument #1 of @f has no tg.name}}
func.func @f(%w: tensor<2xf32> {tg.name = "w", tg.role = "param"}, %x: tensor<2xf32>) -> (tensor<f32> {tg.name = "loss"}) {
  %l = tg.reduce %w {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
}

// -----

// Parameter groups: "b" takes the group's weight decay (none) and half the
// rate; "w" the optimizer's decay 0.25 (sgd: update = g + 0.25 w).
// CHECK-LABEL: func.func @train_step(
// CHECK: %[[GW:.*]] = tg.param_grad %{{.*}} {param = "w"}
// CHECK: %[[GB:.*]] = tg.param_grad %{{.*}} {param = "b"}
// CHECK: %[[WD:.*]] = tg.constant dense<2.500000e-01>
// CHECK: %[[DW:.*]] = tg.mul %arg0, %[[WD]]
// CHECK: %[[UW:.*]] = tg.add %[[GW]], %[[DW]]
// CHECK: tg.mul %{{.*}}, %[[UW]]
// CHECK: %[[HALF:.*]] = tg.constant dense<5.000000e-01>
// CHECK: %[[LRB:.*]] = tg.mul %{{.*}}, %[[HALF]]
// CHECK: tg.mul %[[LRB]], %[[GB]]
module attributes {tg.train = {optimizer = {kind = "sgd", lr = 0.1, weight_decay = 0.25, groups = [{params = "b*", weight_decay = 0.0, lr_scale = 0.5}]}}} {
func.func @f(%w: tensor<2xf32> {tg.name = "w", tg.role = "param"}, %b: tensor<2xf32> {tg.name = "b", tg.role = "param"}) -> (tensor<f32> {tg.name = "loss"}) {
  %p = tg.mul %w, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %l = tg.reduce %p {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
}

// -----

module attributes {tg.train = {optimizer = {kind = "sgd", groups = [{params = "*.bias", weight_decay = 0.0}]}}} {
// expected-error @+1 {{tg-build-train-step: optimizer group "*.bias" matches no param of @f (or only params an earlier group takes)}}
func.func @f(%w: tensor<2xf32> {tg.name = "w", tg.role = "param"}) -> (tensor<f32> {tg.name = "loss"}) {
  %l = tg.reduce %w {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
}

// -----

// expected-error @+1 {{tg.train optimizer group 0: unknown field 'decay'}}
module attributes {tg.train = {optimizer = {kind = "sgd", groups = [{params = "w", decay = 0.0}]}}} {
func.func @f(%w: tensor<2xf32> {tg.name = "w", tg.role = "param"}) -> (tensor<f32> {tg.name = "loss"}) {
  %l = tg.reduce %w {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
}
