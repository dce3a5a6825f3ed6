// RUN: tg-opt %s --split-input-file --verify-diagnostics | FileCheck %s

// CHECK-LABEL: func.func @roundtrip
// CHECK: tg.fused_matmul %arg0, %arg1, %arg2 {activation = "relu", transpose_rhs = true} : (tensor<8x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<8x3xf32>
// CHECK: tg.fused_conv2d %arg3, %arg4, %arg5 {activation = "sigmoid", strides = array<i64: 2, 2>} : (tensor<1x2x6x6xf32>, tensor<4x2x2x2xf32>, tensor<4xf32>) -> tensor<1x4x3x3xf32>
func.func @roundtrip(%x: tensor<8x4xf32>, %w: tensor<3x4xf32>, %b: tensor<3xf32>,
                     %i: tensor<1x2x6x6xf32>, %f: tensor<4x2x2x2xf32>, %c: tensor<4xf32>) -> (tensor<8x3xf32>, tensor<1x4x3x3xf32>) {
  %0 = tg.fused_matmul %x, %w, %b {activation = "relu", transpose_rhs = true} : (tensor<8x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<8x3xf32>
  %1 = tg.fused_conv2d %i, %f, %c {activation = "sigmoid", strides = array<i64: 2, 2>} : (tensor<1x2x6x6xf32>, tensor<4x2x2x2xf32>, tensor<4xf32>) -> tensor<1x4x3x3xf32>
  return %0, %1 : tensor<8x3xf32>, tensor<1x4x3x3xf32>
}

// -----

func.func @bad_activation(%x: tensor<8x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+2 {{'tg.fused_matmul' op activation must be none, relu, tanh or sigmoid, got "gelu"}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.fused_matmul %x, %w, %b {activation = "gelu"} : (tensor<8x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<8x3xf32>
  return
}

// -----

func.func @bad_bias(%x: tensor<8x4xf32>, %w: tensor<4x3xf32>, %b: tensor<8xf32>) {
  // expected-error @+2 {{'tg.fused_matmul' op bias must be tensor<3xf32> for a result of shape [8, 3], got tensor<8xf32>}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.fused_matmul %x, %w, %b : (tensor<8x4xf32>, tensor<4x3xf32>, tensor<8xf32>) -> tensor<8x3xf32>
  return
}

// -----

func.func @bad_conv_bias(%i: tensor<1x2x6x6xf32>, %f: tensor<4x2x2x2xf32>, %c: tensor<4x1x1xf32>) {
  // expected-error @+2 {{'tg.fused_conv2d' op bias must be tensor<4xf32> for a result of shape [1, 4, 5, 5], got tensor<4x1x1xf32>}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.fused_conv2d %i, %f, %c : (tensor<1x2x6x6xf32>, tensor<4x2x2x2xf32>, tensor<4x1x1xf32>) -> tensor<1x4x5x5xf32>
  return
}

// -----

func.func @bad_conv_types(%i: tensor<1x2x6x6xf32>, %f: tensor<4x2x2x2xf16>, %c: tensor<4xf32>) {
  // expected-error @+2 {{'tg.fused_conv2d' op input and filter element types differ: f32 vs f16}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.fused_conv2d %i, %f, %c : (tensor<1x2x6x6xf32>, tensor<4x2x2x2xf16>, tensor<4xf32>) -> tensor<1x4x5x5xf32>
  return
}
