// RUN: tg-opt %s --tg-tie-results --split-input-file --verify-diagnostics | FileCheck %s

// The aliased result is routed into its argument, which becomes writable;
// the other arguments are read-only.
// CHECK-LABEL: func.func @step(
// CHECK-SAME: %arg0: tensor<4xf32> {bufferization.writable = true, tg.name = "p", tg.role = "param"}
// CHECK-SAME: %arg1: tensor<4xf32> {bufferization.writable = false, tg.name = "g", tg.role = "data"}
// CHECK: %[[NEW:.*]] = tg.sub %arg0, %arg1
// CHECK: %[[TIED:.*]] = bufferization.materialize_in_destination %[[NEW]] in %arg0
// CHECK: return %[[TIED]], %{{.*}}
func.func @step(%p: tensor<4xf32> {tg.name = "p", tg.role = "param"}, %g: tensor<4xf32> {tg.name = "g", tg.role = "data"})
    -> (tensor<4xf32> {tg.name = "p", tg.alias = 0 : i64}, tensor<f32> {tg.name = "loss"}) {
  %0 = tg.sub %p, %g : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = tg.reduce %g {kind = "sum"} : (tensor<4xf32>) -> tensor<f32>
  return %0, %1 : tensor<4xf32>, tensor<f32>
}

// -----

// expected-error @+1 {{tg-tie-results: two results alias argument #0}}
func.func @twice(%p: tensor<4xf32>) -> (tensor<4xf32> {tg.alias = 0 : i64}, tensor<4xf32> {tg.alias = 0 : i64}) {
  %0 = tg.neg %p : tensor<4xf32>
  return %0, %0 : tensor<4xf32>, tensor<4xf32>
}
