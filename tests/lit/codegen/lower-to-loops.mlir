// RUN: tg-opt %s --tg-lower-to-loops="min-parallel-work=1000" --split-input-file | FileCheck %s
// RUN: tg-opt %s --tg-lower-to-loops="min-parallel-work=1000" --convert-scf-to-openmp --split-input-file | FileCheck %s --check-prefix=OMP

// An elementwise op over whole buffers becomes one flat loop over all its
// points (memref.collapse_shape); a large one is split among threads (an
// OpenMP work-shared loop), a small one stays sequential.
// CHECK-LABEL: func.func @loops
// CHECK: memref.collapse_shape %arg0 {{\[\[}}0, 1]] : memref<64x64xf32> into memref<4096xf32>
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%c4096{{.*}}) step
// CHECK: arith.addf
// CHECK: memref.collapse_shape %arg1 {{\[\[}}0, 1]] : memref<8x8xf32> into memref<64xf32>
// CHECK: scf.for
// CHECK-NOT: scf.for
// CHECK: arith.mulf
// CHECK-NOT: linalg.generic
// OMP-LABEL: func.func @loops
// OMP: omp.parallel
// OMP: omp.wsloop
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @loops(%a: memref<64x64xf32>, %b: memref<8x8xf32>) {
  linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%a : memref<64x64xf32>) outs(%a : memref<64x64xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%b : memref<8x8xf32>) outs(%b : memref<8x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.mulf %x, %y : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A broadcast operand keeps the nest; only the outermost loop is split
// among threads, the inner ones stay sequential for the vectorizer (one
// OpenMP loop collapsed over both would divide to find each point).
// CHECK-LABEL: func.func @broadcast
// CHECK-NOT: collapse_shape
// CHECK: scf.parallel (%[[I:.*]]) = (%{{.*}}) to (%c64{{.*}}) step
// CHECK-NEXT: scf.for %[[J:.*]] =
// CHECK-NEXT: %[[K:.*]] = affine.apply #{{.*}}(%[[J]])
// CHECK-NEXT: memref.load %arg1[%[[K]]]
// OMP-LABEL: func.func @broadcast
// OMP: omp.wsloop
// OMP-NEXT: omp.loop_nest (%{{.*}}) : index =
#m0 = affine_map<(d0, d1) -> (d0, d1)>
#m1 = affine_map<(d0, d1) -> (d1)>
func.func @broadcast(%a: memref<64x64xf32>, %b: memref<64xf32>) {
  linalg.generic {indexing_maps = [#m1, #m0], iterator_types = ["parallel", "parallel"]} ins(%b : memref<64xf32>) outs(%a : memref<64x64xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A strided view cannot be flattened: the nest stays.
// CHECK-LABEL: func.func @strided
// CHECK-NOT: collapse_shape
// CHECK: scf.parallel
// CHECK: scf.for
#s = affine_map<(d0, d1) -> (d0, d1)>
func.func @strided(%a: memref<64x64xf32, strided<[128, 1]>>) {
  linalg.generic {indexing_maps = [#s, #s], iterator_types = ["parallel", "parallel"]} ins(%a : memref<64x64xf32, strided<[128, 1]>>) outs(%a : memref<64x64xf32, strided<[128, 1]>>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  return
}
