// Every tg op parses, prints in its custom form and re-parses to the same
// thing; the generic form (--mlir-print-op-generic) round-trips too.
//
// RUN: tg-opt %s | tg-opt | FileCheck %s
// RUN: tg-opt %s --mlir-print-op-generic | tg-opt | FileCheck %s
// RUN: tg-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @constants()
// CHECK: tg.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: tg.constant dense<{{\[}}[1, 2], [3, 4]]> : tensor<2x2xi32>
// CHECK: tg.constant dense<true> : tensor<i1>
// CHECK: tg.constant dense<> : tensor<0x3xf32>
// CHECK: tg.constant dense<5.000000e-01> : tensor<f64>
// CHECK: tg.constant dense<7> : tensor<1x1xi64>
// CHECK: tg.constant dense<[1.000000e+00, 2.500000e+00]> : tensor<2xf16>
// CHECK: tg.constant dense<-2.000000e+00> : tensor<3xbf16>
// GENERIC-LABEL: sym_name = "constants"
// GENERIC: "tg.constant"() {value = dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>} : () -> tensor<2xf32>
func.func @constants() -> (tensor<2xf32>, tensor<2x2xi32>, tensor<i1>, tensor<0x3xf32>,
                           tensor<f64>, tensor<1x1xi64>, tensor<2xf16>, tensor<3xbf16>) {
  %0 = tg.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %1 = tg.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi32>
  %2 = tg.constant dense<true> : tensor<i1>
  %3 = tg.constant dense<> : tensor<0x3xf32>
  %4 = tg.constant dense<0.5> : tensor<f64>
  %5 = tg.constant dense<7> : tensor<1x1xi64>
  %6 = tg.constant dense<[1.0, 2.5]> : tensor<2xf16>
  %7 = tg.constant dense<-2.0> : tensor<3xbf16>
  return %0, %1, %2, %3, %4, %5, %6, %7
      : tensor<2xf32>, tensor<2x2xi32>, tensor<i1>, tensor<0x3xf32>,
        tensor<f64>, tensor<1x1xi64>, tensor<2xf16>, tensor<3xbf16>
}

