// RUN: tg-opt %s --tg-lower-to-loops="min-parallel-work=1000" | FileCheck %s
// RUN: tg-opt %s --tg-lower-to-loops="min-parallel-work=1000" --convert-scf-to-openmp | FileCheck %s --check-prefix=OMP

// A large elementwise op becomes a parallel loop (an OpenMP work-shared loop);
// a small one stays sequential.
// CHECK-LABEL: func.func @loops
// CHECK: scf.parallel
// CHECK: arith.addf
// CHECK: scf.for
// CHECK: arith.mulf
// CHECK-NOT: linalg.generic
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
