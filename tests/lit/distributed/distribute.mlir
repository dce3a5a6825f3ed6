// RUN: tg-opt %s --tg-distribute="mode=allreduce bucket-cap-mb=9.1552734375e-05" --split-input-file --verify-diagnostics | FileCheck %s
// RUN: tg-opt %s --tg-distribute="mode=average:4" --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=AVG
// RUN: tg-opt %s --tg-distribute="mode=none" --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=NONE
// RUN: tg-opt %s --tg-distribute="mode=allreduce bucket-cap-mb=9.1552734375e-05 compress=bf16" --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=BF16

// RUN: tg-opt %s --tg-distribute="mode=allreduce bucket-cap-mb=9.1552734375e-05 compress=threshold:1e-3" --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=THR

// --compress is part of the plan (and of its hash); the IR is the same:
// gradient buckets are gradient_mean (what compression applies to), the
// loss bucket a plain mean.
// BF16-LABEL: module attributes {tg.data_parallel = {bucket_cap_bytes = 96 : i64, buckets = [{buffers = ["w2", "b1"]
// BF16-SAME: compress = "bf16", mode = "allreduce"
// BF16: tg.allreduce_start {{.*}} {id = 0 : i64, reduction = "gradient_mean"}
// BF16: tg.allreduce_start {{.*}} {id = 2 : i64} : tensor<1xf32>
// THR-LABEL: module attributes {tg.data_parallel = {bucket_cap_bytes = 96 : i64, buckets = [{buffers = ["w2", "b1"]
// THR-SAME: compress = "threshold:1e-3", mode = "allreduce"

// A cap of 96 bytes. Backward finishes w2 (32 bytes), then b1 (16), then w1
// (64): bucket 0 packs w2 and b1 and starts right after b1's gradient;
// bucket 1 is w1 alone (48 + 64 > 96); bucket 2 the loss. Each wait comes
// right before the first use of one of its gradients.

// CHECK-LABEL: module attributes {tg.data_parallel = {bucket_cap_bytes = 96 : i64, buckets = [{buffers = ["w2", "b1"], elements = 12 : i64, entry = "train_step", id = 0 : i64}, {buffers = ["w1"], elements = 16 : i64, entry = "train_step", id = 1 : i64}, {buffers = ["loss"], elements = 1 : i64, entry = "train_step", id = 2 : i64}], mode = "allreduce", model_hash = "{{[0-9a-f]+}}", plan_hash = "{{[0-9a-f]+}}"}
// CHECK: func.func @train_step
// CHECK: %[[G2:.*]] = tg.mul %arg2, %arg2
// CHECK-NEXT: %[[G1B:.*]] = tg.mul %arg1, %arg1
// CHECK-NEXT: %[[R2:.*]] = tg.reshape %[[G2]] : (tensor<4x2xf32>) -> tensor<8xf32>
// CHECK-NEXT: %[[P0:.*]] = tg.concat %[[R2]], %[[G1B]] {axis = 0 : i64} : (tensor<8xf32>, tensor<4xf32>) -> tensor<12xf32>
// CHECK-NEXT: %[[T0:.*]] = tg.allreduce_start %[[P0]] {id = 0 : i64, reduction = "gradient_mean"} : tensor<12xf32>
// CHECK-NEXT: %[[G1:.*]] = tg.mul %arg0, %arg0
// CHECK-NEXT: %[[R1:.*]] = tg.reshape %[[G1]] : (tensor<4x4xf32>) -> tensor<16xf32>
// CHECK-NEXT: %[[T1:.*]] = tg.allreduce_start %[[R1]] {id = 1 : i64, reduction = "gradient_mean"} : tensor<16xf32>
// CHECK-NEXT: %[[L:.*]] = tg.reduce %arg3
// CHECK-NEXT: %[[RL:.*]] = tg.reshape %[[L]] : (tensor<f32>) -> tensor<1xf32>
// CHECK-NEXT: %[[T2:.*]] = tg.allreduce_start %[[RL]] {id = 2 : i64} : tensor<1xf32>
// CHECK-NEXT: %[[W1:.*]] = tg.allreduce_wait %[[T1]], %[[R1]] {id = 1 : i64} : tensor<16xf32>
// CHECK-NEXT: %[[GW1:.*]] = tg.reshape %[[W1]] : (tensor<16xf32>) -> tensor<4x4xf32>
// CHECK-NEXT: %[[U1:.*]] = tg.sub %arg0, %[[GW1]]
// CHECK-NEXT: %[[W0:.*]] = tg.allreduce_wait %[[T0]], %[[P0]] {id = 0 : i64} : tensor<12xf32>
// CHECK-NEXT: %[[S2:.*]] = tg.slice %[[W0]] {limit = array<i64: 8>, start = array<i64: 0>, strides = array<i64: 1>}
// CHECK-NEXT: %[[GW2:.*]] = tg.reshape %[[S2]] : (tensor<8xf32>) -> tensor<4x2xf32>
// CHECK-NEXT: %[[GB1:.*]] = tg.slice %[[W0]] {limit = array<i64: 12>, start = array<i64: 8>, strides = array<i64: 1>}
// CHECK-NEXT: %[[UB:.*]] = tg.sub %arg1, %[[GB1]]
// CHECK-NEXT: %[[U2:.*]] = tg.sub %arg2, %[[GW2]]
// CHECK-NEXT: %[[WL:.*]] = tg.allreduce_wait %[[T2]], %[[RL]] {id = 2 : i64} : tensor<1xf32>
// CHECK-NEXT: %[[LOSS:.*]] = tg.reshape %[[WL]] : (tensor<1xf32>) -> tensor<f32>
// CHECK-NEXT: return %[[LOSS]], %[[U1]], %[[UB]], %[[U2]]
// CHECK-NOT: tg.param_grad

