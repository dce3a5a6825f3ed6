// RUN: tg-opt %s --tg-lower-to-linalg --split-input-file | FileCheck %s

// f32 convolutions stay tg ops (oneDNN calls); f64 ones become one
// linalg.generic over the result, reading the input at bounds-checked indices.
// CHECK-LABEL: func.func @conv
// CHECK: tg.conv2d {{.*}} -> tensor<1x3x4x4xf32>
// CHECK: linalg.fill
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]{{.*}} ins(%arg3 : tensor<3x2x3x2xf64>)
// CHECK: arith.cmpi slt
// CHECK: arith.select
// CHECK: tensor.extract %arg2
// CHECK: arith.mulf
// CHECK-NOT: tg.conv2d
func.func @conv(%x: tensor<1x2x8x7xf32>, %w: tensor<3x2x3x2xf32>, %xd: tensor<1x2x8x7xf64>, %wd: tensor<3x2x3x2xf64>) -> (tensor<1x3x4x4xf32>, tensor<1x3x4x4xf64>) {
  %0 = tg.conv2d %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 0, 1>} : (tensor<1x2x8x7xf32>, tensor<3x2x3x2xf32>) -> tensor<1x3x4x4xf32>
  %1 = tg.conv2d %xd, %wd {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 0, 1>} : (tensor<1x2x8x7xf64>, tensor<3x2x3x2xf64>) -> tensor<1x3x4x4xf64>
  return %0, %1 : tensor<1x3x4x4xf32>, tensor<1x3x4x4xf64>
}

// -----

// The input gradient is a gather over (output channel, kernel row, kernel
// column): their extents come from an empty tensor, and the window a tap
// reaches is valid only where the stride divides its start.
// CHECK-LABEL: func.func @conv_backprop_input
// CHECK: %[[EXTENTS:.*]] = tensor.empty() : tensor<3x3x2xf32>
// CHECK: linalg.generic {{.*}} ins(%[[EXTENTS]] : tensor<3x3x2xf32>) outs({{.*}} : tensor<1x2x8x7xf64>)
// CHECK: arith.remsi
// CHECK: tensor.extract %arg0
// CHECK: tensor.extract %arg1
func.func @conv_backprop_input(%dy: tensor<1x3x4x4xf64>, %w: tensor<3x2x3x2xf64>) -> tensor<1x2x8x7xf64> {
  %0 = tg.conv2d_backprop_input %dy, %w {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 0, 1>} : (tensor<1x3x4x4xf64>, tensor<3x2x3x2xf64>) -> tensor<1x2x8x7xf64>
  return %0 : tensor<1x2x8x7xf64>
}

// -----

// The filter gradient reduces over (n, oh, ow), read from the output gradient.
// CHECK-LABEL: func.func @conv_backprop_filter
// CHECK: linalg.generic {{.*}} ins(%arg1 : tensor<1x3x4x4xf64>) outs({{.*}} : tensor<3x2x3x2xf64>)
// CHECK: tensor.extract %arg0
func.func @conv_backprop_filter(%x: tensor<1x2x8x7xf64>, %dy: tensor<1x3x4x4xf64>) -> tensor<3x2x3x2xf64> {
  %0 = tg.conv2d_backprop_filter %x, %dy {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 0, 1>} : (tensor<1x2x8x7xf64>, tensor<1x3x4x4xf64>) -> tensor<3x2x3x2xf64>
  return %0 : tensor<3x2x3x2xf64>
}

// -----

// Max pooling: the window's maximum from -inf over in-bounds taps. Its
// gradient: each window's first argmax (i64 tap), then a gather.
// CHECK-LABEL: func.func @max_pool
// CHECK: arith.constant 0xFFF0000000000000 : f64
// CHECK: linalg.generic {{.*}} outs({{.*}} : tensor<1x2x3x3xf64>)
// CHECK: arith.cmpf ogt
// CHECK: linalg.generic {{.*}} outs({{.*}}, {{.*}} : tensor<1x2x3x3xf64>, tensor<1x2x3x3xi64>)
// CHECK: linalg.generic {{.*}} outs({{.*}} : tensor<1x2x5x5xf64>)
// CHECK: arith.cmpi eq
func.func @max_pool(%x: tensor<1x2x5x5xf64>, %dy: tensor<1x2x3x3xf64>) -> (tensor<1x2x3x3xf64>, tensor<1x2x5x5xf64>) {
  %0 = tg.max_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : (tensor<1x2x5x5xf64>) -> tensor<1x2x3x3xf64>
  %1 = tg.max_pool2d_grad %x, %dy {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : (tensor<1x2x5x5xf64>, tensor<1x2x3x3xf64>) -> tensor<1x2x5x5xf64>
  return %0, %1 : tensor<1x2x3x3xf64>, tensor<1x2x5x5xf64>
}

// -----

// Average pooling without counting padding: the sum, then a division by each
// window's in-bounds count (min/max of its edges).
// CHECK-LABEL: func.func @avg_pool
// CHECK: linalg.generic
// CHECK: arith.addf
// CHECK: linalg.generic
// CHECK: arith.minsi
// CHECK: arith.sitofp
// CHECK: arith.divf
// CHECK: linalg.generic {{.*}} outs({{.*}} : tensor<1x2x5x5xf64>)
// CHECK: arith.divf
func.func @avg_pool(%x: tensor<1x2x5x5xf64>, %dy: tensor<1x2x3x3xf64>) -> (tensor<1x2x3x3xf64>, tensor<1x2x5x5xf64>) {
  %0 = tg.avg_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : (tensor<1x2x5x5xf64>) -> tensor<1x2x3x3xf64>
  %1 = tg.avg_pool2d_grad %dy {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : (tensor<1x2x3x3xf64>) -> tensor<1x2x5x5xf64>
  return %0, %1 : tensor<1x2x3x3xf64>, tensor<1x2x5x5xf64>
}
