//===- TgToLinalg.cpp - tg -> linalg/tensor, one pattern per op -----------===//
//
// Backend-neutral: every tg op on tensors becomes linalg.generic / tensor /
// arith / math / scf ops. Broadcasting is expressed in indexing maps (size-1
// and missing dimensions read index 0), so no broadcast tensor is ever
// materialized. Each op has its own pattern (OpLowering<Op> calling the
// lowerOp overload for it; elementwise ops through their scalarOf), so an op
// without one is a compile error here or a located diagnostic at run time,
// never a silent fall-through.
//
//===----------------------------------------------------------------------===//
#include "codegen/common/TgToLinalg.h"
#include "ir/Dialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Debug.h"

#include <cmath>
#include <limits>

#define DEBUG_TYPE "tg-to-linalg"

using namespace mlir;

namespace tg {
namespace {

using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

RankedTensorType tensorType(Value v) { return llvm::cast<RankedTensorType>(v.getType()); }
bool isFloatElt(Type t) { return llvm::isa<FloatType>(t); }

/// Emission helpers shared by all op lowerings.
struct Emitter {
  OpBuilder &b;
  Location loc;

  Value empty(RankedTensorType t) {
    return b.create<tensor::EmptyOp>(loc, t.getShape(), t.getElementType());
  }

  /// A scalar constant of element type `t`.
  Value scalar(OpBuilder &bb, Location l, Type t, double v) {
    if (auto f = llvm::dyn_cast<FloatType>(t))
      return bb.create<arith::ConstantOp>(l, bb.getFloatAttr(f, v));
    return bb.create<arith::ConstantOp>(l, bb.getIntegerAttr(t, int64_t(v)));
  }

  /// Map from the result's loop dims to an operand broadcast NumPy style.
  AffineMap broadcastMap(RankedTensorType operand, ArrayRef<int64_t> resultShape) {
    int64_t r = int64_t(resultShape.size()), lead = r - operand.getRank();
    SmallVector<AffineExpr> exprs;
    for (int64_t i = 0; i < operand.getRank(); ++i) {
      bool broadcast = operand.getDimSize(i) == 1 && resultShape[size_t(lead + i)] != 1;
      exprs.push_back(broadcast ? b.getAffineConstantExpr(0)
                                : b.getAffineDimExpr(unsigned(lead + i)));
    }
    return AffineMap::get(unsigned(r), 0, exprs, b.getContext());
  }

  /// result[i] = body(operands broadcast to the result at i).
  Value elementwise(RankedTensorType result, ValueRange operands, BodyFn body) {
    SmallVector<AffineMap> maps;
    for (Value v : operands)
      maps.push_back(broadcastMap(tensorType(v), result.getShape()));
    maps.push_back(b.getMultiDimIdentityMap(unsigned(result.getRank())));
    SmallVector<utils::IteratorType> iters(result.getRank(), utils::IteratorType::parallel);
    auto op =
        b.create<linalg::GenericOp>(loc, TypeRange{result}, operands, ValueRange{empty(result)},
                                    maps, iters, [&](OpBuilder &nb, Location l, ValueRange args) {
                                      nb.create<linalg::YieldOp>(l, body(nb, l, args.drop_back()));
                                    });
    return op.getResult(0);
  }

  /// Reduces `x` over `axes` (sorted) into a tensor without those dims.
  /// `combine(acc, x)`; `init` is the identity.
  Value reduce(Value x, ArrayRef<int64_t> axes, double init,
               function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
    auto t = tensorType(x);
    SmallVector<int64_t> outShape;
    SmallVector<AffineExpr> outExprs;
    SmallVector<utils::IteratorType> iters;
    for (int64_t i = 0; i < t.getRank(); ++i) {
      bool reduced = llvm::is_contained(axes, i);
      iters.push_back(reduced ? utils::IteratorType::reduction : utils::IteratorType::parallel);
      if (!reduced) {
        outShape.push_back(t.getDimSize(i));
        outExprs.push_back(b.getAffineDimExpr(unsigned(i)));
      }
    }
    auto outType = RankedTensorType::get(outShape, t.getElementType());
    Value filled =
        b.create<linalg::FillOp>(loc, scalar(b, loc, t.getElementType(), init), empty(outType))
            .getResult(0);
    SmallVector<AffineMap> maps = {
        b.getMultiDimIdentityMap(unsigned(t.getRank())),
        AffineMap::get(unsigned(t.getRank()), 0, outExprs, b.getContext())};
    auto op = b.create<linalg::GenericOp>(
        loc, TypeRange{outType}, ValueRange{x}, ValueRange{filled}, maps, iters,
        [&](OpBuilder &nb, Location l, ValueRange args) {
          nb.create<linalg::YieldOp>(l, combine(nb, l, args[1], args[0]));
        });
    return op.getResult(0);
  }

  /// Map from `full`'s dims to a tensor reduced over `axis` (that dim dropped).
  AffineMap droppedAxisMap(int64_t rank, int64_t axis) {
    SmallVector<AffineExpr> exprs;
    for (int64_t i = 0; i < rank; ++i)
      if (i != axis)
        exprs.push_back(b.getAffineDimExpr(unsigned(i)));
    return AffineMap::get(unsigned(rank), 0, exprs, b.getContext());
  }

  /// Elementwise over `full`'s shape where `reduced` operands drop `axis`.
  Value withReduced(RankedTensorType result, ValueRange fulls, ValueRange reduced, int64_t axis,
                    BodyFn body) {
    SmallVector<Value> operands(fulls);
    operands.append(reduced.begin(), reduced.end());
    SmallVector<AffineMap> maps;
    for (size_t i = 0; i < fulls.size(); ++i)
      maps.push_back(b.getMultiDimIdentityMap(unsigned(result.getRank())));
    for (size_t i = 0; i < reduced.size(); ++i)
      maps.push_back(droppedAxisMap(result.getRank(), axis));
    maps.push_back(b.getMultiDimIdentityMap(unsigned(result.getRank())));
    SmallVector<utils::IteratorType> iters(result.getRank(), utils::IteratorType::parallel);
    return b
        .create<linalg::GenericOp>(loc, TypeRange{result}, operands, ValueRange{empty(result)},
                                   maps, iters,
                                   [&](OpBuilder &nb, Location l, ValueRange args) {
                                     nb.create<linalg::YieldOp>(l, body(nb, l, args.drop_back()));
                                   })
        .getResult(0);
  }