// average:4: train_step stays local (markers removed); average_params
// averages the params and the f32 optimizer slot, not the step counter.
// AVG-LABEL: module attributes {tg.data_parallel = {average_every = 4 : i64, average_state = true, bucket_cap_bytes = 26214400 : i64, buckets = [{buffers = ["w1", "b1", "w2", "w1.velocity"], elements = 44 : i64, entry = "average_params", id = 0 : i64}]
// AVG: func.func @train_step
// AVG-NOT: tg.allreduce
// AVG-NOT: tg.param_grad
// AVG: return
// AVG-LABEL: func.func @average_params(%arg0: tensor<4x4xf32> {tg.name = "w1", tg.role = "param"}, %arg1: tensor<4xf32> {tg.name = "b1", tg.role = "param"}, %arg2: tensor<4x2xf32> {tg.name = "w2", tg.role = "param"}, %arg3: tensor<4x4xf32> {tg.name = "w1.velocity", tg.role = "state"})
// AVG-SAME: -> (tensor<4x4xf32> {tg.alias = 0 : i64, tg.name = "w1"}, tensor<4xf32> {tg.alias = 1 : i64, tg.name = "b1"}, tensor<4x2xf32> {tg.alias = 2 : i64, tg.name = "w2"}, tensor<4x4xf32> {tg.alias = 3 : i64, tg.name = "w1.velocity"})
// AVG-SAME: attributes {tg.entry = "average_params"}
// AVG: %[[P:.*]] = tg.concat
// AVG-NEXT: %[[T:.*]] = tg.allreduce_start %[[P]] {id = 0 : i64} : tensor<44xf32>
// AVG-NEXT: %[[W:.*]] = tg.allreduce_wait %[[T]], %[[P]] {id = 0 : i64} : tensor<44xf32>
// AVG: return

// NONE-NOT: tg.data_parallel
// NONE-NOT: tg.param_grad
// NONE: tg.sub %arg0, %{{.*}} : (tensor<4x4xf32>, tensor<4x4xf32>)
module {
func.func @train_step(%w1: tensor<4x4xf32> {tg.name = "w1", tg.role = "param"},
                      %b1: tensor<4xf32> {tg.name = "b1", tg.role = "param"},
                      %w2: tensor<4x2xf32> {tg.name = "w2", tg.role = "param"},
                      %x: tensor<3x4xf32> {tg.name = "x", tg.role = "data"},
                      %v: tensor<4x4xf32> {tg.name = "w1.velocity", tg.role = "state"},
                      %step: tensor<i64> {tg.name = "step", tg.role = "state"})
    -> (tensor<f32> {tg.name = "loss"}, tensor<4x4xf32> {tg.alias = 0 : i64, tg.name = "w1"},
        tensor<4xf32> {tg.alias = 1 : i64, tg.name = "b1"},
        tensor<4x2xf32> {tg.alias = 2 : i64, tg.name = "w2"})
    attributes {tg.entry = "train_step"} {
  %g2 = tg.mul %w2, %w2 : (tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<4x2xf32>
  %gb1 = tg.mul %b1, %b1 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %g1 = tg.mul %w1, %w1 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %loss = tg.reduce %x {kind = "sum"} : (tensor<3x4xf32>) -> tensor<f32>
  %m2 = tg.param_grad %g2 {param = "w2"} : tensor<4x2xf32>
  %mb1 = tg.param_grad %gb1 {param = "b1"} : tensor<4xf32>
  %m1 = tg.param_grad %g1 {param = "w1"} : tensor<4x4xf32>
  %u1 = tg.sub %w1, %m1 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %ub1 = tg.sub %b1, %mb1 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %u2 = tg.sub %w2, %m2 : (tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<4x2xf32>
  return %loss, %u1, %ub1, %u2 : tensor<f32>, tensor<4x4xf32>, tensor<4xf32>, tensor<4x2xf32>
}
}

// -----

// A lone gradient that is not the bucket's alone (here a constant, as for a
// param that does not reach the loss) is copied into a fresh bucket with one
// zero appended, so reducing in place never writes into the constant.
// CHECK-LABEL: func.func @lone
// CHECK: %[[Z:.*]] = tg.constant dense<0.000000e+00> : tensor<2xf32>
// CHECK: %[[PAD:.*]] = tg.constant dense<0.000000e+00> : tensor<1xf32>
// CHECK: %[[B:.*]] = tg.concat %[[Z]], %[[PAD]] {axis = 0 : i64} : (tensor<2xf32>, tensor<1xf32>) -> tensor<3xf32>
// CHECK: %[[T:.*]] = tg.allreduce_start %[[B]] {id = 0 : i64, reduction = "gradient_mean"} : tensor<3xf32>
// CHECK: %[[R:.*]] = tg.allreduce_wait %[[T]], %[[B]] {id = 0 : i64} : tensor<3xf32>
// CHECK: %[[G:.*]] = tg.slice %[[R]] {limit = array<i64: 2>, start = array<i64: 0>, strides = array<i64: 1>}
// CHECK: tg.sub %arg0, %[[G]]
module {
func.func @lone(%w: tensor<2xf32> {tg.name = "w", tg.role = "param"}) -> (tensor<2xf32> {tg.alias = 0 : i64, tg.name = "w"}) attributes {tg.entry = "train_step"} {
  %z = tg.constant dense<0.0> : tensor<2xf32>
  %g = tg.param_grad %z {param = "w"} : tensor<2xf32>
  %u = tg.sub %w, %g : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %u : tensor<2xf32>
}
}
