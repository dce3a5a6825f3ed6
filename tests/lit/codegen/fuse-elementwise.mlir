// RUN: tg-opt %s --tg-lower-to-linalg --tg-fuse-elementwise | FileCheck %s
// RUN: tg-opt %s --tg-lower-to-linalg | FileCheck %s --check-prefix=UNFUSED

// bias + ReLU + scale: one loop nest, no intermediate tensors.
// CHECK-LABEL: func.func @chain
// CHECK-COUNT-1: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK: return
// UNFUSED-LABEL: func.func @chain
// UNFUSED-COUNT-3: linalg.generic
func.func @chain(%x: tensor<8x16xf32>, %b: tensor<16xf32>, %s: tensor<f32>) -> tensor<8x16xf32> {
  %0 = tg.add %x, %b : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %1 = tg.relu %0 : tensor<8x16xf32>
  %2 = tg.mul %1, %s : (tensor<8x16xf32>, tensor<f32>) -> tensor<8x16xf32>
  return %2 : tensor<8x16xf32>
}

// A producer with two users is not fused (it would be computed twice).
// CHECK-LABEL: func.func @shared
// CHECK: %[[E:.*]] = linalg.generic
// CHECK: math.exp
// CHECK: linalg.generic {{.*}} ins(%[[E]], %arg0
// CHECK: arith.mulf
// CHECK: linalg.generic {{.*}} ins(%[[E]], %arg0
// CHECK: arith.addf
func.func @shared(%x: tensor<32xf32>) -> (tensor<32xf32>, tensor<32xf32>) {
  %0 = tg.exp %x : tensor<32xf32>
  %1 = tg.mul %0, %x : (tensor<32xf32>, tensor<32xf32>) -> tensor<32xf32>
  %2 = tg.add %0, %x : (tensor<32xf32>, tensor<32xf32>) -> tensor<32xf32>
  return %1, %2 : tensor<32xf32>, tensor<32xf32>
}
