// RUN: tg-opt %s --split-input-file --verify-diagnostics | FileCheck %s
// RUN: tg-opt %s --split-input-file --verify-diagnostics | tg-opt --split-input-file --verify-diagnostics | FileCheck %s

// tg.scan round-trips: sequences, carried values, stacked outputs.
// CHECK-LABEL: func.func @rnn
// CHECK: %[[R:.*]]:2 = tg.scan(%arg0) carry(%arg1) : (tensor<3x2xf32>, tensor<2xf32>) -> (tensor<2xf32>, tensor<3x2xf32>) {
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<2xf32>, %[[P:.*]]: tensor<2xf32>):
// CHECK-NEXT: %[[B:.*]] = tg.add %[[P]], %[[X]]
// CHECK-NEXT: tg.yield %[[B]], %[[B]] : tensor<2xf32>, tensor<2xf32>
// CHECK: return %[[R]]#0, %[[R]]#1
func.func @rnn(%xs: tensor<3x2xf32>, %h0: tensor<2xf32>) -> (tensor<2xf32>, tensor<3x2xf32>) {
  %h, %hs = tg.scan (%xs) carry (%h0) : (tensor<3x2xf32>, tensor<2xf32>) -> (tensor<2xf32>, tensor<3x2xf32>) {
  ^bb0(%x: tensor<2xf32>, %prev: tensor<2xf32>):
    %b = tg.add %prev, %x : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    tg.yield %b, %b : tensor<2xf32>, tensor<2xf32>
  }
  return %h, %hs : tensor<2xf32>, tensor<3x2xf32>
}

// -----

// Without sequences the trip count is 1; without outputs nothing is stacked.
// CHECK-LABEL: func.func @carry_only
// CHECK: tg.scan() carry(%arg0) : (tensor<f32>) -> tensor<f32> {
func.func @carry_only(%a: tensor<f32>) -> tensor<f32> {
  %r = tg.scan () carry (%a) : (tensor<f32>) -> (tensor<f32>) {
  ^bb0(%x: tensor<f32>):
    tg.yield %x : tensor<f32>
  }
  return %r : tensor<f32>
}

// -----

func.func @steps_differ(%a: tensor<3x2xf32>, %b: tensor<4x2xf32>) {
  // expected-error @+1 {{'tg.scan' op sequence #1 has 4 steps, sequence #0 has 3}}
  %s:2 = tg.scan (%a, %b) carry () : (tensor<3x2xf32>, tensor<4x2xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>) {
  ^bb0(%x: tensor<2xf32>, %y: tensor<2xf32>):
    tg.yield %x, %y : tensor<2xf32>, tensor<2xf32>
  }
  return
}

// -----

func.func @scalar_sequence(%a: tensor<f32>) {
  // expected-error @+1 {{'tg.scan' op sequence #0 is a scalar 'tensor<f32>'; sequences need a leading step axis}}
  %s = tg.scan (%a) carry () : (tensor<f32>) -> (tensor<1xf32>) {
  ^bb0(%x: tensor<f32>):
    tg.yield %x : tensor<f32>
  }
  return
}

// -----

func.func @wrong_step_type(%a: tensor<3x2xf32>) {
  // expected-error @+1 {{'tg.scan' op body argument #0 is 'tensor<3xf32>'; step t of sequence #0 is 'tensor<2xf32>'}}
  %s = tg.scan (%a) carry () : (tensor<3x2xf32>) -> (tensor<3x3xf32>) {
  ^bb0(%x: tensor<3xf32>):
    tg.yield %x : tensor<3xf32>
  }
  return
}

// -----

func.func @carry_changes_type(%a: tensor<3x2xf32>, %h: tensor<2xf32>) {
  %s = tg.scan (%a) carry (%h) : (tensor<3x2xf32>, tensor<2xf32>) -> (tensor<2xf32>) {
  ^bb0(%x: tensor<2xf32>, %c: tensor<2xf32>):
    %r = tg.reshape %c : (tensor<2xf32>) -> tensor<1x2xf32>
    // expected-error @+1 {{'tg.yield' op carried value #0 is yielded as 'tensor<1x2xf32>', carried as 'tensor<2xf32>'}}
    tg.yield %r : tensor<1x2xf32>
  }
  return
}

// -----

func.func @wrong_yield_count(%a: tensor<3x2xf32>, %h: tensor<2xf32>) {
  %s = tg.scan (%a) carry (%h) : (tensor<3x2xf32>, tensor<2xf32>) -> (tensor<2xf32>) {
  ^bb0(%x: tensor<2xf32>, %c: tensor<2xf32>):
    // expected-error @+1 {{'tg.yield' op yields 2 values; expected 1 carried values and 0 step outputs}}
    tg.yield %c, %x : tensor<2xf32>, tensor<2xf32>
  }
  return
}

// -----

func.func @wrong_stack(%a: tensor<3x2xf32>) {
  // expected-error @+1 {{'tg.scan' op stacked result #0 is 'tensor<2x2xf32>'; 3 steps of 'tensor<2xf32>' stack to 'tensor<3x2xf32>'}}
  %s = tg.scan (%a) carry () : (tensor<3x2xf32>) -> (tensor<2x2xf32>) {
  ^bb0(%x: tensor<2xf32>):
    tg.yield %x : tensor<2xf32>
  }
  return
}
