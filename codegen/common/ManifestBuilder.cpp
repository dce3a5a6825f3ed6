//===- ManifestBuilder.cpp - entries of the manifest from a tg module -----===//
#include "codegen/common/ManifestBuilder.h"
#include "ir/DTypes.h"
#include "ir/Dialect.h"
#include "ir/TrainSpec.h"
#include "support/KernelAbi.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/raw_ostream.h"

#include "absl/strings/str_cat.h"
#include <nlohmann/json.hpp>

#include <map>

using namespace mlir;
using json = nlohmann::json;

namespace tg {
namespace {

json attrToJson(Attribute a) {
  if (auto d = llvm::dyn_cast<DictionaryAttr>(a)) {
    json j = json::object();
    for (NamedAttribute n : d)
      j[n.getName().str()] = attrToJson(n.getValue());
    return j;
  }
  if (auto arr = llvm::dyn_cast<ArrayAttr>(a)) {
    json j = json::array();
    for (Attribute e : arr)
      j.push_back(attrToJson(e));
    return j;
  }
  if (auto s = llvm::dyn_cast<StringAttr>(a))
    return s.getValue().str();
  if (auto f = llvm::dyn_cast<FloatAttr>(a))
    return f.getValueAsDouble();
  if (auto b = llvm::dyn_cast<BoolAttr>(a))
    return b.getValue();
  if (auto i = llvm::dyn_cast<IntegerAttr>(a))
    return i.getInt();
  std::string s;
  llvm::raw_string_ostream os(s);
  os << a;
  return s;
}

absl::StatusOr<BufferSpec> describeBuffer(Type type, DictionaryAttr attrs,
                                          const std::string &fallback, const std::string &where) {
  auto t = llvm::dyn_cast<RankedTensorType>(type);
  absl::StatusOr<DType> dtype =
      t ? dtypeOf(t.getElementType()) : absl::InvalidArgumentError("not a ranked tensor");
  if (!dtype.ok())
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": unsupported type for an entry-point buffer"));
  BufferSpec b;
  auto name = attrs ? attrs.getAs<StringAttr>(TgDialect::kNameAttr) : StringAttr();
  b.name = name ? name.getValue().str() : fallback;
  b.dtype = *dtype;
  b.shape.assign(t.getShape().begin(), t.getShape().end());
  if (!attrs)
    return b;
  if (auto role = attrs.getAs<StringAttr>(TgDialect::kRoleAttr)) {
    std::optional<Role> r = parseRole(std::string_view(role.getValue().data(), role.size()));
    if (!r) // the dialect verifier rejects unknown roles; this guards other producers
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": unknown tg.role '", role.getValue().str(), "'"));
    b.role = *r;
  }
  if (auto init = attrs.getAs<DictionaryAttr>(TgDialect::kInitAttr)) {
    InitSpec spec;
    for (NamedAttribute n : init) {
      if (auto s = llvm::dyn_cast<StringAttr>(n.getValue()); s && n.getName() == "kind")
        spec.kind = s.getValue().str();
      else if (auto f = llvm::dyn_cast<FloatAttr>(n.getValue()))
        spec.fields[n.getName().str()] = f.getValueAsDouble();
      else if (auto i = llvm::dyn_cast<IntegerAttr>(n.getValue()))
        spec.fields[n.getName().str()] = double(i.getInt());
    }
    b.init = spec;
  }
  if (Attribute dflt = attrs.get(TgDialect::kDefaultAttr)) {
    if (auto f = llvm::dyn_cast<FloatAttr>(dflt))
      b.defaultValue = f.getValueAsDouble();
    else if (auto i = llvm::dyn_cast<IntegerAttr>(dflt))
      b.defaultValue = double(i.getInt());
  }
  if (auto alias = attrs.getAs<IntegerAttr>(TgDialect::kAliasAttr))
    b.alias = int(alias.getInt());
  return b;
}

/// JSON text of `j`; a string in it that is not valid UTF-8 (module
/// attributes may hold any bytes) is an error naming `what`.
absl::StatusOr<std::string> dumpJson(const json &j, const char *what) {
  try {
    return j.dump();
  } catch (const json::type_error &e) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " holds a string that is not valid UTF-8: ", e.what()));
  }
}

} // namespace

