// RUN: tg-opt %s --tg-plan-memory --split-input-file | FileCheck %s

// %a is last used before %c is allocated, so %c reuses %a's bytes; %b is
// live across both and gets its own. Deallocations at the end of the block
// (where the deallocation pipeline puts them) do not extend the ranges.
// CHECK-LABEL: func.func @reuse
// CHECK-SAME: tg.arena_bytes = 2048 : i64, tg.temp_bytes = 3072 : i64
// CHECK: %[[ARENA:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2048xi8>
// CHECK: %[[A:.*]] = memref.view %[[ARENA]][%c0{{.*}}][] : memref<2048xi8> to memref<256xf32>
// CHECK: %[[B:.*]] = memref.view %[[ARENA]][%c1024{{.*}}][] : memref<2048xi8> to memref<256xf32>
// CHECK: %[[C:.*]] = memref.view %[[ARENA]][%c0{{.*}}][] : memref<2048xi8> to memref<256xf32>
// CHECK-NOT: memref.dealloc %[[A]]
// CHECK: memref.dealloc %[[ARENA]]
// CHECK-NEXT: return
func.func @reuse(%x: memref<256xf32>, %out: memref<256xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  memref.copy %x, %a : memref<256xf32> to memref<256xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  memref.copy %a, %b : memref<256xf32> to memref<256xf32>
  %c = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  memref.copy %b, %c : memref<256xf32> to memref<256xf32>
  memref.copy %c, %out : memref<256xf32> to memref<256xf32>
  memref.dealloc %a : memref<256xf32>
  memref.dealloc %b : memref<256xf32>
  memref.dealloc %c : memref<256xf32>
  return
}

// -----

// A use inside a loop counts at the loop, and a use through a cast (as the
// runtime's kernels take unranked memrefs) counts too: %a lives until the
// loop, %b is allocated after it and may reuse %a's bytes, but %a's cast is
// used by the kernel call after %b's allocation, so they overlap.
// CHECK-LABEL: func.func @loops_and_casts
// CHECK-SAME: tg.arena_bytes = 2048 : i64
func.func @loops_and_casts(%x: memref<256xf32>, %out: memref<256xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %i = %c0 to %c4 step %c1 {
    memref.copy %x, %a : memref<256xf32> to memref<256xf32>
  }
  %b = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  %u = memref.cast %a : memref<256xf32> to memref<*xf32>
  %v = memref.cast %b : memref<256xf32> to memref<*xf32>
  call @tgrt_kernel(%u, %v) : (memref<*xf32>, memref<*xf32>) -> ()
  memref.copy %b, %out : memref<256xf32> to memref<256xf32>
  memref.dealloc %a : memref<256xf32>
  memref.dealloc %b : memref<256xf32>
  return
}
func.func private @tgrt_kernel(memref<*xf32>, memref<*xf32>)

// -----

// Left to the allocator: a buffer returned, one passed to a function other
// than a runtime kernel, an i1 buffer, a dynamic shape.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: tg.arena_bytes
// CHECK-NOT: memref.view
func.func @left_alone(%n: index) -> memref<4xf32> {
  %r = memref.alloc() : memref<4xf32>
  %o = memref.alloc() : memref<4xf32>
  call @other(%o) : (memref<4xf32>) -> ()
  %m = memref.alloc() : memref<8xi1>
  %d = memref.alloc(%n) : memref<?xf32>
  memref.dealloc %o : memref<4xf32>
  memref.dealloc %m : memref<8xi1>
  memref.dealloc %d : memref<?xf32>
  return %r : memref<4xf32>
}
func.func private @other(memref<4xf32>)

// -----

// A buffer carried through a loop's iter_args comes out as the loop's
// result: reads of that result after the loop keep it alive, so %b (allocated
// after the loop) does not reuse its bytes.
// CHECK-LABEL: func.func @through_a_loop
// CHECK-SAME: tg.arena_bytes = 2048 : i64
func.func @through_a_loop(%x: memref<256xf32>, %out: memref<256xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  memref.copy %x, %a : memref<256xf32> to memref<256xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %a) -> (memref<256xf32>) {
    scf.yield %acc : memref<256xf32>
  }
  %b = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  memref.copy %x, %b : memref<256xf32> to memref<256xf32>
  memref.copy %r, %out : memref<256xf32> to memref<256xf32>
  memref.copy %b, %out : memref<256xf32> to memref<256xf32>
  memref.dealloc %a : memref<256xf32>
  memref.dealloc %b : memref<256xf32>
  return
}
