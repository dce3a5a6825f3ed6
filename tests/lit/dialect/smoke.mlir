// RUN: tg-opt %s | FileCheck %s
// CHECK-LABEL: func.func @f
func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: tg.relu
  %0 = tg.relu %x : tensor<2xf32>
  return %0 : tensor<2xf32>
}
