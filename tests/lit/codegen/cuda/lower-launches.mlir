// RUN: tg-opt %s --tg-cuda-lower-launches --split-input-file --verify-diagnostics | FileCheck %s

// A launch: kernel index (its place in tg.cuda_kernels), grid, block and
// the argument words from a stack slot of the entry block: a memref<4x8xf32>
// as pointer, pointer, offset, 2 sizes, 2 strides, then an index scalar.
// Library calls go to libtgrt_cuda; the kernel module is dropped.
// CHECK-NOT: gpu.container_module
// CHECK-DAG: func.func private @tgrt_cuda_launch(i64, i64, i64, i64, memref<?xi64>) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @tgrt_cuda_matmul_f32(
// CHECK-LABEL: func.func @f
// CHECK: %[[SLOT:.*]] = memref.alloca() : memref<8xi64>
// CHECK: %[[BASE:.*]], %[[OFF:.*]], %[[SIZES:.*]]:2, %[[STRIDES:.*]]:2 = memref.extract_strided_metadata %arg0
// CHECK: %[[PTR:.*]] = memref.extract_aligned_pointer_as_index %arg0
// CHECK: %[[P:.*]] = arith.index_cast %[[PTR]] : index to i64
// CHECK: memref.store %[[P]], %[[SLOT]][%{{.*}}]
// CHECK: memref.store %[[P]], %[[SLOT]][%{{.*}}]
// CHECK: %[[CAST:.*]] = memref.cast %[[SLOT]] : memref<8xi64> to memref<?xi64>
// CHECK: %[[K:.*]] = arith.constant 1 : i64
// CHECK: %[[N:.*]] = arith.constant 8 : i64
// CHECK: call @tgrt_cuda_launch(%[[K]], %{{.*}}, %{{.*}}, %[[N]], %[[CAST]])
// CHECK: call @tgrt_cuda_matmul_f32(
// CHECK-NOT: gpu.module
module attributes {gpu.container_module, tg.cuda_kernels = [{block_size = 32 : i64, name = "other", params = 1 : i64}, {block_size = 32 : i64, name = "k", params = 8 : i64}]} {
  func.func private @tgrt_matmul_f32(memref<*xf32>, memref<*xf32>, memref<*xf32>, i32, i32) attributes {llvm.emit_c_interface}
  func.func @f(%a: memref<4x8xf32>, %n: index, %u: memref<*xf32>) {
    %c1 = arith.constant 1 : index
    %c32 = arith.constant 32 : index
    gpu.launch_func @tg_kernels::@k blocks in (%c1, %c1, %c1) threads in (%c32, %c1, %c1) args(%a : memref<4x8xf32>, %n : index)
    %z = arith.constant 0 : i32
    call @tgrt_matmul_f32(%u, %u, %u, %z, %z) : (memref<*xf32>, memref<*xf32>, memref<*xf32>, i32, i32) -> ()
    return
  }
  gpu.module @tg_kernels {
    gpu.func @k(%a: memref<4x8xf32>, %n: index) kernel {
      gpu.return
    }
    gpu.func @other(%n: index) kernel {
      gpu.return
    }
  }
}

// -----

// A constant upload: device and host addresses of element 0, and the bytes.
// CHECK-LABEL: func.func @upload
// CHECK: %[[BYTES:.*]] = arith.constant 12 : i64
// CHECK: call @tgrt_cuda_upload(%{{.*}}, %{{.*}}, %[[BYTES]]) : (i64, i64, i64) -> ()
memref.global "private" constant @k : memref<3xf32> = dense<[1.0, 2.0, 3.0]>
func.func @upload(%d: memref<3xf32>) {
  %g = memref.get_global @k : memref<3xf32>
  gpu.memcpy %d, %g : memref<3xf32>, memref<3xf32>
  return
}

// -----

module attributes {gpu.container_module, tg.cuda_kernels = [{block_size = 32 : i64, name = "k", params = 3 : i64}]} {
  func.func @mismatch(%a: memref<4x8xf32>) {
    %c1 = arith.constant 1 : index
    // expected-error @+1 {{tg-cuda-lower-launches: 7 argument words for a kernel with 3 parameters}}
    gpu.launch_func @tg_kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<4x8xf32>)
    return
  }
  gpu.module @tg_kernels {
    gpu.func @k(%a: memref<4x8xf32>) kernel {
      gpu.return
    }
  }
}
