//===- GraphImpl.h - MLIR side of tg::Graph (internal) ---------*- C++ -*-===//
#ifndef TG_FRONTEND_GRAPHIMPL_H
#define TG_FRONTEND_GRAPHIMPL_H

#include "tg/Graph.h"
#include "tg/Vocabulary.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <map>
#include <set>

namespace tg {
namespace detail {

struct ArgMeta {
  std::string name;
  Role role = Role::None;
  std::optional<Init> init;
  std::optional<double> defaultValue; ///< hypers: tg.default
};

struct GraphImpl {
  Graph *self = nullptr;
  std::unique_ptr<mlir::MLIRContext> ctx;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::func::FuncOp fn;
  mlir::Block *body = nullptr;
  std::unique_ptr<mlir::OpBuilder> builder;
  std::vector<mlir::Value> values;
  std::vector<ArgMeta> args;
  struct Output {
    std::string name;
    int id;
    std::optional<unsigned> alias; ///< state argument this output is the next value of
    bool trainOnly = false;        ///< the state changes in train_step only
  };
  std::vector<Output> outputs;
  mlir::DictionaryAttr trainSpec; ///< set by Graph::minimize
  std::set<std::string> names;    ///< argument names in use
  absl::Status status;
  std::vector<std::string> scopes;
  std::vector<int64_t> stages; ///< Graph::stage marks, innermost last
  std::map<std::string, int> nameCounts;
  Value training; ///< Graph::training(), once made

  /// Keeps the first error.
  void fail(absl::Status s) {
    if (status.ok())
      status = std::move(s);
  }
  Value wrap(mlir::Value v) {
    values.push_back(v);
    return Value(self, int(values.size()) - 1);
  }
  mlir::Value unwrap(Value v) const { return values[size_t(v.id())]; }
  std::string scopePath() const;
  mlir::Location loc(llvm::StringRef opName);
  mlir::Type elementType(DType dtype);
  mlir::RankedTensorType tensorType(const std::vector<int64_t> &shape, DType dtype);

  /// False if an input is invalid (error already recorded upstream) or from
  /// another graph (recorded now).
  bool checkInputs(llvm::ArrayRef<Value> inputs, llvm::StringRef opName);

  /// Adds op `name`; result type inferred by `infer` unless `resultType`.
  Value create(llvm::StringRef name, llvm::ArrayRef<Value> inputs,
               llvm::ArrayRef<mlir::NamedAttribute> attrs, mlir::Type resultType,
               llvm::function_ref<mlir::LogicalResult(mlir::ValueRange, mlir::DictionaryAttr,
                                                      llvm::SmallVectorImpl<mlir::Type> &)>
                   infer);

  template <typename OpTy>
  Value createInferred(llvm::ArrayRef<Value> inputs,
                       llvm::ArrayRef<mlir::NamedAttribute> attrs = {}) {
    return create(OpTy::getOperationName(), inputs, attrs, mlir::Type(),
                  [&](mlir::ValueRange operands, mlir::DictionaryAttr dict,
                      llvm::SmallVectorImpl<mlir::Type> &types) {
                    return OpTy::inferReturnTypes(ctx.get(), loc(OpTy::getOperationName()),
                                                  operands, dict, mlir::OpaqueProperties(nullptr),
                                                  mlir::RegionRange(), types);
                  });
  }
  template <typename OpTy>
  Value createTyped(llvm::ArrayRef<Value> inputs, mlir::Type resultType,
                    llvm::ArrayRef<mlir::NamedAttribute> attrs = {}) {
    return create(OpTy::getOperationName(), inputs, attrs, resultType, nullptr);
  }

  Value addArgument(const std::string &name, Role role, const std::vector<int64_t> &shape,
                    DType dtype, std::optional<Init> init);
  absl::StatusOr<std::string> finalizedText();
};

} // namespace detail
} // namespace tg

#endif // TG_FRONTEND_GRAPHIMPL_H
