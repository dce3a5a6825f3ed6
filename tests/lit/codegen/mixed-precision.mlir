// RUN: tg-opt %s --tg-mixed-precision | FileCheck %s

// f32 matmuls and convolutions that become oneDNN calls (forward, fused,
// both gradients) compute in bf16; pooling, an f64 matmul and the
// elementwise ops are left alone.
// CHECK-LABEL: func.func @mixed
// CHECK: tg.matmul {{.*}}{tg.compute = "bf16"} : (tensor<2x3xf32>
// CHECK: tg.fused_matmul {{.*}}tg.compute = "bf16"
// CHECK: tg.conv2d {{.*}}{tg.compute = "bf16"}
// CHECK: tg.conv2d_backprop_input {{.*}}{tg.compute = "bf16"}
// CHECK: tg.conv2d_backprop_filter {{.*}}{tg.compute = "bf16"}
// CHECK: tg.max_pool2d
// CHECK-NOT: tg.compute
// CHECK: tg.matmul %arg7, %arg7 : (tensor<2x2xf64>
// CHECK-NOT: tg.compute
// CHECK: return
func.func @mixed(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %bias: tensor<4xf32>,
                 %x: tensor<1x2x5x5xf32>, %w: tensor<3x2x3x3xf32>, %dy: tensor<1x3x3x3xf32>,
                 %d: tensor<2x2xf32>, %e: tensor<2x2xf64>)
    -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<1x3x3x3xf32>, tensor<1x2x5x5xf32>,
        tensor<3x2x3x3xf32>, tensor<1x2x2x2xf32>, tensor<2x2xf64>, tensor<2x2xf32>) {
  %0 = tg.matmul %a, %b : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %1 = tg.fused_matmul %a, %b, %bias {activation = "relu"} : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %2 = tg.conv2d %x, %w : (tensor<1x2x5x5xf32>, tensor<3x2x3x3xf32>) -> tensor<1x3x3x3xf32>
  %3 = tg.conv2d_backprop_input %dy, %w : (tensor<1x3x3x3xf32>, tensor<3x2x3x3xf32>) -> tensor<1x2x5x5xf32>
  %4 = tg.conv2d_backprop_filter %x, %dy : (tensor<1x2x5x5xf32>, tensor<1x3x3x3xf32>) -> tensor<3x2x3x3xf32>
  %5 = tg.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x2x5x5xf32>) -> tensor<1x2x2x2xf32>
  %6 = tg.matmul %e, %e : (tensor<2x2xf64>, tensor<2x2xf64>) -> tensor<2x2xf64>
  %7 = tg.add %d, %d : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<1x3x3x3xf32>, tensor<1x2x5x5xf32>, tensor<3x2x3x3xf32>, tensor<1x2x2x2xf32>, tensor<2x2xf64>, tensor<2x2xf32>
}
