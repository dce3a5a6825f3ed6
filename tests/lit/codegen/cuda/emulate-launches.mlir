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

func.func @barrier(%a: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{only kernels without barriers, warp operations}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    gpu.barrier
    gpu.terminator
  }
  return
}
