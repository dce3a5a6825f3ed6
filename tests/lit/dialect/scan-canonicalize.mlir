// RUN: tg-opt %s --canonicalize --split-input-file | FileCheck %s

// A scan of one step is its body: the sequence's step by a reshape, the
// output stacked by a reshape.
// CHECK-LABEL: func.func @one_step
// CHECK-NOT: tg.scan
// CHECK: %[[X:.*]] = tg.reshape %arg0 : (tensor<1x2xf32>) -> tensor<2xf32>
// CHECK: %[[S:.*]] = tg.add %arg1, %[[X]]
// CHECK: %[[Y:.*]] = tg.reshape %[[S]] : (tensor<2xf32>) -> tensor<1x2xf32>
// CHECK: return %[[S]], %[[Y]]
func.func @one_step(%xs: tensor<1x2xf32>, %h: tensor<2xf32>) -> (tensor<2xf32>, tensor<1x2xf32>) {
  %r:2 = tg.scan (%xs) carry (%h) : (tensor<1x2xf32>, tensor<2xf32>) -> (tensor<2xf32>, tensor<1x2xf32>) {
  ^bb0(%x: tensor<2xf32>, %c: tensor<2xf32>):
    %s = tg.add %c, %x : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    tg.yield %s, %s : tensor<2xf32>, tensor<2xf32>
  }
  return %r#0, %r#1 : tensor<2xf32>, tensor<1x2xf32>
}

// -----

// What does not change from step to step runs once, before the loop.
// CHECK-LABEL: func.func @invariant
// CHECK: %[[WT:.*]] = tg.transpose %arg2
// CHECK: tg.scan
// CHECK-NOT: tg.transpose
// CHECK: tg.matmul %{{.*}}, %[[WT]]
// CHECK: tg.yield
func.func @invariant(%xs: tensor<4x1x2xf32>, %h: tensor<1x2xf32>, %w: tensor<2x2xf32>) -> tensor<1x2xf32> {
  %r = tg.scan (%xs) carry (%h) : (tensor<4x1x2xf32>, tensor<1x2xf32>) -> tensor<1x2xf32> {
  ^bb0(%x: tensor<1x2xf32>, %c: tensor<1x2xf32>):
    %wt = tg.transpose %w {perm = array<i64: 1, 0>} : (tensor<2x2xf32>) -> tensor<2x2xf32>
    %m = tg.matmul %c, %wt : (tensor<1x2xf32>, tensor<2x2xf32>) -> tensor<1x2xf32>
    %s = tg.add %m, %x : (tensor<1x2xf32>, tensor<1x2xf32>) -> tensor<1x2xf32>
    tg.yield %s : tensor<1x2xf32>
  }
  return %r : tensor<1x2xf32>
}

// -----

// A carried sum of per-step products a_t^T b_t (a weight gradient) becomes
// one product of the stacked factors after the loop: a is a sequence, b is
// stacked as a new output.
// CHECK-LABEL: func.func @matmul_sum
// CHECK: %[[R:.*]]:2 = tg.scan(%arg0, %arg1) carry() {reverse} : (tensor<5x4x3xf32>, tensor<5x4x2xf32>) -> (tensor<5x4x2xf32>, tensor<5x4x2xf32>)
// CHECK-NOT: tg.matmul
// CHECK: tg.yield
// CHECK: %[[A:.*]] = tg.reshape %arg0 : (tensor<5x4x3xf32>) -> tensor<20x3xf32>
// CHECK: %[[B:.*]] = tg.reshape %[[R]]#1 : (tensor<5x4x2xf32>) -> tensor<20x2xf32>
// CHECK: %[[P:.*]] = tg.matmul %[[A]], %[[B]] {transpose_lhs = true} : (tensor<20x3xf32>, tensor<20x2xf32>) -> tensor<3x2xf32>
// CHECK: %[[S:.*]] = tg.add %arg2, %[[P]]
// CHECK: return %[[S]], %[[R]]#0
func.func @matmul_sum(%as: tensor<5x4x3xf32>, %bs: tensor<5x4x2xf32>, %acc0: tensor<3x2xf32>) -> (tensor<3x2xf32>, tensor<5x4x2xf32>) {
  %r:2 = tg.scan (%as, %bs) carry (%acc0) {reverse} : (tensor<5x4x3xf32>, tensor<5x4x2xf32>, tensor<3x2xf32>) -> (tensor<3x2xf32>, tensor<5x4x2xf32>) {
  ^bb0(%a: tensor<4x3xf32>, %b: tensor<4x2xf32>, %acc: tensor<3x2xf32>):
    %t = tg.tanh %b : tensor<4x2xf32>
    %p = tg.matmul %a, %t {transpose_lhs = true} : (tensor<4x3xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
    %s = tg.add %acc, %p : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
    tg.yield %s, %b : tensor<3x2xf32>, tensor<4x2xf32>
  }
  return %r#0, %r#1 : tensor<3x2xf32>, tensor<5x4x2xf32>
}

// -----

// A product with a transposed weight from outside the loop (dz U^T) reads
// the weight transposed once, before the loop.
// CHECK-LABEL: func.func @transposed_weight
// CHECK: %[[UT:.*]] = tg.transpose %arg2 {perm = array<i64: 1, 0>} : (tensor<3x4xf32>) -> tensor<4x3xf32>
// CHECK: tg.scan
// CHECK: tg.matmul %{{.*}}, %[[UT]] : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
func.func @transposed_weight(%xs: tensor<5x2x3xf32>, %h: tensor<2x3xf32>, %u: tensor<3x4xf32>) -> tensor<2x3xf32> {
  %r = tg.scan (%xs) carry (%h) : (tensor<5x2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32> {
  ^bb0(%x: tensor<2x3xf32>, %c: tensor<2x3xf32>):
    %w = tg.matmul %c, %u : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
    %t = tg.tanh %w : tensor<2x4xf32>
    %b = tg.matmul %t, %u {transpose_rhs = true} : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
    %s = tg.add %b, %x : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    tg.yield %s : tensor<2x3xf32>
  }
  return %r : tensor<2x3xf32>
}
