// RUN: tg-opt %s --tg-batch-matmul-sums | FileCheck %s

// dU = h0^T g1 + h1^T g2 + h2^T g3 (a recurrent weight gradient) becomes one
// matmul over the operands concatenated along the contraction dimension; a
// leaf that is not such a matmul is added afterwards.
// CHECK-LABEL: func.func @weight_grad
// CHECK-DAG: %[[A:.*]] = tg.concat %arg0, %arg1, %arg2 {axis = 0 : i64} : (tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<12x3xf32>
// CHECK-DAG: %[[B:.*]] = tg.concat %arg3, %arg4, %arg5 {axis = 0 : i64} : (tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>) -> tensor<12x5xf32>
// CHECK: %[[M:.*]] = tg.matmul %[[A]], %[[B]] {transpose_lhs = true}
// CHECK: %[[S:.*]] = tg.add %[[M]], %arg6
// CHECK: return %[[S]]
func.func @weight_grad(%h0: tensor<4x3xf32>, %h1: tensor<4x3xf32>, %h2: tensor<4x3xf32>,
                       %g1: tensor<4x5xf32>, %g2: tensor<4x5xf32>, %g3: tensor<4x5xf32>,
                       %l2: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %0 = tg.matmul %h0, %g1 {transpose_lhs = true} : (tensor<4x3xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  %1 = tg.matmul %h1, %g2 {transpose_lhs = true} : (tensor<4x3xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  %2 = tg.matmul %h2, %g3 {transpose_lhs = true} : (tensor<4x3xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  %3 = tg.add %0, %1 : (tensor<3x5xf32>, tensor<3x5xf32>) -> tensor<3x5xf32>
  %4 = tg.add %3, %l2 : (tensor<3x5xf32>, tensor<3x5xf32>) -> tensor<3x5xf32>
  %5 = tg.add %4, %2 : (tensor<3x5xf32>, tensor<3x5xf32>) -> tensor<3x5xf32>
  return %5 : tensor<3x5xf32>
}

// A matmul whose result is used twice is left alone.
// CHECK-LABEL: func.func @shared
// CHECK-NOT: tg.concat
func.func @shared(%a: tensor<4x3xf32>, %b: tensor<4x5xf32>) -> (tensor<3x5xf32>, tensor<3x5xf32>) {
  %0 = tg.matmul %a, %b {transpose_lhs = true} : (tensor<4x3xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  %1 = tg.matmul %a, %b {transpose_lhs = true} : (tensor<4x3xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  %2 = tg.add %0, %1 : (tensor<3x5xf32>, tensor<3x5xf32>) -> tensor<3x5xf32>
  return %2, %0 : tensor<3x5xf32>, tensor<3x5xf32>
}
