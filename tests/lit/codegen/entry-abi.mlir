// RUN: tg-opt %s --tg-lower-to-linalg --tg-tie-results --eliminate-empty-tensors --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --tg-entry-abi --canonicalize | FileCheck %s

// In-place update: the new value of p is computed straight into p's buffer
// and dropped from the results; only the loss is returned. No copy.
// CHECK-LABEL: func.func @step(
// CHECK-SAME: %arg0: memref<4xf32>, %arg1: memref<4xf32>) -> memref<f32> attributes {llvm.emit_c_interface}
// CHECK: linalg.generic {{.*}} ins(%arg0, %arg1 : memref<4xf32>, memref<4xf32>) outs(%arg0 : memref<4xf32>)
// CHECK-NOT: memref.copy
// CHECK: return %{{.*}} : memref<f32>
func.func @step(%p: tensor<4xf32> {tg.name = "p", tg.role = "param"}, %g: tensor<4xf32> {tg.name = "g", tg.role = "data"})
    -> (tensor<f32> {tg.name = "loss"}, tensor<4xf32> {tg.name = "p", tg.alias = 0 : i64}) {
  %1 = tg.reduce %p {kind = "sum"} : (tensor<4xf32>) -> tensor<f32>
  %0 = tg.sub %p, %g : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %1, %0 : tensor<f32>, tensor<4xf32>
}

// When p is still read after its new value is computed, bufferization keeps
// a separate buffer and the new value is copied into p at the end.
// CHECK-LABEL: func.func @late_read(
// CHECK: %[[NEW:.*]] = memref.alloc
// CHECK: linalg.generic {{.*}} outs(%[[NEW]]
// CHECK: memref.copy %[[NEW]], %arg0
func.func @late_read(%p: tensor<4xf32> {tg.name = "p", tg.role = "param"}, %g: tensor<4xf32> {tg.name = "g", tg.role = "data"})
    -> (tensor<4xf32> {tg.name = "p", tg.alias = 0 : i64}, tensor<4xf32> {tg.name = "old"}) {
  %0 = tg.sub %p, %g : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = tg.mul %p, %0 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}
