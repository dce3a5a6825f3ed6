// RUN: tg-opt %s --tg-cuda-outline-kernels | FileCheck %s

// Every launch goes into the one @tg_kernels module, named after its
// function, with constants sunk into the kernel; the module lists the
// kernels (name, block size) in index order.
// CHECK: module attributes {gpu.container_module, tg.cuda_kernels = [{block_size = 64 : i64, name = "f_k0", params = 5 : i64}, {block_size = 32 : i64, name = "f_k1", params = 5 : i64}]}
// CHECK-LABEL: func.func @f
// CHECK: gpu.launch_func @tg_kernels::@f_k0 blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}}) args(%arg0 : memref<256xf32>)
// CHECK: gpu.launch_func @tg_kernels::@f_k1
// CHECK: gpu.module @tg_kernels
// CHECK: gpu.func @f_k0(%{{.*}}: memref<256xf32>) kernel
// CHECK: arith.constant 2.000000e+00 : f32
// CHECK: gpu.func @f_k1
// CHECK-NOT: gpu.module
func.func @f(%a: memref<256xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %f = arith.constant 2.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c4, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %b = arith.muli %bx, %sx : index
    %i = arith.addi %b, %tx : index
    memref.store %f, %a[%i] : memref<256xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    memref.store %f, %a[%tx] : memref<256xf32>
    gpu.terminator
  }
  return
}
