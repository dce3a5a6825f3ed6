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

// A short full reduction has no parallel point: one thread.
// CHECK-LABEL: func.func @total
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}})
// CHECK: memref.load %arg1[]
// CHECK: scf.for {{.*}} iter_args
// CHECK: arith.addf
// CHECK: memref.store {{.*}}, %arg1[]
#r0 = affine_map<(d0) -> (d0)>
#r1 = affine_map<(d0) -> ()>
func.func @total(%a: memref<40xf32>, %o: memref<f32>) {
  linalg.generic {indexing_maps = [#r0, #r1], iterator_types = ["reduction"]} ins(%a : memref<40xf32>) outs(%o : memref<f32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A long row sum along the contiguous dimension: a warp per row, 8 rows per
// 256-thread block. Each lane folds every 32nd element from -0.0 (the sum's
// identity); the 32 partial sums meet in shared memory in a 5-step tree
// (16, 8, 4, 2, 1) with a barrier before each step; lane 0 adds the total to
// the output.
// CHECK-LABEL: func.func @row_sum
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c8{{(_[0-9]+)?}}, {{.*}} threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c256{{(_[0-9]+)?}}, {{.*}} workgroup(%[[SH:.*]] : memref<256xf32, #gpu.address_space<workgroup>>)
// CHECK: %[[ID:.*]] = arith.constant -0.000000e+00 : f32
// CHECK: %[[C32:.*]] = arith.constant 32 : index
// CHECK: %[[LANE:.*]] = arith.remui %[[TX]], %[[C32]]
// CHECK: %[[SLOT:.*]] = arith.divui %[[TX]], %{{.*}}
// CHECK: %[[FIRST:.*]] = arith.muli %[[BX]], %{{.*}}
// CHECK: %[[ROW:.*]] = arith.addi %[[FIRST]], %[[SLOT]]
// CHECK: %[[PART:.*]] = scf.if
// CHECK: scf.for %[[K:.*]] = %[[LANE]] to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %[[ID]])
// CHECK: affine.apply #{{.*}}(%[[ROW]], %[[K]])
// CHECK: memref.load %arg0
// CHECK: arith.addf
// CHECK: } else {
// CHECK-NEXT: scf.yield %[[ID]]
// CHECK: memref.store %[[PART]], %[[SH]][%[[TX]]]
// CHECK-NEXT: gpu.barrier
// CHECK: arith.cmpi ult, %{{.*}}, %c16
// CHECK: gpu.barrier
// CHECK: arith.cmpi ult, %{{.*}}, %c8
// CHECK: gpu.barrier
// CHECK: arith.cmpi ult, %{{.*}}, %c4
// CHECK: gpu.barrier
// CHECK: arith.cmpi ult, %{{.*}}, %c2
// CHECK: gpu.barrier
// CHECK: arith.cmpi ult, %{{.*}}, %c1
// CHECK-NOT: gpu.barrier
// CHECK: arith.cmpi eq, %{{.*}}, %c0
// CHECK: scf.if
// CHECK: %[[INIT:.*]] = memref.load %arg1[
// CHECK: %[[TOTAL:.*]] = memref.load %[[SH]][%[[TX]]]
// CHECK: %[[OUT:.*]] = arith.addf %[[TOTAL]], %[[INIT]]
// CHECK: memref.store %[[OUT]], %arg1[
#s0 = affine_map<(d0, d1) -> (d0, d1)>
#s1 = affine_map<(d0, d1) -> (d0)>
func.func @row_sum(%a: memref<64x300xf32>, %o: memref<64xf32>) {
  linalg.generic {indexing_maps = [#s0, #s1], iterator_types = ["parallel", "reduction"]} ins(%a : memref<64x300xf32>) outs(%o : memref<64xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A row max folds from -inf.
// CHECK-LABEL: func.func @row_max
// CHECK: threads({{.*}}) in ({{.*}} = %c128, {{.*}} workgroup(
// CHECK: %[[ID:.*]] = arith.constant 0xFF800000 : f32
// CHECK: iter_args(%{{.*}} = %[[ID]])
// CHECK: arith.maximumf
#x0 = affine_map<(d0, d1) -> (d0, d1)>
#x1 = affine_map<(d0, d1) -> (d0)>
func.func @row_max(%a: memref<4x100xf32>, %o: memref<4xf32>) {
  linalg.generic {indexing_maps = [#x0, #x1], iterator_types = ["parallel", "reduction"]} ins(%a : memref<4x100xf32>) outs(%o : memref<4xf32>) {
  ^bb0(%x: f32, %y: f32):
    %m = arith.maximumf %y, %x : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// A convolution's bias gradient: 4 channels, each summed over N, H and W
// (8192 terms): a whole block per channel, the reduction space linearized
// with W fastest, and an 8-step tree.
// CHECK-LABEL: func.func @channel_sum
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c4{{(_[0-9]+)?}}, {{.*}} threads({{.*}}) in (%{{.*}} = %c256{{(_[0-9]+)?}}, {{.*}} workgroup(%{{.*}} : memref<256xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %c8192{{(_[0-9]+)?}} step %c256{{(_[0-9]+)?}}
// CHECK: %[[W:.*]] = arith.remui %[[R]], %c32
// CHECK: affine.apply #{{.*}}(%{{.*}}, %{{.*}}, %{{.*}}, %[[W]])
// CHECK: memref.load %arg0
// CHECK: arith.cmpi ult, %{{.*}}, %c128
// CHECK-COUNT-7: gpu.barrier
// CHECK-NOT: gpu.barrier
#c0 = affine_map<(n, c, h, w) -> (n, c, h, w)>
#c1 = affine_map<(n, c, h, w) -> (c)>
func.func @channel_sum(%a: memref<8x4x32x32xf32>, %o: memref<4xf32>) {
  linalg.generic {indexing_maps = [#c0, #c1], iterator_types = ["reduction", "parallel", "reduction", "reduction"]} ins(%a : memref<8x4x32x32xf32>) outs(%o : memref<4xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Many columns summed down the rows: one thread per column already reads
// consecutive addresses and fills the GPU, so no sharing.
// CHECK-LABEL: func.func @many_columns
// CHECK-NOT: workgroup
// CHECK: gpu.launch
// CHECK-NOT: gpu.barrier
// CHECK: return
#m0 = affine_map<(d0, d1) -> (d0, d1)>
#m1 = affine_map<(d0, d1) -> (d1)>
func.func @many_columns(%a: memref<128x4096xf32>, %o: memref<4096xf32>) {
  linalg.generic {indexing_maps = [#m0, #m1], iterator_types = ["reduction", "parallel"]} ins(%a : memref<128x4096xf32>) outs(%o : memref<4096xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A body that is not out = out (+) term (here out - x) cannot be split.
// CHECK-LABEL: func.func @not_associative
// CHECK-NOT: workgroup
// CHECK: gpu.launch
// CHECK-NOT: gpu.barrier
// CHECK: return
#n0 = affine_map<(d0, d1) -> (d0, d1)>
#n1 = affine_map<(d0, d1) -> (d0)>
func.func @not_associative(%a: memref<4x300xf32>, %o: memref<4xf32>) {
  linalg.generic {indexing_maps = [#n0, #n1], iterator_types = ["parallel", "reduction"]} ins(%a : memref<4x300xf32>) outs(%o : memref<4xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.subf %y, %x : f32
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
