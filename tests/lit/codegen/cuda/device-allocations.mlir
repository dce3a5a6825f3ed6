// RUN: tg-opt %s --tg-cuda-device-allocations --split-input-file --verify-diagnostics | FileCheck %s

// memref-to-llvm's generic allocation functions become libtgrt_cuda's.
// CHECK: llvm.func @tgrt_cuda_alloc(i64) -> !llvm.ptr
// CHECK: llvm.func @tgrt_cuda_free(!llvm.ptr)
// CHECK-LABEL: llvm.func @f
// CHECK: llvm.call @tgrt_cuda_alloc
// CHECK: llvm.call @tgrt_cuda_free
// CHECK-NOT: _mlir_memref_to_llvm
llvm.func @_mlir_memref_to_llvm_alloc(i64) -> !llvm.ptr
llvm.func @_mlir_memref_to_llvm_free(!llvm.ptr)
llvm.func @f(%n: i64) {
  %p = llvm.call @_mlir_memref_to_llvm_alloc(%n) : (i64) -> !llvm.ptr
  llvm.call @_mlir_memref_to_llvm_free(%p) : (!llvm.ptr) -> ()
  llvm.return
}

// -----

// expected-error @+1 {{both _mlir_memref_to_llvm_alloc and tgrt_cuda_alloc are declared}}
llvm.func @_mlir_memref_to_llvm_alloc(i64) -> !llvm.ptr
llvm.func @tgrt_cuda_alloc(i64) -> !llvm.ptr