  /// Row-major reshape through a rank-1 (or rank-0) intermediate.
  Value reshape(Value x, RankedTensorType to) {
    auto from = tensorType(x);
    if (from.getShape() == to.getShape())
      return x;
    auto flatType = RankedTensorType::get({from.getNumElements()}, from.getElementType());
    auto all = [&](int64_t rank) {
      SmallVector<ReassociationIndices> r;
      if (rank > 0) {
        r.emplace_back();
        for (int64_t i = 0; i < rank; ++i)
          r.back().push_back(i);
      }
      return r;
    };
    Value flat =
        from.getRank() == 1 ? x
        : from.getRank() == 0
            ? b.create<tensor::ExpandShapeOp>(loc, flatType, x, all(0)).getResult()
            : b.create<tensor::CollapseShapeOp>(loc, flatType, x, all(from.getRank())).getResult();
    if (to.getRank() == 1)
      return flat;
    if (to.getRank() == 0)
      return b.create<tensor::CollapseShapeOp>(loc, to, flat, all(0));
    return b.create<tensor::ExpandShapeOp>(loc, to, flat, all(to.getRank()));
  }
};

//===----------------------------------------------------------------------===//
// Scalar semantics of the elementwise ops (one overload per op)
//===----------------------------------------------------------------------===//

Value fconst(OpBuilder &b, Location l, Type t, double v) {
  return b.create<arith::ConstantOp>(l, b.getFloatAttr(t, v));
}

Value scalarOf(NegOp, OpBuilder &b, Location l, Value x) {
  Type t = x.getType();
  bool f = isFloatElt(t);
  if (f)
    return b.create<arith::NegFOp>(l, x);
  return b.create<arith::SubIOp>(l, b.create<arith::ConstantOp>(l, b.getIntegerAttr(t, 0)), x);
}

Value scalarOf(AbsOp, OpBuilder &b, Location l, Value x) {
  Type t = x.getType();
  bool f = isFloatElt(t);
  if (f)
    return b.create<math::AbsFOp>(l, x);
  return b.create<math::AbsIOp>(l, x);
}

Value scalarOf(SignOp, OpBuilder &b, Location l, Value x) {
  Type t = x.getType();
  bool f = isFloatElt(t);
  Value zero = f ? fconst(b, l, t, 0) : b.create<arith::ConstantOp>(l, b.getIntegerAttr(t, 0));
  Value one = f ? fconst(b, l, t, 1) : b.create<arith::ConstantOp>(l, b.getIntegerAttr(t, 1));
  Value minus = f ? fconst(b, l, t, -1) : b.create<arith::ConstantOp>(l, b.getIntegerAttr(t, -1));
  Value gt = f ? b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, x, zero).getResult()
               : b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sgt, x, zero).getResult();
  Value lt = f ? b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT, x, zero).getResult()
               : b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, x, zero).getResult();
  return b.create<arith::SelectOp>(l, gt, one, b.create<arith::SelectOp>(l, lt, minus, zero));
}

Value scalarOf(ExpOp, OpBuilder &b, Location l, Value x) { return b.create<math::ExpOp>(l, x); }

Value scalarOf(LogOp, OpBuilder &b, Location l, Value x) { return b.create<math::LogOp>(l, x); }

Value scalarOf(SqrtOp, OpBuilder &b, Location l, Value x) { return b.create<math::SqrtOp>(l, x); }

Value scalarOf(RsqrtOp, OpBuilder &b, Location l, Value x) { return b.create<math::RsqrtOp>(l, x); }

Value scalarOf(TanhOp, OpBuilder &b, Location l, Value x) { return b.create<math::TanhOp>(l, x); }

Value scalarOf(ErfOp, OpBuilder &b, Location l, Value x) { return b.create<math::ErfOp>(l, x); }

Value scalarOf(SinOp, OpBuilder &b, Location l, Value x) { return b.create<math::SinOp>(l, x); }

Value scalarOf(CosOp, OpBuilder &b, Location l, Value x) { return b.create<math::CosOp>(l, x); }

Value scalarOf(FloorOp, OpBuilder &b, Location l, Value x) { return b.create<math::FloorOp>(l, x); }

Value scalarOf(SigmoidOp, OpBuilder &b, Location l, Value x) {
  Type t = x.getType();
  Value e = b.create<math::ExpOp>(l, b.create<arith::NegFOp>(l, x));
  return b.create<arith::DivFOp>(l, fconst(b, l, t, 1),
                                 b.create<arith::AddFOp>(l, fconst(b, l, t, 1), e));
}

Value scalarOf(ReluOp, OpBuilder &b, Location l, Value x) {
  Type t = x.getType();
  Value zero = fconst(b, l, t, 0);
  Value gt = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, x, zero);
  return b.create<arith::SelectOp>(l, gt, x, zero);
}

Value scalarOf(GeluOp g, OpBuilder &b, Location l, Value x) {
  Type t = x.getType();
  Value half = fconst(b, l, t, 0.5), one = fconst(b, l, t, 1);
  Value inner;
  if (g.getApproximate()) {
    Value x3 = b.create<arith::MulFOp>(l, b.create<arith::MulFOp>(l, x, x), x);
    Value u = b.create<arith::MulFOp>(
        l, fconst(b, l, t, std::sqrt(2.0 / M_PI)),
        b.create<arith::AddFOp>(l, x, b.create<arith::MulFOp>(l, fconst(b, l, t, 0.044715), x3)));
    inner = b.create<math::TanhOp>(l, u);
  } else {
    inner = b.create<math::ErfOp>(l, b.create<arith::MulFOp>(l, x, fconst(b, l, t, M_SQRT1_2)));
  }
  return b.create<arith::MulFOp>(l, b.create<arith::MulFOp>(l, half, x),
                                 b.create<arith::AddFOp>(l, one, inner));
}

/// The float or the integer form of a binary arith op, by element type.
template <typename FloatOp, typename IntOp>
Value floatOrInt(OpBuilder &b, Location l, Value x, Value y) {
  if (isFloatElt(x.getType()))
    return b.create<FloatOp>(l, x, y);
  return b.create<IntOp>(l, x, y);
}

Value scalarOf(AddOp, OpBuilder &b, Location l, Value x, Value y) {
  return floatOrInt<arith::AddFOp, arith::AddIOp>(b, l, x, y);
}

Value scalarOf(SubOp, OpBuilder &b, Location l, Value x, Value y) {
  return floatOrInt<arith::SubFOp, arith::SubIOp>(b, l, x, y);
}

Value scalarOf(MulOp, OpBuilder &b, Location l, Value x, Value y) {
  return floatOrInt<arith::MulFOp, arith::MulIOp>(b, l, x, y);
}

Value scalarOf(DivOp, OpBuilder &b, Location l, Value x, Value y) {
  bool f = isFloatElt(x.getType());
  if (f)
    return b.create<arith::DivFOp>(l, x, y);
  // Integer division by zero gives 0 instead of trapping.
  Value zero = b.create<arith::ConstantOp>(l, b.getIntegerAttr(y.getType(), 0));
  Value one = b.create<arith::ConstantOp>(l, b.getIntegerAttr(y.getType(), 1));
  Value isZero = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, y, zero);
  Value safe = b.create<arith::SelectOp>(l, isZero, one, y);
  return b.create<arith::SelectOp>(l, isZero, zero, b.create<arith::DivSIOp>(l, x, safe));
}

Value scalarOf(PowOp, OpBuilder &b, Location l, Value x, Value y) {
  bool f = isFloatElt(x.getType());
  if (f)
    return b.create<math::PowFOp>(l, x, y);
  return b.create<math::IPowIOp>(l, x, y);
}

