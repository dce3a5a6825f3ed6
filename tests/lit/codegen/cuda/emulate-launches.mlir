// RUN: tg-opt %s --tg-cuda-emulate-launches --split-input-file --verify-diagnostics | FileCheck %s

// Blocks, then threads, as two sequential loops; the ids are their indices
// and the sizes the launch's; gpu.memcpy is a memref.copy.
// CHECK-LABEL: func.func @emulate
// CHECK: %[[C4:.*]] = arith.constant 4 : index
// CHECK: %[[C64:.*]] = arith.constant 64 : index
// CHECK: memref.copy %arg1, %arg0
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[C1:.*]] = arith.constant 1 : index
// CHECK: scf.for %[[B:.*]] = %[[C0]] to %[[C4]] step %[[C1]]
// CHECK-NEXT: scf.for %[[T:.*]] = %[[C0]] to %[[C64]] step %[[C1]]
// CHECK-NEXT: %[[X:.*]] = arith.muli %[[B]], %[[C64]]
// CHECK-NEXT: %[[I:.*]] = arith.addi %[[X]], %[[T]]
// CHECK-NEXT: memref.store %{{.*}}, %arg0[%[[I]]]
// CHECK-NOT: gpu.
func.func @emulate(%a: memref<256xf32>, %k: memref<256xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  %f = arith.constant 1.0 : f32
  gpu.memcpy %a, %k : memref<256xf32>, memref<256xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c4, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %b = arith.muli %bx, %sx : index
    %i = arith.addi %b, %tx : index
    memref.store %f, %a[%i] : memref<256xf32>
    gpu.terminator
  }
  return
}

// -----

// Top-level barriers split the body into steps, each a loop over the
// block's threads; shared memory is one stack buffer made before the block
// loop; the thread id is each step's own index, and pure values from an
// earlier step (the lane) are recomputed.
// CHECK-LABEL: func.func @steps
// CHECK: %[[SH:.*]] = memref.alloca() : memref<32xf32>
// CHECK: scf.for %[[B:.*]] = %{{.*}} to %{{.*}} step
// CHECK-NEXT: scf.for %[[T0:.*]] = %{{.*}} to %[[C32:.*]] step
// CHECK-NEXT: %[[L0:.*]] = arith.remui %[[T0]]
// CHECK: memref.store %{{.*}}, %[[SH]][%[[T0]]]
// CHECK: }
// CHECK-NEXT: scf.for %[[T1:.*]] = %{{.*}} to %[[C32]] step
// CHECK-NEXT: %[[L1:.*]] = arith.remui %[[T1]]
// CHECK: %[[N:.*]] = arith.addi %[[L1]]
// CHECK: %[[W:.*]] = arith.remui %[[N]]
// CHECK: memref.load %[[SH]][%[[W]]]
// CHECK: memref.store %{{.*}}, %arg0[%[[B]], %[[T1]]]
// CHECK-NOT: gpu.
func.func @steps(%a: memref<2x32xf32>) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1)
             workgroup(%sh : memref<32xf32, #gpu.address_space<workgroup>>) {
    %lane = arith.remui %tx, %c32 : index
    %v = memref.load %a[%bx, %tx] : memref<2x32xf32>
    memref.store %v, %sh[%tx] : memref<32xf32, #gpu.address_space<workgroup>>
    gpu.barrier
    %next = arith.addi %lane, %c1 : index
    %wrapped = arith.remui %next, %c32 : index
    %w = memref.load %sh[%wrapped] : memref<32xf32, #gpu.address_space<workgroup>>
    memref.store %w, %a[%bx, %tx] : memref<2x32xf32>
    gpu.terminator
  }
  return
}

// -----

// A value that is not recomputable (a load) cannot cross a barrier.
func.func @crossing(%a: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    // expected-error @+1 {{a value crosses a barrier}}
    %v = memref.load %a[%c0] : memref<4xf32>
    gpu.barrier
    memref.store %v, %a[%c1] : memref<4xf32>
    gpu.terminator
  }
  return
}

// -----

func.func @barrier(%a: memref<4xf32>, %p: i1) {
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{only kernels whose barriers are at their top level}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    scf.if %p {
      gpu.barrier
    }
    gpu.terminator
  }
  return
}
