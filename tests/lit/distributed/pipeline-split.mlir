// RUN: tg-opt %s --tg-pipeline-split="stages=2 microbatches=3 schedule=1f1b imbalance=100" --split-input-file --verify-diagnostics | FileCheck %s
// RUN: tg-opt %s --tg-pipeline-split="stages=2 microbatches=3 schedule=gpipe imbalance=100" --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=GPIPE
// RUN: not tg-opt %s --tg-pipeline-split="stages=2 schedule=zigzag" --split-input-file 2>&1 | FileCheck %s --check-prefix=SCHED
// RUN: not tg-opt %s --tg-pipeline-split="stages=2" --split-input-file 2>&1 | FileCheck %s --check-prefix=WARN
// RUN: not tg-opt %s --tg-pipeline-split="stages=2 microbatches=10000" --split-input-file 2>&1 | FileCheck %s --check-prefix=TAGS
// TAGS: tg-pipeline-split: 10000 micro-batches of 1 values crossing a cut need transfer tags up to 20001, past 20000; use fewer micro-batches or cut where fewer values cross

// Two stages of a 2-layer MLP, 3 micro-batches of 4 rows. Stage 0 owns w1,
// reads x (12 rows, sliced per micro-batch) and sends the hidden
// activations (tag 2i, peer +1); stage 1 owns w2, reads the labels, returns
// the loss and accuracy (means of the micro-batches) and sends the
// activations' gradients back (tag 2i+1, peer -1). Each stage updates only
// its params, after summing its gradients over the micro-batches in order.
// CHECK-LABEL: func.func @train_step.stage0(
// CHECK-SAME: tensor<3x5xf32> {{{.*}}tg.name = "w1", tg.role = "param"}
// CHECK-SAME: tensor<12x3xf32> {tg.name = "x", tg.role = "data"}
// CHECK-NOT: tg.name = "label"
// CHECK-SAME: attributes {tg.entry = "train_step", tg.stage = 0 : i64}
// 1F1B on stage 0 of 2: one warm-up forward, then forward/backward pairs.
// CHECK: tg.slice %{{.*}} {limit = array<i64: 4, 3>, start = array<i64: 0, 0>
// CHECK: tg.send_start %{{.*}} {peer = 1 : i64, tag = 0 : i64} : tensor<20xf32>
// CHECK: tg.send_start %{{.*}} {peer = 1 : i64, tag = 2 : i64}
// CHECK: tg.recv_wait %{{.*}} {tag = 1 : i64}
// CHECK: tg.add {{.*}} {tg.microbatch_sum}
// CHECK: tg.send_start %{{.*}} {peer = 1 : i64, tag = 4 : i64}
// CHECK: tg.recv_wait %{{.*}} {tag = 3 : i64}
// CHECK: tg.recv_wait %{{.*}} {tag = 5 : i64}
// CHECK: %[[N:.*]] = tg.constant dense<3.000000e+00>
// CHECK: tg.param_grad %{{.*}} {param = "w1"}
// CHECK-NOT: param = "w2"
// CHECK: return
// CHECK-LABEL: func.func @eval_step.stage0(
// CHECK-LABEL: func.func @train_step.stage1(
// CHECK-SAME: tensor<5x2xf32> {{{.*}}tg.name = "w2", tg.role = "param"}
// CHECK-SAME: tensor<12xi32> {tg.name = "label", tg.role = "label"}
// CHECK-SAME: -> (tensor<f32> {tg.name = "loss"}, tensor<f32> {tg.name = "accuracy"}
// CHECK: tg.recv_start {peer = -1 : i64, tag = 0 : i64} : tensor<20xf32>
// CHECK: tg.send_start %{{.*}} {peer = -1 : i64, tag = 1 : i64}
// CHECK: tg.param_grad %{{.*}} {param = "w2"}
// CHECK-LABEL: func.func @eval_step.stage1(
// CHECK-SAME: -> (tensor<f32> {tg.name = "loss"}, tensor<f32> {tg.name = "accuracy"})
// GPipe: every forward (sends 0, 2, 4) before the first backward.
// GPIPE-LABEL: func.func @train_step.stage0(
// GPIPE: tg.send_start %{{.*}} {peer = 1 : i64, tag = 0 : i64}
// GPIPE: tg.send_start %{{.*}} {peer = 1 : i64, tag = 2 : i64}
// GPIPE: tg.send_start %{{.*}} {peer = 1 : i64, tag = 4 : i64}
// GPIPE: tg.recv_wait %{{.*}} {tag = 1 : i64}
// SCHED: tg-pipeline-split: unknown schedule 'zigzag' (expected gpipe or 1f1b)
module attributes {tg.train = {loss = "loss", optimizer = {kind = "adam", lr = 0.01 : f64}}} {
func.func @mlp(%x: tensor<4x3xf32> {tg.name = "x", tg.role = "data"},
               %l: tensor<4xi32> {tg.name = "label", tg.role = "label"},
               %w1: tensor<3x5xf32> {tg.name = "w1", tg.role = "param", tg.init = {kind = "glorot_uniform"}},
               %w2: tensor<5x2xf32> {tg.name = "w2", tg.role = "param", tg.init = {kind = "glorot_uniform"}})
    -> (tensor<f32> {tg.name = "loss"}, tensor<f32> {tg.name = "accuracy"}) {
  %0 = tg.matmul %x, %w1 : (tensor<4x3xf32>, tensor<3x5xf32>) -> tensor<4x5xf32>
  %h = tg.tanh %0 : tensor<4x5xf32>
  %1 = tg.matmul %h, %w2 : (tensor<4x5xf32>, tensor<5x2xf32>) -> tensor<4x2xf32>
  %2 = tg.softmax_cross_entropy %1, %l : (tensor<4x2xf32>, tensor<4xi32>) -> tensor<f32>
  %3 = tg.argmax %1 {axis = 1 : i64} : (tensor<4x2xf32>) -> tensor<4xi32>
  %4 = tg.compare %3, %l {predicate = "eq"} : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi1>
  %5 = tg.cast %4 : (tensor<4xi1>) -> tensor<4xf32>
  %6 = tg.reduce %5 {kind = "mean"} : (tensor<4xf32>) -> tensor<f32>
  return %2, %6 : tensor<f32>, tensor<f32>
}
}