Value scalarOf(MaximumOp, OpBuilder &b, Location l, Value x, Value y) {
  return floatOrInt<arith::MaximumFOp, arith::MaxSIOp>(b, l, x, y);
}

Value scalarOf(MinimumOp, OpBuilder &b, Location l, Value x, Value y) {
  return floatOrInt<arith::MinimumFOp, arith::MinSIOp>(b, l, x, y);
}

Value scalarOf(CompareOp c, OpBuilder &b, Location l, Value x, Value y) {
  bool f = isFloatElt(x.getType());
  StringRef p = c.getPredicate();
  if (f) {
    auto pred = llvm::StringSwitch<arith::CmpFPredicate>(p)
                    .Case("eq", arith::CmpFPredicate::OEQ)
                    .Case("ne", arith::CmpFPredicate::UNE)
                    .Case("lt", arith::CmpFPredicate::OLT)
                    .Case("le", arith::CmpFPredicate::OLE)
                    .Case("gt", arith::CmpFPredicate::OGT)
                    .Default(arith::CmpFPredicate::OGE);
    return b.create<arith::CmpFOp>(l, pred, x, y);
  }
  auto pred = llvm::StringSwitch<arith::CmpIPredicate>(p)
                  .Case("eq", arith::CmpIPredicate::eq)
                  .Case("ne", arith::CmpIPredicate::ne)
                  .Case("lt", arith::CmpIPredicate::slt)
                  .Case("le", arith::CmpIPredicate::sle)
                  .Case("gt", arith::CmpIPredicate::sgt)
                  .Default(arith::CmpIPredicate::sge);
  return b.create<arith::CmpIOp>(l, pred, x, y);
}

/// Scalar conversion between element types (tg.cast semantics: float->int
/// truncates toward zero, i1 is 0/1, anything->i1 is "!= 0").
Value castScalar(OpBuilder &b, Location l, Value x, Type to) {
  Type from = x.getType();
  if (from == to)
    return x;
  if (to.isInteger(1)) {
    if (isFloatElt(from))
      return b.create<arith::CmpFOp>(l, arith::CmpFPredicate::UNE, x, fconst(b, l, from, 0));
    return b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ne, x,
                                   b.create<arith::ConstantOp>(l, b.getIntegerAttr(from, 0)));
  }
  if (isFloatElt(from) && isFloatElt(to)) {
    if (from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth())
      return b.create<arith::ExtFOp>(l, to, x);
    return b.create<arith::TruncFOp>(l, to, x);
  }
  if (isFloatElt(from))
    return b.create<arith::FPToSIOp>(l, to, x);
  if (isFloatElt(to))
    return from.isInteger(1) ? b.create<arith::UIToFPOp>(l, to, x).getResult()
                             : b.create<arith::SIToFPOp>(l, to, x).getResult();
  if (from.isInteger(1))
    return b.create<arith::ExtUIOp>(l, to, x);
  if (from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth())
    return b.create<arith::ExtSIOp>(l, to, x);
  return b.create<arith::TruncIOp>(l, to, x);
}

Value addScalar(OpBuilder &b, Location l, Value acc, Value x) {
  return isFloatElt(x.getType()) ? b.create<arith::AddFOp>(l, acc, x).getResult()
                                 : b.create<arith::AddIOp>(l, acc, x).getResult();
}

double lowest(Type t) {
  return isFloatElt(t) ? -std::numeric_limits<double>::infinity()
                       : double(t.isInteger(32) ? std::numeric_limits<int32_t>::min()
                                                : std::numeric_limits<int64_t>::min());
}
double highest(Type t) {
  return isFloatElt(t) ? std::numeric_limits<double>::infinity()
                       : double(t.isInteger(32) ? std::numeric_limits<int32_t>::max()
                                                : std::numeric_limits<int64_t>::max());
}

//===----------------------------------------------------------------------===//
// Op lowerings
//===----------------------------------------------------------------------===//

/// sum / max over the last axis, then the softmax-family formulas.
struct SoftmaxParts {
  Value max, sumExp; // reduced over `axis`
};
SoftmaxParts softmaxParts(Emitter &e, Value x, int64_t axis) {
  auto t = tensorType(x);
  Type elt = t.getElementType();
  Value m = e.reduce(x, {axis}, lowest(elt), [](OpBuilder &b, Location l, Value acc, Value v) {
    return b.create<arith::MaximumFOp>(l, acc, v).getResult();
  });
  Value ex = e.withReduced(t, {x}, {m}, axis, [](OpBuilder &b, Location l, ValueRange a) {
    return b.create<math::ExpOp>(l, b.create<arith::SubFOp>(l, a[0], a[1])).getResult();
  });
  Value s = e.reduce(ex, {axis}, 0.0, [](OpBuilder &b, Location l, Value acc, Value v) {
    return b.create<arith::AddFOp>(l, acc, v).getResult();
  });
  return {m, s};
}

/// Applies the loss reduction ("mean", "sum", "none") to per-element losses.
Value reduceLoss(Emitter &e, Value perElement, StringRef reduction) {
  if (reduction == "none")
    return perElement;
  auto t = tensorType(perElement);
  SmallVector<int64_t> all;
  for (int64_t i = 0; i < t.getRank(); ++i)
    all.push_back(i);
  Value s = e.reduce(perElement, all, 0.0, [](OpBuilder &b, Location l, Value acc, Value v) {
    return b.create<arith::AddFOp>(l, acc, v).getResult();
  });
  if (reduction == "sum" || t.getNumElements() == 0)
    return s;
  double n = double(t.getNumElements());
  return e.elementwise(tensorType(s), {s}, [&](OpBuilder &b, Location l, ValueRange a) {
    return b.create<arith::DivFOp>(l, a[0], fconst(b, l, a[0].getType(), n)).getResult();
  });
}

/// scatter_add: the base, then for every update element (in order) a
/// read-modify-write of its target: an scf.for over the updates carrying the
/// result tensor (bufferized in place). Indices are clamped like gather's.
Value lowerScatterAdd(ScatterAddOp s, Emitter &e) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  auto bt = tensorType(s.getBase()), it = tensorType(s.getIndices()),
       ut = tensorType(s.getUpdates());
  int64_t axis = int64_t(s.getAxis()), k = it.getRank(), n = ut.getNumElements();
  if (n == 0)
    return s.getBase();
  Value lb = b.create<arith::ConstantIndexOp>(loc, 0),
        ub = b.create<arith::ConstantIndexOp>(loc, n),
        one = b.create<arith::ConstantIndexOp>(loc, 1);
  Value indices = s.getIndices(), updates = s.getUpdates();
  auto loop = b.create<scf::ForOp>(
      loc, lb, ub, one, ValueRange{s.getBase()},
      [&](OpBuilder &nb, Location l, Value iv, ValueRange acc) {
        // Delinearize iv over the updates' shape (row-major).
        SmallVector<Value> coords(size_t(ut.getRank()));
        Value rest = iv;
        for (int64_t d = ut.getRank() - 1; d >= 0; --d) {
          Value size = nb.create<arith::ConstantIndexOp>(l, ut.getDimSize(d));
          coords[size_t(d)] = nb.create<arith::RemUIOp>(l, rest, size);
          rest = nb.create<arith::DivUIOp>(l, rest, size);
        }
        SmallVector<Value> idxCoords(coords.begin() + axis, coords.begin() + axis + k);
        Value target = nb.create<arith::IndexCastOp>(
            l, nb.getIndexType(), nb.create<tensor::ExtractOp>(l, indices, idxCoords));
        Value zero = nb.create<arith::ConstantIndexOp>(l, 0);
        Value top = nb.create<arith::ConstantIndexOp>(l, bt.getDimSize(axis) - 1);
        target = nb.create<arith::MinSIOp>(l, nb.create<arith::MaxSIOp>(l, target, zero), top);
        SmallVector<Value> baseCoords(coords.begin(), coords.begin() + axis);
        baseCoords.push_back(target);
        baseCoords.append(coords.begin() + axis + k, coords.end());
        Value u = nb.create<tensor::ExtractOp>(l, updates, coords);
        Value old = nb.create<tensor::ExtractOp>(l, acc[0], baseCoords);
        Value sum = addScalar(nb, l, old, u);
        nb.create<scf::YieldOp>(
            l, nb.create<tensor::InsertOp>(l, sum, acc[0], baseCoords).getResult());
      });
  return loop.getResult(0);
}

