// RUN: tg-opt %s --tg-distribute --split-input-file --verify-diagnostics
// RUN: echo 'module {}' | not tg-opt --tg-distribute="mode=ring" 2>&1 | FileCheck %s --check-prefix=MODE
// RUN: echo 'module {}' | not tg-opt --tg-distribute="mode=average:0" 2>&1 | FileCheck %s --check-prefix=K
// RUN: echo 'module {}' | not tg-opt --tg-distribute="bucket-cap-mb=0" 2>&1 | FileCheck %s --check-prefix=CAP
// RUN: echo 'module {}' | not tg-opt --tg-distribute="compress=fp8" 2>&1 | FileCheck %s --check-prefix=COMPRESS
// RUN: echo 'module {}' | not tg-opt --tg-distribute="mode=average:2 compress=bf16" 2>&1 | FileCheck %s --check-prefix=COMPRESS-AVG

// MODE: tg-distribute: unknown mode 'ring' (expected none, allreduce or average:K)
// K: tg-distribute: mode 'average:0': K must be an integer >= 1
// CAP: tg-distribute: bucket-cap-mb must be in (0, 4096], got 0
// RUN: echo 'module {}' | not tg-opt --tg-distribute="compress=threshold:-1" 2>&1 | FileCheck %s --check-prefix=THRESHOLD
// RUN: echo 'module {}' | not tg-opt --tg-distribute="mode=average:2 shard-state=2" 2>&1 | FileCheck %s --check-prefix=SHARD-AVG
// RUN: echo 'module {}' | not tg-opt --tg-distribute="shard-state=2 compress=bf16" 2>&1 | FileCheck %s --check-prefix=SHARD-BF16
// SHARD-AVG: tg-distribute: shard-state=2 needs mode allreduce
// SHARD-BF16: tg-distribute: shard-state does not compress (its reduce-scatter is f32); drop compress=bf16
// COMPRESS: tg-distribute: unknown compress 'fp8' (expected none, bf16 or threshold:T with a number T in [1.2e-38, 1e30], e.g. threshold:1e-3)
// THRESHOLD: tg-distribute: unknown compress 'threshold:-1' (expected none, bf16 or threshold:T with a number T in
// COMPRESS-AVG: tg-distribute: compress=bf16 needs mode allreduce

// expected-error @+1 {{tg-distribute: mode 'allreduce' needs a train_step entry point}}
module {
func.func @predict(%x: tensor<2xf32> {tg.name = "x", tg.role = "data"}) -> (tensor<2xf32> {tg.name = "y"}) attributes {tg.entry = "predict"} {
  return %x : tensor<2xf32>
}
}

// -----

module {
// expected-error @+1 {{tg-distribute: @train_step has no tg.param_grad markers}}
func.func @train_step(%w: tensor<2xf32> {tg.name = "w", tg.role = "param"}) -> (tensor<2xf32> {tg.alias = 0 : i64, tg.name = "w"}) attributes {tg.entry = "train_step"} {
  return %w : tensor<2xf32>
}
}

// -----

module {
func.func @train_step(%w: tensor<2xf64> {tg.name = "w", tg.role = "param"}) -> (tensor<2xf64> {tg.alias = 0 : i64, tg.name = "w"}) attributes {tg.entry = "train_step"} {
  // expected-error @+1 {{tg-distribute: the gradient of param 'w' is 'tensor<2xf64>'; data-parallel training reduces f32 gradients only}}
  %g = tg.param_grad %w {param = "w"} : tensor<2xf64>
  %u = tg.sub %w, %g : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
  return %u : tensor<2xf64>
}
}

// -----

