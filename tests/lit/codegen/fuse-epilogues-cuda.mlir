// RUN: tg-opt %s --tg-fuse-epilogues=target=cuda --split-input-file | FileCheck %s
// RUN: tg-opt %s --tg-fuse-epilogues --split-input-file | FileCheck %s --check-prefix=CPU
// RUN: not tg-opt %s --tg-fuse-epilogues=target=tpu 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: for the --target option: Cannot find option named 'tpu'

// cuBLASLt's epilogues are bias and bias+ReLU: on CUDA the bias is fused and
// tanh stays its own op; oneDNN (CPU) takes tanh as a post-op.
// CHECK-LABEL: func.func @dense_tanh
// CHECK: %[[M:.*]] = tg.fused_matmul
// CHECK-NOT: activation
// CHECK: tg.tanh %[[M]]
// CPU-LABEL: func.func @dense_tanh
// CPU: tg.fused_matmul {{.*}}activation = "tanh"
// CPU-NOT: tg.tanh
func.func @dense_tanh(%x: tensor<4x8xf32>, %w: tensor<8x3xf32>, %b: tensor<3xf32>) -> tensor<4x3xf32> {
  %m = tg.matmul %x, %w : (tensor<4x8xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
  %a = tg.add %m, %b : (tensor<4x3xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  %t = tg.tanh %a : tensor<4x3xf32>
  return %t : tensor<4x3xf32>
}

// -----

// ReLU is an epilogue on both.
// CHECK-LABEL: func.func @dense_relu
// CHECK: tg.fused_matmul {{.*}}activation = "relu"
// CHECK-NOT: tg.relu
func.func @dense_relu(%x: tensor<4x8xf32>, %w: tensor<8x3xf32>, %b: tensor<3xf32>) -> tensor<4x3xf32> {
  %m = tg.matmul %x, %w : (tensor<4x8xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
  %a = tg.add %m, %b : (tensor<4x3xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  %t = tg.relu %a : tensor<4x3xf32>
  return %t : tensor<4x3xf32>
}

// -----

// A convolution padded on one side only stays a conv2d on CUDA (generated
// code: cuDNN pads both sides alike); symmetric padding is fused.
// CHECK-LABEL: func.func @one_sided
// CHECK: tg.conv2d
// CHECK-NOT: tg.fused_conv2d
// CPU-LABEL: func.func @one_sided
// CPU: tg.fused_conv2d
func.func @one_sided(%x: tensor<1x1x4x4xf32>, %w: tensor<2x1x3x3xf32>, %b: tensor<2x1x1xf32>) -> tensor<1x2x2x2xf32> {
  %c = tg.conv2d %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 0, 1, 0, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x2x2xf32>
  %a = tg.add %c, %b : (tensor<1x2x2x2xf32>, tensor<2x1x1xf32>) -> tensor<1x2x2x2xf32>
  return %a : tensor<1x2x2x2xf32>
}

// -----

// CHECK-LABEL: func.func @symmetric
// CHECK: tg.fused_conv2d
func.func @symmetric(%x: tensor<1x1x4x4xf32>, %w: tensor<2x1x3x3xf32>, %b: tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32> {
  %c = tg.conv2d %x, %w {padding = array<i64: 1, 1, 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x4x4xf32>
  %a = tg.add %c, %b : (tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32>
  return %a : tensor<1x2x4x4xf32>
}

// -----

// cuDNN computes a bias gradient in a call of its own: the two stay apart.
// CHECK-LABEL: func.func @bias_gradient
// CHECK: tg.reduce
// CHECK: tg.conv2d_backprop_filter %
// CPU-LABEL: func.func @bias_gradient
// CPU: tg.conv2d_backprop_filter_bias
func.func @bias_gradient(%x: tensor<2x3x8x8xf32>, %dy: tensor<2x4x8x8xf32>) -> (tensor<4x3x3x3xf32>, tensor<4xf32>) {
  %b = tg.reduce %dy {kind = "sum", axes = array<i64: 0, 2, 3>} : (tensor<2x4x8x8xf32>) -> tensor<4xf32>
  %w = tg.conv2d_backprop_filter %x, %dy {padding = array<i64: 1, 1, 1, 1>} : (tensor<2x3x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<4x3x3x3xf32>
  return %w, %b : tensor<4x3x3x3xf32>, tensor<4xf32>
}
