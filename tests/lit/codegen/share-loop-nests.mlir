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

// -----

// A top-level scf.for (a scan's steps, an attention's key blocks) becomes
// one function for both identical loops: its bounds are cloned-in
// constants, the buffers it reads and its init are arguments, its result is
// returned; the linalg op inside is then shared like any other.
// CHECK-LABEL: func.func @loops
// CHECK-SAME: (%[[A:.*]]: memref<4xf32>, %[[B:.*]]: memref<4xf32>, %[[I:.*]]: memref<4xf32>)
// CHECK: %[[R0:.*]] = call @[[LOOP:tg_loop_nest(_[0-9]+)?]](%[[I]], %[[A]]) : (memref<4xf32>, memref<4xf32>) -> memref<4xf32>
// CHECK: %[[R1:.*]] = call @[[LOOP]](%[[R0]], %[[B]])
// CHECK: return %[[R1]]
// CHECK-NOT: scf.for
// CHECK: func.func private @[[LOOP]](%{{.*}}: memref<4xf32>, %{{.*}}: memref<4xf32>) -> memref<4xf32>
// CHECK-SAME: passthrough = ["noinline"]
// CHECK: arith.constant 3 : index
// CHECK: scf.for
// CHECK: call @tg_loop_nest
// CHECK: scf.yield
// CHECK-NOT: scf.for
#id = affine_map<(d0) -> (d0)>
func.func @loops(%a: memref<4xf32>, %b: memref<4xf32>, %init: memref<4xf32>) -> memref<4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %0 = scf.for %i = %c0 to %c3 step %c1 iter_args(%acc = %init) -> memref<4xf32> {
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%a : memref<4xf32>) outs(%acc : memref<4xf32>) {
    ^bb0(%x: f32, %y: f32):
      %s = arith.addf %x, %y : f32
      linalg.yield %s : f32
    }
    scf.yield %acc : memref<4xf32>
  }
  %1 = scf.for %i = %c0 to %c3 step %c1 iter_args(%acc = %0) -> memref<4xf32> {
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%b : memref<4xf32>) outs(%acc : memref<4xf32>) {
    ^bb0(%x: f32, %y: f32):
      %s = arith.addf %x, %y : f32
      linalg.yield %s : f32
    }
    scf.yield %acc : memref<4xf32>
  }
  return %1 : memref<4xf32>
}
