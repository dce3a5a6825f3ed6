// RUN: tg-opt %s --tg-cuda-map-to-gpu --split-input-file --verify-diagnostics | FileCheck %s

// An elementwise op: one 1-D launch, a grid-stride loop over its 4*300
// points (256-thread blocks, 5 of them), the index delinearized innermost
// fastest.
// CHECK-LABEL: func.func @elementwise
// CHECK-DAG: %[[C5:.*]] = arith.constant 5 : index
// CHECK-DAG: %[[C256:.*]] = arith.constant 256 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%[[GX:.*]] = %[[C5]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]]) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%[[BS:.*]] = %[[C256]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]])
// CHECK: %[[B:.*]] = arith.muli %[[BX]], %[[BS]]
// CHECK: %[[G:.*]] = arith.addi %[[B]], %[[TX]]
// CHECK: %[[S:.*]] = arith.muli %[[GX]], %[[BS]]
// CHECK: scf.for %[[I:.*]] = %[[G]] to %{{.*}} step %[[S]]
// CHECK: arith.remui %[[I]]
// CHECK: arith.divui %[[I]]
// CHECK: memref.load
// CHECK: math.tanh
// CHECK: memref.store
// CHECK: gpu.terminator
// CHECK-NOT: linalg.generic
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @elementwise(%a: memref<4x300xf32>, %b: memref<4x300xf32>) {
  linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%a : memref<4x300xf32>) outs(%b : memref<4x300xf32>) {
  ^bb0(%x: f32, %y: f32):
    %t = math.tanh %x : f32
    linalg.yield %t : f32
  }
  return
}

// -----

// A column sum: the parallel column loop goes first (grid-stride over the 16
// columns, one warp), each thread sums its column sequentially with the sum
// in a register: one load and one store of the output per thread.
// CHECK-LABEL: func.func @colsum
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK: gpu.launch
// CHECK-SAME: threads
// CHECK-SAME: = %[[C32]]
// CHECK: scf.for %[[I:[a-z0-9]+]] =
// CHECK: %[[INIT:.*]] = memref.load %arg1
// CHECK: %[[SUM:.*]] = scf.for %[[R:[a-z0-9]+]] = {{.*}} iter_args(%[[ACC:[a-z0-9]+]] = %[[INIT]]) -> (f32)
// CHECK: affine.apply #{{.*}}(%[[I]], %[[R]])
// CHECK: memref.load %arg0
// CHECK-NOT: memref.load %arg1
// CHECK: %[[NEXT:.*]] = arith.addf %{{.*}}, %[[ACC]]
// CHECK: scf.yield %[[NEXT]]
// CHECK: memref.store %[[SUM]], %arg1
#m0 = affine_map<(d0, d1) -> (d0, d1)>
#m1 = affine_map<(d0, d1) -> (d1)>
func.func @colsum(%a: memref<8x16xf32>, %o: memref<16xf32>) {
  linalg.generic {indexing_maps = [#m0, #m1], iterator_types = ["reduction", "parallel"]} ins(%a : memref<8x16xf32>) outs(%o : memref<16xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A full reduction has no parallel point: one thread.
// CHECK-LABEL: func.func @total
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}})
// CHECK: memref.load %arg1[]
// CHECK: scf.for {{.*}} iter_args
// CHECK: arith.addf
// CHECK: memref.store {{.*}}, %arg1[]
#r0 = affine_map<(d0) -> (d0)>
#r1 = affine_map<(d0) -> ()>
func.func @total(%a: memref<100xf32>, %o: memref<f32>) {
  linalg.generic {indexing_maps = [#r0, #r1], iterator_types = ["reduction"]} ins(%a : memref<100xf32>) outs(%o : memref<f32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A 0-d op: one thread, no loop.
// CHECK-LABEL: func.func @scalar_fill
// CHECK: gpu.launch
// CHECK-NOT: scf.for
// CHECK: memref.store %{{.*}}, %arg0[]
// CHECK-NEXT: gpu.terminator
func.func @scalar_fill(%a: memref<f32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%a : memref<f32>)
  return
}

// -----

// Fills and copies are kernels too; a constant read by a kernel is uploaded
// into a device buffer freed at the end of the block.
// CHECK-LABEL: func.func @fill_copy_constant
// CHECK: gpu.launch
// CHECK: memref.store %{{.*}}, %arg0
// CHECK: %[[DEV:.*]] = memref.alloc() : memref<3xf32>
// CHECK: gpu.memcpy %[[DEV]], %{{.*}} : memref<3xf32>, memref<3xf32>
// CHECK: gpu.launch
// CHECK: memref.load %[[DEV]]
// CHECK: memref.dealloc %[[DEV]]
// CHECK-NEXT: return
memref.global "private" constant @k : memref<3xf32> = dense<[1.0, 2.0, 3.0]>
func.func @fill_copy_constant(%a: memref<3xf32>, %b: memref<3xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%a : memref<3xf32>)
  %g = memref.get_global @k : memref<3xf32>
  memref.copy %g, %b : memref<3xf32> to memref<3xf32>
  return
}

// -----

// The deallocation pipeline's host arrays (index/i1) become stack buffers,
// so every memref.alloc left is device memory.
// CHECK-LABEL: func.func @host_arrays
// CHECK: memref.alloca() : memref<2xindex>
// CHECK-NOT: memref.alloc()
// CHECK-NOT: memref.dealloc
func.func @host_arrays(%p: index) -> index {
  %c0 = arith.constant 0 : index
  %a = memref.alloc() : memref<2xindex>
  memref.store %p, %a[%c0] : memref<2xindex>
  %v = memref.load %a[%c0] : memref<2xindex>
  memref.dealloc %a : memref<2xindex>
  return %v : index
}

// -----

// A sequential loop of loads and stores (scatter_add) runs as one thread.
// CHECK-LABEL: func.func @sequential
// CHECK: gpu.launch
// CHECK-NEXT: scf.for
func.func @sequential(%a: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %i = %c0 to %c4 step %c1 {
    %x = memref.load %a[%i] : memref<4xf32>
    %y = arith.addf %x, %x : f32
    memref.store %y, %a[%c0] : memref<4xf32>
  }
  return
}

// -----

func.func @host_reads_device(%a: memref<4xf32>) -> f32 attributes {tg.entry = "f"} {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{tg-cuda-map-to-gpu: host code would access device memory here}}
  %x = memref.load %a[%c0] : memref<4xf32>
  return %x : f32
}

// -----

func.func @kernel_reads_stack(%b: memref<4xf32>) {
  %a = memref.alloca() : memref<4xf32>
  // expected-error @+1 {{tg-cuda-map-to-gpu: a kernel would read a host stack buffer}}
  memref.copy %a, %b : memref<4xf32> to memref<4xf32>
  return
}
