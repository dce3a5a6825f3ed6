// RUN: tg-opt %s --tg-lower-to-linalg=target=cuda --split-input-file | FileCheck %s
// RUN: tg-opt %s --tg-lower-to-linalg --split-input-file | FileCheck %s --check-prefix=CPU
// RUN: not tg-opt %s --tg-lower-to-linalg=target=tpu 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: for the --target option: Cannot find option named 'tpu'

// cuDNN's descriptors pad both sides alike: on CUDA a convolution padded on
// one side only is generated code (linalg.generic gathers); oneDNN takes it.
// CHECK-LABEL: func.func @one_sided
// CHECK-NOT: tg.conv2d
// CHECK: linalg.generic
// CPU-LABEL: func.func @one_sided
// CPU: tg.conv2d
func.func @one_sided(%x: tensor<1x1x4x4xf32>, %w: tensor<2x1x3x3xf32>) -> tensor<1x2x2x2xf32> {
  %c = tg.conv2d %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 0, 1, 0, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x2x2xf32>
  return %c : tensor<1x2x2x2xf32>
}

// -----

// Symmetric padding stays a library call on both.
// CHECK-LABEL: func.func @symmetric
// CHECK: tg.conv2d
func.func @symmetric(%x: tensor<1x1x4x4xf32>, %w: tensor<2x1x3x3xf32>) -> tensor<1x2x4x4xf32> {
  %c = tg.conv2d %x, %w {padding = array<i64: 1, 1, 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x4x4xf32>
  return %c : tensor<1x2x4x4xf32>
}
