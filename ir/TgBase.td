//===- TgBase.td - tg dialect definition and shared constraints ----------===//
//
// The `tg` dialect: TensorFlow-like dataflow ops on static-shape tensors.
//
//===----------------------------------------------------------------------===//

#ifndef TG_BASE_TD
#define TG_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/IR/CommonAttrConstraints.td"

def Tg_Dialect : Dialect {
  let name = "tg";
  let cppNamespace = "::tg";
  let summary = "Dataflow tensor graphs for training and inference";
  let description = [{
    The `tg` dialect holds the ops of a TensorFlow-like dataflow graph on
    statically shaped tensors: elementwise math with NumPy broadcasting,
    matmul and convolution, reductions, data movement, losses and stateless
    random numbers. Function arguments carry roles through the `tg.role`
    argument attribute (`param`, `state`, `data`, `label`, `hyper`); params
    carry an initializer in `tg.init`, and arguments and results a `tg.name`.
    A result with `tg.alias = i` is the next value of argument `i` (updated in
    place); a module's `tg.train` attribute holds its training spec.
  }];
  let hasConstantMaterializer = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  let hasOperationAttrVerify = 1;
  // Inherent attributes stay in the attribute dictionary: the frontend and
  // the interpreter treat every op generically through it.
  let usePropertiesForAttributes = 0;
  let useDefaultTypePrinterParser = 1;
  let extraClassDeclaration = [{
    static constexpr llvm::StringLiteral kRoleAttr = "tg.role";
    static constexpr llvm::StringLiteral kInitAttr = "tg.init";
    static constexpr llvm::StringLiteral kNameAttr = "tg.name";
    /// On a hyper argument: the value used when the caller does not bind it.
    static constexpr llvm::StringLiteral kDefaultAttr = "tg.default";
    /// On a result: the index of the argument whose buffer it updates in place.
    static constexpr llvm::StringLiteral kAliasAttr = "tg.alias";
    /// On a result with tg.alias: the state changes in training only (e.g.
    /// BatchNorm's running statistics), so eval_step and predict leave it
    /// alone (tg-build-train-step drops the result there).
    static constexpr llvm::StringLiteral kTrainOnlyAttr = "tg.train_only";
    /// On a convolution or pooling op (tg-assign-layouts): a bit mask of its
    /// NCHW activation operands, then its result, stored blocked
    /// (nChw<tg.block>c) rather than plain.
    static constexpr llvm::StringLiteral kBlockedAttr = "tg.blocked";
    static constexpr llvm::StringLiteral kBlockAttr = "tg.block";
    /// On an f32 matmul or convolution (tg-mixed-precision): "bf16", its
    /// inputs rounded to bf16 with f32 accumulation and f32 results.
    static constexpr llvm::StringLiteral kComputeAttr = "tg.compute";
    /// On a bufferized function (tg-plan-memory): the bytes of its arena of
    /// temporaries, and what they would take without reuse.
    static constexpr llvm::StringLiteral kArenaBytesAttr = "tg.arena_bytes";
    static constexpr llvm::StringLiteral kTempBytesAttr = "tg.temp_bytes";
    /// On a result of a gradient function: the param it is the gradient of.
    static constexpr llvm::StringLiteral kGradOfAttr = "tg.grad_of";
    /// On a function: the function it was differentiated from.
    static constexpr llvm::StringLiteral kGradientOfAttr = "tg.gradient_of";
    /// On a function: its entry-point kind (train_step, eval_step, predict).
    static constexpr llvm::StringLiteral kEntryAttr = "tg.entry";
  }];
}

// Types

/// Orders a started collective before its wait (tg.allreduce_start/wait).
def Tg_TokenType : TypeDef<Tg_Dialect, "Token"> {
  let mnemonic = "token";
  let summary = "a started collective";
  let description = [{
    The result of `tg.allreduce_start`, consumed by exactly one
    `tg.allreduce_wait`; it carries no data, only the order between them.
  }];
}

// Every tg op's tensors are checked against a size limit, with element counts
// computed without overflow (ir/Dialect.h, verifyTensorSizes).
def Tg_BoundedTensors : NativeOpTrait<"BoundedTensors"> { let cppNamespace = "::tg"; }

class Tg_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tg_Dialect, mnemonic, !listconcat(traits, [Tg_BoundedTensors])>;

// Element types. f32 is the working type; f16/bf16 are accepted where cheap,
// f64 for gradient checks; i32/i64 index; i1 masks.
def Tg_FloatElt : AnyTypeOf<[F32, F16, BF16, F64]>;
def Tg_IntElt : AnyTypeOf<[I32, I64]>;
def Tg_NumericElt : AnyTypeOf<[F32, F16, BF16, F64, I32, I64]>;
def Tg_AnyElt : AnyTypeOf<[F32, F16, BF16, F64, I1, I32, I64]>;

def Tg_FloatTensor : StaticShapeTensorOf<[Tg_FloatElt]>;
def Tg_IntTensor : StaticShapeTensorOf<[Tg_IntElt]>;
def Tg_NumericTensor : StaticShapeTensorOf<[Tg_NumericElt]>;
def Tg_BoolTensor : StaticShapeTensorOf<[I1]>;
def Tg_Tensor : StaticShapeTensorOf<[Tg_AnyElt]>;
def Tg_I64ScalarTensor : 0DTensorOf<[I64]>;

#endif // TG_BASE_TD
