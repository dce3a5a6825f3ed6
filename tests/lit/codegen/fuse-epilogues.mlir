// RUN: tg-opt %s --tg-fuse-epilogues --split-input-file | FileCheck %s

// Dense + ReLU forward with its ReLU gradient mask: the mask reads the ReLU
// output, and matmul + bias + relu become one fused_matmul.
// CHECK-LABEL: func.func @dense_relu
// CHECK: %[[Y:.*]] = tg.fused_matmul %arg0, %arg1, %arg2 {activation = "relu"}
// CHECK-NOT: tg.matmul
// CHECK-NOT: tg.relu
// CHECK: tg.compare %[[Y]], %{{.*}} {predicate = "gt"}
func.func @dense_relu(%x: tensor<8x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>) -> (tensor<8x3xf32>, tensor<8x3xi1>) {
  %0 = tg.matmul %x, %w : (tensor<8x4xf32>, tensor<4x3xf32>) -> tensor<8x3xf32>
  %1 = tg.add %0, %b : (tensor<8x3xf32>, tensor<3xf32>) -> tensor<8x3xf32>
  %2 = tg.relu %1 : tensor<8x3xf32>
  %z = tg.constant dense<0.0> : tensor<f32>
  %3 = tg.compare %1, %z {predicate = "gt"} : (tensor<8x3xf32>, tensor<f32>) -> tensor<8x3xi1>
  return %2, %3 : tensor<8x3xf32>, tensor<8x3xi1>
}

// -----

// Conv + per-channel bias ([O, 1, 1]) + tanh.
// CHECK-LABEL: func.func @conv_bias_tanh
// CHECK: %[[B:.*]] = tg.reshape %arg2 : (tensor<4x1x1xf32>) -> tensor<4xf32>
// CHECK: tg.fused_conv2d %arg0, %arg1, %[[B]] {activation = "tanh", padding = array<i64: 1, 1, 1, 1>}
func.func @conv_bias_tanh(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4x1x1xf32>) -> tensor<2x4x8x8xf32> {
  %0 = tg.conv2d %x, %w {padding = array<i64: 1, 1, 1, 1>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x8x8xf32>
  %1 = tg.add %0, %b : (tensor<2x4x8x8xf32>, tensor<4x1x1xf32>) -> tensor<2x4x8x8xf32>
  %2 = tg.tanh %1 : tensor<2x4x8x8xf32>
  return %2 : tensor<2x4x8x8xf32>
}

// -----

// Not fused: the matmul result has another use; a bias that is not [N].
// CHECK-LABEL: func.func @kept
// CHECK: tg.matmul
// CHECK: tg.add
// CHECK: tg.matmul
// CHECK: tg.add
// CHECK-NOT: tg.fused_matmul
func.func @kept(%x: tensor<8x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>, %c: tensor<8x3xf32>) -> (tensor<8x3xf32>, tensor<8x3xf32>, tensor<8x3xf32>) {
  %0 = tg.matmul %x, %w : (tensor<8x4xf32>, tensor<4x3xf32>) -> tensor<8x3xf32>
  %1 = tg.add %0, %b : (tensor<8x3xf32>, tensor<3xf32>) -> tensor<8x3xf32>
  %2 = tg.matmul %x, %w {transpose_lhs = false} : (tensor<8x4xf32>, tensor<4x3xf32>) -> tensor<8x3xf32>
  %3 = tg.add %2, %c : (tensor<8x3xf32>, tensor<8x3xf32>) -> tensor<8x3xf32>
  return %0, %1, %3 : tensor<8x3xf32>, tensor<8x3xf32>, tensor<8x3xf32>
}

// -----

// A convolution's bias gradient (dy summed over N, H and W) joins its filter
// gradient: oneDNN's backward-weights primitive sums it as it reads dy.
// CHECK-LABEL: func.func @bias_gradient
// CHECK: %[[W:.*]], %[[B:.*]] = tg.conv2d_backprop_filter_bias %arg0, %arg1 {padding = array<i64: 1, 1, 1, 1>} : (tensor<2x3x8x8xf32>, tensor<2x4x8x8xf32>) -> (tensor<4x3x3x3xf32>, tensor<4xf32>)
// CHECK-NOT: tg.reduce
// CHECK-NOT: tg.conv2d_backprop_filter {{.*}}
// CHECK: return %[[W]], %[[B]]
func.func @bias_gradient(%x: tensor<2x3x8x8xf32>, %dy: tensor<2x4x8x8xf32>) -> (tensor<4x3x3x3xf32>, tensor<4xf32>) {
  %b = tg.reduce %dy {kind = "sum", axes = array<i64: 0, 2, 3>} : (tensor<2x4x8x8xf32>) -> tensor<4xf32>
  %w = tg.conv2d_backprop_filter %x, %dy {padding = array<i64: 1, 1, 1, 1>} : (tensor<2x3x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<4x3x3x3xf32>
  return %w, %b : tensor<4x3x3x3xf32>, tensor<4xf32>
}

// -----

// Another reduction of dy (here over N only) is not a bias gradient.
// CHECK-LABEL: func.func @other_reduction
// CHECK: tg.reduce
// CHECK: tg.conv2d_backprop_filter %
func.func @other_reduction(%x: tensor<2x3x8x8xf32>, %dy: tensor<2x4x8x8xf32>) -> (tensor<4x3x3x3xf32>, tensor<4x8x8xf32>) {
  %b = tg.reduce %dy {kind = "sum", axes = array<i64: 0>} : (tensor<2x4x8x8xf32>) -> tensor<4x8x8xf32>
  %w = tg.conv2d_backprop_filter %x, %dy {padding = array<i64: 1, 1, 1, 1>} : (tensor<2x3x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<4x3x3x3xf32>
  return %w, %b : tensor<4x3x3x3xf32>, tensor<4x8x8xf32>
}
