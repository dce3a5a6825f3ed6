//===- Graph.cpp - tg::Graph: arguments, outputs, export ------------------===//
#include "frontend/GraphImpl.h"
#include "frontend/ModuleImpl.h"
#include "ir/DTypes.h"
#include "ir/Dialect.h"
#include "ir/TrainSpec.h"

#include "mlir/IR/Verifier.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <fstream>

using namespace mlir;

namespace tg {

//===----------------------------------------------------------------------===//
// Value and Init
//===----------------------------------------------------------------------===//

static RankedTensorType typeOf(const Value &v) {
  return llvm::cast<RankedTensorType>(v.graph()->impl().unwrap(v).getType());
}

std::vector<int64_t> Value::shape() const {
  if (!valid())
    return {};
  auto s = typeOf(*this).getShape();
  return {s.begin(), s.end()};
}

DType Value::dtype() const {
  if (!valid())
    return DType::f32;
  auto dt = dtypeOf(typeOf(*this).getElementType());
  return dt.ok() ? *dt : DType::f32;
}

int64_t Value::dim(int64_t i) const {
  std::vector<int64_t> s = shape();
  int64_t r = int64_t(s.size());
  if (i < 0)
    i += r;
  return i >= 0 && i < r ? s[size_t(i)] : -1;
}

std::string Value::typeString() const {
  if (!valid())
    return "<invalid>";
  std::string s;
  llvm::raw_string_ostream os(s);
  os << typeOf(*this);
  return s;
}

Init Init::ones() { return Init{"ones"}; }
Init Init::constant(double value) {
  Init i{"constant"};
  i.value = value;
  return i;
}
Init Init::uniform(double low, double high) {
  Init i{"uniform"};
  i.low = low;
  i.high = high;
  return i;
}
Init Init::normal(double mean, double stddev) {
  Init i{"normal"};
  i.mean = mean;
  i.stddev = stddev;
  return i;
}
Init Init::glorotUniform(double gain) {
  Init i{"glorot_uniform"};
  if (gain != 1.0)
    i.gain = gain;
  return i;
}
Init Init::glorotNormal(double gain) {
  Init i{"glorot_normal"};
  if (gain != 1.0)
    i.gain = gain;
  return i;
}
Init Init::heUniform() { return Init{"he_uniform"}; }
Init Init::heNormal() { return Init{"he_normal"}; }
Init &Init::fans(int64_t in, int64_t out) {
  fanIn = in;
  fanOut = out;
  return *this;
}

//===----------------------------------------------------------------------===//
// GraphImpl
//===----------------------------------------------------------------------===//

namespace detail {

std::string GraphImpl::scopePath() const { return absl::StrJoin(scopes, "/"); }

Location GraphImpl::loc(StringRef opName) {
  std::string path = scopePath();
  std::string name = path.empty() ? opName.str() : absl::StrCat(path, "/", opName.str());
  return NameLoc::get(StringAttr::get(ctx.get(), name));
}

Type GraphImpl::elementType(DType dtype) {
  Builder b(ctx.get());
  switch (dtype) {
  case DType::f32:
    return b.getF32Type();
  case DType::f16:
    return b.getF16Type();
  case DType::bf16:
    return b.getBF16Type();
  case DType::f64:
    return b.getF64Type();
  case DType::i1:
    return b.getI1Type();
  case DType::i32:
    return b.getI32Type();
  case DType::i64:
    return b.getI64Type();
  }
  return b.getF32Type();
}

RankedTensorType GraphImpl::tensorType(const std::vector<int64_t> &shape, DType dtype) {
  return RankedTensorType::get(shape, elementType(dtype));
}

bool GraphImpl::checkInputs(ArrayRef<Value> inputs, StringRef opName) {
  for (const Value &v : inputs) {
    if (!v.valid())
      return false;
    if (v.graph() != self) {
      fail(absl::InvalidArgumentError(
          absl::StrCat(opName.str(), ": an operand belongs to another graph")));
      return false;
    }
  }
  return true;
}

Value GraphImpl::create(
    StringRef name, ArrayRef<Value> inputs, ArrayRef<NamedAttribute> attrs, Type resultType,
    function_ref<LogicalResult(ValueRange, DictionaryAttr, SmallVectorImpl<Type> &)> infer) {
  if (!checkInputs(inputs, name))
    return {};
  SmallVector<mlir::Value> operands;
  for (const Value &v : inputs)
    operands.push_back(unwrap(v));
  std::string diag;
  ScopedDiagnosticHandler handler(ctx.get(), [&](Diagnostic &d) {
    if (diag.empty())
      diag = d.str();
    return success();
  });
  auto report = [&]() -> Value {
    std::vector<std::string> types;
    for (const Value &v : inputs)
      types.push_back(v.typeString());
    std::string where = scopePath();
    fail(absl::InvalidArgumentError(absl::StrCat(where.empty() ? "" : where + ": ",
                                                 diag.empty() ? name.str() + " failed" : diag,
                                                 " (operands: ", absl::StrJoin(types, ", "), ")")));
    return {};
  };
  SmallVector<Type> types;
  if (resultType)
    types.push_back(resultType);
  else if (failed(infer(operands, DictionaryAttr::get(ctx.get(), attrs), types)))
    return report();
  OperationState state(loc(name), name);
  state.addOperands(operands);
  state.addAttributes(attrs);
  // A stage mark for tg-pipeline-split, on the model's own ops (a scan's
  // body runs in the stage of its scan).
  if (!stages.empty() && builder->getInsertionBlock() == body)
    state.addAttribute("tg.stage", builder->getI64IntegerAttr(stages.back()));
  state.addTypes(types);
  Operation *op = builder->create(state);
  if (failed(mlir::verify(op))) {
    op->erase();
    return report();
  }
  return wrap(op->getResult(0));
}

Value GraphImpl::addArgument(const std::string &name, Role role, const std::vector<int64_t> &shape,
                             DType dtype, std::optional<Init> init) {
  if (name.empty()) {
    fail(absl::InvalidArgumentError(
        absl::StrCat("a ", std::string(roleName(role)), " argument needs a name")));
    return {};
  }
  if (!names.insert(name).second) {
    fail(absl::InvalidArgumentError(absl::StrCat("duplicate argument name '", name, "'")));
    return {};
  }
  for (int64_t d : shape)
    if (d < 0) {
      fail(absl::InvalidArgumentError(absl::StrCat(std::string(roleName(role)), " '", name,
                                                   "': negative dimension in ",
                                                   shapeToString(shape))));
      return {};
    }
  if (role == Role::Param && !isFloat(dtype)) {
    fail(absl::InvalidArgumentError(
        absl::StrCat("param '", name, "' must have a float dtype, got ", dtypeName(dtype))));
    return {};
  }
  args.push_back({name, role, std::move(init)});
  return wrap(body->addArgument(tensorType(shape, dtype), loc(name)));
}

static DictionaryAttr initAttr(Builder &b, const Init &init) {
  SmallVector<NamedAttribute> fields{b.getNamedAttr("kind", b.getStringAttr(init.kind))};
  auto num = [&](const char *key, const std::optional<double> &v) {
    if (v)
      fields.push_back(b.getNamedAttr(key, b.getF64FloatAttr(*v)));
  };
  num("value", init.value);
  num("low", init.low);
  num("high", init.high);
  num("mean", init.mean);
  num("stddev", init.stddev);
  num("gain", init.gain);
  if (init.fanIn)
    fields.push_back(b.getNamedAttr("fan_in", b.getI64IntegerAttr(*init.fanIn)));
  if (init.fanOut)
    fields.push_back(b.getNamedAttr("fan_out", b.getI64IntegerAttr(*init.fanOut)));
  return b.getDictionaryAttr(fields);
}

absl::StatusOr<std::string> GraphImpl::finalizedText() {
  if (!status.ok())
    return status;
  if (outputs.empty())
    return absl::FailedPreconditionError(
        absl::StrCat("graph '", fn.getSymName().str(), "' has no outputs: call Graph::output()"));
  Builder b(ctx.get());
  SmallVector<mlir::Value> results;
  SmallVector<Type> resultTypes;
  for (auto &out : outputs) {
    results.push_back(values[size_t(out.id)]);
    resultTypes.push_back(values[size_t(out.id)].getType());
  }
  fn.setType(b.getFunctionType(body->getArgumentTypes(), resultTypes));
  for (auto [i, meta] : llvm::enumerate(args)) {
    SmallVector<NamedAttribute> attrs{
        b.getNamedAttr(TgDialect::kNameAttr, b.getStringAttr(meta.name)),
        b.getNamedAttr(TgDialect::kRoleAttr, roleAttr(b, meta.role))};
    if (meta.init)
      attrs.push_back(b.getNamedAttr(TgDialect::kInitAttr, initAttr(b, *meta.init)));
    if (meta.defaultValue)
      attrs.push_back(b.getNamedAttr(TgDialect::kDefaultAttr, b.getF64FloatAttr(*meta.defaultValue)));
    fn.setArgAttrs(unsigned(i), attrs);
  }
  for (auto [i, out] : llvm::enumerate(outputs)) {
    SmallVector<NamedAttribute> attrs{
        b.getNamedAttr(TgDialect::kNameAttr, b.getStringAttr(out.name))};
    if (out.alias)
      attrs.push_back(b.getNamedAttr(TgDialect::kAliasAttr, b.getI64IntegerAttr(*out.alias)));
    if (out.trainOnly)
      attrs.push_back(b.getNamedAttr(TgDialect::kTrainOnlyAttr, b.getUnitAttr()));
    fn.setResultAttrs(unsigned(i), attrs);
  }
  if (trainSpec)
    (*module)->setAttr(kTrainAttr, trainSpec);
  builder->setInsertionPointToEnd(body);
  auto ret = builder->create<func::ReturnOp>(fn.getLoc(), results);
  std::string diag;
  LogicalResult verified = success();
  {
    ScopedDiagnosticHandler handler(ctx.get(), [&](Diagnostic &d) {
      if (diag.empty())
        diag = d.str();
      return success();
    });
    verified = mlir::verify(*module);
  }
  std::string text;
  if (succeeded(verified)) {
    llvm::raw_string_ostream os(text);
    module->print(os);
  }
  ret.erase();
  builder->setInsertionPointToEnd(body);
  if (failed(verified))
    return absl::InternalError(absl::StrCat("the built module does not verify: ", diag));
  return text;
}

} // namespace detail

//===----------------------------------------------------------------------===//
// Graph
//===----------------------------------------------------------------------===//

Graph::Graph(std::string functionName) : impl_(std::make_unique<detail::GraphImpl>()) {
  auto &g = *impl_;
  g.self = this;
  g.ctx = createContext();
  g.builder = std::make_unique<OpBuilder>(g.ctx.get());
  Location loc = NameLoc::get(StringAttr::get(g.ctx.get(), functionName));
  g.module = ModuleOp::create(loc);
  g.builder->setInsertionPointToEnd(g.module->getBody());
  g.fn = g.builder->create<func::FuncOp>(loc, functionName, g.builder->getFunctionType({}, {}));
  g.body = g.fn.addEntryBlock();
  g.builder->setInsertionPointToEnd(g.body);
  if (functionName.empty())
    g.fail(absl::InvalidArgumentError("a graph needs a function name"));
}

Graph::~Graph() = default;

Value Graph::param(const std::string &name, std::vector<int64_t> shape, Init init, DType dtype) {
  return impl_->addArgument(scopedName(name), Role::Param, shape, dtype, std::move(init));
}
Value Graph::state(const std::string &name, std::vector<int64_t> shape, DType dtype) {
  return impl_->addArgument(name, Role::State, shape, dtype, std::nullopt);
}
Value Graph::state(const std::string &name, std::vector<int64_t> shape, Init init, DType dtype) {
  return impl_->addArgument(scopedName(name), Role::State, shape, dtype, std::move(init));
}
Value Graph::training() {
  if (impl_->training.valid())
    return impl_->training;
  Value t = impl_->addArgument("training", Role::Hyper, {}, DType::f32, std::nullopt);
  if (t.valid()) {
    impl_->args.back().defaultValue = 0.0;
    impl_->training = t;
  }
  return t;
}
Value Graph::data(const std::string &name, std::vector<int64_t> shape, DType dtype) {
  return impl_->addArgument(name, Role::Data, shape, dtype, std::nullopt);
}
Value Graph::label(const std::string &name, std::vector<int64_t> shape, DType dtype) {
  return impl_->addArgument(name, Role::Label, shape, dtype, std::nullopt);
}
Value Graph::hyper(const std::string &name, std::vector<int64_t> shape, DType dtype) {
  return impl_->addArgument(name, Role::Hyper, shape, dtype, std::nullopt);
}

void Graph::output(const std::string &name, Value value) {
  if (!impl_->checkInputs({value}, "output"))
    return;
  if (name.empty())
    return impl_->fail(absl::InvalidArgumentError("an output needs a name"));
  for (auto &out : impl_->outputs)
    if (out.name == name)
      return impl_->fail(
          absl::InvalidArgumentError(absl::StrCat("duplicate output name '", name, "'")));
  impl_->outputs.push_back({name, value.id(), std::nullopt});
}

void Graph::updateState(const std::string &name, Value newValue, Value state) {
  auto &g = *impl_;
  if (!g.checkInputs({newValue, state}, "updateState"))
    return;
  auto arg = llvm::dyn_cast<BlockArgument>(g.unwrap(state));
  if (!arg || g.args[arg.getArgNumber()].role != Role::State)
    return g.fail(absl::InvalidArgumentError(absl::StrCat(
        "updateState('", name, "'): the value to update must be a Graph::state argument")));
  if (g.unwrap(newValue).getType() != arg.getType())
    return g.fail(absl::InvalidArgumentError(absl::StrCat(
        "updateState('", name, "'): new value ", newValue.typeString(), " does not match state '",
        g.args[arg.getArgNumber()].name, "' ", state.typeString())));
  for (auto &out : g.outputs)
    if (out.alias == arg.getArgNumber())
      return g.fail(absl::InvalidArgumentError(absl::StrCat("updateState('", name, "'): state '",
                                                            g.args[arg.getArgNumber()].name,
                                                            "' already has a next value")));
  output(name, newValue);
  if (g.status.ok())
    g.outputs.back().alias = arg.getArgNumber();
}

absl::Status Graph::status() const { return impl_->status; }

void Graph::recordError(absl::Status error) { impl_->fail(std::move(error)); }

absl::StatusOr<std::string> Graph::toMlir() const { return impl_->finalizedText(); }

absl::StatusOr<Module> Graph::build() const {
  auto text = impl_->finalizedText();
  if (!text.ok())
    return text.status();
  return Module::parse(*text, impl_->fn.getSymName().str() + ".tg.mlir");
}

absl::Status Graph::save(const std::string &path) const {
  auto text = toMlir();
  if (!text.ok())
    return text.status();
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return absl::ErrnoToStatus(ec.value(), absl::StrCat("cannot write '", path, "'"));
  os << *text;
  os.close();
  if (os.has_error())
    return absl::DataLossError(absl::StrCat("writing '", path, "' failed: ", os.error().message()));
  return absl::OkStatus();
}

Graph::NameScope::NameScope(Graph &graph, const std::string &name) : graph_(graph) {
  graph_.impl_->scopes.push_back(name);
}
Graph::NameScope::~NameScope() { graph_.impl_->scopes.pop_back(); }

Graph::StageScope::StageScope(Graph &graph, int64_t stage) : graph_(graph) {
  if (stage < 0)
    graph_.impl_->fail(absl::InvalidArgumentError(
        absl::StrCat("Graph::stage(", stage, "): a pipeline stage is >= 0")));
  graph_.impl_->stages.push_back(stage);
}
Graph::StageScope::~StageScope() { graph_.impl_->stages.pop_back(); }

std::string Graph::uniqueName(const std::string &base) {
  int n = impl_->nameCounts[base]++;
  return n == 0 ? base : absl::StrCat(base, "_", n);
}

std::string Graph::scopedName(const std::string &name) const {
  return impl_->scopes.empty() ? name : absl::StrCat(absl::StrJoin(impl_->scopes, "."), ".", name);
}

} // namespace tg
