// RUN: tg-opt %s --tg-share-loop-nests --split-input-file | FileCheck %s

// Identical loop nests call one function: the in-place ones on %a and on
// %b (then %c, of another type, gets its own). The constant their body reads
// is cloned in, a value computed outside (%s) is passed. Each distinct value
// is one argument, so an in-place op (ins == outs) reads and writes one
// pointer (LLVM vectorizes it; two arguments would fail its alias check) and
// is not shared with the same op on two buffers. A rank-0 input is loaded
// before the call and passed by value.
// CHECK-LABEL: func.func @twice
// CHECK-SAME: (%[[A:.*]]: memref<8x16xf32>, %[[B:.*]]: memref<8x16xf32>, %[[C:.*]]: memref<4xf32>, %[[S:.*]]: f32, %[[R:.*]]: memref<f32>)
// CHECK: call @tg_loop_nest(%[[A]], %[[S]])
// CHECK: call @tg_loop_nest(%[[B]], %[[S]])
// CHECK: call @tg_loop_nest_0(%[[A]], %[[B]], %[[S]])
// CHECK: call @tg_loop_nest_1(%[[C]], %[[S]])
// CHECK: %[[V:.*]] = memref.load %[[R]][] : memref<f32>
// CHECK: call @tg_loop_nest_2(%[[B]], %[[V]])
// CHECK-NOT: linalg.generic
// CHECK: func.func private @tg_loop_nest(%[[X:.*]]: memref<8x16xf32>, %[[Y:.*]]: f32)
// CHECK-SAME: llvm.linkage = #llvm.linkage<internal>
// CHECK-SAME: passthrough = ["noinline"]
// CHECK: %[[ONE:.*]] = arith.constant 1.0
// CHECK: linalg.generic {{.*}} ins(%[[X]] : memref<8x16xf32>) outs(%[[X]] : memref<8x16xf32>)
// CHECK: arith.addf %{{.*}}, %[[ONE]]
// CHECK: arith.mulf %{{.*}}, %[[Y]]
// CHECK: return
// CHECK: func.func private @tg_loop_nest_0(%[[X:.*]]: memref<8x16xf32>, %[[Z:.*]]: memref<8x16xf32>, %{{.*}}: f32)
// CHECK: linalg.generic {{.*}} ins(%[[X]] : memref<8x16xf32>) outs(%[[Z]] : memref<8x16xf32>)
// CHECK: func.func private @tg_loop_nest_1(%{{.*}}: memref<4xf32>
// CHECK: func.func private @tg_loop_nest_2(%{{.*}}: memref<8x16xf32>, %{{.*}}: f32)
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : memref<8x16xf32>, f32)
// CHECK-NOT: func.func private
#map = affine_map<(d0, d1) -> (d0, d1)>
#map1 = affine_map<(d0) -> (d0)>
#map0 = affine_map<(d0, d1) -> ()>
func.func @twice(%a: memref<8x16xf32>, %b: memref<8x16xf32>, %c: memref<4xf32>, %s: f32, %r: memref<f32>) {
  %one = arith.constant 1.0 : f32
  linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%a : memref<8x16xf32>) outs(%a : memref<8x16xf32>) {
  ^bb0(%x: f32, %y: f32):
    %t = arith.addf %x, %one : f32
    %u = arith.mulf %t, %s : f32
    linalg.yield %u : f32
  }
  linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%b : memref<8x16xf32>) outs(%b : memref<8x16xf32>) {
  ^bb0(%x: f32, %y: f32):
    %t = arith.addf %x, %one : f32
    %u = arith.mulf %t, %s : f32
    linalg.yield %u : f32
  }
  linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%a : memref<8x16xf32>) outs(%b : memref<8x16xf32>) {
  ^bb0(%x: f32, %y: f32):
    %t = arith.addf %x, %one : f32
    %u = arith.mulf %t, %s : f32
    linalg.yield %u : f32
  }
  linalg.generic {indexing_maps = [#map1, #map1], iterator_types = ["parallel"]} ins(%c : memref<4xf32>) outs(%c : memref<4xf32>) {
  ^bb0(%x: f32, %y: f32):
    %t = arith.addf %x, %one : f32
    %u = arith.mulf %t, %s : f32
    linalg.yield %u : f32
  }
  linalg.generic {indexing_maps = [#map, #map0, #map], iterator_types = ["parallel", "parallel"]} ins(%b, %r : memref<8x16xf32>, memref<f32>) outs(%b : memref<8x16xf32>) {
  ^bb0(%x: f32, %k: f32, %y: f32):
    %t = arith.mulf %x, %k : f32
    linalg.yield %t : f32
  }
  return
}

// -----

// A fill's value is an operand: fills of one type with different values
// share a function. Ops on tensors are left alone.
// CHECK-LABEL: func.func @fills
// CHECK: call @tg_loop_nest(%{{.*}}, %[[M:.*]]) : (f32, memref<16xf32>) -> ()
// CHECK: call @tg_loop_nest(%{{.*}}, %[[M]]) : (f32, memref<16xf32>) -> ()
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<16xf32>)
// CHECK: func.func private @tg_loop_nest(%{{.*}}: f32, %{{.*}}: memref<16xf32>)
// CHECK: linalg.fill
func.func @fills(%m: memref<16xf32>, %t: tensor<16xf32>) -> tensor<16xf32> {
  %zero = arith.constant 0.0 : f32
  %two = arith.constant 2.0 : f32
  linalg.fill ins(%zero : f32) outs(%m : memref<16xf32>)
  linalg.fill ins(%two : f32) outs(%m : memref<16xf32>)
  %r = linalg.fill ins(%two : f32) outs(%t : tensor<16xf32>) -> tensor<16xf32>
  return %r : tensor<16xf32>
}