// -----

// Stage marks (Graph::stage) choose the cut: here after the tanh, which the
// cost model would not pick (it puts the tanh with the first matmul too, but
// the mark moves the second matmul and all after it to stage 1).
// CHECK-LABEL: func.func @train_step.stage0(
// CHECK: tg.tanh
// CHECK: tg.send_start %{{.*}} {peer = 1 : i64, tag = 0 : i64} : tensor<20xf32>
// CHECK-LABEL: func.func @train_step.stage1(
// CHECK-NOT: tg.tanh
// CHECK: tg.matmul
module attributes {tg.train = {loss = "loss", optimizer = {kind = "sgd", lr = 0.01 : f64}}} {
func.func @marked(%x: tensor<4x3xf32> {tg.name = "x", tg.role = "data"},
                  %l: tensor<4xi32> {tg.name = "label", tg.role = "label"},
                  %w1: tensor<3x5xf32> {tg.name = "w1", tg.role = "param", tg.init = {kind = "glorot_uniform"}},
                  %w2: tensor<5x2xf32> {tg.name = "w2", tg.role = "param", tg.init = {kind = "glorot_uniform"}})
    -> (tensor<f32> {tg.name = "loss"}) {
  %0 = tg.matmul %x, %w1 : (tensor<4x3xf32>, tensor<3x5xf32>) -> tensor<4x5xf32>
  %h = tg.tanh %0 : tensor<4x5xf32>
  %1 = tg.matmul %h, %w2 {tg.stage = 1 : i64} : (tensor<4x5xf32>, tensor<5x2xf32>) -> tensor<4x2xf32>
  %2 = tg.softmax_cross_entropy %1, %l : (tensor<4x2xf32>, tensor<4xi32>) -> tensor<f32>
  return %2 : tensor<f32>
}
}

// -----

// Marks out of order.
module attributes {tg.train = {loss = "loss", optimizer = {kind = "sgd", lr = 0.01 : f64}}} {
func.func @backwards(%x: tensor<4x3xf32> {tg.name = "x", tg.role = "data"},
                     %l: tensor<4xi32> {tg.name = "label", tg.role = "label"},
                     %w1: tensor<3x5xf32> {tg.name = "w1", tg.role = "param", tg.init = {kind = "glorot_uniform"}},
                     %w2: tensor<5x2xf32> {tg.name = "w2", tg.role = "param", tg.init = {kind = "glorot_uniform"}})
    -> (tensor<f32> {tg.name = "loss"}) {
  %0 = tg.matmul %x, %w1 : (tensor<4x3xf32>, tensor<3x5xf32>) -> tensor<4x5xf32>
  %h = tg.tanh %0 {tg.stage = 1 : i64} : tensor<4x5xf32>
  // expected-error @+1 {{tg-pipeline-split: stage mark 0 comes after an op of stage 1 (stages must follow the model's order)}}
  %1 = tg.matmul %h, %w2 {tg.stage = 0 : i64} : (tensor<4x5xf32>, tensor<5x2xf32>) -> tensor<4x2xf32>
  %2 = tg.softmax_cross_entropy %1, %l : (tensor<4x2xf32>, tensor<4xi32>) -> tensor<f32>
  return %2 : tensor<f32>
}
}

// -----

