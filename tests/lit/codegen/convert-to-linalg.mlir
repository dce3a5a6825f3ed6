// RUN: tg-opt %s --tg-convert-to-linalg --split-input-file --verify-diagnostics | FileCheck %s

// The shared patterns alone (codegen/common/TgToLinalg.cpp): with no op kept
// for a library, an f32 matmul is a linalg contraction too.
// CHECK-LABEL: func.func @matmul_relu
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: linalg.generic
// CHECK: arith.cmpf ogt
// CHECK: arith.select
// CHECK-NOT: tg.
func.func @matmul_relu(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  %0 = tg.matmul %a, %b : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %1 = tg.relu %0 : tensor<2x4xf32>
  return %1 : tensor<2x4xf32>
}

// -----

// Convolutions and pooling are linalg gathers (WindowToLinalg.cpp) when no
// library keeps them, in f32 as in f64.
// CHECK-LABEL: func.func @conv_pool
// CHECK: linalg.generic
// CHECK: tensor.extract
// CHECK: linalg.generic
// CHECK: arith.cmpf ogt
// CHECK-NOT: tg.
func.func @conv_pool(%x: tensor<1x1x4x4xf32>, %w: tensor<1x1x2x2xf32>) -> tensor<1x1x1x1xf32> {
  %0 = tg.conv2d %x, %w : (tensor<1x1x4x4xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x3x3xf32>
  %1 = tg.max_pool2d %0 {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>} : (tensor<1x1x3x3xf32>) -> tensor<1x1x1x1xf32>
  return %1 : tensor<1x1x1x1xf32>
}

// -----

// The fused forms have no pattern (a backend that makes them calls a library
// for them): each is a located error naming the op, and nothing is lowered.
func.func @fused(%x: tensor<1x1x4x4xf32>, %w: tensor<1x1x2x2xf32>, %b: tensor<1xf32>) -> tensor<1x1x3x3xf32> {
  // expected-error @+1 {{'tg.fused_conv2d' has no lowering to linalg (add a pattern to codegen/common/TgToLinalg.cpp)}}
  %0 = tg.fused_conv2d %x, %w, %b : (tensor<1x1x4x4xf32>, tensor<1x1x2x2xf32>, tensor<1xf32>) -> tensor<1x1x3x3xf32>
  %1 = tg.relu %0 : tensor<1x1x3x3xf32>
  return %1 : tensor<1x1x3x3xf32>
}
