// RUN: tg-opt %s --split-input-file --verify-diagnostics

// Element counts are computed without overflow: a type whose count wraps
// around int64 is an error naming the operand, not a crash later.
func.func @overflow(%a: tensor<9223372036854775807x9223372036854775807xf32>) {
  // expected-error @+1 {{'tg.relu' op operand #0 'tensor<9223372036854775807x9223372036854775807xf32>' has more elements than a 64-bit count holds}}
  %y = tg.relu %a : tensor<9223372036854775807x9223372036854775807xf32>
  return
}

// -----

// Over the per-tensor limit (1 TiB) without overflowing.
func.func @too_big(%a: tensor<1000000x1000000xf32>) {
  // expected-error @+1 {{'tg.relu' op operand #0 'tensor<1000000x1000000xf32>' needs 4000000000000 bytes, over the limit of 1099511627776 bytes (1 TiB) per tensor}}
  %y = tg.relu %a : tensor<1000000x1000000xf32>
  return
}

// -----

// A result is checked too (a broadcast to a huge shape).
func.func @result(%a: tensor<f32>) {
  // expected-error @+1 {{'tg.broadcast_to' op result #0 'tensor<4611686018427387904x4xf32>' has more elements than a 64-bit count holds}}
  %y = tg.broadcast_to %a : (tensor<f32>) -> tensor<4611686018427387904x4xf32>
  return
}

// -----

// Window arithmetic of shape inference is checked too: padding or dilations
// near 2^63 would wrap the padded size (signed overflow) into "does not fit".
func.func @conv_padding(%x: tensor<8x1x28x28xf32>, %w: tensor<32x1x3x3xf32>) {
  // expected-error @+2 {{'tg.conv2d' op padding [9223372036854775807, 1, 1, 1] or dilations [1, 1] overflow 64-bit sizes}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = tg.conv2d %x, %w {padding = array<i64: 9223372036854775807, 1, 1, 1>} : (tensor<8x1x28x28xf32>, tensor<32x1x3x3xf32>) -> tensor<8x32x28x28xf32>
  return
}

// -----

func.func @conv_dilation(%x: tensor<8x1x28x28xf32>, %w: tensor<32x1x3x3xf32>) {
  // expected-error @+2 {{'tg.conv2d' op padding [0, 0, 0, 0] or dilations [4611686018427387904, 1] overflow 64-bit sizes}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = tg.conv2d %x, %w {dilations = array<i64: 4611686018427387904, 1>} : (tensor<8x1x28x28xf32>, tensor<32x1x3x3xf32>) -> tensor<8x32x28x28xf32>
  return
}