// The collectives' own checks.
func.func @wait_needs_its_start(%b: tensor<4xf32>, %c: tensor<4xf32>) -> tensor<4xf32> {
  %t = tg.allreduce_start %b {id = 0 : i64} : tensor<4xf32>
  // expected-error @+1 {{'tg.allreduce_wait' op bucket must be the operand of its tg.allreduce_start (id 0)}}
  %r = tg.allreduce_wait %t, %c {id = 0 : i64} : tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @ids_match(%b: tensor<4xf32>) -> tensor<4xf32> {
  %t = tg.allreduce_start %b {id = 0 : i64} : tensor<4xf32>
  // expected-error @+1 {{'tg.allreduce_wait' op id 1 differs from its tg.allreduce_start's id 0}}
  %r = tg.allreduce_wait %t, %b {id = 1 : i64} : tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @reduction(%b: tensor<4xf32>) {
  // expected-error @+1 {{'tg.allreduce_start' op reduction must be "mean", "gradient_mean" or "sum", got "max"}}
  %t = tg.allreduce_start %b {id = 0 : i64, reduction = "max"} : tensor<4xf32>
  return
}

// -----

// The sharded ops: the full size is a whole multiple (the world size) of the shard's.
func.func @shards(%g: tensor<12xf32>) {
  // expected-error @+1 {{'tg.reduce_scatter' op the full size 12 must be a whole multiple (the world size) of the shard size 5}}
  %0 = tg.reduce_scatter %g : (tensor<12xf32>) -> tensor<5xf32>
  return
}

// -----

func.func @gather(%s: tensor<4xf32>) {
  // expected-error @+1 {{'tg.allgather' op the full size 10 must be a whole multiple (the world size) of the shard size 4}}
  %0 = tg.allgather %s : (tensor<4xf32>) -> tensor<10xf32>
  return
}

// -----

func.func @local(%g: tensor<12xf32>) {
  // expected-error @+1 {{'tg.local_shard' op the full size 12 must be a whole multiple (the world size) of the shard size 0}}
  %0 = tg.local_shard %g : (tensor<12xf32>) -> tensor<0xf32>
  return
}

// -----

func.func @scatter_reduction(%g: tensor<12xf32>) {
  // expected-error @+1 {{'tg.reduce_scatter' op reduction must be "mean", "gradient_mean" or "sum", got "max"}}
  %0 = tg.reduce_scatter %g {reduction = "max"} : (tensor<12xf32>) -> tensor<6xf32>
  return
}

// -----

// Pipeline transfers (tg-pipeline-split makes them): every verifier message.
func.func @send_peer_zero(%x: tensor<4xf32>) {
  // expected-error @+1 {{'tg.send_start' op peer must name another stage (a non-zero offset), got 0}}
  %t = tg.send_start %x {peer = 0 : i64, tag = 0 : i64} : tensor<4xf32>
  tg.send_wait %t, %x {tag = 0 : i64} : tensor<4xf32>
  return
}

// -----

func.func @send_negative_tag(%x: tensor<4xf32>) {
  // expected-error @+1 {{'tg.send_start' op tag must be >= 0, got -2}}
  %t = tg.send_start %x {peer = 1 : i64, tag = -2 : i64} : tensor<4xf32>
  tg.send_wait %t, %x {tag = -2 : i64} : tensor<4xf32>
  return
}

// -----

func.func @send_never_waited(%x: tensor<4xf32>) {
  // expected-error @+1 {{'tg.send_start' op token is waited for 0 times (exactly once expected)}}
  %t = tg.send_start %x {peer = 1 : i64, tag = 0 : i64} : tensor<4xf32>
  return
}

// -----

func.func @send_wrong_tag(%x: tensor<4xf32>) {
  %t = tg.send_start %x {peer = 1 : i64, tag = 0 : i64} : tensor<4xf32>
  // expected-error @+1 {{'tg.send_wait' op tag 1 differs from its tg.send_start's tag 0}}
  tg.send_wait %t, %x {tag = 1 : i64} : tensor<4xf32>
  return
}

// -----

func.func @send_wrong_value(%x: tensor<4xf32>, %y: tensor<4xf32>) {
  %t = tg.send_start %x {peer = 1 : i64, tag = 0 : i64} : tensor<4xf32>
  // expected-error @+1 {{'tg.send_wait' op value must be the value of its tg.send_start (tag 0)}}
  tg.send_wait %t, %y {tag = 0 : i64} : tensor<4xf32>
  return
}

// -----

func.func @recv_wait_without_start(%t: !tg.token, %b: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'tg.recv_wait' op token must come from tg.recv_start}}
  %y = tg.recv_wait %t, %b {tag = 0 : i64} : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

func.func @recv_buffer_read_early() -> tensor<4xf32> {
  // expected-error @+1 {{'tg.recv_start' op buffer may only be used by tg.recv_wait (it is filled there), not by 'tg.neg'}}
  %t, %b = tg.recv_start {peer = -1 : i64, tag = 0 : i64} : tensor<4xf32>
  %n = tg.neg %b : tensor<4xf32>
  %y = tg.recv_wait %t, %b {tag = 0 : i64} : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

func.func @recv_token_twice() -> tensor<4xf32> {
  // expected-error @+1 {{'tg.recv_start' op token is waited for 2 times (exactly once expected)}}
  %t, %b = tg.recv_start {peer = -1 : i64, tag = 0 : i64} : tensor<4xf32>
  %y = tg.recv_wait %t, %b {tag = 0 : i64} : tensor<4xf32>
  %z = tg.recv_wait %t, %b {tag = 0 : i64} : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

func.func @send_token_misused(%x: tensor<4xf32>) {
  // expected-error @+1 {{'tg.send_start' op token may only be used by tg.send_wait, not by 'tg.recv_wait'}}
  %t = tg.send_start %x {peer = 1 : i64, tag = 0 : i64} : tensor<4xf32>
  %y = tg.recv_wait %t, %x {tag = 0 : i64} : tensor<4xf32>
  return
}

