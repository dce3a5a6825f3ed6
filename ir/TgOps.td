//===- TgOps.td - tg dialect operations ----------------------------------===//
//
// Every op has a summary, a description with its shape rule, and an example.
// Ops whose result type follows from operands and attributes implement
// InferTypeOpAdaptor, so the verifier and the frontend share one shape rule;
// ops whose result shape is a free choice (reshape, cast, ...) take it
// explicitly and verify it.
//
//===----------------------------------------------------------------------===//

#ifndef TG_OPS_TD
#define TG_OPS_TD

include "ir/TgBase.td"
include "ir/TgInterfaces.td"

// Ops with a vector-Jacobian product (ir/Gradients.cpp) for tg-autodiff.
defvar Tg_Differentiable = DeclareOpInterfaceMethods<Tg_GradientOpInterface>;
// Ops without one, on purpose (each says why). tg-autodiff treats them like
// any op without the interface: one between a param and the loss is an error.
// Every op has one or the other (tests/unit/OpContractTest.cpp).
def Tg_NotDifferentiable : NativeOpTrait<"NotDifferentiable"> { let cppNamespace = "::tg"; }
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

//===----------------------------------------------------------------------===//
// Constant
//===----------------------------------------------------------------------===//

// Not differentiable: no operands.
def Tg_ConstantOp : Tg_Op<"constant", [ConstantLike, Pure, InferTypeOpAdaptor,
                                       Tg_NotDifferentiable]> {
  let summary = "A tensor constant";
  let description = [{
    Materializes a dense tensor constant. The result type is the type of the
    `value` attribute.

    Example:
    ```mlir
    %0 = tg.constant dense<[1.0, 2.0]> : tensor<2xf32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Tg_Tensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise unary
//===----------------------------------------------------------------------===//

class Tg_UnaryOp<string mnemonic, string formula, Type operandType = Tg_FloatTensor,
                 list<Trait> traits = []>
    : Tg_Op<mnemonic, !listconcat(traits, [Pure, Elementwise, SameOperandsAndResultType,
                                           Tg_Differentiable])> {
  let summary = "Elementwise " # mnemonic;
  let description = "Computes `" # formula # "` for every element. The result "
    # "has the operand's type.\n\nExample:\n```mlir\n%y = tg." # mnemonic
    # " %x : tensor<4x8xf32>\n```";
  let arguments = (ins operandType:$x);
  let results = (outs operandType:$result);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

def Tg_NegOp : Tg_UnaryOp<"neg", "-x", Tg_NumericTensor> { let hasFolder = 1; }
def Tg_AbsOp : Tg_UnaryOp<"abs", "|x|", Tg_NumericTensor>;
def Tg_SignOp : Tg_UnaryOp<"sign", "sign(x) in {-1, 0, 1}", Tg_NumericTensor>;
def Tg_ExpOp : Tg_UnaryOp<"exp", "e^x">;
def Tg_LogOp : Tg_UnaryOp<"log", "ln(x)">;
def Tg_SqrtOp : Tg_UnaryOp<"sqrt", "sqrt(x)">;
def Tg_RsqrtOp : Tg_UnaryOp<"rsqrt", "1 / sqrt(x)">;
def Tg_TanhOp : Tg_UnaryOp<"tanh", "tanh(x)">;
def Tg_SigmoidOp : Tg_UnaryOp<"sigmoid", "1 / (1 + e^-x)">;
def Tg_ReluOp : Tg_UnaryOp<"relu", "max(x, 0)">;
def Tg_ErfOp : Tg_UnaryOp<"erf", "erf(x), the Gauss error function (used by gelu's gradient)">;
def Tg_SinOp : Tg_UnaryOp<"sin", "sin(x)">;
def Tg_CosOp : Tg_UnaryOp<"cos", "cos(x) (cosine learning-rate schedules)">;
def Tg_FloorOp : Tg_UnaryOp<"floor", "the largest integer <= x (step schedules); its gradient is zero">;

def Tg_GeluOp : Tg_Op<"gelu", [Pure, Elementwise, SameOperandsAndResultType, Tg_Differentiable]> {
  let summary = "Elementwise GELU";
  let description = [{
    Gaussian error linear unit: `x * Phi(x)` with the exact form
    `0.5 * x * (1 + erf(x / sqrt(2)))`, or with `approximate = true` the tanh
    form `0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))`.

    Example:
    ```mlir
    %y = tg.gelu %x {approximate = true} : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Tg_FloatTensor:$x, DefaultValuedAttr<BoolAttr, "false">:$approximate);
  let results = (outs Tg_FloatTensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

//===----------------------------------------------------------------------===//
// Elementwise binary with NumPy broadcasting
//===----------------------------------------------------------------------===//

class Tg_BinaryOp<string mnemonic, string formula, list<Trait> traits = []>
    : Tg_Op<mnemonic, !listconcat(traits, [Pure, InferTypeOpAdaptor, Tg_Differentiable])> {
  let summary = "Elementwise " # mnemonic # " with broadcasting";
  let description = "Computes `" # formula # "` elementwise. Operands share their "
    # "element type; shapes broadcast as in NumPy (align trailing dimensions; a "
    # "dimension of size 1 stretches).\n\nExample:\n```mlir\n%z = tg." # mnemonic
    # " %x, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>\n```";
  let arguments = (ins Tg_NumericTensor:$lhs, Tg_NumericTensor:$rhs);
  let results = (outs Tg_NumericTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def Tg_AddOp : Tg_BinaryOp<"add", "lhs + rhs", [Commutative]> {
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}
def Tg_SubOp : Tg_BinaryOp<"sub", "lhs - rhs"> { let hasFolder = 1; }
def Tg_MulOp : Tg_BinaryOp<"mul", "lhs * rhs", [Commutative]> { let hasFolder = 1; }
def Tg_DivOp : Tg_BinaryOp<"div", "lhs / rhs"> { let hasFolder = 1; }
def Tg_PowOp : Tg_BinaryOp<"pow", "lhs ^ rhs">;
def Tg_MaximumOp : Tg_BinaryOp<"maximum", "max(lhs, rhs)", [Commutative]>;
def Tg_MinimumOp : Tg_BinaryOp<"minimum", "min(lhs, rhs)", [Commutative]>;

// Not differentiable: a boolean result carries no cotangent.
def Tg_CompareOp : Tg_Op<"compare", [Pure, InferTypeOpAdaptor, Tg_NotDifferentiable]> {
  let summary = "Elementwise comparison with broadcasting, to an i1 mask";
  let description = [{
    Compares `lhs` and `rhs` elementwise with `predicate`, one of `eq`, `ne`,
    `lt`, `le`, `gt`, `ge`. Shapes broadcast as in NumPy; the result has the
    broadcast shape and element type `i1`.

    Example:
    ```mlir
    %m = tg.compare %x, %y {predicate = "gt"} : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>
    ```
  }];
  let arguments = (ins Tg_Tensor:$lhs, Tg_Tensor:$rhs, StrAttr:$predicate);
  let results = (outs Tg_BoolTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def Tg_SelectOp : Tg_Op<"select", [Pure, InferTypeOpAdaptor, Tg_Differentiable]> {
  let summary = "Elementwise choice by an i1 mask, with broadcasting";
  let description = [{
    `cond ? on_true : on_false` elementwise. All three shapes broadcast
    together; `on_true` and `on_false` share their element type.

    Example:
    ```mlir
    %y = tg.select %m, %x, %zero : (tensor<4xi1>, tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins Tg_BoolTensor:$cond, Tg_Tensor:$on_true, Tg_Tensor:$on_false);
  let results = (outs Tg_Tensor:$result);
  let assemblyFormat = "$cond `,` $on_true `,` $on_false attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Linear algebra and data layout
//===----------------------------------------------------------------------===//

def Tg_MatmulOp : Tg_Op<"matmul", [Pure, InferTypeOpAdaptor, Tg_Differentiable]> {
  let summary = "Batched matrix product with optional transposes";
  let description = [{
    `op(lhs) @ op(rhs)` over the last two dimensions, where `op` transposes
    them when `transpose_lhs` / `transpose_rhs` is set. Leading (batch)
    dimensions broadcast as in NumPy. Both operands have rank >= 2 and the
    same element type.

    Example:
    ```mlir
    %y = tg.matmul %x, %w : (tensor<32x784xf32>, tensor<784x256xf32>) -> tensor<32x256xf32>
    %g = tg.matmul %x, %dy {transpose_lhs = true} : (tensor<32x784xf32>, tensor<32x256xf32>) -> tensor<784x256xf32>
    ```
  }];
  let arguments = (ins Tg_NumericTensor:$lhs, Tg_NumericTensor:$rhs,
                   DefaultValuedAttr<BoolAttr, "false">:$transpose_lhs,
                   DefaultValuedAttr<BoolAttr, "false">:$transpose_rhs);
  let results = (outs Tg_NumericTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def Tg_TransposeOp : Tg_Op<"transpose", [Pure, InferTypeOpAdaptor, Tg_Differentiable]> {
  let summary = "Permutes dimensions";
  let description = [{
    Result dimension `i` is operand dimension `perm[i]`; `perm` is a
    permutation of `[0, rank)`.

    Example:
    ```mlir
    %t = tg.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
    ```
  }];
  let arguments = (ins Tg_Tensor:$x, DenseI64ArrayAttr:$perm);
  let results = (outs Tg_Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Tg_ReshapeOp : Tg_Op<"reshape", [Pure, Tg_Differentiable]> {
  let summary = "Reinterprets the shape, keeping row-major element order";
  let description = [{
    The result type gives the new shape; it has the operand's element type and
    element count.

    Example:
    ```mlir
    %f = tg.reshape %x : (tensor<32x1x28x28xf32>) -> tensor<32x784xf32>
    ```
  }];
  let arguments = (ins Tg_Tensor:$x);
  let results = (outs Tg_Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Tg_BroadcastToOp : Tg_Op<"broadcast_to", [Pure, Tg_Differentiable]> {
  let summary = "Broadcasts to the result shape, NumPy style";
  let description = [{
    Aligns the operand's dimensions with the trailing dimensions of the
    result; each must equal the result's or be 1.

    Example:
    ```mlir
    %b = tg.broadcast_to %bias : (tensor<256xf32>) -> tensor<32x256xf32>
    ```
  }];
  let arguments = (ins Tg_Tensor:$x);
  let results = (outs Tg_Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Tg_ReduceOp : Tg_Op<"reduce", [Pure, InferTypeOpAdaptor, Tg_Differentiable]> {
  let summary = "Reduction (sum, mean, max, min) over axes";
  let description = [{
    Reduces over `axes` (distinct, in `[0, rank)`; empty means every axis)
    with `kind`, one of `sum`, `mean`, `max`, `min`. With `keepdims` the
    reduced dimensions stay with size 1.

    Example:
    ```mlir
    %s = tg.reduce %x {kind = "sum", axes = array<i64: 0>} : (tensor<32x10xf32>) -> tensor<10xf32>
    %m = tg.reduce %x {kind = "max", axes = array<i64: 1>, keepdims = true} : (tensor<32x10xf32>) -> tensor<32x1xf32>
    ```
  }];
  let arguments = (ins Tg_NumericTensor:$x, StrAttr:$kind,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$axes,
                   DefaultValuedAttr<BoolAttr, "false">:$keepdims);
  let results = (outs Tg_NumericTensor:$result);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
}

// Not differentiable: an integer result carries no cotangent.
def Tg_ArgmaxOp : Tg_Op<"argmax", [Pure, Tg_NotDifferentiable]> {
  let summary = "Index of the largest element along an axis";
  let description = [{
    The index (first one on ties) of the maximum along `axis`; the result
    drops that axis and has an integer element type of the caller's choice.

    Example:
    ```mlir
    %c = tg.argmax %logits {axis = 1} : (tensor<32x10xf32>) -> tensor<32xi32>
    ```
  }];
  let arguments = (ins Tg_NumericTensor:$x, I64Attr:$axis);
  let results = (outs Tg_IntTensor:$result);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

class Tg_SoftmaxLikeOp<string mnemonic, string formula>
    : Tg_Op<mnemonic, [Pure, SameOperandsAndResultType, Tg_Differentiable]> {
  let summary = "Numerically stable " # mnemonic # " along an axis";
  let description = "Computes `" # formula # "` along `axis`, subtracting the "
    # "maximum first.\n\nExample:\n```mlir\n%p = tg." # mnemonic
    # " %logits {axis = 1} : tensor<32x10xf32>\n```";
  let arguments = (ins Tg_FloatTensor:$x, I64Attr:$axis);
  let results = (outs Tg_FloatTensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x)";
  let hasVerifier = 1;
}

def Tg_SoftmaxOp : Tg_SoftmaxLikeOp<"softmax", "exp(x_i) / sum_j exp(x_j)">;
def Tg_LogSoftmaxOp : Tg_SoftmaxLikeOp<"log_softmax", "x_i - log(sum_j exp(x_j))">;

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

def Tg_AttentionOp : Tg_Op<"attention", [Pure, InferTypeOpAdaptor, Tg_Differentiable]> {
  let summary = "Fused scaled dot-product attention";
  let description = [{
    `softmax(scale * query @ key^T, masked) @ value` over the last two
    dimensions: query `[..., Tq, D]`, key `[..., Tk, D]`, value
    `[..., Tk, Dv]` (the same leading dimensions and element type) give
    `[..., Tq, Dv]`. A score is masked where `causal` is set and the key comes
    after the query (key index > query index, PyTorch's `is_causal`), or where
    the optional i1 `mask` (rank of query; each dimension 1 or the full size;
    the last two broadcast to `[Tq, Tk]`) is false. A query row whose keys are
    all masked gives zeros (and zero gradients), not NaN.

    The CPU lowering never holds the `Tq x Tk` score matrix: it walks the keys
    in blocks with an online softmax (running maximum and sum per query row),
    and the gradient (tg.attention_grad) recomputes the scores block by block.
    The reference interpreter runs the plain definition.

    Example:
    ```mlir
    %o = tg.attention %q, %k, %v {causal = true, scale = 0.125 : f64} : (tensor<2x4x64x32xf32>, tensor<2x4x64x32xf32>, tensor<2x4x64x32xf32>) -> tensor<2x4x64x32xf32>
    ```
  }];
  let arguments = (ins Tg_FloatTensor:$query, Tg_FloatTensor:$key, Tg_FloatTensor:$value,
                   Optional<Tg_BoolTensor>:$mask,
                   DefaultValuedAttr<BoolAttr, "false">:$causal, F64Attr:$scale);
  let results = (outs Tg_FloatTensor:$result);
  let assemblyFormat = "$query `,` $key `,` $value (`,` $mask^)? attr-dict `:` functional-type(operands, results)";
}

// Not differentiable: it is itself the gradient of tg.attention, and no
// second-order derivative is asked of it.
def Tg_AttentionGradOp : Tg_Op<"attention_grad", [Pure, InferTypeOpAdaptor, Tg_NotDifferentiable]> {
  let summary = "The gradient of tg.attention for its query, key and value";
  let description = [{
    Given tg.attention's operands, its `result` and the cotangent `grad` of
    that result (both `[..., Tq, Dv]`), yields the cotangents of `query`,
    `key` and `value` (their types). Attributes and mask as tg.attention.
    The lowering recomputes the scores in key blocks (first the row
    log-sum-exp, then the gradients; one pass when the keys fit one block
    of 64), so no `Tq x Tk` matrix is held.

    Example:
    ```mlir
    %dq, %dk, %dv = tg.attention_grad %q, %k, %v, %o, %g {causal = true, scale = 0.125 : f64} : (tensor<2x64x32xf32>, tensor<2x64x32xf32>, tensor<2x64x32xf32>, tensor<2x64x32xf32>, tensor<2x64x32xf32>) -> (tensor<2x64x32xf32>, tensor<2x64x32xf32>, tensor<2x64x32xf32>)
    ```
  }];
  let arguments = (ins Tg_FloatTensor:$query, Tg_FloatTensor:$key, Tg_FloatTensor:$value,
                   Tg_FloatTensor:$result, Tg_FloatTensor:$grad, Optional<Tg_BoolTensor>:$mask,
                   DefaultValuedAttr<BoolAttr, "false">:$causal, F64Attr:$scale);
  let results = (outs Tg_FloatTensor:$grad_query, Tg_FloatTensor:$grad_key,
                 Tg_FloatTensor:$grad_value);
  let assemblyFormat = "$query `,` $key `,` $value `,` $result `,` $grad (`,` $mask^)? attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Convolution and pooling (NCHW), with their gradient ops
//===----------------------------------------------------------------------===//

defvar Tg_Pair1 = DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">;
defvar Tg_Pad0 = DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">;

def Tg_Conv2DOp : Tg_Op<"conv2d", [Pure, InferTypeOpAdaptor, Tg_Differentiable]> {
  let summary = "2-D convolution (cross-correlation), NCHW input, OIHW filter";
  let description = [{
    `input` is `[N, C, H, W]`, `filter` is `[O, C/groups, KH, KW]`, the result
    `[N, O, OH, OW]` with
    `OH = (H + pad_top + pad_bottom - dilation_h * (KH - 1) - 1) / stride_h + 1`
    (likewise for W). `strides` and `dilations` are `[h, w]`; `padding` is
    `[top, bottom, left, right]` of zeros. `groups` divides both C and O.

    Example:
    ```mlir
    %y = tg.conv2d %x, %w {padding = array<i64: 1, 1, 1, 1>}
        : (tensor<8x1x28x28xf32>, tensor<32x1x3x3xf32>) -> tensor<8x32x28x28xf32>
    ```
  }];
  let arguments = (ins Tg_FloatTensor:$input, Tg_FloatTensor:$filter,
                   Tg_Pair1:$strides, Tg_Pad0:$padding, Tg_Pair1:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs Tg_FloatTensor:$result);
  let assemblyFormat = "$input `,` $filter attr-dict `:` functional-type(operands, results)";
}

def Tg_Conv2DBackpropInputOp : Tg_Op<"conv2d_backprop_input", [Pure, Tg_Differentiable]> {
  let summary = "Gradient of conv2d with respect to its input";
  let description = [{
    Given `grad_output` (`[N, O, OH, OW]`) and the `filter`, computes the
    gradient of a `tg.conv2d` with the same attributes with respect to its
    input, whose shape is the result type (it cannot always be recovered from
    the output shape when strides do not divide evenly).

    Example:
    ```mlir
    %dx = tg.conv2d_backprop_input %dy, %w {padding = array<i64: 1, 1, 1, 1>}
        : (tensor<8x32x28x28xf32>, tensor<32x1x3x3xf32>) -> tensor<8x1x28x28xf32>
    ```
  }];
  let arguments = (ins Tg_FloatTensor:$grad_output, Tg_FloatTensor:$filter,
                   Tg_Pair1:$strides, Tg_Pad0:$padding, Tg_Pair1:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs Tg_FloatTensor:$result);
  let assemblyFormat = "$grad_output `,` $filter attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Tg_Conv2DBackpropFilterOp : Tg_Op<"conv2d_backprop_filter", [Pure, Tg_Differentiable]> {
  let summary = "Gradient of conv2d with respect to its filter";
  let description = [{
    Given the conv2d `input` and `grad_output`, computes the gradient with
    respect to the filter, whose shape `[O, C/groups, KH, KW]` is the result
    type.

    Example:
    ```mlir
    %dw = tg.conv2d_backprop_filter %x, %dy {padding = array<i64: 1, 1, 1, 1>}
        : (tensor<8x1x28x28xf32>, tensor<8x32x28x28xf32>) -> tensor<32x1x3x3xf32>
    ```
  }];
  let arguments = (ins Tg_FloatTensor:$input, Tg_FloatTensor:$grad_output,
                   Tg_Pair1:$strides, Tg_Pad0:$padding, Tg_Pair1:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs Tg_FloatTensor:$result);
  let assemblyFormat = "$input `,` $grad_output attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

// Not differentiable: tg-fuse-epilogues makes it, after tg-autodiff.
def Tg_Conv2DBackpropFilterBiasOp : Tg_Op<"conv2d_backprop_filter_bias",
                                          [Pure, Tg_NotDifferentiable]> {
  let summary = "conv2d's filter gradient and its bias gradient, from one pass";
  let description = [{
    `filter_grad` is `tg.conv2d_backprop_filter` of the operands and
    `bias_grad` (`[O]`) is the sum of `grad_output` over N, H and W: the
    gradient of a per-channel bias added to the convolution. Made by
    tg-fuse-epilogues (CPU) from the two, so oneDNN's backward-weights
    primitive computes the bias gradient as it reads `grad_output` anyway.

    Example:
    ```mlir
    %dw, %db = tg.conv2d_backprop_filter_bias %x, %dy {padding = array<i64: 1, 1, 1, 1>}
        : (tensor<8x1x28x28xf32>, tensor<8x32x28x28xf32>) -> (tensor<32x1x3x3xf32>, tensor<32xf32>)
    ```
  }];
  let arguments = (ins Tg_FloatTensor:$input, Tg_FloatTensor:$grad_output,
                   Tg_Pair1:$strides, Tg_Pad0:$padding, Tg_Pair1:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs Tg_FloatTensor:$filter_grad, Tg_FloatTensor:$bias_grad);
  let assemblyFormat = "$input `,` $grad_output attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

class Tg_PoolOp<string mnemonic, string what>
    : Tg_Op<mnemonic, [Pure, InferTypeOpAdaptor, Tg_Differentiable]> {
  let summary = "2-D " # what # " pooling over NCHW";
  let description = "Takes the " # what # " over `kernel` (`[kh, kw]`) windows "
    # "moved by `strides` over the input padded by `padding` (`[top, bottom, "
    # "left, right]`). `OH = (H + top + bottom - kh) / stride_h + 1`.\n\n"
    # "Example:\n```mlir\n%p = tg." # mnemonic
    # " %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>}"
    # " : (tensor<8x32x28x28xf32>) -> tensor<8x32x14x14xf32>\n```";
  let results = (outs Tg_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Tg_MaxPool2DOp : Tg_PoolOp<"max_pool2d", "maximum"> {
  let arguments = (ins Tg_FloatTensor:$input, DenseI64ArrayAttr:$kernel,
                   DenseI64ArrayAttr:$strides, Tg_Pad0:$padding);
}

def Tg_AvgPool2DOp : Tg_PoolOp<"avg_pool2d", "average"> {
  let arguments = (ins Tg_FloatTensor:$input, DenseI64ArrayAttr:$kernel,
                   DenseI64ArrayAttr:$strides, Tg_Pad0:$padding,
                   DefaultValuedAttr<BoolAttr, "false">:$count_include_pad);
}

// Not differentiable: max pooling has no second derivative rule (yet).
def Tg_MaxPool2DGradOp : Tg_Op<"max_pool2d_grad", [Pure, Tg_NotDifferentiable]> {
  let summary = "Gradient of max_pool2d";
  let description = [{
    Routes each element of `grad_output` to the (first) position of the
    maximum of its window in `input`. The result has the input's type.

    Example:
    ```mlir
    %dx = tg.max_pool2d_grad %x, %dy {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>}
        : (tensor<8x32x28x28xf32>, tensor<8x32x14x14xf32>) -> tensor<8x32x28x28xf32>
    ```
  }];
  let arguments = (ins Tg_FloatTensor:$input, Tg_FloatTensor:$grad_output,
                   DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$strides, Tg_Pad0:$padding);
  let results = (outs Tg_FloatTensor:$result);
  let assemblyFormat = "$input `,` $grad_output attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Tg_AvgPool2DGradOp : Tg_Op<"avg_pool2d_grad", [Pure, Tg_Differentiable]> {
  let summary = "Gradient of avg_pool2d";
  let description = [{
    Spreads each element of `grad_output` evenly over its window. The result
    type is the pooled input's type.

    Example:
    ```mlir
    %dx = tg.avg_pool2d_grad %dy {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>}
        : (tensor<8x32x14x14xf32>) -> tensor<8x32x28x28xf32>
    ```
  }];
  let arguments = (ins Tg_FloatTensor:$grad_output, DenseI64ArrayAttr:$kernel,
                   DenseI64ArrayAttr:$strides, Tg_Pad0:$padding,
                   DefaultValuedAttr<BoolAttr, "false">:$count_include_pad);
  let results = (outs Tg_FloatTensor:$result);
  let assemblyFormat = "$grad_output attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def Tg_ConcatOp : Tg_Op<"concat", [Pure, InferTypeOpAdaptor, Tg_Differentiable]> {
  let summary = "Joins tensors along an axis";
  let description = [{
    All inputs have the same rank, element type and sizes except along `axis`.

    Example:
    ```mlir
    %c = tg.concat %a, %b {axis = 1} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
    ```
  }];
  let arguments = (ins Variadic<Tg_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Tg_Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Tg_SliceOp : Tg_Op<"slice", [Pure, InferTypeOpAdaptor, Tg_Differentiable]> {
  let summary = "Static strided slice";
  let description = [{
    Takes `x[start:limit:strides]` in every dimension, with
    `0 <= start <= limit <= dim` and `strides >= 1`. Result dimension `i` is
    `ceil((limit[i] - start[i]) / strides[i])`.

    Example:
    ```mlir
    %s = tg.slice %z {start = array<i64: 0, 0>, limit = array<i64: 4, 8>, strides = array<i64: 1, 1>}
        : (tensor<4x32xf32>) -> tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Tg_Tensor:$x, DenseI64ArrayAttr:$start, DenseI64ArrayAttr:$limit,
                   DenseI64ArrayAttr:$strides);
  let results = (outs Tg_Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Tg_PadOp : Tg_Op<"pad", [Pure, InferTypeOpAdaptor, Tg_Differentiable]> {
  let summary = "Pads with a constant value";
  let description = [{
    Adds `low[i]` elements before and `high[i]` after dimension `i`
    (non-negative), filled with `value`.

    Example:
    ```mlir
    %p = tg.pad %x {low = array<i64: 0, 1>, high = array<i64: 0, 2>, value = 0.0 : f64}
        : (tensor<2x3xf32>) -> tensor<2x6xf32>
    ```
  }];
  let arguments = (ins Tg_Tensor:$x, DenseI64ArrayAttr:$low, DenseI64ArrayAttr:$high,
                   DefaultValuedAttr<F64Attr, "0.0">:$value);
  let results = (outs Tg_Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Tg_GatherOp : Tg_Op<"gather", [Pure, InferTypeOpAdaptor, Tg_Differentiable]> {
  let summary = "Gathers slices along an axis (embedding lookup)";
  let description = [{
    `result[p..., i..., q...] = params[p..., indices[i...], q...]` where the
    `p` dimensions precede `axis`. The result shape is
    `params.shape[:axis] + indices.shape + params.shape[axis+1:]`. An index
    outside `[0, params.shape[axis])` is an error at run time.

    Example:
    ```mlir
    %e = tg.gather %table, %ids {axis = 0} : (tensor<100x16xf32>, tensor<8x5xi32>) -> tensor<8x5x16xf32>
    ```
  }];
  let arguments = (ins Tg_Tensor:$params, Tg_IntTensor:$indices,
                   DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs Tg_Tensor:$result);
  let assemblyFormat = "$params `,` $indices attr-dict `:` functional-type(operands, results)";
}

def Tg_ScatterAddOp : Tg_Op<"scatter_add", [Pure, InferTypeOpAdaptor, Tg_Differentiable]> {
  let summary = "Adds slices into a tensor at indices (the transpose of gather)";
  let description = [{
    Returns `base` with `updates[p..., i..., q...]` added at
    `[p..., indices[i...], q...]`; repeated indices accumulate. `updates` has
    the shape `gather(base, indices, axis)` would have.

    Example:
    ```mlir
    %g = tg.scatter_add %zeros, %ids, %dy {axis = 0}
        : (tensor<100x16xf32>, tensor<8x5xi32>, tensor<8x5x16xf32>) -> tensor<100x16xf32>
    ```
  }];
  let arguments = (ins Tg_NumericTensor:$base, Tg_IntTensor:$indices,
                   Tg_NumericTensor:$updates, DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs Tg_NumericTensor:$result);
  let assemblyFormat = "$base `,` $indices `,` $updates attr-dict `:` functional-type(operands, results)";
}

// Not differentiable: its operand is integer indices.
def Tg_OneHotOp : Tg_Op<"one_hot", [Pure, Tg_NotDifferentiable]> {
  let summary = "One-hot encoding of integer indices";
  let description = [{
    The result has shape `indices.shape + [depth]`, with `depth` the last
    result dimension: `on_value` where the last index equals the index,
    `off_value` elsewhere (everywhere for an out-of-range index, as in
    TensorFlow).

    Example:
    ```mlir
    %h = tg.one_hot %labels : (tensor<32xi32>) -> tensor<32x10xf32>
    ```
  }];
  let arguments = (ins Tg_IntTensor:$indices,
                   DefaultValuedAttr<F64Attr, "1.0">:$on_value,
                   DefaultValuedAttr<F64Attr, "0.0">:$off_value);
  let results = (outs Tg_NumericTensor:$result);
  let assemblyFormat = "$indices attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

// Not differentiable: its result depends on no operand.
def Tg_IotaOp : Tg_Op<"iota", [Pure, Tg_NotDifferentiable]> {
  let summary = "Each element's index along one dimension";
  let description = [{
    Element `[i0, ..., in]` of the result is `i_dimension`, in the result's
    element type. With `tg.compare` it builds masks from their shape alone,
    e.g. a causal mask (key <= query) without a T x T constant in the IR.

    Example:
    ```mlir
    %rows = tg.iota {dimension = 0 : i64} : tensor<64x64xi32>
    ```
  }];
  let arguments = (ins I64Attr:$dimension);
  let results = (outs Tg_NumericTensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Tg_CastOp : Tg_Op<"cast", [Pure, Tg_Differentiable]> {
  let summary = "Converts the element type";
  let description = [{
    Same shape, new element type. Float to integer truncates toward zero;
    to `i1` is `x != 0`; from `i1` gives 0 or 1.

    Example:
    ```mlir
    %f = tg.cast %mask : (tensor<32xi1>) -> tensor<32xf32>
    ```
  }];
  let arguments = (ins Tg_Tensor:$x);
  let results = (outs Tg_Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

// Not differentiable: tg-assign-layouts makes it, after tg-autodiff.
def Tg_RelayoutOp : Tg_Op<"relayout", [Pure, SameOperandsAndResultType, Tg_NotDifferentiable]> {
  let summary = "Changes the memory layout of an NCHW tensor (a value-preserving copy)";
  let description = [{
    The same values, stored in another order: with `to_blocked`, from plain
    NCHW to oneDNN's blocked `nChw<block>c` (channels in groups of `block`
    innermost), else back. Only tg-assign-layouts creates it, at the
    boundary of a chain of values kept blocked between library calls; the
    interpreter, which sees logical values only, treats it as the identity.

    Example:
    ```mlir
    %b = tg.relayout %x {to_blocked = true, block = 16} : tensor<64x32x14x14xf32>
    ```
  }];
  let arguments = (ins F32Tensor:$x, BoolAttr:$to_blocked, I64Attr:$block);
  let results = (outs F32Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Stateless random numbers
//===----------------------------------------------------------------------===//

// Not differentiable: the only operand is an integer seed.
class Tg_RandomOp<string mnemonic, string what>
    : Tg_Op<mnemonic, [Pure, Tg_NotDifferentiable]> {
  let summary = "Stateless seeded " # what # " random numbers";
  let description = "Fills the result type with " # what # " samples that depend "
    # "only on the seed and the element's position (Philox-4x32-10 counter "
    # "based generator, keyed by the 64-bit seed): the same seed gives the same "
    # "tensor everywhere. Used for dropout masks and initialization.\n\n"
    # "Example:\n```mlir\n%r = tg." # mnemonic # " %seed : (tensor<i64>) -> tensor<32x256xf32>\n```";
  let results = (outs Tg_FloatTensor:$result);
  let assemblyFormat = "$seed attr-dict `:` functional-type(operands, results)";
}

def Tg_RandomUniformOp : Tg_RandomOp<"random_uniform", "uniform [low, high)"> {
  let arguments = (ins Tg_I64ScalarTensor:$seed,
                   DefaultValuedAttr<F64Attr, "0.0">:$low,
                   DefaultValuedAttr<F64Attr, "1.0">:$high);
  let hasVerifier = 1;
}

def Tg_RandomNormalOp : Tg_RandomOp<"random_normal", "normal (mean, stddev)"> {
  let arguments = (ins Tg_I64ScalarTensor:$seed,
                   DefaultValuedAttr<F64Attr, "0.0">:$mean,
                   DefaultValuedAttr<F64Attr, "1.0">:$stddev);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

def Tg_SoftmaxCrossEntropyOp : Tg_Op<"softmax_cross_entropy", [Pure, InferTypeOpAdaptor, Tg_Differentiable]> {
  let summary = "Softmax cross-entropy with integer class labels";
  let description = [{
    For logits `[..., C]` and labels `[...]` (integers in `[0, C)`: the
    manifest marks a label argument with `classes = C` and `tgc train` rejects
    data with another value, naming the example; the loss of an out-of-range
    label fed through the C API is unspecified), the loss of each example is
    `logsumexp(logits) - logits[label]`. `reduction` is `mean` (default; a
    scalar), `sum` (a scalar) or `none` (the labels' shape).

    Example:
    ```mlir
    %l = tg.softmax_cross_entropy %logits, %labels : (tensor<32x10xf32>, tensor<32xi32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Tg_FloatTensor:$logits, Tg_IntTensor:$labels,
                   DefaultValuedAttr<StrAttr, "\"mean\"">:$reduction);
  let results = (outs Tg_FloatTensor:$result);
  let assemblyFormat = "$logits `,` $labels attr-dict `:` functional-type(operands, results)";
}

def Tg_MeanSquaredErrorOp : Tg_Op<"mean_squared_error", [Pure, InferTypeOpAdaptor, Tg_Differentiable]> {
  let summary = "Squared error between predictions and targets";
  let description = [{
    `(predictions - targets)^2` elementwise; operands share one type.
    `reduction` is `mean` (default; the mean over all elements), `sum`, or
    `none` (the operands' shape).

    Example:
    ```mlir
    %l = tg.mean_squared_error %y, %t : (tensor<32x1xf32>, tensor<32x1xf32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Tg_FloatTensor:$predictions, Tg_FloatTensor:$targets,
                   DefaultValuedAttr<StrAttr, "\"mean\"">:$reduction);
  let results = (outs Tg_FloatTensor:$result);
  let assemblyFormat = "$predictions `,` $targets attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Fused library ops (created by tg-fuse-epilogues, not by users)
//===----------------------------------------------------------------------===//

// Not differentiable: tg-fuse-epilogues makes it, after tg-autodiff.
def Tg_FusedMatmulOp : Tg_Op<"fused_matmul", [Pure, InferTypeOpAdaptor, Tg_NotDifferentiable]> {
  let summary = "matmul + bias + activation as one library call";
  let description = [{
    `activation(op(lhs) @ op(rhs) + bias)` with the matmul's shape rule;
    `bias` is `[N]`, the result's last dimension, and `activation` one of
    `none`, `relu`, `tanh`, `sigmoid`. tg-fuse-epilogues forms it from a
    matmul, a bias add and an activation so that the CPU backend runs one
    oneDNN primitive with post-ops instead of three passes over memory.

    Example:
    ```mlir
    %y = tg.fused_matmul %x, %w, %b {activation = "relu"} : (tensor<32x784xf32>, tensor<784x256xf32>, tensor<256xf32>) -> tensor<32x256xf32>
    ```
  }];
  let arguments = (ins Tg_FloatTensor:$lhs, Tg_FloatTensor:$rhs, Tg_FloatTensor:$bias,
                   DefaultValuedAttr<BoolAttr, "false">:$transpose_lhs,
                   DefaultValuedAttr<BoolAttr, "false">:$transpose_rhs,
                   DefaultValuedAttr<StrAttr, "\"none\"">:$activation);
  let results = (outs Tg_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs `,` $bias attr-dict `:` functional-type(operands, results)";
}

// Not differentiable: tg-fuse-epilogues makes it, after tg-autodiff.
def Tg_FusedConv2DOp : Tg_Op<"fused_conv2d", [Pure, InferTypeOpAdaptor, Tg_NotDifferentiable]> {
  let summary = "conv2d + per-channel bias + activation as one library call";
  let description = [{
    `activation(conv2d(input, filter) + bias[c])` with conv2d's attributes and
    shape rule; `bias` is `[O]`, one value per output channel, and
    `activation` one of `none`, `relu`, `tanh`, `sigmoid`. Formed by
    tg-fuse-epilogues.

    Example:
    ```mlir
    %y = tg.fused_conv2d %x, %w, %b {activation = "relu", padding = array<i64: 1, 1, 1, 1>} : (tensor<8x1x28x28xf32>, tensor<32x1x3x3xf32>, tensor<32xf32>) -> tensor<8x32x28x28xf32>
    ```
  }];
  let arguments = (ins Tg_FloatTensor:$input, Tg_FloatTensor:$filter, Tg_FloatTensor:$bias,
                   Tg_Pair1:$strides, Tg_Pad0:$padding, Tg_Pair1:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$groups,
                   DefaultValuedAttr<StrAttr, "\"none\"">:$activation);
  let results = (outs Tg_FloatTensor:$result);
  let assemblyFormat = "$input `,` $filter `,` $bias attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Data parallelism (tg-distribute)
//===----------------------------------------------------------------------===//

// Not differentiable: tg-build-train-step places it on finished gradients.
def Tg_ParamGradOp : Tg_Op<"param_grad", [SameOperandsAndResultType,
    MemoryEffects<[MemRead<DefaultResource>, MemWrite<DefaultResource>]>,
    Tg_NotDifferentiable]> {
  let summary = "marks the complete gradient of a param";
  let description = [{
    The identity on `grad`, the gradient of param `param` in a train step
    once backward has finished it (before regularization and the optimizer).
    tg-build-train-step places one per param; tg-distribute replaces it with
    the bucketed cross-rank reduction, or removes it. Its side effect keeps it
    in place until then: canonicalization neither drops nor moves it.

    Example:
    ```mlir
    %g = tg.param_grad %0 {param = "dense.w"} : tensor<784x256xf32>
    ```
  }];
  let arguments = (ins Tg_FloatTensor:$grad, StrAttr:$param);
  let results = (outs Tg_FloatTensor:$result);
  let assemblyFormat = "$grad attr-dict `:` type($grad)";
}

// Not differentiable (nor the wait): tg-distribute makes them, after tg-autodiff.
def Tg_AllreduceStartOp : Tg_Op<"allreduce_start", [
    MemoryEffects<[MemRead<DefaultResource>, MemWrite<DefaultResource>]>,
    Tg_NotDifferentiable]> {
  let summary = "starts an allreduce of a bucket across the ranks";
  let description = [{
    Starts reducing the 1-D f32 `bucket` (packed gradients) across every
    rank of the run: `reduction` is `mean`, `sum`, or `gradient_mean` (a
    mean of gradients, which the artifact's compression, `tgc compile
    --compress`, applies to; a loss or metric is reduced exactly). The buffer belongs to
    the collective until the matching `tg.allreduce_wait`, which takes the
    token and the same `bucket`; `id` numbers the buckets of a function
    (unique within it). It lowers to a call into the runtime's communicator,
    which progresses the collective while later kernels run; with one rank
    it completes at once.

    Example:
    ```mlir
    %t = tg.allreduce_start %b {id = 0 : i64, reduction = "mean"} : tensor<1024xf32>
    ```
  }];
  let arguments = (ins 1DTensorOf<[F32]>:$bucket, I64Attr:$id,
                   DefaultValuedAttr<StrAttr, "\"mean\"">:$reduction);
  let results = (outs Tg_TokenType:$token);
  let assemblyFormat = "$bucket attr-dict `:` type($bucket)";
  let hasVerifier = 1;
}

def Tg_AllreduceWaitOp : Tg_Op<"allreduce_wait", [AllTypesMatch<["bucket", "result"]>,
    MemoryEffects<[MemRead<DefaultResource>, MemWrite<DefaultResource>]>,
    Tg_NotDifferentiable]> {
  let summary = "completes a started allreduce";
  let description = [{
    Waits for the collective `token` started and returns the reduced bucket.
    `bucket` and `id` must be the started op's (the buffer is reduced in
    place; the runtime call names the bucket by id).

    Example:
    ```mlir
    %r = tg.allreduce_wait %t, %b {id = 0 : i64} : tensor<1024xf32>
    ```
  }];
  let arguments = (ins Tg_TokenType:$token, 1DTensorOf<[F32]>:$bucket, I64Attr:$id);
  let results = (outs 1DTensorOf<[F32]>:$result);
  let assemblyFormat = "$token `,` $bucket attr-dict `:` type($bucket)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    AllreduceStartOp getStart() { return getToken().getDefiningOp<AllreduceStartOp>(); }
  }];
}

// Sharded optimizer state (tgc compile --shard-optimizer-state=N): the world
// size N is the ratio of the full and the shard sizes. Made by tg-distribute
// after tg-autodiff, so not differentiable.
def Tg_ReduceScatterOp : Tg_Op<"reduce_scatter", [
    MemoryEffects<[MemRead<DefaultResource>, MemWrite<DefaultResource>]>,
    Tg_NotDifferentiable]> {
  let summary = "this rank's shard of the reduction of a 1-D f32 tensor across the ranks";
  let description = [{
    Every rank holds a `input` of N * S elements; rank r gets elements
    [r * S, (r + 1) * S) of their reduction, added in rank order as the
    rank-ordered allreduce adds them (so the same bits): `reduction` is
    `gradient_mean`, `mean` or `sum`. N, the world size the module was
    compiled for, is the ratio of the sizes; the runtime checks it.

    Example:
    ```mlir
    %s = tg.reduce_scatter %g {reduction = "gradient_mean"} : (tensor<1024xf32>) -> tensor<512xf32>
    ```
  }];
  let arguments = (ins 1DTensorOf<[F32]>:$input,
                   DefaultValuedAttr<StrAttr, "\"gradient_mean\"">:$reduction);
  let results = (outs 1DTensorOf<[F32]>:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type($input, $result)";
  let hasVerifier = 1;
}

def Tg_AllgatherOp : Tg_Op<"allgather", [
    MemoryEffects<[MemRead<DefaultResource>, MemWrite<DefaultResource>]>,
    Tg_NotDifferentiable]> {
  let summary = "every rank's 1-D f32 shard, in rank order";
  let description = [{
    Rank r's `input` of S elements becomes elements [r * S, (r + 1) * S)
    of the result, of N * S elements, on every rank.

    Example:
    ```mlir
    %p = tg.allgather %s : (tensor<512xf32>) -> tensor<1024xf32>
    ```
  }];
  let arguments = (ins 1DTensorOf<[F32]>:$input);
  let results = (outs 1DTensorOf<[F32]>:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type($input, $result)";
  let hasVerifier = 1;
}

def Tg_LocalShardOp : Tg_Op<"local_shard", [Pure, Tg_NotDifferentiable]> {
  let summary = "this rank's shard of a 1-D f32 tensor";
  let description = [{
    Elements [r * S, (r + 1) * S) of `input` (N * S elements) on rank r: a
    slice whose offset is the rank, known only when the step runs.

    Example:
    ```mlir
    %s = tg.local_shard %p : (tensor<1024xf32>) -> tensor<512xf32>
    ```
  }];
  let arguments = (ins 1DTensorOf<[F32]>:$input);
  let results = (outs 1DTensorOf<[F32]>:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type($input, $result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Point-to-point transfers between pipeline stages (tg-pipeline-split)
//===----------------------------------------------------------------------===//

// Made by tg-pipeline-split after differentiation: not differentiable.
class Tg_P2POp<string mnemonic, list<Trait> traits = []> : Tg_Op<mnemonic, !listconcat(traits, [
    MemoryEffects<[MemRead<DefaultResource>, MemWrite<DefaultResource>]>,
    Tg_NotDifferentiable])>;

def Tg_SendStartOp : Tg_P2POp<"send_start"> {
  let summary = "starts sending a 1-D f32 tensor to another pipeline stage";
  let description = [{
    Starts sending `value` to the rank that runs stage `s + peer` of this
    rank's pipeline (s: this rank's stage; `peer` is relative, e.g. 1 for
    the next stage's activations, -1 for the previous stage's gradients).
    The buffer belongs to the transfer until the matching `tg.send_wait`,
    which takes the token, the same value and the same `tag`; `tag` tells
    the transfers of a function apart (unique among its sends, and matched by
    the peer's `tg.recv_start` with the same tag). It lowers to a call into
    the runtime's communicator (a point-to-point send).

    Example:
    ```mlir
    %t = tg.send_start %x {peer = 1 : i64, tag = 0 : i64} : tensor<2048xf32>
    ```
  }];
  let arguments = (ins 1DTensorOf<[F32]>:$value, I64Attr:$peer, I64Attr:$tag);
  let results = (outs Tg_TokenType:$token);
  let assemblyFormat = "$value attr-dict `:` type($value)";
  let hasVerifier = 1;
}

def Tg_SendWaitOp : Tg_P2POp<"send_wait"> {
  let summary = "completes a started send";
  let description = [{
    Waits until the send `token` started no longer needs its buffer.
    `value` and `tag` must be the started op's.

    Example:
    ```mlir
    tg.send_wait %t, %x {tag = 0 : i64} : tensor<2048xf32>
    ```
  }];
  let arguments = (ins Tg_TokenType:$token, 1DTensorOf<[F32]>:$value, I64Attr:$tag);
  let assemblyFormat = "$token `,` $value attr-dict `:` type($value)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    SendStartOp getStart() { return getToken().getDefiningOp<SendStartOp>(); }
  }];
}

def Tg_RecvStartOp : Tg_P2POp<"recv_start"> {
  let summary = "starts receiving a 1-D f32 tensor from another pipeline stage";
  let description = [{
    Starts receiving, from the rank that runs stage `s + peer`, the tensor
    that rank sends with the same `tag`, into `buffer` (a new buffer of the
    result type, owned by the transfer until the matching
    `tg.recv_wait`, which returns it filled).

    Example:
    ```mlir
    %t, %b = tg.recv_start {peer = -1 : i64, tag = 0 : i64} : tensor<2048xf32>
    ```
  }];
  let arguments = (ins I64Attr:$peer, I64Attr:$tag);
  let results = (outs Tg_TokenType:$token, 1DTensorOf<[F32]>:$buffer);
  let assemblyFormat = "attr-dict `:` type($buffer)";
  let hasVerifier = 1;
}

def Tg_RecvWaitOp : Tg_P2POp<"recv_wait", [AllTypesMatch<["buffer", "result"]>]> {
  let summary = "completes a started receive";
  let description = [{
    Waits for the receive `token` started and returns the received tensor.
    `buffer` and `tag` must be the started op's.

    Example:
    ```mlir
    %x = tg.recv_wait %t, %b {tag = 0 : i64} : tensor<2048xf32>
    ```
  }];
  let arguments = (ins Tg_TokenType:$token, 1DTensorOf<[F32]>:$buffer, I64Attr:$tag);
  let results = (outs 1DTensorOf<[F32]>:$result);
  let assemblyFormat = "$token `,` $buffer attr-dict `:` type($buffer)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    RecvStartOp getStart() { return getToken().getDefiningOp<RecvStartOp>(); }
  }];
}

//===----------------------------------------------------------------------===//
// Loops
//===----------------------------------------------------------------------===//

def Tg_ScanOp : Tg_Op<"scan", [RecursiveMemoryEffects, AttrSizedOperandSegments,
                               SingleBlockImplicitTerminator<"YieldOp">]> {
  let summary = "A loop over a sequence axis with carried state (like lax.scan)";
  let description = [{
    Applies the body once per step t = 0 .. length-1, in order. The body's
    arguments are step t of every `sequences` operand (each `[length, ...]`,
    the leading axis dropped), then the carried values (`inits` at step 0).
    Its `tg.yield` gives the next carried values, then the step's outputs.
    The results are the carried values after the last step (`finals`, typed
    like `inits`), then every output stacked along a new leading axis of
    `length` (`stacked`). The trip count is static; the body is compiled
    once (issue 12's rolled recurrence).

    With `reverse`, the steps run from length-1 down to 0; step t still
    reads element t of each sequence and writes element t of each stacked
    output (as `lax.scan(..., reverse=True)`). The gradient of a scan is a
    reverse scan. It saves the per-step values its rules need as stacked
    buffers; with `recompute` it saves only the carried values of each step
    and recomputes the rest of the body in the reverse scan (less memory
    for long sequences, one more forward step of work).

    A `microbatches` scan is a train step's micro-batches (tgc compile
    --microbatches): it is not differentiated, and its sums of per-step
    products stay in the loop (stacking their factors would keep every
    micro-batch's activations).

    Example (a running sum and its prefix sums):
    ```mlir
    %final, %prefix = tg.scan (%xs) carry (%zero)
        : (tensor<5x3xf32>, tensor<3xf32>) -> (tensor<3xf32>, tensor<5x3xf32>) {
    ^bb0(%x: tensor<3xf32>, %acc: tensor<3xf32>):
      %s = tg.add %acc, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
      tg.yield %s, %s : tensor<3xf32>, tensor<3xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<Tg_Tensor>:$sequences, Variadic<Tg_Tensor>:$inits,
                       UnitAttr:$reverse, UnitAttr:$recompute, UnitAttr:$microbatches);
  let results = (outs Variadic<Tg_Tensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `(` $sequences `)` `carry` `(` $inits `)` attr-dict `:` functional-type(operands, results)
    $body
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    /// The trip count: the sequences' leading dimension (1 without any).
    int64_t getLength();
    /// The carried values after the last step (typed like the inits).
    mlir::ResultRange getFinals() { return getResults().take_front(getInits().size()); }
    /// The step outputs, stacked.
    mlir::ResultRange getStacked() { return getResults().drop_front(getInits().size()); }
    /// One step of a sequence typed `sequence` (its leading axis dropped).
    static mlir::RankedTensorType stepType(mlir::Type sequence);
    /// `length` steps typed `step`, stacked along a new leading axis.
    static mlir::RankedTensorType stackedType(mlir::Type step, int64_t length);
  }];
}

def Tg_YieldOp : Tg_Op<"yield", [Pure, Terminator, ReturnLike, HasParent<"ScanOp">]> {
  let summary = "The next carried values and the step's outputs of a tg.scan body";
  let arguments = (ins Variadic<Tg_Tensor>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
  let builders = [OpBuilder<(ins), [{ build($_builder, $_state, mlir::ValueRange()); }]>];
}

#endif // TG_OPS_TD