//===----------------------------------------------------------------------===//
// Elementwise unary
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @unary_f32
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK: %[[V0:[0-9]+]] = tg.neg %[[X]] : tensor<4x8xf32>
// CHECK: %[[V1:[0-9]+]] = tg.abs %[[V0]] : tensor<4x8xf32>
// CHECK: %[[V2:[0-9]+]] = tg.sign %[[V1]] : tensor<4x8xf32>
// CHECK: %[[V3:[0-9]+]] = tg.exp %[[V2]] : tensor<4x8xf32>
// CHECK: %[[V4:[0-9]+]] = tg.log %[[V3]] : tensor<4x8xf32>
// CHECK: %[[V5:[0-9]+]] = tg.sqrt %[[V4]] : tensor<4x8xf32>
// CHECK: %[[V6:[0-9]+]] = tg.rsqrt %[[V5]] : tensor<4x8xf32>
// CHECK: %[[V7:[0-9]+]] = tg.tanh %[[V6]] : tensor<4x8xf32>
// CHECK: %[[V8:[0-9]+]] = tg.sigmoid %[[V7]] : tensor<4x8xf32>
// CHECK: %[[V9:[0-9]+]] = tg.relu %[[V8]] : tensor<4x8xf32>
// CHECK: %[[V10:[0-9]+]] = tg.erf %[[V9]] : tensor<4x8xf32>
// CHECK: %[[V11:[0-9]+]] = tg.gelu %[[V10]] : tensor<4x8xf32>
// CHECK: %[[V12:[0-9]+]] = tg.gelu %[[V11]] {approximate = true} : tensor<4x8xf32>
// The default (approximate = false) is elided when printed.
// CHECK: %[[V13:[0-9]+]] = tg.gelu %[[V12]] : tensor<4x8xf32>
// CHECK: return %[[V13]] : tensor<4x8xf32>
// GENERIC-LABEL: sym_name = "unary_f32"
// GENERIC: "tg.neg"(%{{.*}}) : (tensor<4x8xf32>) -> tensor<4x8xf32>
// GENERIC: "tg.gelu"(%{{.*}}) {approximate = false} : (tensor<4x8xf32>) -> tensor<4x8xf32>
// GENERIC: "tg.gelu"(%{{.*}}) {approximate = true} : (tensor<4x8xf32>) -> tensor<4x8xf32>
func.func @unary_f32(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = tg.neg %x : tensor<4x8xf32>
  %1 = tg.abs %0 : tensor<4x8xf32>
  %2 = tg.sign %1 : tensor<4x8xf32>
  %3 = tg.exp %2 : tensor<4x8xf32>
  %4 = tg.log %3 : tensor<4x8xf32>
  %5 = tg.sqrt %4 : tensor<4x8xf32>
  %6 = tg.rsqrt %5 : tensor<4x8xf32>
  %7 = tg.tanh %6 : tensor<4x8xf32>
  %8 = tg.sigmoid %7 : tensor<4x8xf32>
  %9 = tg.relu %8 : tensor<4x8xf32>
  %10 = tg.erf %9 : tensor<4x8xf32>
  %11 = tg.gelu %10 : tensor<4x8xf32>
  %12 = tg.gelu %11 {approximate = true} : tensor<4x8xf32>
  %13 = tg.gelu %12 {approximate = false} : tensor<4x8xf32>
  return %13 : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @unary_element_types
// CHECK: tg.exp %{{.*}} : tensor<3xf16>
// CHECK: tg.tanh %{{.*}} : tensor<2x1xbf16>
// CHECK: tg.sqrt %{{.*}} : tensor<f64>
// CHECK: tg.log %{{.*}} : tensor<0x3xf32>
// CHECK: tg.sigmoid %{{.*}} : tensor<1x1x1xf32>
// CHECK: tg.neg %{{.*}} : tensor<5xi32>
// CHECK: tg.abs %{{.*}} : tensor<1x1xi64>
// CHECK: tg.sign %{{.*}} : tensor<5xi32>
// CHECK: tg.relu %{{.*}} : tensor<f32>
// CHECK: tg.erf %{{.*}} : tensor<2xf64>
// CHECK: tg.gelu %{{.*}} {approximate = true} : tensor<3xf16>
// CHECK: tg.floor %{{.*}} : tensor<2xf64>
// CHECK: tg.sin %{{.*}} : tensor<f32>
// CHECK: tg.cos %{{.*}} : tensor<3xf16>
func.func @unary_element_types(%h: tensor<3xf16>, %b: tensor<2x1xbf16>, %d: tensor<f64>,
                               %z: tensor<0x3xf32>, %one: tensor<1x1x1xf32>,
                               %i: tensor<5xi32>, %l: tensor<1x1xi64>, %s: tensor<f32>,
                               %d2: tensor<2xf64>) {
  %0 = tg.exp %h : tensor<3xf16>
  %1 = tg.tanh %b : tensor<2x1xbf16>
  %2 = tg.sqrt %d : tensor<f64>
  %3 = tg.log %z : tensor<0x3xf32>
  %4 = tg.sigmoid %one : tensor<1x1x1xf32>
  %5 = tg.neg %i : tensor<5xi32>
  %6 = tg.abs %l : tensor<1x1xi64>
  %7 = tg.sign %i : tensor<5xi32>
  %8 = tg.relu %s : tensor<f32>
  %9 = tg.erf %d2 : tensor<2xf64>
  %10 = tg.gelu %h {approximate = true} : tensor<3xf16>
  %11 = tg.floor %d2 : tensor<2xf64>
  %12 = tg.sin %s : tensor<f32>
  %13 = tg.cos %h : tensor<3xf16>
  return
}

//===----------------------------------------------------------------------===//
// Elementwise binary, compare, select
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @binary
// CHECK-SAME: (%[[A:[a-z0-9]+]]: tensor<4x8xf32>, %[[B:[a-z0-9]+]]: tensor<8xf32>, %[[S:[a-z0-9]+]]: tensor<f32>)
// CHECK: %[[V0:[0-9]+]] = tg.add %[[A]], %[[B]] : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
// CHECK: %[[V1:[0-9]+]] = tg.sub %[[B]], %[[V0]] : (tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK: %[[V2:[0-9]+]] = tg.mul %[[V1]], %[[S]] : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
// CHECK: %[[V3:[0-9]+]] = tg.div %[[S]], %[[V2]] : (tensor<f32>, tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK: %[[V4:[0-9]+]] = tg.pow %[[V3]], %[[A]] : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK: %[[V5:[0-9]+]] = tg.maximum %[[V4]], %[[B]] : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
// CHECK: %[[V6:[0-9]+]] = tg.minimum %[[V5]], %[[S]] : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
// CHECK: %[[V7:[0-9]+]] = tg.add %[[S]], %[[S]] : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK: return %[[V6]], %[[V7]]
// GENERIC-LABEL: sym_name = "binary"
// GENERIC: "tg.add"(%{{.*}}, %{{.*}}) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
func.func @binary(%a: tensor<4x8xf32>, %b: tensor<8xf32>, %s: tensor<f32>) -> (tensor<4x8xf32>, tensor<f32>) {
  %0 = tg.add %a, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %1 = tg.sub %b, %0 : (tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %2 = tg.mul %1, %s : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %3 = tg.div %s, %2 : (tensor<f32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %4 = tg.pow %3, %a : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %5 = tg.maximum %4, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %6 = tg.minimum %5, %s : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %7 = tg.add %s, %s : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %6, %7 : tensor<4x8xf32>, tensor<f32>
}

// Broadcasting with size-1 and zero-size dimensions, and integer element types.
// CHECK-LABEL: func.func @binary_broadcast_edges
// CHECK: tg.add %{{.*}}, %{{.*}} : (tensor<4x1xf32>, tensor<1x5xf32>) -> tensor<4x5xf32>
// CHECK: tg.mul %{{.*}}, %{{.*}} : (tensor<0x1xf32>, tensor<3xf32>) -> tensor<0x3xf32>
// CHECK: tg.sub %{{.*}}, %{{.*}} : (tensor<0x3xf32>, tensor<f32>) -> tensor<0x3xf32>
// CHECK: tg.add %{{.*}}, %{{.*}} : (tensor<2x1x3xi32>, tensor<4x1xi32>) -> tensor<2x4x3xi32>
// CHECK: tg.div %{{.*}}, %{{.*}} : (tensor<5xi64>, tensor<5xi64>) -> tensor<5xi64>
// CHECK: tg.pow %{{.*}}, %{{.*}} : (tensor<2xf16>, tensor<f16>) -> tensor<2xf16>
// CHECK: tg.maximum %{{.*}}, %{{.*}} : (tensor<1xbf16>, tensor<1x1xbf16>) -> tensor<1x1xbf16>
// CHECK: tg.minimum %{{.*}}, %{{.*}} : (tensor<3xf64>, tensor<1xf64>) -> tensor<3xf64>
func.func @binary_broadcast_edges(%a: tensor<4x1xf32>, %b: tensor<1x5xf32>, %z: tensor<0x1xf32>,
                                  %c: tensor<3xf32>, %s: tensor<f32>, %i: tensor<2x1x3xi32>,
                                  %j: tensor<4x1xi32>, %l: tensor<5xi64>, %h: tensor<2xf16>,
                                  %hs: tensor<f16>, %bf: tensor<1xbf16>, %bf2: tensor<1x1xbf16>,
                                  %d: tensor<3xf64>, %d1: tensor<1xf64>) {
  %0 = tg.add %a, %b : (tensor<4x1xf32>, tensor<1x5xf32>) -> tensor<4x5xf32>
  %1 = tg.mul %z, %c : (tensor<0x1xf32>, tensor<3xf32>) -> tensor<0x3xf32>
  %2 = tg.sub %1, %s : (tensor<0x3xf32>, tensor<f32>) -> tensor<0x3xf32>
  %3 = tg.add %i, %j : (tensor<2x1x3xi32>, tensor<4x1xi32>) -> tensor<2x4x3xi32>
  %4 = tg.div %l, %l : (tensor<5xi64>, tensor<5xi64>) -> tensor<5xi64>
  %5 = tg.pow %h, %hs : (tensor<2xf16>, tensor<f16>) -> tensor<2xf16>
  %6 = tg.maximum %bf, %bf2 : (tensor<1xbf16>, tensor<1x1xbf16>) -> tensor<1x1xbf16>
  %7 = tg.minimum %d, %d1 : (tensor<3xf64>, tensor<1xf64>) -> tensor<3xf64>
  return
}

// CHECK-LABEL: func.func @compare_select
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<4xf32>, %[[Y:[a-z0-9]+]]: tensor<f32>, %[[I:[a-z0-9]+]]: tensor<2x1xi32>, %[[J:[a-z0-9]+]]: tensor<3xi32>, %[[M:[a-z0-9]+]]: tensor<i1>)
// CHECK: %[[GT:[0-9]+]] = tg.compare %[[X]], %[[Y]] {predicate = "gt"} : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>
// CHECK: tg.compare %[[X]], %[[X]] {predicate = "eq"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
// CHECK: tg.compare %[[X]], %[[Y]] {predicate = "ne"} : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>
// CHECK: tg.compare %[[I]], %[[J]] {predicate = "lt"} : (tensor<2x1xi32>, tensor<3xi32>) -> tensor<2x3xi1>
// CHECK: tg.compare %[[I]], %[[J]] {predicate = "le"} : (tensor<2x1xi32>, tensor<3xi32>) -> tensor<2x3xi1>
// CHECK: tg.compare %[[M]], %[[GT]] {predicate = "ge"} : (tensor<i1>, tensor<4xi1>) -> tensor<4xi1>
// CHECK: tg.select %[[GT]], %[[X]], %[[Y]] : (tensor<4xi1>, tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
// CHECK: tg.select %[[M]], %[[I]], %[[J]] : (tensor<i1>, tensor<2x1xi32>, tensor<3xi32>) -> tensor<2x3xi32>
// CHECK: tg.select %[[GT]], %[[M]], %[[GT]] : (tensor<4xi1>, tensor<i1>, tensor<4xi1>) -> tensor<4xi1>
// GENERIC-LABEL: sym_name = "compare_select"
// GENERIC: "tg.compare"(%{{.*}}, %{{.*}}) {predicate = "gt"} : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>
// GENERIC: "tg.select"(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<4xi1>, tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
func.func @compare_select(%x: tensor<4xf32>, %y: tensor<f32>, %i: tensor<2x1xi32>,
                          %j: tensor<3xi32>, %m: tensor<i1>) {
  %0 = tg.compare %x, %y {predicate = "gt"} : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>
  %1 = tg.compare %x, %x {predicate = "eq"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  %2 = tg.compare %x, %y {predicate = "ne"} : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>
  %3 = tg.compare %i, %j {predicate = "lt"} : (tensor<2x1xi32>, tensor<3xi32>) -> tensor<2x3xi1>
  %4 = tg.compare %i, %j {predicate = "le"} : (tensor<2x1xi32>, tensor<3xi32>) -> tensor<2x3xi1>
  %5 = tg.compare %m, %0 {predicate = "ge"} : (tensor<i1>, tensor<4xi1>) -> tensor<4xi1>
  %6 = tg.select %0, %x, %y : (tensor<4xi1>, tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %7 = tg.select %m, %i, %j : (tensor<i1>, tensor<2x1xi32>, tensor<3xi32>) -> tensor<2x3xi32>
  %8 = tg.select %0, %m, %0 : (tensor<4xi1>, tensor<i1>, tensor<4xi1>) -> tensor<4xi1>
  return
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @attention
// CHECK: %[[O:.*]] = tg.attention %{{.*}}, %{{.*}}, %{{.*}} {causal = true, scale = 1.250000e-01 : f64} : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x6xf32>) -> tensor<2x4x16x6xf32>
// CHECK: tg.attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {scale = 5.000000e-01 : f64} : (tensor<3x5xf64>, tensor<7x5xf64>, tensor<7x2xf64>, tensor<1x7xi1>) -> tensor<3x2xf64>
// CHECK: tg.attention_grad %{{.*}}, %{{.*}}, %{{.*}}, %[[O]], %{{.*}} {causal = true, scale = 1.250000e-01 : f64} : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x6xf32>, tensor<2x4x16x6xf32>, tensor<2x4x16x6xf32>) -> (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x6xf32>)
func.func @attention(%q: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x6xf32>, %g: tensor<2x4x16x6xf32>,
                     %a: tensor<3x5xf64>, %b: tensor<7x5xf64>, %c: tensor<7x2xf64>, %m: tensor<1x7xi1>) {
  %0 = tg.attention %q, %q, %v {causal = true, scale = 0.125 : f64} : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x6xf32>) -> tensor<2x4x16x6xf32>
  %1 = tg.attention %a, %b, %c, %m {causal = false, scale = 0.5 : f64} : (tensor<3x5xf64>, tensor<7x5xf64>, tensor<7x2xf64>, tensor<1x7xi1>) -> tensor<3x2xf64>
  %2:3 = tg.attention_grad %q, %q, %v, %0, %g {causal = true, scale = 0.125 : f64} : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x6xf32>, tensor<2x4x16x6xf32>, tensor<2x4x16x6xf32>) -> (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x6xf32>)
  return
}

//===----------------------------------------------------------------------===//
// Matmul, transpose, reshape, broadcast_to
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<32x784xf32>, %[[W:[a-z0-9]+]]: tensor<784x256xf32>, %[[DY:[a-z0-9]+]]: tensor<32x256xf32>
// CHECK: tg.matmul %[[X]], %[[W]] : (tensor<32x784xf32>, tensor<784x256xf32>) -> tensor<32x256xf32>
// CHECK: tg.matmul %[[X]], %[[DY]] {transpose_lhs = true} : (tensor<32x784xf32>, tensor<32x256xf32>) -> tensor<784x256xf32>
// CHECK: tg.matmul %[[DY]], %[[W]] {transpose_rhs = true} : (tensor<32x256xf32>, tensor<784x256xf32>) -> tensor<32x784xf32>
// CHECK: tg.matmul %[[W]], %[[X]] {transpose_lhs = true, transpose_rhs = true} : (tensor<784x256xf32>, tensor<32x784xf32>) -> tensor<256x32xf32>
// Explicit default values are elided.
// CHECK: tg.matmul %[[X]], %[[W]] : (tensor<32x784xf32>, tensor<784x256xf32>) -> tensor<32x256xf32>
// CHECK: tg.matmul %{{.*}}, %{{.*}} : (tensor<5x1x2x3xf32>, tensor<4x3x6xf32>) -> tensor<5x4x2x6xf32>
// CHECK: tg.matmul %{{.*}}, %{{.*}} : (tensor<7x2x3xf32>, tensor<3x4xf32>) -> tensor<7x2x4xf32>
// CHECK: tg.matmul %{{.*}}, %{{.*}} {transpose_lhs = true} : (tensor<1x3x2xf16>, tensor<6x3x4xf16>) -> tensor<6x2x4xf16>
// CHECK: tg.matmul %{{.*}}, %{{.*}} : (tensor<2x0xf32>, tensor<0x3xf32>) -> tensor<2x3xf32>
// CHECK: tg.matmul %{{.*}}, %{{.*}} : (tensor<1x1xi32>, tensor<1x1xi32>) -> tensor<1x1xi32>
// CHECK: tg.matmul %{{.*}}, %{{.*}} : (tensor<2x2xf64>, tensor<2x2xf64>) -> tensor<2x2xf64>
// GENERIC-LABEL: sym_name = "matmul"
// GENERIC: "tg.matmul"(%{{.*}}, %{{.*}}) {transpose_lhs = false, transpose_rhs = false} : (tensor<32x784xf32>, tensor<784x256xf32>) -> tensor<32x256xf32>
func.func @matmul(%x: tensor<32x784xf32>, %w: tensor<784x256xf32>, %dy: tensor<32x256xf32>,
                  %ba: tensor<5x1x2x3xf32>, %bb: tensor<4x3x6xf32>, %bc: tensor<7x2x3xf32>,
                  %bd: tensor<3x4xf32>, %h1: tensor<1x3x2xf16>, %h2: tensor<6x3x4xf16>,
                  %e1: tensor<2x0xf32>, %e2: tensor<0x3xf32>, %i: tensor<1x1xi32>,
                  %d: tensor<2x2xf64>) {
  %0 = tg.matmul %x, %w : (tensor<32x784xf32>, tensor<784x256xf32>) -> tensor<32x256xf32>
  %1 = tg.matmul %x, %dy {transpose_lhs = true} : (tensor<32x784xf32>, tensor<32x256xf32>) -> tensor<784x256xf32>
  %2 = tg.matmul %dy, %w {transpose_rhs = true} : (tensor<32x256xf32>, tensor<784x256xf32>) -> tensor<32x784xf32>
  %3 = tg.matmul %w, %x {transpose_lhs = true, transpose_rhs = true} : (tensor<784x256xf32>, tensor<32x784xf32>) -> tensor<256x32xf32>
  %4 = tg.matmul %x, %w {transpose_lhs = false, transpose_rhs = false} : (tensor<32x784xf32>, tensor<784x256xf32>) -> tensor<32x256xf32>
  %5 = tg.matmul %ba, %bb : (tensor<5x1x2x3xf32>, tensor<4x3x6xf32>) -> tensor<5x4x2x6xf32>
  %6 = tg.matmul %bc, %bd : (tensor<7x2x3xf32>, tensor<3x4xf32>) -> tensor<7x2x4xf32>
  %7 = tg.matmul %h1, %h2 {transpose_lhs = true} : (tensor<1x3x2xf16>, tensor<6x3x4xf16>) -> tensor<6x2x4xf16>
  %8 = tg.matmul %e1, %e2 : (tensor<2x0xf32>, tensor<0x3xf32>) -> tensor<2x3xf32>
  %9 = tg.matmul %i, %i : (tensor<1x1xi32>, tensor<1x1xi32>) -> tensor<1x1xi32>
  %10 = tg.matmul %d, %d : (tensor<2x2xf64>, tensor<2x2xf64>) -> tensor<2x2xf64>
  return
}

// CHECK-LABEL: func.func @layout
// CHECK: tg.transpose %{{.*}} {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
// CHECK: tg.transpose %{{.*}} {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xi32>) -> tensor<4x2x3xi32>
// CHECK: tg.transpose %{{.*}} {perm = array<i64>} : (tensor<f32>) -> tensor<f32>
// CHECK: tg.transpose %{{.*}} {perm = array<i64: 1, 0>} : (tensor<0x3xf32>) -> tensor<3x0xf32>
// CHECK: tg.reshape %{{.*}} : (tensor<2x3xf32>) -> tensor<6xf32>
// CHECK: tg.reshape %{{.*}} : (tensor<f32>) -> tensor<1x1xf32>
// CHECK: tg.reshape %{{.*}} : (tensor<1x1xf32>) -> tensor<f32>
// CHECK: tg.reshape %{{.*}} : (tensor<0x3xf32>) -> tensor<3x0x5xf32>
// CHECK: tg.reshape %{{.*}} : (tensor<4xi1>) -> tensor<2x2xi1>
// CHECK: tg.broadcast_to %{{.*}} : (tensor<3xf32>) -> tensor<2x3xf32>
// CHECK: tg.broadcast_to %{{.*}} : (tensor<f32>) -> tensor<4x5xf32>
// CHECK: tg.broadcast_to %{{.*}} : (tensor<2x1xi64>) -> tensor<3x2x7xi64>
// CHECK: tg.broadcast_to %{{.*}} : (tensor<1xf32>) -> tensor<0xf32>
// CHECK: tg.broadcast_to %{{.*}} : (tensor<3xf32>) -> tensor<3xf32>
// GENERIC-LABEL: sym_name = "layout"
// GENERIC: "tg.transpose"(%{{.*}}) {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
// GENERIC: "tg.reshape"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<6xf32>
// GENERIC: "tg.broadcast_to"(%{{.*}}) : (tensor<3xf32>) -> tensor<2x3xf32>
func.func @layout(%a: tensor<2x3xf32>, %b: tensor<2x3x4xi32>, %s: tensor<f32>, %z: tensor<0x3xf32>,
                  %m: tensor<4xi1>, %v: tensor<3xf32>, %c: tensor<2x1xi64>, %o: tensor<1xf32>) {
  %0 = tg.transpose %a {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %1 = tg.transpose %b {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xi32>) -> tensor<4x2x3xi32>
  %2 = tg.transpose %s {perm = array<i64>} : (tensor<f32>) -> tensor<f32>
  %3 = tg.transpose %z {perm = array<i64: 1, 0>} : (tensor<0x3xf32>) -> tensor<3x0xf32>
  %4 = tg.reshape %a : (tensor<2x3xf32>) -> tensor<6xf32>
  %5 = tg.reshape %s : (tensor<f32>) -> tensor<1x1xf32>
  %6 = tg.reshape %5 : (tensor<1x1xf32>) -> tensor<f32>
  %7 = tg.reshape %z : (tensor<0x3xf32>) -> tensor<3x0x5xf32>
  %8 = tg.reshape %m : (tensor<4xi1>) -> tensor<2x2xi1>
  %9 = tg.broadcast_to %v : (tensor<3xf32>) -> tensor<2x3xf32>
  %10 = tg.broadcast_to %s : (tensor<f32>) -> tensor<4x5xf32>
  %11 = tg.broadcast_to %c : (tensor<2x1xi64>) -> tensor<3x2x7xi64>
  %12 = tg.broadcast_to %o : (tensor<1xf32>) -> tensor<0xf32>
  %13 = tg.broadcast_to %v : (tensor<3xf32>) -> tensor<3xf32>
  return
}

//===----------------------------------------------------------------------===//
// Reductions, argmax, softmax
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @reductions
// CHECK: tg.reduce %{{.*}} {axes = array<i64: 0>, kind = "sum"} : (tensor<32x10xf32>) -> tensor<10xf32>
// CHECK: tg.reduce %{{.*}} {axes = array<i64: 1>, keepdims = true, kind = "max"} : (tensor<32x10xf32>) -> tensor<32x1xf32>
// CHECK: tg.reduce %{{.*}} {kind = "mean"} : (tensor<32x10xf32>) -> tensor<f32>
// CHECK: tg.reduce %{{.*}} {keepdims = true, kind = "min"} : (tensor<32x10xf32>) -> tensor<1x1xf32>
// CHECK: tg.reduce %{{.*}} {axes = array<i64: 2, 0>, kind = "sum"} : (tensor<2x3x4xi32>) -> tensor<3xi32>
// CHECK: tg.reduce %{{.*}} {axes = array<i64: 0>, kind = "sum"} : (tensor<0x3xf32>) -> tensor<3xf32>
// CHECK: tg.reduce %{{.*}} {kind = "max"} : (tensor<f64>) -> tensor<f64>
// CHECK: tg.reduce %{{.*}} {axes = array<i64: 1>, kind = "mean"} : (tensor<2x3xf32>) -> tensor<2xf32>
// CHECK: tg.argmax %{{.*}} {axis = 1 : i64} : (tensor<32x10xf32>) -> tensor<32xi32>
// CHECK: tg.argmax %{{.*}} {axis = 0 : i64} : (tensor<5xi64>) -> tensor<i64>
// CHECK: tg.argmax %{{.*}} {axis = 0 : i64} : (tensor<1x0xf32>) -> tensor<0xi64>
// CHECK: tg.softmax %{{.*}} {axis = 1 : i64} : tensor<32x10xf32>
// CHECK: tg.log_softmax %{{.*}} {axis = 0 : i64} : tensor<32x10xf32>
// CHECK: tg.softmax %{{.*}} {axis = 0 : i64} : tensor<7xbf16>
// CHECK: tg.log_softmax %{{.*}} {axis = 2 : i64} : tensor<1x1x4xf64>
// GENERIC-LABEL: sym_name = "reductions"
// GENERIC: "tg.reduce"(%{{.*}}) {axes = array<i64: 0>, keepdims = false, kind = "sum"} : (tensor<32x10xf32>) -> tensor<10xf32>
// GENERIC: "tg.reduce"(%{{.*}}) {axes = array<i64>, keepdims = false, kind = "mean"} : (tensor<32x10xf32>) -> tensor<f32>
func.func @reductions(%x: tensor<32x10xf32>, %i: tensor<2x3x4xi32>, %z: tensor<0x3xf32>,
                      %d: tensor<f64>, %a: tensor<2x3xf32>, %l: tensor<5xi64>,
                      %e: tensor<1x0xf32>, %bf: tensor<7xbf16>, %f: tensor<1x1x4xf64>) {
  %0 = tg.reduce %x {kind = "sum", axes = array<i64: 0>} : (tensor<32x10xf32>) -> tensor<10xf32>
  %1 = tg.reduce %x {kind = "max", axes = array<i64: 1>, keepdims = true} : (tensor<32x10xf32>) -> tensor<32x1xf32>
  %2 = tg.reduce %x {kind = "mean"} : (tensor<32x10xf32>) -> tensor<f32>
  %3 = tg.reduce %x {kind = "min", axes = array<i64>, keepdims = true} : (tensor<32x10xf32>) -> tensor<1x1xf32>
  %4 = tg.reduce %i {kind = "sum", axes = array<i64: 2, 0>} : (tensor<2x3x4xi32>) -> tensor<3xi32>
  %5 = tg.reduce %z {kind = "sum", axes = array<i64: 0>} : (tensor<0x3xf32>) -> tensor<3xf32>
  %6 = tg.reduce %d {kind = "max"} : (tensor<f64>) -> tensor<f64>
  %7 = tg.reduce %a {kind = "mean", axes = array<i64: 1>, keepdims = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  %8 = tg.argmax %x {axis = 1} : (tensor<32x10xf32>) -> tensor<32xi32>
  %9 = tg.argmax %l {axis = 0} : (tensor<5xi64>) -> tensor<i64>
  %10 = tg.argmax %e {axis = 0} : (tensor<1x0xf32>) -> tensor<0xi64>
  %11 = tg.softmax %x {axis = 1} : tensor<32x10xf32>
  %12 = tg.log_softmax %x {axis = 0} : tensor<32x10xf32>
  %13 = tg.softmax %bf {axis = 0} : tensor<7xbf16>
  %14 = tg.log_softmax %f {axis = 2} : tensor<1x1x4xf64>
  return
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @convolution
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<8x1x28x28xf32>, %[[W:[a-z0-9]+]]: tensor<32x1x3x3xf32>, %[[DY:[a-z0-9]+]]: tensor<8x32x28x28xf32>
// CHECK: tg.conv2d %[[X]], %[[W]] {padding = array<i64: 1, 1, 1, 1>} : (tensor<8x1x28x28xf32>, tensor<32x1x3x3xf32>) -> tensor<8x32x28x28xf32>
// CHECK: tg.conv2d %[[X]], %[[W]] : (tensor<8x1x28x28xf32>, tensor<32x1x3x3xf32>) -> tensor<8x32x26x26xf32>
// CHECK: tg.conv2d %{{.*}}, %{{.*}} {groups = 2 : i64, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x4x4xf32>
// CHECK: tg.conv2d %{{.*}}, %{{.*}} {dilations = array<i64: 2, 3>, padding = array<i64: 0, 1, 2, 0>, strides = array<i64: 1, 2>} : (tensor<2x3x9x10xf64>, tensor<4x3x2x2xf64>) -> tensor<2x4x8x5xf64>
// CHECK: tg.conv2d %{{.*}}, %{{.*}} : (tensor<1x1x1x1xf16>, tensor<1x1x1x1xf16>) -> tensor<1x1x1x1xf16>
// CHECK: tg.conv2d %{{.*}}, %{{.*}} : (tensor<0x2x3x3xf32>, tensor<5x2x3x3xf32>) -> tensor<0x5x1x1xf32>
// CHECK: tg.conv2d_backprop_input %[[DY]], %[[W]] {padding = array<i64: 1, 1, 1, 1>} : (tensor<8x32x28x28xf32>, tensor<32x1x3x3xf32>) -> tensor<8x1x28x28xf32>
// CHECK: tg.conv2d_backprop_filter %[[X]], %[[DY]] {padding = array<i64: 1, 1, 1, 1>} : (tensor<8x1x28x28xf32>, tensor<8x32x28x28xf32>) -> tensor<32x1x3x3xf32>
// CHECK: tg.conv2d_backprop_filter_bias %[[X]], %[[DY]] {padding = array<i64: 1, 1, 1, 1>} : (tensor<8x1x28x28xf32>, tensor<8x32x28x28xf32>) -> (tensor<32x1x3x3xf32>, tensor<32xf32>)
// The backprop-input result shape is free when strides do not divide evenly:
// 8 and 7 rows both give 3 output rows with a 3x3 window and stride 2.
// CHECK: tg.conv2d_backprop_input %{{.*}}, %{{.*}} {groups = 2 : i64, strides = array<i64: 2, 2>} : (tensor<1x6x3x3xf32>, tensor<6x2x3x3xf32>) -> tensor<1x4x8x8xf32>
// CHECK: tg.conv2d_backprop_input %{{.*}}, %{{.*}} {groups = 2 : i64, strides = array<i64: 2, 2>} : (tensor<1x6x3x3xf32>, tensor<6x2x3x3xf32>) -> tensor<1x4x7x7xf32>
// CHECK: tg.conv2d_backprop_filter %{{.*}}, %{{.*}} {dilations = array<i64: 2, 3>, padding = array<i64: 0, 1, 2, 0>, strides = array<i64: 1, 2>} : (tensor<2x3x9x10xf64>, tensor<2x4x8x5xf64>) -> tensor<4x3x2x2xf64>
// GENERIC-LABEL: sym_name = "convolution"
// GENERIC: "tg.conv2d"(%{{.*}}, %{{.*}}) {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<8x1x28x28xf32>, tensor<32x1x3x3xf32>) -> tensor<8x32x28x28xf32>
func.func @convolution(%x: tensor<8x1x28x28xf32>, %w: tensor<32x1x3x3xf32>, %dy: tensor<8x32x28x28xf32>,
                       %gx: tensor<1x4x8x8xf32>, %gw: tensor<6x2x3x3xf32>, %gdy: tensor<1x6x3x3xf32>,
                       %dx: tensor<2x3x9x10xf64>, %dw: tensor<4x3x2x2xf64>, %ddy: tensor<2x4x8x5xf64>,
                       %hx: tensor<1x1x1x1xf16>, %ex: tensor<0x2x3x3xf32>, %ew: tensor<5x2x3x3xf32>) {
  %0 = tg.conv2d %x, %w {padding = array<i64: 1, 1, 1, 1>} : (tensor<8x1x28x28xf32>, tensor<32x1x3x3xf32>) -> tensor<8x32x28x28xf32>
  %1 = tg.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<8x1x28x28xf32>, tensor<32x1x3x3xf32>) -> tensor<8x32x26x26xf32>
  %2 = tg.conv2d %gx, %gw {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, groups = 2} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x4x4xf32>
  %3 = tg.conv2d %dx, %dw {strides = array<i64: 1, 2>, padding = array<i64: 0, 1, 2, 0>, dilations = array<i64: 2, 3>} : (tensor<2x3x9x10xf64>, tensor<4x3x2x2xf64>) -> tensor<2x4x8x5xf64>
  %4 = tg.conv2d %hx, %hx : (tensor<1x1x1x1xf16>, tensor<1x1x1x1xf16>) -> tensor<1x1x1x1xf16>
  %5 = tg.conv2d %ex, %ew : (tensor<0x2x3x3xf32>, tensor<5x2x3x3xf32>) -> tensor<0x5x1x1xf32>
  %6 = tg.conv2d_backprop_input %dy, %w {padding = array<i64: 1, 1, 1, 1>} : (tensor<8x32x28x28xf32>, tensor<32x1x3x3xf32>) -> tensor<8x1x28x28xf32>
  %7 = tg.conv2d_backprop_filter %x, %dy {padding = array<i64: 1, 1, 1, 1>} : (tensor<8x1x28x28xf32>, tensor<8x32x28x28xf32>) -> tensor<32x1x3x3xf32>
  %fb:2 = tg.conv2d_backprop_filter_bias %x, %dy {padding = array<i64: 1, 1, 1, 1>} : (tensor<8x1x28x28xf32>, tensor<8x32x28x28xf32>) -> (tensor<32x1x3x3xf32>, tensor<32xf32>)
  %8 = tg.conv2d_backprop_input %gdy, %gw {strides = array<i64: 2, 2>, groups = 2} : (tensor<1x6x3x3xf32>, tensor<6x2x3x3xf32>) -> tensor<1x4x8x8xf32>
  %9 = tg.conv2d_backprop_input %gdy, %gw {strides = array<i64: 2, 2>, groups = 2} : (tensor<1x6x3x3xf32>, tensor<6x2x3x3xf32>) -> tensor<1x4x7x7xf32>
  %10 = tg.conv2d_backprop_filter %dx, %ddy {strides = array<i64: 1, 2>, padding = array<i64: 0, 1, 2, 0>, dilations = array<i64: 2, 3>} : (tensor<2x3x9x10xf64>, tensor<2x4x8x5xf64>) -> tensor<4x3x2x2xf64>
  return
}

// CHECK-LABEL: func.func @pooling
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<8x32x28x28xf32>, %[[DY:[a-z0-9]+]]: tensor<8x32x14x14xf32>
// CHECK: tg.max_pool2d %[[X]] {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<8x32x28x28xf32>) -> tensor<8x32x14x14xf32>
// CHECK: tg.avg_pool2d %[[X]] {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<8x32x28x28xf32>) -> tensor<8x32x14x14xf32>
// CHECK: tg.avg_pool2d %{{.*}} {count_include_pad = true, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x2x5x5xf16>) -> tensor<1x2x5x5xf16>
// CHECK: tg.max_pool2d %{{.*}} {kernel = array<i64: 3, 2>, padding = array<i64: 0, 2, 1, 0>, strides = array<i64: 2, 1>} : (tensor<2x1x7x6xf64>) -> tensor<2x1x4x6xf64>
// CHECK: tg.max_pool2d %{{.*}} {kernel = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32>
// CHECK: tg.max_pool2d_grad %[[X]], %[[DY]] {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<8x32x28x28xf32>, tensor<8x32x14x14xf32>) -> tensor<8x32x28x28xf32>
// CHECK: tg.avg_pool2d_grad %[[DY]] {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<8x32x14x14xf32>) -> tensor<8x32x28x28xf32>
// CHECK: tg.avg_pool2d_grad %[[DY]] {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<8x32x14x14xf32>) -> tensor<8x32x29x29xf32>
// CHECK: tg.avg_pool2d_grad %{{.*}} {count_include_pad = true, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x2x5x5xf16>) -> tensor<1x2x5x5xf16>
// CHECK: tg.max_pool2d_grad %{{.*}}, %{{.*}} {kernel = array<i64: 3, 2>, padding = array<i64: 0, 2, 1, 0>, strides = array<i64: 2, 1>} : (tensor<2x1x7x6xf64>, tensor<2x1x4x6xf64>) -> tensor<2x1x7x6xf64>
// GENERIC-LABEL: sym_name = "pooling"
// GENERIC: "tg.max_pool2d"(%{{.*}}) {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
// GENERIC: "tg.avg_pool2d"(%{{.*}}) {count_include_pad = false, kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
func.func @pooling(%x: tensor<8x32x28x28xf32>, %dy: tensor<8x32x14x14xf32>, %h: tensor<1x2x5x5xf16>,
                   %d: tensor<2x1x7x6xf64>, %dd: tensor<2x1x4x6xf64>, %one: tensor<1x1x1x1xf32>) {
  %0 = tg.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<8x32x28x28xf32>) -> tensor<8x32x14x14xf32>
  %1 = tg.avg_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, count_include_pad = false} : (tensor<8x32x28x28xf32>) -> tensor<8x32x14x14xf32>
  %2 = tg.avg_pool2d %h {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, count_include_pad = true} : (tensor<1x2x5x5xf16>) -> tensor<1x2x5x5xf16>
  %3 = tg.max_pool2d %d {kernel = array<i64: 3, 2>, strides = array<i64: 2, 1>, padding = array<i64: 0, 2, 1, 0>} : (tensor<2x1x7x6xf64>) -> tensor<2x1x4x6xf64>
  %4 = tg.max_pool2d %one {kernel = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32>
  %5 = tg.max_pool2d_grad %x, %dy {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<8x32x28x28xf32>, tensor<8x32x14x14xf32>) -> tensor<8x32x28x28xf32>
  %6 = tg.avg_pool2d_grad %dy {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<8x32x14x14xf32>) -> tensor<8x32x28x28xf32>
  %7 = tg.avg_pool2d_grad %dy {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<8x32x14x14xf32>) -> tensor<8x32x29x29xf32>
  %8 = tg.avg_pool2d_grad %h {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, count_include_pad = true} : (tensor<1x2x5x5xf16>) -> tensor<1x2x5x5xf16>
  %9 = tg.max_pool2d_grad %d, %dd {kernel = array<i64: 3, 2>, strides = array<i64: 2, 1>, padding = array<i64: 0, 2, 1, 0>} : (tensor<2x1x7x6xf64>, tensor<2x1x4x6xf64>) -> tensor<2x1x7x6xf64>
  return
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @data_movement
// CHECK-SAME: (%[[A:[a-z0-9]+]]: tensor<2x3xf32>, %[[B:[a-z0-9]+]]: tensor<2x5xf32>
// CHECK: tg.concat %[[A]], %[[B]] {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
// CHECK: tg.concat %[[A]] {axis = 0 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: tg.concat %{{.*}}, %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<0x3xi64>, tensor<1x3xi64>, tensor<2x3xi64>) -> tensor<3x3xi64>
// CHECK: tg.slice %{{.*}} {limit = array<i64: 4, 8>, start = array<i64: 0, 0>, strides = array<i64: 1, 1>} : (tensor<4x32xf32>) -> tensor<4x8xf32>
// CHECK: tg.slice %{{.*}} {limit = array<i64: 4, 32>, start = array<i64: 1, 3>, strides = array<i64: 2, 5>} : (tensor<4x32xf32>) -> tensor<2x6xf32>
// CHECK: tg.slice %{{.*}} {limit = array<i64: 2, 2>, start = array<i64: 2, 0>, strides = array<i64: 1, 1>} : (tensor<4x32xf32>) -> tensor<0x2xf32>
// CHECK: tg.slice %{{.*}} {limit = array<i64>, start = array<i64>, strides = array<i64>} : (tensor<f32>) -> tensor<f32>
// CHECK: tg.pad %[[A]] {high = array<i64: 0, 2>, low = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<2x6xf32>
// CHECK: tg.pad %{{.*}} {high = array<i64: 1>, low = array<i64: 2>, value = -1.000000e+00 : f64} : (tensor<0xi32>) -> tensor<3xi32>
// CHECK: tg.pad %{{.*}} {high = array<i64>, low = array<i64>} : (tensor<f32>) -> tensor<f32>
// The default axis = 0 is elided.
// CHECK: tg.gather %{{.*}}, %{{.*}} : (tensor<100x16xf32>, tensor<8x5xi32>) -> tensor<8x5x16xf32>
// CHECK: tg.gather %{{.*}}, %{{.*}} : (tensor<100x16xf32>, tensor<8x5xi32>) -> tensor<8x5x16xf32>
// CHECK: tg.gather %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<2x3x4xbf16>, tensor<i64>) -> tensor<2x4xbf16>
// CHECK: tg.scatter_add %{{.*}}, %{{.*}}, %{{.*}} : (tensor<100x16xf32>, tensor<8x5xi32>, tensor<8x5x16xf32>) -> tensor<100x16xf32>
// CHECK: tg.scatter_add %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<2x3x4xi32>, tensor<6xi64>, tensor<2x6x4xi32>) -> tensor<2x3x4xi32>
// CHECK: tg.one_hot %{{.*}} : (tensor<32xi32>) -> tensor<32x10xf32>
// CHECK: tg.one_hot %{{.*}} {off_value = -1.000000e+00 : f64, on_value = 5.000000e+00 : f64} : (tensor<i64>) -> tensor<3xi32>
// CHECK: tg.one_hot %{{.*}} : (tensor<2x0xi32>) -> tensor<2x0x4xf16>
// CHECK: tg.cast %{{.*}} : (tensor<32xi1>) -> tensor<32xf32>
// CHECK: tg.cast %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xi64>
// CHECK: tg.cast %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xi1>
// CHECK: tg.cast %{{.*}} : (tensor<7xbf16>) -> tensor<7xf16>
// CHECK: tg.cast %{{.*}} : (tensor<f64>) -> tensor<f64>
// CHECK: tg.iota {dimension = 0 : i64} : tensor<4x4xi32>
// CHECK: tg.iota {dimension = 2 : i64} : tensor<2x0x5xf32>
// GENERIC-LABEL: sym_name = "data_movement"
// GENERIC: "tg.concat"(%{{.*}}, %{{.*}}) {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
// GENERIC: "tg.pad"(%{{.*}}) {high = array<i64: 0, 2>, low = array<i64: 0, 1>, value = 0.000000e+00 : f64}
// GENERIC: "tg.one_hot"(%{{.*}}) {off_value = 0.000000e+00 : f64, on_value = 1.000000e+00 : f64} : (tensor<32xi32>) -> tensor<32x10xf32>
func.func @data_movement(%a: tensor<2x3xf32>, %b: tensor<2x5xf32>, %e0: tensor<0x3xi64>,
                         %e1: tensor<1x3xi64>, %e2: tensor<2x3xi64>, %z: tensor<4x32xf32>,
                         %s: tensor<f32>, %zi: tensor<0xi32>, %table: tensor<100x16xf32>,
                         %ids: tensor<8x5xi32>, %dy: tensor<8x5x16xf32>, %p: tensor<2x3x4xbf16>,
                         %k: tensor<i64>, %base: tensor<2x3x4xi32>, %ids2: tensor<6xi64>,
                         %upd: tensor<2x6x4xi32>, %labels: tensor<32xi32>, %ei: tensor<2x0xi32>,
                         %mask: tensor<32xi1>, %bf: tensor<7xbf16>, %d: tensor<f64>) {
  %0 = tg.concat %a, %b {axis = 1} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
  %1 = tg.concat %a {axis = 0} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = tg.concat %e0, %e1, %e2 {axis = 0} : (tensor<0x3xi64>, tensor<1x3xi64>, tensor<2x3xi64>) -> tensor<3x3xi64>
  %3 = tg.slice %z {start = array<i64: 0, 0>, limit = array<i64: 4, 8>, strides = array<i64: 1, 1>} : (tensor<4x32xf32>) -> tensor<4x8xf32>
  %4 = tg.slice %z {start = array<i64: 1, 3>, limit = array<i64: 4, 32>, strides = array<i64: 2, 5>} : (tensor<4x32xf32>) -> tensor<2x6xf32>
  %5 = tg.slice %z {start = array<i64: 2, 0>, limit = array<i64: 2, 2>, strides = array<i64: 1, 1>} : (tensor<4x32xf32>) -> tensor<0x2xf32>
  %6 = tg.slice %s {start = array<i64>, limit = array<i64>, strides = array<i64>} : (tensor<f32>) -> tensor<f32>
  %7 = tg.pad %a {low = array<i64: 0, 1>, high = array<i64: 0, 2>, value = 0.0 : f64} : (tensor<2x3xf32>) -> tensor<2x6xf32>
  %8 = tg.pad %zi {low = array<i64: 2>, high = array<i64: 1>, value = -1.0 : f64} : (tensor<0xi32>) -> tensor<3xi32>
  %9 = tg.pad %s {low = array<i64>, high = array<i64>} : (tensor<f32>) -> tensor<f32>
  %10 = tg.gather %table, %ids {axis = 0} : (tensor<100x16xf32>, tensor<8x5xi32>) -> tensor<8x5x16xf32>
  %11 = tg.gather %table, %ids : (tensor<100x16xf32>, tensor<8x5xi32>) -> tensor<8x5x16xf32>
  %12 = tg.gather %p, %k {axis = 1} : (tensor<2x3x4xbf16>, tensor<i64>) -> tensor<2x4xbf16>
  %13 = tg.scatter_add %table, %ids, %dy {axis = 0} : (tensor<100x16xf32>, tensor<8x5xi32>, tensor<8x5x16xf32>) -> tensor<100x16xf32>
  %14 = tg.scatter_add %base, %ids2, %upd {axis = 1} : (tensor<2x3x4xi32>, tensor<6xi64>, tensor<2x6x4xi32>) -> tensor<2x3x4xi32>
  %15 = tg.one_hot %labels : (tensor<32xi32>) -> tensor<32x10xf32>
  %16 = tg.one_hot %k {on_value = 5.0 : f64, off_value = -1.0 : f64} : (tensor<i64>) -> tensor<3xi32>
  %17 = tg.one_hot %ei : (tensor<2x0xi32>) -> tensor<2x0x4xf16>
  %18 = tg.cast %mask : (tensor<32xi1>) -> tensor<32xf32>
  %19 = tg.cast %a : (tensor<2x3xf32>) -> tensor<2x3xi64>
  %20 = tg.cast %a : (tensor<2x3xf32>) -> tensor<2x3xi1>
  %21 = tg.cast %bf : (tensor<7xbf16>) -> tensor<7xf16>
  %22 = tg.cast %d : (tensor<f64>) -> tensor<f64>
  %23 = tg.iota {dimension = 0} : tensor<4x4xi32>
  %24 = tg.iota {dimension = 2} : tensor<2x0x5xf32>
  return
}

//===----------------------------------------------------------------------===//
// Random numbers and losses
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @random
// CHECK: tg.random_uniform %{{.*}} : (tensor<i64>) -> tensor<32x256xf32>
// CHECK: tg.random_uniform %{{.*}} {high = 2.500000e-01 : f64, low = -2.500000e-01 : f64} : (tensor<i64>) -> tensor<3xf16>
// CHECK: tg.random_normal %{{.*}} : (tensor<i64>) -> tensor<32x256xf32>
// CHECK: tg.random_normal %{{.*}} {mean = 1.000000e+00 : f64, stddev = 0.000000e+00 : f64} : (tensor<i64>) -> tensor<f64>
// CHECK: tg.random_normal %{{.*}} {stddev = 2.000000e-02 : f64} : (tensor<i64>) -> tensor<0x4xbf16>
// GENERIC-LABEL: sym_name = "random"
// GENERIC: "tg.random_uniform"(%{{.*}}) {high = 1.000000e+00 : f64, low = 0.000000e+00 : f64} : (tensor<i64>) -> tensor<32x256xf32>
// GENERIC: "tg.random_normal"(%{{.*}}) {mean = 0.000000e+00 : f64, stddev = 1.000000e+00 : f64} : (tensor<i64>) -> tensor<32x256xf32>
func.func @random(%seed: tensor<i64>) {
  %0 = tg.random_uniform %seed : (tensor<i64>) -> tensor<32x256xf32>
  %1 = tg.random_uniform %seed {low = -0.25 : f64, high = 0.25 : f64} : (tensor<i64>) -> tensor<3xf16>
  %2 = tg.random_normal %seed : (tensor<i64>) -> tensor<32x256xf32>
  %3 = tg.random_normal %seed {mean = 1.0 : f64, stddev = 0.0 : f64} : (tensor<i64>) -> tensor<f64>
  %4 = tg.random_normal %seed {stddev = 0.02 : f64} : (tensor<i64>) -> tensor<0x4xbf16>
  return
}

// CHECK-LABEL: func.func @losses
// CHECK-SAME: (%[[L:[a-z0-9]+]]: tensor<32x10xf32>, %[[Y:[a-z0-9]+]]: tensor<32xi32>
// CHECK: tg.softmax_cross_entropy %[[L]], %[[Y]] : (tensor<32x10xf32>, tensor<32xi32>) -> tensor<f32>
// CHECK: tg.softmax_cross_entropy %[[L]], %[[Y]] : (tensor<32x10xf32>, tensor<32xi32>) -> tensor<f32>
// CHECK: tg.softmax_cross_entropy %[[L]], %[[Y]] {reduction = "sum"} : (tensor<32x10xf32>, tensor<32xi32>) -> tensor<f32>
// CHECK: tg.softmax_cross_entropy %[[L]], %[[Y]] {reduction = "none"} : (tensor<32x10xf32>, tensor<32xi32>) -> tensor<32xf32>
// CHECK: tg.softmax_cross_entropy %{{.*}}, %{{.*}} {reduction = "none"} : (tensor<2x3x5xf64>, tensor<2x3xi64>) -> tensor<2x3xf64>
// CHECK: tg.softmax_cross_entropy %{{.*}}, %{{.*}} {reduction = "none"} : (tensor<4xf16>, tensor<i32>) -> tensor<f16>
// CHECK: tg.softmax_cross_entropy %{{.*}}, %{{.*}} : (tensor<0x4xf32>, tensor<0xi32>) -> tensor<f32>
// CHECK: tg.mean_squared_error %{{.*}}, %{{.*}} : (tensor<32x1xf32>, tensor<32x1xf32>) -> tensor<f32>
// CHECK: tg.mean_squared_error %{{.*}}, %{{.*}} {reduction = "sum"} : (tensor<32x1xf32>, tensor<32x1xf32>) -> tensor<f32>
// CHECK: tg.mean_squared_error %{{.*}}, %{{.*}} {reduction = "none"} : (tensor<32x1xf32>, tensor<32x1xf32>) -> tensor<32x1xf32>
// CHECK: tg.mean_squared_error %{{.*}}, %{{.*}} {reduction = "none"} : (tensor<bf16>, tensor<bf16>) -> tensor<bf16>
// GENERIC-LABEL: sym_name = "losses"
// GENERIC: "tg.softmax_cross_entropy"(%{{.*}}, %{{.*}}) {reduction = "mean"} : (tensor<32x10xf32>, tensor<32xi32>) -> tensor<f32>
func.func @losses(%logits: tensor<32x10xf32>, %labels: tensor<32xi32>, %l3: tensor<2x3x5xf64>,
                  %y3: tensor<2x3xi64>, %l1: tensor<4xf16>, %y0: tensor<i32>,
                  %le: tensor<0x4xf32>, %ye: tensor<0xi32>, %p: tensor<32x1xf32>,
                  %t: tensor<32x1xf32>, %ps: tensor<bf16>) {
  %0 = tg.softmax_cross_entropy %logits, %labels : (tensor<32x10xf32>, tensor<32xi32>) -> tensor<f32>
  %1 = tg.softmax_cross_entropy %logits, %labels {reduction = "mean"} : (tensor<32x10xf32>, tensor<32xi32>) -> tensor<f32>
  %2 = tg.softmax_cross_entropy %logits, %labels {reduction = "sum"} : (tensor<32x10xf32>, tensor<32xi32>) -> tensor<f32>
  %3 = tg.softmax_cross_entropy %logits, %labels {reduction = "none"} : (tensor<32x10xf32>, tensor<32xi32>) -> tensor<32xf32>
  %4 = tg.softmax_cross_entropy %l3, %y3 {reduction = "none"} : (tensor<2x3x5xf64>, tensor<2x3xi64>) -> tensor<2x3xf64>
  %5 = tg.softmax_cross_entropy %l1, %y0 {reduction = "none"} : (tensor<4xf16>, tensor<i32>) -> tensor<f16>
  %6 = tg.softmax_cross_entropy %le, %ye : (tensor<0x4xf32>, tensor<0xi32>) -> tensor<f32>
  %7 = tg.mean_squared_error %p, %t : (tensor<32x1xf32>, tensor<32x1xf32>) -> tensor<f32>
  %8 = tg.mean_squared_error %p, %t {reduction = "sum"} : (tensor<32x1xf32>, tensor<32x1xf32>) -> tensor<f32>
  %9 = tg.mean_squared_error %p, %t {reduction = "none"} : (tensor<32x1xf32>, tensor<32x1xf32>) -> tensor<32x1xf32>
  %10 = tg.mean_squared_error %ps, %ps {reduction = "none"} : (tensor<bf16>, tensor<bf16>) -> tensor<bf16>
  return
}

//===----------------------------------------------------------------------===//
// Function argument and result attributes
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @graph
// CHECK-SAME: %{{.*}}: tensor<32x784xf32> {tg.name = "image", tg.role = "data"}
// CHECK-SAME: %{{.*}}: tensor<32xi32> {tg.name = "label", tg.role = "label"}
// CHECK-SAME: %{{.*}}: tensor<784x10xf32> {tg.init = {kind = "glorot_uniform"}, tg.name = "fc.kernel", tg.role = "param"}
// CHECK-SAME: %{{.*}}: tensor<10xf32> {tg.init = {kind = "zeros"}, tg.name = "fc.bias", tg.role = "param"}
// CHECK-SAME: %{{.*}}: tensor<10xf16> {tg.init = {kind = "constant", value = 5.000000e-01 : f64}, tg.role = "param"}
// CHECK-SAME: %{{.*}}: tensor<3x3xbf16> {tg.init = {high = 1.000000e-01 : f64, kind = "uniform", low = -1.000000e-01 : f64}, tg.role = "param"}
// CHECK-SAME: %{{.*}}: tensor<4xf64> {tg.init = {kind = "normal", mean = 0.000000e+00 : f64, stddev = 2.000000e-02 : f64}, tg.role = "param"}
// CHECK-SAME: %{{.*}}: tensor<4x4xf32> {tg.init = {fan_in = 4 : i64, fan_out = 8 : i64, gain = 2.000000e+00 : f64, kind = "he_normal"}, tg.role = "param"}
// CHECK-SAME: %{{.*}}: tensor<4x4xf32> {tg.init = {kind = "ones"}, tg.name = "w", tg.role = "param"}
// CHECK-SAME: %{{.*}}: tensor<2x200xf32> {tg.name = "h0", tg.role = "state"}
// CHECK-SAME: %{{.*}}: tensor<f32> {tg.name = "lr", tg.role = "hyper"}
// CHECK-SAME: %{{.*}}: tensor<5xi64> {tg.role = "data"}
// CHECK-SAME: %{{.*}}: tensor<i64> {tg.name = "seed"}
// CHECK-SAME: -> (tensor<f32> {tg.name = "loss"}, tensor<32x10xf32> {tg.name = "logits"})
// GENERIC-LABEL: "func.func"() <{arg_attrs = [{tg.name = "image", tg.role = "data"}
// GENERIC-SAME: res_attrs = [{tg.name = "loss"}, {tg.name = "logits"}], sym_name = "graph"
func.func @graph(%x: tensor<32x784xf32> {tg.role = "data", tg.name = "image"},
                 %y: tensor<32xi32> {tg.role = "label", tg.name = "label"},
                 %w: tensor<784x10xf32> {tg.role = "param", tg.name = "fc.kernel", tg.init = {kind = "glorot_uniform"}},
                 %b: tensor<10xf32> {tg.role = "param", tg.name = "fc.bias", tg.init = {kind = "zeros"}},
                 %c: tensor<10xf16> {tg.role = "param", tg.init = {kind = "constant", value = 0.5 : f64}},
                 %u: tensor<3x3xbf16> {tg.role = "param", tg.init = {kind = "uniform", low = -0.1 : f64, high = 0.1 : f64}},
                 %n: tensor<4xf64> {tg.role = "param", tg.init = {kind = "normal", mean = 0.0 : f64, stddev = 0.02 : f64}},
                 %he: tensor<4x4xf32> {tg.role = "param", tg.init = {kind = "he_normal", fan_in = 4 : i64, fan_out = 8 : i64, gain = 2.0 : f64}},
                 %o: tensor<4x4xf32> {tg.role = "param", tg.init = {kind = "ones"}, tg.name = "w"},
                 %h: tensor<2x200xf32> {tg.role = "state", tg.name = "h0"},
                 %lr: tensor<f32> {tg.role = "hyper", tg.name = "lr"},
                 %d: tensor<5xi64> {tg.role = "data"},
                 %seed: tensor<i64> {tg.name = "seed"})
    -> (tensor<f32> {tg.name = "loss"}, tensor<32x10xf32> {tg.name = "logits"}) {
  %0 = tg.matmul %x, %w : (tensor<32x784xf32>, tensor<784x10xf32>) -> tensor<32x10xf32>
  %1 = tg.add %0, %b : (tensor<32x10xf32>, tensor<10xf32>) -> tensor<32x10xf32>
  %2 = tg.softmax_cross_entropy %1, %y : (tensor<32x10xf32>, tensor<32xi32>) -> tensor<f32>
  return %2, %1 : tensor<f32>, tensor<32x10xf32>
}

// Every init kind is accepted.
// CHECK-LABEL: func.func @init_kinds
// CHECK-SAME: {tg.init = {kind = "zeros"}, tg.role = "param"}
// CHECK-SAME: {tg.init = {kind = "ones"}, tg.role = "param"}
// CHECK-SAME: {tg.init = {kind = "constant"}, tg.role = "param"}
// CHECK-SAME: {tg.init = {kind = "uniform"}, tg.role = "param"}
// CHECK-SAME: {tg.init = {kind = "normal"}, tg.role = "param"}
// CHECK-SAME: {tg.init = {kind = "glorot_uniform"}, tg.role = "param"}
// CHECK-SAME: {tg.init = {kind = "glorot_normal"}, tg.role = "param"}
// CHECK-SAME: {tg.init = {kind = "he_uniform"}, tg.role = "param"}
// CHECK-SAME: {tg.init = {kind = "he_normal"}, tg.role = "param"}
func.func @init_kinds(%a: tensor<2xf32> {tg.role = "param", tg.init = {kind = "zeros"}},
                      %b: tensor<2xf32> {tg.role = "param", tg.init = {kind = "ones"}},
                      %c: tensor<2xf32> {tg.role = "param", tg.init = {kind = "constant"}},
                      %d: tensor<2xf32> {tg.role = "param", tg.init = {kind = "uniform"}},
                      %e: tensor<2xf32> {tg.role = "param", tg.init = {kind = "normal"}},
                      %f: tensor<2xf32> {tg.role = "param", tg.init = {kind = "glorot_uniform"}},
                      %g: tensor<2xf32> {tg.role = "param", tg.init = {kind = "glorot_normal"}},
                      %h: tensor<2xf32> {tg.role = "param", tg.init = {kind = "he_uniform"}},
                      %i: tensor<2xf32> {tg.role = "param", tg.init = {kind = "he_normal"}}) {
  return
}

//===----------------------------------------------------------------------===//
// Ops that passes make: fused library ops, layouts, gradient markers, collectives
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @pass_made_ops
// CHECK: tg.fused_matmul %{{.*}}, %{{.*}}, %{{.*}} {activation = "relu"} : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
// The default activation ("none") is elided when printed.
// CHECK: tg.fused_matmul %{{.*}}, %{{.*}}, %{{.*}} {transpose_lhs = true, transpose_rhs = true} : (tensor<3x4xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<4x2xf32>
// CHECK: %[[C:[0-9]+]] = tg.fused_conv2d %{{.*}}, %{{.*}}, %{{.*}} {activation = "tanh", padding = array<i64: 1, 1, 1, 1>} : (tensor<1x2x5x5xf32>, tensor<16x2x3x3xf32>, tensor<16xf32>) -> tensor<1x16x5x5xf32>
// CHECK: %[[B:[0-9]+]] = tg.relayout %[[C]] {block = 8 : i64, to_blocked = true} : tensor<1x16x5x5xf32>
// CHECK: tg.relayout %[[B]] {block = 8 : i64, to_blocked = false} : tensor<1x16x5x5xf32>
// CHECK: tg.param_grad %{{.*}} {param = "w"} : tensor<3x4xf32>
// CHECK: %[[T:[0-9]+]] = tg.allreduce_start %[[G:[a-z0-9]+]] {id = 0 : i64} : tensor<12xf32>
// CHECK: %[[R:[0-9]+]] = tg.allreduce_wait %[[T]], %[[G]] {id = 0 : i64} : tensor<12xf32>
// CHECK: %[[U:[0-9]+]] = tg.allreduce_start %[[R]] {id = 1 : i64, reduction = "sum"} : tensor<12xf32>
// CHECK: tg.allreduce_wait %[[U]], %[[R]] {id = 1 : i64} : tensor<12xf32>
// The default reduction (gradient_mean) is elided.
// CHECK: %[[S:[0-9]+]] = tg.reduce_scatter %[[G]] : (tensor<12xf32>) -> tensor<4xf32>
// CHECK: tg.reduce_scatter %[[G]] {reduction = "sum"} : (tensor<12xf32>) -> tensor<6xf32>
// CHECK: tg.allgather %[[S]] : (tensor<4xf32>) -> tensor<12xf32>
// CHECK: tg.local_shard %[[G]] : (tensor<12xf32>) -> tensor<3xf32>
// GENERIC-LABEL: sym_name = "pass_made_ops"
// GENERIC: "tg.fused_matmul"(%{{.*}}, %{{.*}}, %{{.*}}) {activation = "relu", transpose_lhs = false, transpose_rhs = false}
// GENERIC: "tg.allreduce_start"(%{{.*}}) {id = 0 : i64, reduction = "mean"} : (tensor<12xf32>) -> !tg.token
func.func @pass_made_ops(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>,
                         %i: tensor<1x2x5x5xf32>, %k: tensor<16x2x3x3xf32>, %c: tensor<16xf32>,
                         %g: tensor<12xf32>, %b2: tensor<2xf32>) {
  %0 = tg.fused_matmul %x, %w, %b {activation = "relu"} : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %1 = tg.fused_matmul %w, %x, %b2 {transpose_lhs = true, transpose_rhs = true, activation = "none"} : (tensor<3x4xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %2 = tg.fused_conv2d %i, %k, %c {activation = "tanh", padding = array<i64: 1, 1, 1, 1>} : (tensor<1x2x5x5xf32>, tensor<16x2x3x3xf32>, tensor<16xf32>) -> tensor<1x16x5x5xf32>
  %3 = tg.relayout %2 {to_blocked = true, block = 8} : tensor<1x16x5x5xf32>
  %4 = tg.relayout %3 {to_blocked = false, block = 8} : tensor<1x16x5x5xf32>
  %5 = tg.param_grad %w {param = "w"} : tensor<3x4xf32>
  %t = tg.allreduce_start %g {id = 0 : i64, reduction = "mean"} : tensor<12xf32>
  %6 = tg.allreduce_wait %t, %g {id = 0 : i64} : tensor<12xf32>
  %u = tg.allreduce_start %6 {id = 1 : i64, reduction = "sum"} : tensor<12xf32>
  %7 = tg.allreduce_wait %u, %6 {id = 1 : i64} : tensor<12xf32>
  %8 = tg.reduce_scatter %g {reduction = "gradient_mean"} : (tensor<12xf32>) -> tensor<4xf32>
  %9 = tg.reduce_scatter %g {reduction = "sum"} : (tensor<12xf32>) -> tensor<6xf32>
  %10 = tg.allgather %8 : (tensor<4xf32>) -> tensor<12xf32>
  %11 = tg.local_shard %g : (tensor<12xf32>) -> tensor<3xf32>
  return
}

// CHECK-LABEL: func.func @pipeline_transfers
// CHECK: %[[T:[0-9]+]] = tg.send_start %[[X:[a-z0-9]+]] {peer = 1 : i64, tag = 0 : i64} : tensor<6xf32>
// CHECK: tg.send_wait %[[T]], %[[X]] {tag = 0 : i64} : tensor<6xf32>
// CHECK: %[[T2:[a-z0-9_]+]], %[[B:[a-z0-9_]+]] = tg.recv_start {peer = -1 : i64, tag = 3 : i64} : tensor<4xf32>
// CHECK: tg.recv_wait %[[T2]], %[[B]] {tag = 3 : i64} : tensor<4xf32>
// GENERIC-LABEL: sym_name = "pipeline_transfers"
// GENERIC: "tg.recv_start"() {peer = -1 : i64, tag = 3 : i64} : () -> (!tg.token, tensor<4xf32>)
func.func @pipeline_transfers(%x: tensor<6xf32>) -> tensor<4xf32> {
  %t = tg.send_start %x {peer = 1 : i64, tag = 0 : i64} : tensor<6xf32>
  tg.send_wait %t, %x {tag = 0 : i64} : tensor<6xf32>
  %r, %b = tg.recv_start {peer = -1 : i64, tag = 3 : i64} : tensor<4xf32>
  %y = tg.recv_wait %r, %b {tag = 3 : i64} : tensor<4xf32>
  return %y : tensor<4xf32>
}

//===----------------------------------------------------------------------===//
// Loops (more in scan.mlir)
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @scan
// CHECK: %[[R:[0-9]+]]:2 = tg.scan(%{{.*}}) carry(%{{.*}}) {reverse} : (tensor<3x2xf32>, tensor<2xf32>) -> (tensor<2xf32>, tensor<3x2xf32>) {
// CHECK-NEXT: ^bb0(%[[X:[a-z0-9]+]]: tensor<2xf32>, %[[P:[a-z0-9]+]]: tensor<2xf32>):
// CHECK-NEXT: %[[S:[0-9]+]] = tg.tanh %[[P]] : tensor<2xf32>
// CHECK-NEXT: %[[N:[0-9]+]] = tg.add %[[S]], %[[X]]
// CHECK-NEXT: tg.yield %[[N]], %[[S]] : tensor<2xf32>, tensor<2xf32>
// CHECK: return %[[R]]#0, %[[R]]#1
// GENERIC-LABEL: sym_name = "scan"
// GENERIC: "tg.scan"(%{{.*}}, %{{.*}}) ({
// GENERIC: "tg.yield"(%{{.*}}, %{{.*}}) : (tensor<2xf32>, tensor<2xf32>) -> ()
// GENERIC: }) {operandSegmentSizes = array<i32: 1, 1>, reverse}
func.func @scan(%xs: tensor<3x2xf32>, %h0: tensor<2xf32>) -> (tensor<2xf32>, tensor<3x2xf32>) {
  %h, %hs = tg.scan (%xs) carry (%h0) {reverse} : (tensor<3x2xf32>, tensor<2xf32>) -> (tensor<2xf32>, tensor<3x2xf32>) {
  ^bb0(%x: tensor<2xf32>, %prev: tensor<2xf32>):
    %s = tg.tanh %prev : tensor<2xf32>
    %n = tg.add %s, %x : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    tg.yield %n, %s : tensor<2xf32>, tensor<2xf32>
  }
  return %h, %hs : tensor<2xf32>, tensor<3x2xf32>
}