absl::StatusOr<Manifest> describeEntries(ModuleOp module) {
  Manifest m;
  if (Attribute train = module->getAttr(kTrainAttr)) {
    TrainInfo info;
    absl::StatusOr<std::string> text = dumpJson(attrToJson(train), "the module's tg.train spec");
    if (!text.ok())
      return text.status();
    info.json = *text;
    FailureOr<TrainSpec> spec = parseTrainSpec(train, [&] { return module.emitError(); });
    if (failed(spec))
      return absl::InvalidArgumentError("the module's tg.train spec is invalid");
    info.function = spec->function;
    info.loss = spec->loss;
    info.optimizer = spec->optimizer.kind;
    info.lr = spec->optimizer.lr;
    m.train = info;
  }
  if (Attribute dp = module->getAttr(kDataParallelAttr)) {
    absl::StatusOr<std::string> text = dumpJson(attrToJson(dp), "the module's tg.data_parallel");
    if (!text.ok())
      return text.status();
    auto spec = parseDataParallel(*text, "the module's tg.data_parallel");
    if (!spec.ok())
      return spec.status();
    m.dataParallel = std::move(*spec);
  }
  if (auto hash = module->getAttrOfType<StringAttr>(kModelHashAttr))
    m.modelHash = hash.getValue().str();
  if (Attribute pipeline = module->getAttr(kPipelineAttr)) {
    absl::StatusOr<std::string> text = dumpJson(attrToJson(pipeline), "the module's tg.pipeline");
    if (!text.ok())
      return text.status();
    auto spec = parsePipeline(*text, "the module's tg.pipeline");
    if (!spec.ok())
      return spec.status();
    m.pipeline = std::move(*spec);
  }
  for (auto fn : module.getOps<func::FuncOp>()) {
    if (fn.isExternal())
      continue;
    EntrySpec e;
    e.name = fn.getSymName().str();
    if (auto stage = fn->getAttrOfType<IntegerAttr>(kStageAttr))
      e.stage = int(stage.getInt());
    e.symbol = std::string(abi::kEntryPrefix) + e.name;
    auto kind = fn->getAttrOfType<StringAttr>(TgDialect::kEntryAttr);
    e.kind = kind ? kind.getValue().str() : "function";
    // Arguments a softmax cross-entropy reads as labels (through reshapes and
    // transposes): the data pipeline checks their values against the class
    // count, as an out-of-range label has no defined loss.
    std::map<unsigned, int64_t> classes;
    fn.walk([&](SoftmaxCrossEntropyOp op) {
      Value v = op.getLabels();
      while (Operation *def = v.getDefiningOp()) {
        if (!isa<ReshapeOp, TransposeOp>(def))
          break;
        v = def->getOperand(0);
      }
      auto arg = dyn_cast<BlockArgument>(v);
      auto logits = dyn_cast<RankedTensorType>(op.getLogits().getType());
      if (arg && arg.getOwner() == &fn.front() && logits && logits.getRank() > 0 &&
          !logits.isDynamicDim(logits.getRank() - 1))
        classes[arg.getArgNumber()] = logits.getShape().back();
    });
    for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
      auto b =
          describeBuffer(fn.getArgumentTypes()[i], fn.getArgAttrDict(i), "arg" + std::to_string(i),
                         absl::StrCat("@", e.name, " argument #", i));
      if (!b.ok())
        return b.status();
      if (auto c = classes.find(i); c != classes.end())
        b->classes = c->second;
      e.args.push_back(std::move(*b));
    }
    for (unsigned i = 0; i < fn.getNumResults(); ++i) {
      auto b =
          describeBuffer(fn.getResultTypes()[i], fn.getResultAttrDict(i),
                         "result" + std::to_string(i), absl::StrCat("@", e.name, " result #", i));
      if (!b.ok())
        return b.status();
      e.results.push_back(std::move(*b));
    }
    m.entries.push_back(std::move(e));
  }
  return m;
}

} // namespace tg