/// Philox-4x32-10 keyed by the seed, counter = the element's row-major
/// position, stream 0: bit for bit the generator of support/Random.h.
SmallVector<Value, 4> philox(OpBuilder &b, Location l, Value seed, Value counter) {
  Type i32 = b.getI32Type(), i64 = b.getI64Type();
  auto c32 = [&](uint32_t v) {
    return b.create<arith::ConstantOp>(l, b.getIntegerAttr(i32, int64_t(v)));
  };
  Value shift = b.create<arith::ConstantOp>(l, b.getIntegerAttr(i64, 32));
  SmallVector<Value, 4> c = {
      b.create<arith::TruncIOp>(l, i32, counter),
      b.create<arith::TruncIOp>(l, i32, b.create<arith::ShRUIOp>(l, counter, shift)), c32(0),
      c32(0)};
  Value k0 = b.create<arith::TruncIOp>(l, i32, seed);
  Value k1 = b.create<arith::TruncIOp>(l, i32, b.create<arith::ShRUIOp>(l, seed, shift));
  for (int round = 0; round < 10; ++round) {
    auto p0 = b.create<arith::MulUIExtendedOp>(l, c32(0xD2511F53u), c[0]);
    auto p1 = b.create<arith::MulUIExtendedOp>(l, c32(0xCD9E8D57u), c[2]);
    Value n0 = b.create<arith::XOrIOp>(l, b.create<arith::XOrIOp>(l, p1.getHigh(), c[1]), k0);
    Value n2 = b.create<arith::XOrIOp>(l, b.create<arith::XOrIOp>(l, p0.getHigh(), c[3]), k1);
    c = {n0, p1.getLow(), n2, p0.getLow()};
    k0 = b.create<arith::AddIOp>(l, k0, c32(0x9E3779B9u));
    k1 = b.create<arith::AddIOp>(l, k1, c32(0xBB67AE85u));
  }
  return c;
}

/// 24 random bits of `word` as a float in [0, 1) (plus `offset` ulps of 2^-24).
Value unitFloat(OpBuilder &b, Location l, Value word, Type f, double offset = 0) {
  Value bits =
      b.create<arith::ShRUIOp>(l, word, b.create<arith::ConstantOp>(l, b.getI32IntegerAttr(8)));
  Value x = b.create<arith::UIToFPOp>(l, f, bits);
  if (offset != 0)
    x = b.create<arith::AddFOp>(l, x, fconst(b, l, f, offset));
  return b.create<arith::MulFOp>(l, x, fconst(b, l, f, 0x1p-24));
}

Value lowerRandom(Operation *op, Value seedTensor, bool normal, double a, double c, Emitter &e) {
  OpBuilder &b = e.b;
  auto rt = tensorType(op->getResult(0));
  Type f = rt.getElementType();
  SmallVector<AffineMap> maps = {AffineMap::get(unsigned(rt.getRank()), 0, {}, b.getContext()),
                                 b.getMultiDimIdentityMap(unsigned(rt.getRank()))};
  SmallVector<utils::IteratorType> iters(rt.getRank(), utils::IteratorType::parallel);
  return b
      .create<linalg::GenericOp>(
          e.loc, TypeRange{rt}, ValueRange{seedTensor}, ValueRange{e.empty(rt)}, maps, iters,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Type i64 = nb.getI64Type();
            Value linear = nb.create<arith::ConstantOp>(l, nb.getIntegerAttr(i64, 0));
            for (int64_t d = 0; d < rt.getRank(); ++d) {
              Value size =
                  nb.create<arith::ConstantOp>(l, nb.getIntegerAttr(i64, rt.getDimSize(d)));
              Value idx =
                  nb.create<arith::IndexCastOp>(l, i64, nb.create<linalg::IndexOp>(l, uint64_t(d)));
              linear = nb.create<arith::AddIOp>(l, nb.create<arith::MulIOp>(l, linear, size), idx);
            }
            SmallVector<Value, 4> words = philox(nb, l, args[0], linear);
            Value v;
            if (!normal) {
              v = nb.create<arith::AddFOp>(l, fconst(nb, l, f, a),
                                           nb.create<arith::MulFOp>(l, fconst(nb, l, f, c - a),
                                                                    unitFloat(nb, l, words[0], f)));
            } else {
              // Box-Muller on the first two words: u1 in (0, 1], u2 in [0, 1).
              Value u1 = unitFloat(nb, l, words[0], f, 1.0), u2 = unitFloat(nb, l, words[1], f);
              Value radius = nb.create<math::SqrtOp>(
                  l, nb.create<arith::MulFOp>(l, fconst(nb, l, f, -2.0),
                                              nb.create<math::LogOp>(l, u1)));
              Value angle = nb.create<math::CosOp>(
                  l, nb.create<arith::MulFOp>(l, fconst(nb, l, f, 2 * M_PI), u2));
              v = nb.create<arith::AddFOp>(
                  l, fconst(nb, l, f, a),
                  nb.create<arith::MulFOp>(l, fconst(nb, l, f, c),
                                           nb.create<arith::MulFOp>(l, radius, angle)));
            }
            nb.create<linalg::YieldOp>(l, v);
          })
      .getResult(0);
}

