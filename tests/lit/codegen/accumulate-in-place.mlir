// RUN: tg-opt %s --tg-accumulate-in-place --split-input-file | FileCheck %s

// acc + g with a fresh destination becomes an update of acc itself.
// CHECK-LABEL: func.func @sum
// CHECK: scf.for {{.*}} iter_args(%[[ACC:.*]] = %{{.*}})
// CHECK: linalg.generic {{.*}} ins(%[[ACC]], %{{.*}} : tensor<8xf32>, tensor<8xf32>) outs(%[[ACC]] : tensor<8xf32>)
#id = affine_map<(d0) -> (d0)>
func.func @sum(%init: tensor<8xf32>, %g: tensor<8xf32>) -> tensor<8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %init) -> tensor<8xf32> {
    %e = tensor.empty() : tensor<8xf32>
    %s = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]} ins(%acc, %g : tensor<8xf32>, tensor<8xf32>) outs(%e : tensor<8xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %t = arith.addf %a, %b : f32
      linalg.yield %t : f32
    } -> tensor<8xf32>
    scf.yield %s : tensor<8xf32>
  }
  return %r : tensor<8xf32>
}

// -----

// Left alone: acc is also read by the reduction, which might run after
// an in-place update overwrote it.
// CHECK-LABEL: func.func @kept
// CHECK: scf.for {{.*}} iter_args(%[[ACC:.*]] = %{{.*}}, %{{.*}} = %{{.*}})
// CHECK: %[[E:.*]] = tensor.empty
// CHECK: linalg.generic {{.*}} ins(%[[ACC]] : tensor<8xf32>) outs(%[[E]] : tensor<8xf32>)
#id = affine_map<(d0) -> (d0)>
#sum = affine_map<(d0) -> ()>
func.func @kept(%init: tensor<8xf32>, %s0: tensor<f32>) -> (tensor<8xf32>, tensor<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r:2 = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %init, %b = %s0) -> (tensor<8xf32>, tensor<f32>) {
    %e = tensor.empty() : tensor<8xf32>
    %s = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%acc : tensor<8xf32>) outs(%e : tensor<8xf32>) {
    ^bb0(%a: f32, %o: f32):
      %t = arith.addf %a, %a : f32
      linalg.yield %t : f32
    } -> tensor<8xf32>
    %t = linalg.generic {indexing_maps = [#id, #sum], iterator_types = ["reduction"]} ins(%acc : tensor<8xf32>) outs(%b : tensor<f32>) {
    ^bb0(%a: f32, %o: f32):
      %u = arith.addf %a, %o : f32
      linalg.yield %u : f32
    } -> tensor<f32>
    scf.yield %s, %t : tensor<8xf32>, tensor<f32>
  }
  return %r#0, %r#1 : tensor<8xf32>, tensor<f32>
}