// A mark inside a recurrence.
module attributes {tg.train = {loss = "loss", optimizer = {kind = "sgd", lr = 0.01 : f64}}} {
func.func @rnn(%xs: tensor<3x2xf32> {tg.name = "xs", tg.role = "data"},
               %w: tensor<2xf32> {tg.name = "w", tg.role = "param", tg.init = {kind = "zeros"}})
    -> (tensor<f32> {tg.name = "loss"}) {
  %h0 = tg.constant dense<0.0> : tensor<2xf32>
  %r:2 = tg.scan(%xs) carry(%h0) : (tensor<3x2xf32>, tensor<2xf32>) -> (tensor<2xf32>, tensor<3x2xf32>) {
  ^bb0(%x: tensor<2xf32>, %h: tensor<2xf32>):
    %a = tg.mul %x, %w : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    // expected-error @+1 {{tg-pipeline-split: a stage mark inside a tg.scan: a recurrence runs in one stage (mark the scan, or the ops around it)}}
    %b = tg.add %a, %h {tg.stage = 1 : i64} : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    tg.yield %b, %b : tensor<2xf32>, tensor<2xf32>
  }
  %s = tg.reduce %r#0 {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
  return %s : tensor<f32>
}
}

// -----

// One op that depends on a param: nowhere to cut.
module attributes {tg.train = {loss = "loss", optimizer = {kind = "sgd", lr = 0.01 : f64}}} {
// expected-error @+1 {{tg-pipeline-split: --pipeline-stages=2 needs 1 cuts, and @tiny has 0 points where only f32 tensors cross (of 1 ops that depend on params)}}
func.func @tiny(%x: tensor<4x3xf32> {tg.name = "x", tg.role = "data"},
                %w: tensor<3xf32> {tg.name = "w", tg.role = "param", tg.init = {kind = "zeros"}})
    -> (tensor<f32> {tg.name = "loss"}) {
  %0 = tg.reduce %w {kind = "sum"} : (tensor<3xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}
}

// -----

// Clipping by the global norm would need every stage's gradients.
module attributes {tg.train = {loss = "loss", optimizer = {kind = "sgd", lr = 0.01 : f64, clip_norm = 1.0 : f64}}} {
// expected-error @+1 {{tg-pipeline-split: --pipeline-stages=2 cannot clip by the global norm yet (clip_norm = 1.000000e+00): the norm would need every stage's gradients}}
func.func @clipped(%x: tensor<4x3xf32> {tg.name = "x", tg.role = "data"},
                   %w1: tensor<3x5xf32> {tg.name = "w1", tg.role = "param", tg.init = {kind = "glorot_uniform"}})
    -> (tensor<f32> {tg.name = "loss"}) {
  %0 = tg.matmul %x, %w1 : (tensor<4x3xf32>, tensor<3x5xf32>) -> tensor<4x5xf32>
  %1 = tg.tanh %0 : tensor<4x5xf32>
  %2 = tg.reduce %1 {kind = "sum"} : (tensor<4x5xf32>) -> tensor<f32>
  return %2 : tensor<f32>
}
}

// -----

// Model state would pass between micro-batches.
module attributes {tg.train = {loss = "loss", optimizer = {kind = "sgd", lr = 0.01 : f64}}} {
// expected-error @+1 {{tg-pipeline-split: --pipeline-stages=2 needs a model without state, and @stateful has state 'h' (recurrent state or batch statistics would pass between micro-batches)}}
func.func @stateful(%x: tensor<4x3xf32> {tg.name = "x", tg.role = "data"},
                    %h: tensor<3xf32> {tg.name = "h", tg.role = "state"},
                    %w: tensor<3xf32> {tg.name = "w", tg.role = "param", tg.init = {kind = "zeros"}})
    -> (tensor<f32> {tg.name = "loss"}, tensor<3xf32> {tg.name = "h_out", tg.alias = 1 : i64}) {
  %0 = tg.mul %h, %w : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %1 = tg.reduce %0 {kind = "sum"} : (tensor<3xf32>) -> tensor<f32>
  return %1, %0 : tensor<f32>, tensor<3xf32>
}
}

// -----

// An unbalanced plan is a warning with the costs (the default threshold is
// 50%; the first RUN lines raise it). The first matmul is most of the work.
// WARN: warning: tg-pipeline-split: the plan is unbalanced: the slowest stage takes {{[0-9]+}}% more than the mean (stage 0: 1 ops, 3.36e+07 FLOPs
module attributes {tg.train = {loss = "loss", optimizer = {kind = "sgd", lr = 0.01 : f64}}} {
func.func @lopsided(%x: tensor<64x512xf32> {tg.name = "x", tg.role = "data"},
                    %w1: tensor<512x512xf32> {tg.name = "w1", tg.role = "param", tg.init = {kind = "glorot_uniform"}},
                    %w2: tensor<512x2xf32> {tg.name = "w2", tg.role = "param", tg.init = {kind = "glorot_uniform"}})
    -> (tensor<f32> {tg.name = "loss"}) {
  %0 = tg.matmul %x, %w1 : (tensor<64x512xf32>, tensor<512x512xf32>) -> tensor<64x512xf32>
  %1 = tg.matmul %0, %w2 : (tensor<64x512xf32>, tensor<512x2xf32>) -> tensor<64x2xf32>
  %2 = tg.reduce %1 {kind = "sum"} : (tensor<64x2xf32>) -> tensor<f32>
  return %2 : tensor<f32>
}
}