/// Matmul of other element types (f64, integers): a linalg.generic over
/// (batch..., m, n, k) with broadcast batch dims and transposes in the maps.
Value lowerMatmulGeneric(MatmulOp mm, Emitter &e) {
  OpBuilder &b = e.b;
  auto rt = tensorType(mm.getResult());
  int64_t r = rt.getRank();
  unsigned k = unsigned(r); // the contraction loop
  auto operandMap = [&](Value v, bool transposed, bool isLhs) {
    auto t = tensorType(v);
    int64_t lead = (r - 2) - (t.getRank() - 2);
    SmallVector<AffineExpr> ex;
    for (int64_t i = 0; i < t.getRank() - 2; ++i) {
      bool bcast = t.getDimSize(i) == 1 && rt.getDimSize(lead + i) != 1;
      ex.push_back(bcast ? b.getAffineConstantExpr(0) : b.getAffineDimExpr(unsigned(lead + i)));
    }
    AffineExpr outer = b.getAffineDimExpr(unsigned(isLhs ? r - 2 : r - 1)),
               inner = b.getAffineDimExpr(k);
    // lhs is [m, k] (or [k, m] transposed); rhs is [k, n] (or [n, k]).
    if (isLhs != transposed) {
      ex.push_back(outer);
      ex.push_back(inner);
    } else {
      ex.push_back(inner);
      ex.push_back(outer);
    }
    return AffineMap::get(unsigned(r + 1), 0, ex, b.getContext());
  };
  SmallVector<AffineExpr> outEx;
  for (int64_t i = 0; i < r; ++i)
    outEx.push_back(b.getAffineDimExpr(unsigned(i)));
  SmallVector<AffineMap> maps = {operandMap(mm.getLhs(), mm.getTransposeLhs(), true),
                                 operandMap(mm.getRhs(), mm.getTransposeRhs(), false),
                                 AffineMap::get(unsigned(r + 1), 0, outEx, b.getContext())};
  SmallVector<utils::IteratorType> iters(r, utils::IteratorType::parallel);
  iters.push_back(utils::IteratorType::reduction);
  Type elt = rt.getElementType();
  Value zero =
      b.create<linalg::FillOp>(e.loc, e.scalar(b, e.loc, elt, 0), e.empty(rt)).getResult(0);
  return b
      .create<linalg::GenericOp>(
          e.loc, TypeRange{rt}, ValueRange{mm.getLhs(), mm.getRhs()}, ValueRange{zero}, maps, iters,
          [&](OpBuilder &nb, Location l, ValueRange a) {
            Value p = isFloatElt(elt) ? nb.create<arith::MulFOp>(l, a[0], a[1]).getResult()
                                      : nb.create<arith::MulIOp>(l, a[0], a[1]).getResult();
            nb.create<linalg::YieldOp>(l, addScalar(nb, l, a[2], p));
          })
      .getResult(0);
}

//===----------------------------------------------------------------------===//
// Op lowerings (one overload per op)
//===----------------------------------------------------------------------===//

Value lowerOp(MatmulOp mm, Emitter &e) { return lowerMatmulGeneric(mm, e); }

Value lowerOp(ScatterAddOp sa, Emitter &e) { return lowerScatterAdd(sa, e); }

Value lowerOp(RandomUniformOp r, Emitter &e) {
  return lowerRandom(r, r.getSeed(), false, r.getLow().convertToDouble(),
                     r.getHigh().convertToDouble(), e);
}

Value lowerOp(RandomNormalOp r, Emitter &e) {
  return lowerRandom(r, r.getSeed(), true, r.getMean().convertToDouble(),
                     r.getStddev().convertToDouble(), e);
}

Value lowerOp(ConstantOp c, Emitter &e) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  auto resultType = tensorType(c->getResult(0));
  // A large splat (the zeros a gradient sum or an attention loop starts
  // from) is a fill: as a constant it would be a global of that size in the
  // artifact (GPT-2 small's micro-batch gradient sums: 30 MB of zeros), read
  // page by page when copied.
  auto dense = llvm::dyn_cast<DenseElementsAttr>(c.getValue());
  if (dense && dense.isSplat() && resultType.getNumElements() > 256) {
    Value value = b.create<arith::ConstantOp>(loc, dense.getSplatValue<TypedAttr>());
    return b.create<linalg::FillOp>(loc, value, e.empty(resultType)).getResult(0);
  }
  return b.create<arith::ConstantOp>(loc, resultType, llvm::cast<TypedAttr>(c.getValue()));
}

Value lowerOp(SelectOp s, Emitter &e) {
  auto resultType = tensorType(s->getResult(0));
  return e.elementwise(resultType, s->getOperands(), [](OpBuilder &nb, Location l, ValueRange a) {
    return nb.create<arith::SelectOp>(l, a[0], a[1], a[2]).getResult();
  });
}

Value lowerOp(CastOp c, Emitter &e) {
  auto resultType = tensorType(c->getResult(0));
  Type elt = resultType.getElementType();
  return e.elementwise(resultType, {c.getX()}, [&](OpBuilder &nb, Location l, ValueRange a) {
    return castScalar(nb, l, a[0], elt);
  });
}

Value lowerOp(BroadcastToOp c, Emitter &e) {
  auto resultType = tensorType(c->getResult(0));
  return e.elementwise(resultType, {c.getX()},
                       [](OpBuilder &, Location, ValueRange a) { return a[0]; });
}

Value lowerOp(ReshapeOp r, Emitter &e) {
  auto resultType = tensorType(r->getResult(0));
  return e.reshape(r.getX(), resultType);
}

Value lowerOp(TransposeOp t, Emitter &e) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  auto resultType = tensorType(t->getResult(0));
  return b.create<linalg::TransposeOp>(loc, t.getX(), e.empty(resultType), t.getPerm())
      .getResult()[0];
}

Value lowerOp(ReduceOp r, Emitter &e) {
  auto resultType = tensorType(r->getResult(0));
  Type elt = resultType.getElementType();
  auto xt = tensorType(r.getX());
  SmallVector<int64_t> axes(r.getAxes());
  if (axes.empty())
    for (int64_t i = 0; i < xt.getRank(); ++i)
      axes.push_back(i);
  llvm::sort(axes);
  StringRef kind = r.getKind();
  Value v;
  if (kind == "sum" || kind == "mean") {
    v = e.reduce(r.getX(), axes, 0.0, addScalar);
    if (kind == "mean") {
      double n = 1;
      for (int64_t a : axes)
        n *= double(xt.getDimSize(a));
      v = e.elementwise(tensorType(v), {v}, [&](OpBuilder &nb, Location l, ValueRange a) {
        if (isFloatElt(elt))
          return nb.create<arith::DivFOp>(l, a[0], fconst(nb, l, elt, n)).getResult();
        return nb
            .create<arith::DivSIOp>(
                l, a[0], nb.create<arith::ConstantOp>(l, nb.getIntegerAttr(elt, int64_t(n))))
            .getResult();
      });
    }
  } else {
    bool isMax = kind == "max";
    v = e.reduce(r.getX(), axes, isMax ? lowest(elt) : highest(elt),
                 [&](OpBuilder &nb, Location l, Value acc, Value x) -> Value {
                   if (isFloatElt(elt))
                     return isMax ? nb.create<arith::MaximumFOp>(l, acc, x).getResult()
                                  : nb.create<arith::MinimumFOp>(l, acc, x).getResult();
                   return isMax ? nb.create<arith::MaxSIOp>(l, acc, x).getResult()
                                : nb.create<arith::MinSIOp>(l, acc, x).getResult();
                 });
  }
  return e.reshape(v, resultType); // keepdims
}

