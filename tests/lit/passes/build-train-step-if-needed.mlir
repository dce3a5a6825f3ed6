// RUN: tg-opt %s --tg-build-train-step=if-needed=true --split-input-file | FileCheck %s

// if-needed: a module without tg.train is left alone (plain functions
// compile as they are) ...
// CHECK-LABEL: func.func @plain
// CHECK-NOT: train_step
func.func @plain(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}

// -----

// ... and so is a module whose train_step is already built.
// CHECK-LABEL: func.func @train_step
// CHECK-NOT: func.func @train_step
// CHECK-NOT: func.func @eval_step
module attributes {tg.train = {loss = "loss", optimizer = {kind = "sgd", lr = 0.1 : f64}}} {
  func.func @train_step(%w: tensor<2xf32> {tg.name = "w", tg.role = "param", tg.init = {kind = "zeros"}}) -> (tensor<f32> {tg.name = "loss"}) attributes {tg.entry = "train_step"} {
    %0 = tg.reduce %w {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
    return %0 : tensor<f32>
  }
}

// -----

// A module with tg.train and no train_step gets it.
// CHECK-LABEL: func.func @train_step
// CHECK-LABEL: func.func @eval_step
// CHECK-LABEL: func.func @predict
module attributes {tg.train = {loss = "loss", optimizer = {kind = "sgd", lr = 0.1 : f64}}} {
  func.func @model(%w: tensor<2xf32> {tg.name = "w", tg.role = "param", tg.init = {kind = "zeros"}}, %x: tensor<2xf32> {tg.name = "x", tg.role = "data"}) -> (tensor<f32> {tg.name = "loss"}) {
    %0 = tg.mul %w, %x : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    %1 = tg.reduce %0 {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
    return %1 : tensor<f32>
  }
}
