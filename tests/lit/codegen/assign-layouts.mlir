// RUN: tg-opt %s --tg-assign-layouts --split-input-file | FileCheck %s
// RUN: tg-opt %s --tg-assign-layouts=block=8 --split-input-file | FileCheck %s --check-prefix=B8

// A conv -> pool -> conv chain: the pooled value (3 ports: the pool's
// result, the conv's input, the filter gradient's input) stays blocked with
// no reorder; the first conv's output also feeds a ReLU mask (elementwise,
// layout-agnostic) whose product is reduced (bias gradient: plain again).
// CHECK-LABEL: func.func @chain
// CHECK: %[[C1:.*]] = tg.fused_conv2d %arg0, %arg1, %arg2 {{{.*}}tg.block = 16 : i64, tg.blocked = 2 : i64}
// CHECK: %[[P:.*]] = tg.max_pool2d %[[C1]] {{{.*}}tg.blocked = 3 : i64}
// CHECK: tg.fused_conv2d %[[P]], {{.*}}tg.blocked = 1 : i64}
// CHECK: %[[G:.*]] = tg.max_pool2d_grad %[[C1]], %arg4 {{{.*}}tg.blocked = 5 : i64}
// CHECK: %[[M:.*]] = tg.compare %[[C1]]
// CHECK: %[[F:.*]] = tg.cast %[[M]]
// CHECK: %[[D:.*]] = tg.mul %[[G]], %[[F]]
// CHECK: %[[PLAIN:.*]] = tg.relayout %[[D]] {block = 16 : i64, to_blocked = false}
// CHECK: tg.reduce %[[PLAIN]]
// CHECK: tg.conv2d_backprop_filter %arg0, %[[D]] {{{.*}}tg.blocked = 2 : i64}
// CHECK: tg.conv2d_backprop_filter %[[P]], %arg5 {{{.*}}tg.blocked = 1 : i64}
// B8-LABEL: func.func @chain
// B8: tg.max_pool2d {{.*}}tg.block = 8 : i64, tg.blocked = 3 : i64}
func.func @chain(%x: tensor<2x1x8x8xf32>, %w1: tensor<16x1x3x3xf32>, %b1: tensor<16xf32>,
                 %w2: tensor<16x16x3x3xf32>, %dp: tensor<2x16x4x4xf32>, %dy2: tensor<2x16x4x4xf32>)
    -> (tensor<2x16x4x4xf32>, tensor<16xf32>, tensor<16x1x3x3xf32>, tensor<16x16x3x3xf32>) {
  %c1 = tg.fused_conv2d %x, %w1, %b1 {activation = "relu", padding = array<i64: 1, 1, 1, 1>} : (tensor<2x1x8x8xf32>, tensor<16x1x3x3xf32>, tensor<16xf32>) -> tensor<2x16x8x8xf32>
  %p = tg.max_pool2d %c1 {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<2x16x8x8xf32>) -> tensor<2x16x4x4xf32>
  %c2 = tg.fused_conv2d %p, %w2, %b1 {activation = "relu", padding = array<i64: 1, 1, 1, 1>} : (tensor<2x16x4x4xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>) -> tensor<2x16x4x4xf32>
  %g = tg.max_pool2d_grad %c1, %dp {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<2x16x8x8xf32>, tensor<2x16x4x4xf32>) -> tensor<2x16x8x8xf32>
  %zero = tg.constant dense<0.0> : tensor<f32>
  %m = tg.compare %c1, %zero {predicate = "gt"} : (tensor<2x16x8x8xf32>, tensor<f32>) -> tensor<2x16x8x8xi1>
  %f = tg.cast %m : (tensor<2x16x8x8xi1>) -> tensor<2x16x8x8xf32>
  %d = tg.mul %g, %f : (tensor<2x16x8x8xf32>, tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32>
  %db = tg.reduce %d {axes = array<i64: 0, 2, 3>, kind = "sum"} : (tensor<2x16x8x8xf32>) -> tensor<16xf32>
  %dw1 = tg.conv2d_backprop_filter %x, %d {padding = array<i64: 1, 1, 1, 1>} : (tensor<2x1x8x8xf32>, tensor<2x16x8x8xf32>) -> tensor<16x1x3x3xf32>
  %dw2 = tg.conv2d_backprop_filter %p, %dy2 {padding = array<i64: 1, 1, 1, 1>} : (tensor<2x16x4x4xf32>, tensor<2x16x4x4xf32>) -> tensor<16x16x3x3xf32>
  return %c2, %db, %dw1, %dw2 : tensor<2x16x4x4xf32>, tensor<16xf32>, tensor<16x1x3x3xf32>, tensor<16x16x3x3xf32>
}

// -----

// Not worth it: a pool whose only neighbours are plain (an argument in, a
// reshape out) would need two reorders for two ports; channels that are not
// a multiple of the block, f64 and grouped convolutions stay plain too.
// CHECK-LABEL: func.func @plain
// CHECK-NOT: tg.blocked
// CHECK-NOT: tg.relayout
func.func @plain(%x: tensor<2x16x8x8xf32>, %y: tensor<2x12x8x8xf32>, %w: tensor<12x12x3x3xf32>,
                 %z: tensor<2x16x8x8xf64>, %wg: tensor<16x8x3x3xf32>)
    -> (tensor<2x256xf32>, tensor<2x12x6x6xf32>, tensor<2x16x4x4xf64>, tensor<2x16x6x6xf32>) {
  %p = tg.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<2x16x8x8xf32>) -> tensor<2x16x4x4xf32>
  %r = tg.reshape %p : (tensor<2x16x4x4xf32>) -> tensor<2x256xf32>
  %c = tg.conv2d %y, %w : (tensor<2x12x8x8xf32>, tensor<12x12x3x3xf32>) -> tensor<2x12x6x6xf32>
  %q = tg.max_pool2d %z {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<2x16x8x8xf64>) -> tensor<2x16x4x4xf64>
  %g = tg.conv2d %x, %wg {groups = 2} : (tensor<2x16x8x8xf32>, tensor<16x8x3x3xf32>) -> tensor<2x16x6x6xf32>
  return %r, %c, %q, %g : tensor<2x256xf32>, tensor<2x12x6x6xf32>, tensor<2x16x4x4xf64>, tensor<2x16x6x6xf32>
}

// -----

// A value defined outside (an argument) read by two library ports is
// converted once, after its definition.
// CHECK-LABEL: func.func @from_argument
// CHECK: %[[B:.*]] = tg.relayout %arg0 {block = 16 : i64, to_blocked = true}
// CHECK: tg.max_pool2d %[[B]] {{{.*}}tg.blocked = 3 : i64}
// CHECK: tg.max_pool2d_grad %[[B]], {{.*}}tg.blocked = 1 : i64}
func.func @from_argument(%x: tensor<2x16x8x8xf32>, %dy: tensor<2x16x4x4xf32>)
    -> (tensor<2x16x4x4xf32>, tensor<2x16x8x8xf32>) {
  %p = tg.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<2x16x8x8xf32>) -> tensor<2x16x4x4xf32>
  %q = tg.max_pool2d %p {kernel = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<2x16x4x4xf32>) -> tensor<2x16x4x4xf32>
  %g = tg.max_pool2d_grad %x, %dy {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<2x16x8x8xf32>, tensor<2x16x4x4xf32>) -> tensor<2x16x8x8xf32>
  return %q, %g : tensor<2x16x4x4xf32>, tensor<2x16x8x8xf32>
}