Value lowerOp(ArgmaxOp a, Emitter &e) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  auto resultType = tensorType(a->getResult(0));
  Type elt = resultType.getElementType();
  auto xt = tensorType(a.getX());
  int64_t axis = int64_t(a.getAxis());
  Type xe = xt.getElementType();
  auto valType = RankedTensorType::get(resultType.getShape(), xe);
  Value bestV = b.create<linalg::FillOp>(loc, e.scalar(b, loc, xe, lowest(xe)), e.empty(valType))
                    .getResult(0);
  Value bestI =
      b.create<linalg::FillOp>(loc, e.scalar(b, loc, elt, 0), e.empty(resultType)).getResult(0);
  SmallVector<utils::IteratorType> iters(xt.getRank(), utils::IteratorType::parallel);
  iters[size_t(axis)] = utils::IteratorType::reduction;
  AffineMap out = e.droppedAxisMap(xt.getRank(), axis);
  auto g = b.create<linalg::GenericOp>(
      loc, TypeRange{valType, resultType}, ValueRange{a.getX()}, ValueRange{bestV, bestI},
      ArrayRef<AffineMap>{b.getMultiDimIdentityMap(unsigned(xt.getRank())), out, out}, iters,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value idx =
            nb.create<arith::IndexCastOp>(l, elt, nb.create<linalg::IndexOp>(l, uint64_t(axis)));
        // Strictly greater: the first maximum wins, as in the interpreter.
        Value better =
            isFloatElt(xe)
                ? nb.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, args[0], args[1])
                      .getResult()
                : nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::sgt, args[0], args[1])
                      .getResult();
        nb.create<linalg::YieldOp>(
            l, ValueRange{nb.create<arith::SelectOp>(l, better, args[0], args[1]),
                          nb.create<arith::SelectOp>(l, better, idx, args[2])});
      });
  return g.getResult(1);
}

Value lowerOp(SoftmaxOp s, Emitter &e) {
  auto resultType = tensorType(s->getResult(0));
  int64_t axis = int64_t(s.getAxis());
  SoftmaxParts p = softmaxParts(e, s.getX(), axis);
  return e.withReduced(
      resultType, {s.getX()}, {p.max, p.sumExp}, axis, [](OpBuilder &nb, Location l, ValueRange a) {
        Value ex = nb.create<math::ExpOp>(l, nb.create<arith::SubFOp>(l, a[0], a[1]));
        return nb.create<arith::DivFOp>(l, ex, a[2]).getResult();
      });
}

Value lowerOp(LogSoftmaxOp s, Emitter &e) {
  auto resultType = tensorType(s->getResult(0));
  int64_t axis = int64_t(s.getAxis());
  SoftmaxParts p = softmaxParts(e, s.getX(), axis);
  return e.withReduced(
      resultType, {s.getX()}, {p.max, p.sumExp}, axis, [](OpBuilder &nb, Location l, ValueRange a) {
        Value shifted = nb.create<arith::SubFOp>(l, a[0], a[1]);
        return nb.create<arith::SubFOp>(l, shifted, nb.create<math::LogOp>(l, a[2])).getResult();
      });
}

Value lowerOp(SoftmaxCrossEntropyOp s, Emitter &e) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  // loss_i = max_i + log(sum_c exp(x_ic - max_i)) - x_i,label_i
  auto lt = tensorType(s.getLogits());
  int64_t axis = lt.getRank() - 1;
  SoftmaxParts p = softmaxParts(e, s.getLogits(), axis);
  Type le = tensorType(s.getLabels()).getElementType();
  // picked_i = sum_c (c == label_i ? x_ic : 0), a reduction with the label as input.
  auto rowType = tensorType(p.max);
  Value zeros =
      b.create<linalg::FillOp>(loc, e.scalar(b, loc, lt.getElementType(), 0.0), e.empty(rowType))
          .getResult(0);
  SmallVector<utils::IteratorType> iters(lt.getRank(), utils::IteratorType::parallel);
  iters.back() = utils::IteratorType::reduction;
  AffineMap rows = e.droppedAxisMap(lt.getRank(), axis);
  Value picked =
      b.create<linalg::GenericOp>(
           loc, TypeRange{rowType}, ValueRange{s.getLogits(), s.getLabels()}, ValueRange{zeros},
           ArrayRef<AffineMap>{b.getMultiDimIdentityMap(unsigned(lt.getRank())), rows, rows}, iters,
           [&](OpBuilder &nb, Location l, ValueRange a) {
             Value c = nb.create<arith::IndexCastOp>(l, le,
                                                     nb.create<linalg::IndexOp>(l, uint64_t(axis)));
             Value hit = nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, c, a[1]);
             Value add = nb.create<arith::AddFOp>(l, a[2], a[0]);
             nb.create<linalg::YieldOp>(l,
                                        nb.create<arith::SelectOp>(l, hit, add, a[2]).getResult());
           })
          .getResult(0);
  Value perRow = e.elementwise(
      rowType, {p.max, p.sumExp, picked}, [](OpBuilder &nb, Location l, ValueRange a) {
        Value lse = nb.create<arith::AddFOp>(l, a[0], nb.create<math::LogOp>(l, a[1]));
        return nb.create<arith::SubFOp>(l, lse, a[2]).getResult();
      });
  return reduceLoss(e, perRow, s.getReduction());
}

Value lowerOp(MeanSquaredErrorOp m, Emitter &e) {
  auto pt = tensorType(m.getPredictions());
  Value sq = e.elementwise(pt, {m.getPredictions(), m.getTargets()},
                           [](OpBuilder &nb, Location l, ValueRange a) {
                             Value d = nb.create<arith::SubFOp>(l, a[0], a[1]);
                             return nb.create<arith::MulFOp>(l, d, d).getResult();
                           });
  return reduceLoss(e, sq, m.getReduction());
}

Value lowerOp(IotaOp o, Emitter &e) {
  OpBuilder &b = e.b;
  auto resultType = tensorType(o->getResult(0));
  Type elt = resultType.getElementType();
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(unsigned(resultType.getRank()))};
  SmallVector<utils::IteratorType> iters(resultType.getRank(), utils::IteratorType::parallel);
  uint64_t d = uint64_t(o.getDimension());
  return b
      .create<linalg::GenericOp>(
          e.loc, TypeRange{resultType}, ValueRange{}, ValueRange{e.empty(resultType)}, maps, iters,
          [&](OpBuilder &nb, Location l, ValueRange) {
            Value i = nb.create<linalg::IndexOp>(l, d);
            Value v;
            if (llvm::isa<FloatType>(elt))
              v = nb.create<arith::UIToFPOp>(
                  l, elt, nb.create<arith::IndexCastUIOp>(l, nb.getI64Type(), i));
            else
              v = nb.create<arith::IndexCastOp>(l, elt, i);
            nb.create<linalg::YieldOp>(l, v);
          })
      .getResult(0);
}

