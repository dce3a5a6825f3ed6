// RUN: tg-opt %s --tg-math-approximation | FileCheck %s

// tanh, exp, log and erf become arithmetic (vectorizable, no libm calls).
// CHECK-LABEL: func.func @f
// CHECK-NOT: math.tanh
// CHECK-NOT: math.exp
// CHECK-NOT: math.log
// CHECK-NOT: math.erf
// CHECK: arith.mulf
// CHECK: return
func.func @f(%x: f32) -> (f32, f32, f32, f32) {
  %0 = math.tanh %x : f32
  %1 = math.exp %x : f32
  %2 = math.log %x : f32
  %3 = math.erf %x : f32
  return %0, %1, %2, %3 : f32, f32, f32, f32
}
