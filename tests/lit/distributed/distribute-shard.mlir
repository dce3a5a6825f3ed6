// RUN: tg-opt %s --tg-distribute="mode=allreduce shard-state=2" --split-input-file --verify-diagnostics | FileCheck %s

// shard-state=2: momentum (v' = 0.9 v + g, p' = p - lr v') on two params of
// 16 + 4 elements. The gradients are concatenated (w1, b1: argument order)
// and reduce-scattered into this rank's 10 elements; the rule runs once on
// the shard with one velocity buffer of 10 floats (replacing w1.velocity and
// b1.velocity, where they were); the param reads only its final
// subtraction, so the shards' lr * v' is gathered and each rank subtracts
// its slice from the whole param in place. The loss is averaged as before.

// CHECK-LABEL: module attributes {tg.data_parallel = {bucket_cap_bytes = 26214400 : i64, buckets = [{buffers = ["loss"], elements = 1 : i64, entry = "train_step", id = 0 : i64}], mode = "allreduce", model_hash = "{{[0-9a-f]+}}", plan_hash = "{{[0-9a-f]+}}", shard = {buffers = ["shard.velocity"], params = [{elements = 16 : i64, name = "w1"}, {elements = 4 : i64, name = "b1"}], size = 10 : i64, slots = ["velocity"], world = 2 : i64}}}
// CHECK: func.func @train_step(%arg0: tensor<4x4xf32> {tg.name = "w1", tg.role = "param"}, %arg1: tensor<4xf32> {tg.name = "b1", tg.role = "param"}, %arg2: tensor<10xf32> {tg.init = {kind = "zeros"}, tg.name = "shard.velocity", tg.role = "state"}, %arg3: tensor<f32> {tg.name = "lr", tg.role = "hyper"}, %arg4: tensor<3x4xf32> {tg.name = "x", tg.role = "data"})
// CHECK-SAME: -> (tensor<f32> {tg.name = "loss"}, tensor<4x4xf32> {tg.alias = 0 : i64, tg.name = "w1"}, tensor<4xf32> {tg.alias = 1 : i64, tg.name = "b1"}, tensor<10xf32> {tg.alias = 2 : i64, tg.name = "shard.velocity"})
// CHECK: %[[G1:.*]] = tg.mul %arg0, %arg0
// CHECK: %[[GB:.*]] = tg.mul %arg1, %arg1
// CHECK: %[[R1:.*]] = tg.reshape %[[G1]] : (tensor<4x4xf32>) -> tensor<16xf32>
// CHECK-NEXT: %[[G:.*]] = tg.concat %[[R1]], %[[GB]] {axis = 0 : i64} : (tensor<16xf32>, tensor<4xf32>) -> tensor<20xf32>
// CHECK-NEXT: %[[GS:.*]] = tg.reduce_scatter %[[G]] : (tensor<20xf32>) -> tensor<10xf32>
// CHECK-NOT: tg.local_shard
// CHECK: %[[V:.*]] = tg.mul %arg2, %{{.*}} : (tensor<10xf32>, tensor<f32>) -> tensor<10xf32>
// CHECK-NEXT: %[[V2:.*]] = tg.add %[[V]], %[[GS]] : (tensor<10xf32>, tensor<10xf32>) -> tensor<10xf32>
// CHECK-NEXT: %[[D:.*]] = tg.mul %arg3, %[[V2]] : (tensor<f32>, tensor<10xf32>) -> tensor<10xf32>
// CHECK-NEXT: %[[ALL:.*]] = tg.allgather %[[D]] : (tensor<10xf32>) -> tensor<20xf32>
// CHECK-NEXT: %[[S1:.*]] = tg.slice %[[ALL]] {limit = array<i64: 16>, start = array<i64: 0>, strides = array<i64: 1>}
// CHECK-NEXT: %[[D1:.*]] = tg.reshape %[[S1]] : (tensor<16xf32>) -> tensor<4x4xf32>
// CHECK-NEXT: %[[U1:.*]] = tg.sub %arg0, %[[D1]] : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
// CHECK-NEXT: %[[S2:.*]] = tg.slice %[[ALL]] {limit = array<i64: 20>, start = array<i64: 16>, strides = array<i64: 1>}
// CHECK-NEXT: %[[U2:.*]] = tg.sub %arg1, %[[S2]] : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK: return %{{.*}}, %[[U1]], %[[U2]], %[[V2]]
// CHECK-NOT: tg.param_grad
// CHECK-NOT: velocity"
module {
func.func @train_step(%w1: tensor<4x4xf32> {tg.name = "w1", tg.role = "param"},
                      %b1: tensor<4xf32> {tg.name = "b1", tg.role = "param"},
                      %v1: tensor<4x4xf32> {tg.name = "w1.velocity", tg.role = "state", tg.init = {kind = "zeros"}},
                      %vb: tensor<4xf32> {tg.name = "b1.velocity", tg.role = "state", tg.init = {kind = "zeros"}},
                      %lr: tensor<f32> {tg.name = "lr", tg.role = "hyper"},
                      %x: tensor<3x4xf32> {tg.name = "x", tg.role = "data"})
    -> (tensor<f32> {tg.name = "loss"}, tensor<4x4xf32> {tg.alias = 0 : i64, tg.name = "w1"},
        tensor<4xf32> {tg.alias = 1 : i64, tg.name = "b1"},
        tensor<4x4xf32> {tg.alias = 2 : i64, tg.name = "w1.velocity"},
        tensor<4xf32> {tg.alias = 3 : i64, tg.name = "b1.velocity"})
    attributes {tg.entry = "train_step"} {
  %g1 = tg.mul %w1, %w1 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %gb = tg.mul %b1, %b1 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %loss = tg.reduce %x {kind = "sum"} : (tensor<3x4xf32>) -> tensor<f32>
  %m1 = tg.param_grad %g1 {param = "w1"} : tensor<4x4xf32>
  %mb = tg.param_grad %gb {param = "b1"} : tensor<4xf32>
  %mom1 = tg.constant dense<0.9> : tensor<f32>
  %a1 = tg.mul %v1, %mom1 : (tensor<4x4xf32>, tensor<f32>) -> tensor<4x4xf32>
  %n1 = tg.add %a1, %m1 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %d1 = tg.mul %lr, %n1 : (tensor<f32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %u1 = tg.sub %w1, %d1 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %mom2 = tg.constant dense<0.9> : tensor<f32>
  %a2 = tg.mul %vb, %mom2 : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %n2 = tg.add %a2, %mb : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %d2 = tg.mul %lr, %n2 : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  %u2 = tg.sub %b1, %d2 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %loss, %u1, %u2, %n1, %n2 : tensor<f32>, tensor<4x4xf32>, tensor<4xf32>, tensor<4x4xf32>, tensor<4xf32>
}
}

// -----

// Clipping by the global norm reads every gradient: not one elementwise rule.
module {
func.func @train_step(%w: tensor<4xf32> {tg.name = "w", tg.role = "param"},
                      %x: tensor<4xf32> {tg.name = "x", tg.role = "data"})
    -> (tensor<f32> {tg.name = "loss"}, tensor<4xf32> {tg.alias = 0 : i64, tg.name = "w"})
    attributes {tg.entry = "train_step"} {
  %g = tg.mul %w, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %loss = tg.reduce %x {kind = "sum"} : (tensor<4xf32>) -> tensor<f32>
  // expected-error @+1 {{tg-distribute: shard-state: the update of param 'w' uses 'tg.reduce', which is not elementwise}}
  %m = tg.param_grad %g {param = "w"} : tensor<4xf32>
  %sq = tg.mul %m, %m : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %n = tg.reduce %sq {kind = "sum"} : (tensor<4xf32>) -> tensor<f32>
  %c = tg.div %m, %n : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %u = tg.sub %w, %c : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %loss, %u : tensor<f32>, tensor<4xf32>
}
}

// -----

// Two params updated by different rules (another learning rate).
module {
func.func @train_step(%w: tensor<4xf32> {tg.name = "w", tg.role = "param"},
                      %b: tensor<2xf32> {tg.name = "b", tg.role = "param"},
                      %x: tensor<4xf32> {tg.name = "x", tg.role = "data"})
    -> (tensor<f32> {tg.name = "loss"}, tensor<4xf32> {tg.alias = 0 : i64, tg.name = "w"},
        tensor<2xf32> {tg.alias = 1 : i64, tg.name = "b"})
    attributes {tg.entry = "train_step"} {
  %g = tg.mul %w, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %gb = tg.mul %b, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %loss = tg.reduce %x {kind = "sum"} : (tensor<4xf32>) -> tensor<f32>
  %m = tg.param_grad %g {param = "w"} : tensor<4xf32>
  // expected-error @+1 {{tg-distribute: shard-state: the update of param 'b' differs from that of 'w' (operand 1 of op 0 ('tg.mul'))}}
  %mb = tg.param_grad %gb {param = "b"} : tensor<2xf32>
  %lr1 = tg.constant dense<0.1> : tensor<f32>
  %lr2 = tg.constant dense<0.2> : tensor<f32>
  %d = tg.mul %m, %lr1 : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %u = tg.sub %w, %d : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %db = tg.mul %mb, %lr2 : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
  %ub = tg.sub %b, %db : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %loss, %u, %ub : tensor<f32>, tensor<4xf32>, tensor<2xf32>
}
}