Value lowerOp(OneHotOp o, Emitter &e) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  auto resultType = tensorType(o->getResult(0));
  Type elt = resultType.getElementType();
  Type ie = tensorType(o.getIndices()).getElementType();
  int64_t last = resultType.getRank() - 1;
  SmallVector<AffineMap> maps = {e.droppedAxisMap(resultType.getRank(), last),
                                 b.getMultiDimIdentityMap(unsigned(resultType.getRank()))};
  SmallVector<utils::IteratorType> iters(resultType.getRank(), utils::IteratorType::parallel);
  double on = o.getOnValue().convertToDouble(), off = o.getOffValue().convertToDouble();
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{resultType}, ValueRange{o.getIndices()}, ValueRange{e.empty(resultType)},
          maps, iters,
          [&](OpBuilder &nb, Location l, ValueRange a) {
            Value c =
                nb.create<arith::IndexCastOp>(l, ie, nb.create<linalg::IndexOp>(l, uint64_t(last)));
            Value hit = nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, c, a[0]);
            nb.create<linalg::YieldOp>(l,
                                       nb.create<arith::SelectOp>(l, hit, e.scalar(nb, l, elt, on),
                                                                  e.scalar(nb, l, elt, off))
                                           .getResult());
          })
      .getResult(0);
}

Value lowerOp(SliceOp s, Emitter &e) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  auto resultType = tensorType(s->getResult(0));
  SmallVector<OpFoldResult> offsets, sizes, strides;
  for (int64_t i = 0; i < resultType.getRank(); ++i) {
    offsets.push_back(b.getIndexAttr(s.getStart()[size_t(i)]));
    sizes.push_back(b.getIndexAttr(resultType.getDimSize(i)));
    strides.push_back(b.getIndexAttr(s.getStrides()[size_t(i)]));
  }
  return b.create<tensor::ExtractSliceOp>(loc, resultType, s.getX(), offsets, sizes, strides);
}

Value lowerOp(PadOp p, Emitter &e) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  auto resultType = tensorType(p->getResult(0));
  Type elt = resultType.getElementType();
  SmallVector<OpFoldResult> low, high;
  for (int64_t v : p.getLow())
    low.push_back(b.getIndexAttr(v));
  for (int64_t v : p.getHigh())
    high.push_back(b.getIndexAttr(v));
  Value value = e.scalar(b, loc, elt, p.getValue().convertToDouble());
  return b.create<tensor::PadOp>(loc, resultType, p.getX(), low, high, value);
}

Value lowerOp(ConcatOp c, Emitter &e) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  auto resultType = tensorType(c->getResult(0));
  // Each piece is inserted right after it is computed, in the order the
  // pieces are computed, into a tensor created at the top of the block:
  // then empty-tensor elimination lets each producer write into its
  // slice of the result instead of a temporary that is copied (an
  // unrolled RNN's outputs and gate gradients are such pieces).
  int64_t axis = int64_t(c.getAxis());
  SmallVector<std::pair<Value, int64_t>> pieces; // (value, offset)
  int64_t offset = 0;
  Block *block = c->getBlock();
  bool local = true;
  for (Value in : c.getInputs()) {
    pieces.push_back({in, offset});
    offset += tensorType(in).getDimSize(axis);
    Operation *def = in.getDefiningOp();
    local = local &&
            (def ? def->getBlock() == block : llvm::cast<BlockArgument>(in).getOwner() == block);
  }
  OpBuilder::InsertionGuard guard(b);
  if (local) {
    b.setInsertionPointToStart(block);
    std::stable_sort(pieces.begin(), pieces.end(), [](auto &x, auto &y) {
      Operation *dx = x.first.getDefiningOp(), *dy = y.first.getDefiningOp();
      return dx && dy ? dx->isBeforeInBlock(dy) : !dx && dy;
    });
  }
  Value acc = e.empty(resultType);
  for (auto [in, at] : pieces) {
    if (local) {
      Operation *def = in.getDefiningOp();
      Operation *after = acc.getDefiningOp();
      if (def && after->isBeforeInBlock(def))
        after = def;
      b.setInsertionPointAfter(after);
    }
    auto it = tensorType(in);
    SmallVector<OpFoldResult> offsets(resultType.getRank(), b.getIndexAttr(0)), sizes,
        strides(resultType.getRank(), b.getIndexAttr(1));
    offsets[size_t(axis)] = b.getIndexAttr(at);
    for (int64_t d : it.getShape())
      sizes.push_back(b.getIndexAttr(d));
    acc = b.create<tensor::InsertSliceOp>(loc, in, acc, offsets, sizes, strides);
  }
  return acc;
}

Value lowerOp(GatherOp g, Emitter &e) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  auto resultType = tensorType(g->getResult(0));
  // result[pre, idx..., post] = params[pre, clamp(indices[idx...]), post]
  auto pt = tensorType(g.getParams());
  auto it = tensorType(g.getIndices());
  int64_t axis = int64_t(g.getAxis()), k = it.getRank();
  SmallVector<AffineExpr> idxExprs;
  for (int64_t i = 0; i < k; ++i)
    idxExprs.push_back(b.getAffineDimExpr(unsigned(axis + i)));
  SmallVector<AffineMap> maps = {
      AffineMap::get(unsigned(resultType.getRank()), 0, idxExprs, b.getContext()),
      b.getMultiDimIdentityMap(unsigned(resultType.getRank()))};
  SmallVector<utils::IteratorType> iters(resultType.getRank(), utils::IteratorType::parallel);
  Value params = g.getParams();
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{resultType}, ValueRange{g.getIndices()}, ValueRange{e.empty(resultType)},
          maps, iters,
          [&](OpBuilder &nb, Location l, ValueRange a) {
            // Out-of-range indices are clamped: compiled code cannot
            // report them (the interpreter does).
            Value i = nb.create<arith::IndexCastOp>(l, nb.getIndexType(), a[0]);
            Value zero = nb.create<arith::ConstantIndexOp>(l, 0);
            Value top = nb.create<arith::ConstantIndexOp>(l, pt.getDimSize(axis) - 1);
            i = nb.create<arith::MinSIOp>(l, nb.create<arith::MaxSIOp>(l, i, zero), top);
            SmallVector<Value> coords;
            for (int64_t d = 0; d < axis; ++d)
              coords.push_back(nb.create<linalg::IndexOp>(l, uint64_t(d)));
            coords.push_back(i);
            for (int64_t d = axis + 1; d < pt.getRank(); ++d)
              coords.push_back(nb.create<linalg::IndexOp>(l, uint64_t(d + k - 1)));
            nb.create<linalg::YieldOp>(l,
                                       nb.create<tensor::ExtractOp>(l, params, coords).getResult());
          })
      .getResult(0);
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// Common checks of every op pattern: not left to the backend's library, one
/// ranked tensor result.
template <typename OpTy> struct TgOpPattern : OpConversionPattern<OpTy> {
  TgOpPattern(MLIRContext *ctx, const LibraryOpFilter &keep)
      : OpConversionPattern<OpTy>(ctx), keep(keep) {}

  LogicalResult matchAndRewrite(OpTy op, typename OpTy::Adaptor,
                                ConversionPatternRewriter &rewriter) const final {
    if (keep && keep(op))
      return rewriter.notifyMatchFailure(op, "left to the backend's library call");
    if (op->getNumResults() != 1 || !llvm::isa<RankedTensorType>(op->getResult(0).getType()))
      return rewriter.notifyMatchFailure(op, "expects one ranked tensor result");
    Emitter e{rewriter, op.getLoc()};
    LLVM_DEBUG(llvm::dbgs() << "lowering " << op->getName() << "\n");
    rewriter.replaceOp(op, lower(op, e));
    return success();
  }

  virtual Value lower(OpTy op, Emitter &e) const = 0;

private:
  LibraryOpFilter keep;
};

/// An op with its own lowerOp overload.
template <typename OpTy> struct OpLowering final : TgOpPattern<OpTy> {
  using TgOpPattern<OpTy>::TgOpPattern;
  Value lower(OpTy op, Emitter &e) const override { return lowerOp(op, e); }
};

/// A unary elementwise op: its scalarOf over the result's index space.
template <typename OpTy> struct UnaryLowering final : TgOpPattern<OpTy> {
  using TgOpPattern<OpTy>::TgOpPattern;
  Value lower(OpTy op, Emitter &e) const override {
    auto resultType = tensorType(op->getResult(0));
    return e.elementwise(
        resultType, op->getOperands(),
        [&](OpBuilder &nb, Location l, ValueRange a) { return scalarOf(op, nb, l, a[0]); });
  }
};

/// A binary elementwise op with NumPy broadcasting.
template <typename OpTy> struct BinaryLowering final : TgOpPattern<OpTy> {
  using TgOpPattern<OpTy>::TgOpPattern;
  Value lower(OpTy op, Emitter &e) const override {
    auto resultType = tensorType(op->getResult(0));
    return e.elementwise(
        resultType, op->getOperands(),
        [&](OpBuilder &nb, Location l, ValueRange a) { return scalarOf(op, nb, l, a[0], a[1]); });
  }
};

template <template <typename> class Pattern, typename... Ops>
void addPatterns(RewritePatternSet &patterns, const LibraryOpFilter &keep) {
  (patterns.add<Pattern<Ops>>(patterns.getContext(), keep), ...);
}

} // namespace

std::optional<NoPatternRule> noPatternRule(StringRef opName) {
  static constexpr std::pair<StringLiteral, NoPatternRule> kRules[] = {
      // Every backend calls its communicator for them.
      {AllreduceStartOp::getOperationName(), {NoPattern::Collective, ""}},
      {AllreduceWaitOp::getOperationName(), {NoPattern::Collective, ""}},
      {ReduceScatterOp::getOperationName(), {NoPattern::Collective, ""}},
      {AllgatherOp::getOperationName(), {NoPattern::Collective, ""}},
      {LocalShardOp::getOperationName(), {NoPattern::Collective, ""}},
      {SendStartOp::getOperationName(), {NoPattern::Collective, ""}},
      {SendWaitOp::getOperationName(), {NoPattern::Collective, ""}},
      {RecvStartOp::getOperationName(), {NoPattern::Collective, ""}},
      {RecvWaitOp::getOperationName(), {NoPattern::Collective, ""}},
      // ScanToLoops.cpp turns it into the scf.for's yield.
      {YieldOp::getOperationName(), {NoPattern::WithParent, "tg.scan"}},
      // tg-build-train-step places it; tg-distribute replaces or removes it.
      {ParamGradOp::getOperationName(), {NoPattern::RemovedBefore, "tg-distribute"}},
  };
  for (const auto &[name, rule] : kRules)
    if (name == opName)
      return rule;
  return std::nullopt;
}

void populateTgToLinalgPatterns(RewritePatternSet &patterns, const LibraryOpFilter &keep) {
  addPatterns<UnaryLowering, NegOp, AbsOp, SignOp, ExpOp, LogOp, SqrtOp, RsqrtOp, TanhOp, ErfOp,
              SinOp, CosOp, FloorOp, SigmoidOp, ReluOp, GeluOp>(patterns, keep);
  addPatterns<BinaryLowering, AddOp, SubOp, MulOp, DivOp, PowOp, MaximumOp, MinimumOp, CompareOp>(
      patterns, keep);
  addPatterns<OpLowering, MatmulOp, ScatterAddOp, RandomUniformOp, RandomNormalOp, ConstantOp,
              SelectOp, CastOp, BroadcastToOp, ReshapeOp, TransposeOp, ReduceOp, ArgmaxOp,
              SoftmaxOp, LogSoftmaxOp, SoftmaxCrossEntropyOp, MeanSquaredErrorOp, OneHotOp, IotaOp, SliceOp,
              PadOp, ConcatOp, GatherOp>(patterns, keep);
  populateScanLoweringPatterns(patterns);
  populateAttentionLoweringPatterns(patterns);
  populateWindowLoweringPatterns(patterns, keep);
}

LogicalResult lowerTgToLinalg(ModuleOp module, const LibraryOpFilter &keep,
                              const UnsupportedOpReason &reason) {
  MLIRContext *ctx = module.getContext();
  // Collectives are calls into the runtime's communicator in every backend.
  LibraryOpFilter keepOrCollective = [&](Operation *op) {
    std::optional<NoPatternRule> rule = noPatternRule(op->getName().getStringRef());
    return (rule && rule->kind == NoPattern::Collective) || (keep && keep(op));
  };
  RewritePatternSet patterns(ctx);
  populateTgToLinalgPatterns(patterns, keepOrCollective);
  // Every tg op that stays must be the backend's, every other needs a
  // pattern: report each one that has neither, at its location, by name.
  llvm::DenseSet<OperationName> lowered;
  for (const auto &p : patterns.getNativePatterns())
    if (std::optional<OperationName> root = p->getRootKind())
      lowered.insert(*root);
  bool unsupported = false;
  module.walk([&](Operation *op) {
    if (!llvm::isa<TgDialect>(op->getDialect()) || keepOrCollective(op))
      return;
    std::optional<NoPatternRule> rule = noPatternRule(op->getName().getStringRef());
    if (rule && rule->kind == NoPattern::WithParent)
      return;
    if (rule && rule->kind == NoPattern::RemovedBefore) {
      op->emitError() << "'" << op->getName() << "' must be removed by " << rule->by
                      << " before lowering";
      unsupported = true;
      return;
    }
    std::string why = reason ? reason(op) : std::string();
    if (why.empty() && lowered.contains(op->getName()))
      return;
    InFlightDiagnostic d = op->emitError() << "'" << op->getName() << "' ";
    if (!why.empty())
      d << why;
    else
      d << "has no lowering to linalg (add a pattern to codegen/common/TgToLinalg.cpp)";
    unsupported = true;
  });
  if (unsupported)
    return failure();
  ConversionTarget target(*ctx);
  target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect, arith::ArithDialect,
                         bufferization::BufferizationDialect, math::MathDialect, scf::SCFDialect,
                         func::FuncDialect>();
  target.addDynamicallyLegalDialect<TgDialect>(keepOrCollective);
  return applyPartialConversion(module, target, std::move(patterns));
}

} // namespace tg
