//===- Manifest.cpp - reading and writing the artifact manifest ----------===//
#include "support/Manifest.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include <nlohmann/json.hpp>

#include <cstdlib>

using json = nlohmann::json;

namespace tg {

size_t dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::f64:
  case DType::i64:
    return 8;
  case DType::f32:
  case DType::i32:
    return 4;
  case DType::f16:
  case DType::bf16:
    return 2;
  case DType::i1:
    return 1;
  }
  return 0;
}

int64_t BufferSpec::numElements() const { return tg::numElements(shape); }

std::string BufferSpec::typeString() const {
  return absl::StrCat(dtypeName(dtype), " ", shapeToString(shape));
}

const BufferSpec *EntrySpec::findArg(std::string_view n) const {
  for (const BufferSpec &b : args)
    if (b.name == n)
      return &b;
  return nullptr;
}

const BufferSpec *EntrySpec::findResult(std::string_view n) const {
  for (const BufferSpec &b : results)
    if (b.name == n)
      return &b;
  return nullptr;
}

const std::string &EntrySpec::bufferOf(const BufferSpec &result) const {
  return result.alias >= 0 && size_t(result.alias) < args.size() ? args[size_t(result.alias)].name
                                                                 : result.name;
}

const EntrySpec *Manifest::findEntry(std::string_view n) const {
  for (const EntrySpec &e : entries)
    if (e.name == n)
      return &e;
  return nullptr;
}

std::vector<std::string> Manifest::entryNames() const {
  std::vector<std::string> names;
  for (const EntrySpec &e : entries)
    names.push_back(e.name);
  return names;
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

namespace {

json bufferToJson(const BufferSpec &b) {
  json j;
  j["name"] = b.name;
  j["dtype"] = std::string(dtypeName(b.dtype));
  j["shape"] = b.shape;
  if (b.role != Role::None)
    j["role"] = std::string(roleName(b.role));
  if (b.init) {
    json init = json::object();
    init["kind"] = b.init->kind;
    for (const auto &[k, v] : b.init->fields)
      init[k] = v;
    j["init"] = init;
  }
  if (b.defaultValue)
    j["default"] = *b.defaultValue;
  if (b.alias >= 0)
    j["alias"] = b.alias;
  if (b.classes > 0)
    j["classes"] = b.classes;
  return j;
}

} // namespace

absl::StatusOr<std::string> Manifest::serialize() const {
  try {
    return dump(/*replaceInvalidUtf8=*/false);
  } catch (const json::type_error &e) {
    return absl::InvalidArgumentError(
        absl::StrCat("the manifest would hold a name that is not valid UTF-8: ", e.what()));
  }
}

std::string Manifest::dump(bool replaceInvalidUtf8) const {
  json m;
  m["format"] = "tgx";
  m["version"] = version;
  m["compiler"] = compiler;
  m["target"] = {{"triple", triple}, {"cpu", cpu}, {"features", features}};
  m["options"] = {{"target_cpu", targetCpu}, {"fusion", fusion}};
  if (train)
    m["train"] = json::parse(train->json, nullptr, /*allow_exceptions=*/false);
  if (dataParallel.mode != "none") {
    json dp;
    dp["mode"] = dataParallel.mode;
    if (dataParallel.mode == "average") {
      dp["average_every"] = dataParallel.averageEvery;
      dp["average_state"] = dataParallel.averageState;
    }
    dp["bucket_cap_bytes"] = dataParallel.bucketCapBytes;
    dp["plan_hash"] = dataParallel.planHash;
    if (!dataParallel.modelHash.empty())
      dp["model_hash"] = dataParallel.modelHash;
    if (dataParallel.compress != "none")
      dp["compress"] = dataParallel.compress;
    if (const std::optional<ShardSpec> &s = dataParallel.shard) {
      json params = json::array();
      for (const auto &[name, n] : s->params)
        params.push_back({{"name", name}, {"elements", n}});
      dp["shard"] = {{"world", s->world},     {"size", s->size},        {"params", params},
                     {"slots", s->slots},     {"buffers", s->buffers}};
    }
    dp["buckets"] = json::array();
    for (const BucketSpec &b : dataParallel.buckets)
      dp["buckets"].push_back(
          {{"id", b.id}, {"entry", b.entry}, {"buffers", b.buffers}, {"elements", b.elements}});
    m["data_parallel"] = dp;
  }
  if (!modelHash.empty())
    m["model_hash"] = modelHash;
  if (pipeline) {
    json p;
    p["stages"] = pipeline->stages;
    p["microbatches"] = pipeline->microbatches;
    p["schedule"] = pipeline->schedule;
    p["plan"] = json::array();
    for (const StageCost &c : pipeline->plan)
      p["plan"].push_back({{"ops", c.ops},
                           {"flops", c.flops},
                           {"bytes", c.bytes},
                           {"param_bytes", c.paramBytes},
                           {"send_bytes", c.sendBytes},
                           {"seconds", c.seconds}});
    m["pipeline"] = p;
  }
  m["entries"] = json::array();
  for (const EntrySpec &e : entries) {
    json j;
    j["name"] = e.name;
    j["symbol"] = e.symbol;
    j["kind"] = e.kind;
    if (e.stage >= 0)
      j["stage"] = e.stage;
    if (e.arenaBytes > 0) {
      j["arena_bytes"] = e.arenaBytes;
      j["temp_bytes"] = e.tempBytes;
    }
    j["args"] = json::array();
    j["results"] = json::array();
    for (const BufferSpec &b : e.args)
      j["args"].push_back(bufferToJson(b));
    for (const BufferSpec &b : e.results)
      j["results"].push_back(bufferToJson(b));
    m["entries"].push_back(j);
  }
  m["kernels"] = json::array();
  for (const KernelCall &k : kernels) {
    json j;
    j["symbol"] = k.symbol;
    j["operands"] = json::array();
    for (const KernelOperand &o : k.operands)
      j["operands"].push_back({{"sizes", o.sizes}, {"strides", o.strides}});
    j["params"] = k.params;
    m["kernels"].push_back(j);
  }
  if (cuda) {
    json c;
    c["archs"] = cuda->archs;
    c["ptx_arch"] = cuda->ptxArch;
    c["toolkit"] = cuda->toolkit;
    c["fatbin_bytes"] = cuda->fatbinBytes;
    c["kernels"] = json::array();
    for (const CudaKernelSpec &k : cuda->kernels) {
      json res = json::object();
      for (const auto &[arch, r] : k.resources)
        res[arch] = {{"registers", r.registers},
                     {"shared_bytes", r.sharedBytes},
                     {"spill_bytes", r.spillBytes},
                     {"stack_bytes", r.stackBytes}};
      c["kernels"].push_back({{"name", k.name},
                              {"block_size", k.blockSize},
                              {"params", k.params},
                              {"resources", res}});
    }
    c["library_calls"] = cuda->libraryCalls;
    m["cuda"] = c;
  }
  return m.dump(2, ' ', false,
                replaceInvalidUtf8 ? json::error_handler_t::replace : json::error_handler_t::strict);
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

namespace {

/// Typed access to manifest fields; every error names the artifact and the
/// path of the field.
class Reader {
public:
  explicit Reader(std::string_view source) : source(source) {}

  absl::Status error(const std::string &where, const std::string &what) const {
    return absl::InvalidArgumentError(absl::StrCat(source, ": manifest: ", where, ": ", what));
  }

  absl::StatusOr<std::string> str(const json &j, const char *key, const std::string &where) const {
    if (!j.is_object() || !j.contains(key) || !j[key].is_string())
      return error(where, absl::StrCat("missing string '", key, "'"));
    return j[key].get<std::string>();
  }

  absl::Status ints(const json &j, const std::string &where, const std::string &what,
                    std::vector<int64_t> &out, bool nonNegative) const {
    if (!j.is_array())
      return error(where, absl::StrCat(what, " is not a list"));
    for (const json &d : j) {
      if (!d.is_number_integer() || (nonNegative && d.get<int64_t>() < 0))
        return error(where, absl::StrCat(what, " has a bad value ", d.dump()));
      out.push_back(d.get<int64_t>());
    }
    return absl::OkStatus();
  }

  absl::StatusOr<BufferSpec> buffer(const json &j, const std::string &where) const {
    BufferSpec b;
    auto name = str(j, "name", where);
    if (!name.ok())
      return name.status();
    b.name = *name;
    auto dtype = str(j, "dtype", where);
    if (!dtype.ok())
      return dtype.status();
    auto dt = parseDType(*dtype);
    if (!dt.ok())
      return error(where, absl::StrCat("'", b.name, "' has unknown dtype '", *dtype, "'"));
    b.dtype = *dt;
    if (!j.contains("shape") || !j["shape"].is_array())
      return error(where, absl::StrCat("'", b.name, "' has no shape"));
    for (const json &d : j["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0)
        return error(where, absl::StrCat("'", b.name, "' has a bad dimension ", d.dump()));
      b.shape.push_back(d.get<int64_t>());
    }
    // Sizes are computed without overflow and bounded (1 TiB per buffer, as
    // the compiler's verifier): a crafted manifest cannot make the runtime
    // allocate a wrapped-around size.
    int64_t bytes = int64_t(dtypeSize(b.dtype));
    for (int64_t d : b.shape)
      if (d != 0 && (__builtin_mul_overflow(bytes, d, &bytes) || bytes > (int64_t(1) << 40)))
        return error(where, absl::StrCat("'", b.name, "' of shape ", shapeToString(b.shape),
                                         " needs more than 1 TiB (", int64_t(1) << 40,
                                         " bytes), the per-buffer limit"));
    if (j.contains("role")) {
      std::optional<Role> role =
          j["role"].is_string() ? parseRole(j["role"].get<std::string>()) : std::nullopt;
      if (!role)
        return error(where, absl::StrCat("'", b.name, "' has unknown role ", j["role"].dump()));
      b.role = *role;
    }
    if (j.contains("init")) {
      if (!j["init"].is_object())
        return error(where, absl::StrCat("'", b.name, "' has a bad init ", j["init"].dump()));
      InitSpec spec;
      for (auto &[k, v] : j["init"].items()) {
        if (k == "kind" && v.is_string())
          spec.kind = v.get<std::string>();
        else if (v.is_number())
          spec.fields[k] = v.get<double>();
        else
          return error(where, absl::StrCat("'", b.name, "' init field '", k, "' is ", v.dump()));
      }
      b.init = spec;
    }
    if (j.contains("default")) {
      if (!j["default"].is_number())
        return error(where, absl::StrCat("'", b.name, "' has a non-numeric default"));
      b.defaultValue = j["default"].get<double>();
    }
    if (j.contains("classes")) {
      if (!j["classes"].is_number_integer() || j["classes"].get<int64_t>() < 1)
        return error(where,
                     absl::StrCat("'", b.name, "' has a bad class count ", j["classes"].dump()));
      b.classes = j["classes"].get<int64_t>();
    }
    if (j.contains("alias")) {
      if (!j["alias"].is_number_integer() || j["alias"].get<int64_t>() < 0)
        return error(where, absl::StrCat("'", b.name, "' has a bad alias ", j["alias"].dump()));
      b.alias = j["alias"].get<int>();
    }
    return b;
  }

  absl::StatusOr<KernelCall> kernel(const json &k) const {
    KernelCall call;
    auto symbol = str(k, "symbol", "kernels");
    if (!symbol.ok())
      return symbol.status();
    call.symbol = *symbol;
    if (!k.contains("operands") || !k["operands"].is_array() || !k.contains("params") ||
        !k["params"].is_array())
      return error("kernels", absl::StrCat("'", call.symbol, "' lacks operands or params"));
    for (const json &o : k["operands"]) {
      KernelOperand op;
      if (!o.is_object() || !o.contains("sizes") || !o.contains("strides"))
        return error("kernels", absl::StrCat("'", call.symbol, "' has a bad operand"));
      std::string where = absl::StrCat("kernels.", call.symbol);
      if (absl::Status s = ints(o["sizes"], where, "an operand's sizes", op.sizes, true); !s.ok())
        return s;
      if (absl::Status s = ints(o["strides"], where, "an operand's strides", op.strides, false);
          !s.ok())
        return s;
      call.operands.push_back(std::move(op));
    }
    if (absl::Status s =
            ints(k["params"], absl::StrCat("kernels.", call.symbol), "params", call.params, false);
        !s.ok())
      return s;
    return call;
  }

  absl::Status strings(const json &j, const std::string &where,
                       std::vector<std::string> &out) const {
    if (!j.is_array())
      return error(where, "not a list of strings");
    for (const json &s : j) {
      if (!s.is_string())
        return error(where, absl::StrCat("not a string: ", s.dump()));
      out.push_back(s.get<std::string>());
    }
    return absl::OkStatus();
  }

  /// A non-negative integer field of an object.
  absl::StatusOr<int64_t> count(const json &j, const char *key, const std::string &where) const {
    if (!j.is_object() || !j.contains(key) || !j[key].is_number_integer() ||
        j[key].get<int64_t>() < 0)
      return error(where, absl::StrCat("missing non-negative integer '", key, "'"));
    return j[key].get<int64_t>();
  }

  absl::StatusOr<CudaSpec> cuda(const json &c) const {
    CudaSpec spec;
    if (!c.is_object())
      return error("cuda", "not an object");
    if (absl::Status s = strings(c.value("archs", json()), "cuda.archs", spec.archs); !s.ok())
      return s;
    if (spec.archs.empty())
      return error("cuda.archs", "empty");
    for (auto [field, key] : {std::pair{&spec.ptxArch, "ptx_arch"}, {&spec.toolkit, "toolkit"}}) {
      auto v = str(c, key, "cuda");
      if (!v.ok())
        return v.status();
      *field = *v;
    }
    auto bytes = count(c, "fatbin_bytes", "cuda");
    if (!bytes.ok())
      return bytes.status();
    spec.fatbinBytes = *bytes;
    if (!c.contains("kernels") || !c["kernels"].is_array())
      return error("cuda.kernels", "not a list");
    for (const json &k : c["kernels"]) {
      CudaKernelSpec kernel;
      auto name = str(k, "name", "cuda.kernels");
      if (!name.ok())
        return name.status();
      kernel.name = *name;
      std::string where = absl::StrCat("cuda.kernels.", kernel.name);
      auto block = count(k, "block_size", where);
      if (!block.ok())
        return block.status();
      kernel.blockSize = *block;
      auto params = count(k, "params", where);
      if (!params.ok())
        return params.status();
      kernel.params = *params;
      if (!k.contains("resources") || !k["resources"].is_object())
        return error(where, "missing object 'resources'");
      for (const auto &[arch, r] : k["resources"].items()) {
        CudaResources res;
        std::string at = absl::StrCat(where, ".", arch);
        for (auto [field, key] : {std::pair{&res.registers, "registers"},
                                  {&res.sharedBytes, "shared_bytes"},
                                  {&res.spillBytes, "spill_bytes"},
                                  {&res.stackBytes, "stack_bytes"}}) {
          auto v = count(r, key, at);
          if (!v.ok())
            return v.status();
          *field = *v;
        }
        kernel.resources[arch] = res;
      }
      spec.kernels.push_back(std::move(kernel));
    }
    if (absl::Status s = strings(c.value("library_calls", json::array()), "cuda.library_calls",
                                 spec.libraryCalls);
        !s.ok())
      return s;
    return spec;
  }

  absl::StatusOr<PipelineSpec> pipeline(const json &p) const {
    if (!p.is_object())
      return error("pipeline", "not an object");
    PipelineSpec spec;
    for (auto [key, field] : {std::pair{"stages", &spec.stages},
                              std::pair{"microbatches", &spec.microbatches}}) {
      if (!p.contains(key) || !p[key].is_number_integer() || p[key].get<int64_t>() < 1)
        return error(absl::StrCat("pipeline.", key), "must be an integer >= 1");
      *field = p[key].get<int64_t>();
    }
    if (!p.contains("schedule") || !p["schedule"].is_string() ||
        (p["schedule"] != "1f1b" && p["schedule"] != "gpipe"))
      return error("pipeline.schedule", "must be \"1f1b\" or \"gpipe\"");
    spec.schedule = p["schedule"].get<std::string>();
    if (p.contains("plan")) {
      if (!p["plan"].is_array() || int64_t(p["plan"].size()) != spec.stages)
        return error("pipeline.plan", "must list every stage");
      for (const json &c : p["plan"]) {
        StageCost cost;
        if (!c.is_object())
          return error("pipeline.plan", "a stage is not an object");
        if (c.contains("ops") && c["ops"].is_number_integer())
          cost.ops = c["ops"].get<int64_t>();
        for (auto [key, field] :
             {std::pair{"flops", &cost.flops}, std::pair{"bytes", &cost.bytes},
              std::pair{"param_bytes", &cost.paramBytes}, std::pair{"send_bytes", &cost.sendBytes},
              std::pair{"seconds", &cost.seconds}})
          if (c.contains(key) && c[key].is_number())
            *field = c[key].get<double>();
        spec.plan.push_back(cost);
      }
    }
    return spec;
  }

  absl::StatusOr<DataParallelSpec> dataParallel(const json &d) const {
    DataParallelSpec dp;
    if (!d.is_object())
      return error("data_parallel", "not an object");
    auto mode = str(d, "mode", "data_parallel");
    if (!mode.ok())
      return mode.status();
    if (*mode != "none" && *mode != "allreduce" && *mode != "average")
      return error("data_parallel.mode", absl::StrCat("unknown mode '", *mode, "'"));
    dp.mode = *mode;
    auto hash = str(d, "plan_hash", "data_parallel");
    if (!hash.ok())
      return hash.status();
    dp.planHash = *hash;
    if (d.contains("model_hash")) {
      if (!d["model_hash"].is_string())
        return error("data_parallel.model_hash", "not a string");
      dp.modelHash = d["model_hash"].get<std::string>();
    }
    auto integer = [&](const char *key, int64_t &out, int64_t min) -> absl::Status {
      if (!d.contains(key))
        return absl::OkStatus();
      if (!d[key].is_number_integer() || d[key].get<int64_t>() < min)
        return error(absl::StrCat("data_parallel.", key),
                     absl::StrCat("bad value ", d[key].dump()));
      out = d[key].get<int64_t>();
      return absl::OkStatus();
    };
    if (absl::Status s = integer("bucket_cap_bytes", dp.bucketCapBytes, 0); !s.ok())
      return s;
    if (absl::Status s = integer("average_every", dp.averageEvery, 1); !s.ok())
      return s;
    if (dp.mode == "average" && dp.averageEvery < 1)
      return error("data_parallel.average_every", "missing for mode 'average'");
    if (d.contains("average_state")) {
      if (!d["average_state"].is_boolean())
        return error("data_parallel.average_state", "not a boolean");
      dp.averageState = d["average_state"].get<bool>();
    }
    if (d.contains("compress")) {
      if (!d["compress"].is_string() || !parseCompress(d["compress"].get<std::string>()))
        return error("data_parallel.compress", absl::StrCat("unknown value ", d["compress"].dump()));
      dp.compress = d["compress"].get<std::string>();
      if (dp.compress != "none" && dp.mode != "allreduce")
        return error("data_parallel.compress", "needs mode 'allreduce'");
    }
    if (d.contains("shard")) {
      const json &s = d["shard"];
      std::string where = "data_parallel.shard";
      auto positive = [&](const char *k) {
        return s.is_object() && s.contains(k) && s[k].is_number_integer() && s[k].get<int64_t>() > 0;
      };
      if (!positive("world") || !positive("size") || !s.contains("params") ||
          !s["params"].is_array() || !s.contains("slots") || !s["slots"].is_array() ||
          !s.contains("buffers") || !s["buffers"].is_array() ||
          s["slots"].size() != s["buffers"].size())
        return error(where, absl::StrCat("bad shard plan ", s.dump()));
      ShardSpec spec;
      spec.world = s["world"].get<int64_t>();
      spec.size = s["size"].get<int64_t>();
      constexpr int64_t kMax = int64_t(1) << 40; // elements: kMaxTensorBytes / 1
      if (spec.world > 65536 || spec.size > kMax)
        return error(where, absl::StrCat("world ", spec.world, " or size ", spec.size,
                                         " out of range"));
      int64_t total = 0;
      for (const json &p : s["params"]) {
        if (!p.is_object() || !p.contains("name") || !p["name"].is_string() ||
            !p.contains("elements") || !p["elements"].is_number_integer() ||
            p["elements"].get<int64_t>() < 1 || p["elements"].get<int64_t>() > kMax ||
            total > spec.world * spec.size)
          return error(where, absl::StrCat("bad param ", p.dump()));
        spec.params.push_back({p["name"].get<std::string>(), p["elements"].get<int64_t>()});
        total += spec.params.back().second;
      }
      if (total > spec.world * spec.size || total <= spec.world * (spec.size - 1)) // S = ceil(P/N)
        return error(where, absl::StrCat("the params' ", total, " elements do not fit ",
                                         spec.world, " shards of ", spec.size));
      for (const char *k : {"slots", "buffers"})
        for (const json &n : s[k]) {
          if (!n.is_string())
            return error(where, absl::StrCat("bad ", k, " name ", n.dump()));
          (std::string(k) == "slots" ? spec.slots : spec.buffers).push_back(n.get<std::string>());
        }
      if (dp.mode != "allreduce")
        return error(where, "needs mode 'allreduce'");
      dp.shard = std::move(spec);
    }
    if (d.contains("buckets")) {
      if (!d["buckets"].is_array())
        return error("data_parallel.buckets", "not a list");
      for (const json &b : d["buckets"]) {
        BucketSpec bucket;
        std::string where = "data_parallel.buckets";
        auto entry = str(b, "entry", where);
        if (!entry.ok())
          return entry.status();
        bucket.entry = *entry;
        if (!b.contains("id") || !b["id"].is_number_integer() || b["id"].get<int64_t>() < 0 ||
            !b.contains("elements") || !b["elements"].is_number_integer() ||
            b["elements"].get<int64_t>() < 1 || !b.contains("buffers") || !b["buffers"].is_array())
          return error(where, absl::StrCat("bad bucket ", b.dump()));
        bucket.id = b["id"].get<int64_t>();
        bucket.elements = b["elements"].get<int64_t>();
        for (const json &n : b["buffers"]) {
          if (!n.is_string())
            return error(where, absl::StrCat("bad buffer name ", n.dump()));
          bucket.buffers.push_back(n.get<std::string>());
        }
        dp.buckets.push_back(std::move(bucket));
      }
    }
    return dp;
  }

  absl::StatusOr<TrainInfo> train(const json &t) const {
    if (!t.is_object())
      return error("train", "not an object");
    TrainInfo info;
    info.json = t.dump();
    if (t.contains("function") && t["function"].is_string())
      info.function = t["function"].get<std::string>();
    if (t.contains("loss") && t["loss"].is_string())
      info.loss = t["loss"].get<std::string>();
    if (t.contains("optimizer")) {
      const json &o = t["optimizer"];
      std::optional<OptimizerKind> kind;
      if (o.is_object() && o.contains("kind") && o["kind"].is_string())
        kind = parseOptimizer(o["kind"].get<std::string>());
      if (!kind)
        return error("train.optimizer", absl::StrCat("unknown optimizer ", o.dump()));
      info.optimizer = *kind;
      if (o.contains("lr") && o["lr"].is_number())
        info.lr = o["lr"].get<double>();
    }
    return info;
  }

private:
  std::string source;
};

} // namespace

absl::StatusOr<Manifest> parseManifest(std::string_view text, std::string_view source) {
  Reader r(source);
  json m = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (m.is_discarded() || !m.is_object())
    return r.error("top level", "not a JSON object");
  if (!m.contains("format") || m["format"] != "tgx")
    return r.error("format", "not a tgx manifest");
  if (!m.contains("version") || !m["version"].is_number_integer())
    return r.error("version", "missing");
  Manifest out;
  out.version = m["version"].get<int>();
  if (out.version != kManifestVersion)
    return absl::FailedPreconditionError(absl::StrCat(
        std::string(source), ": artifact format version ", out.version,
        " is not supported by this runtime (version ", kManifestVersion, "); recompile it"));
  if (m.contains("compiler") && m["compiler"].is_string())
    out.compiler = m["compiler"].get<std::string>();
  if (m.contains("target")) {
    const json &t = m["target"];
    if (!t.is_object())
      return r.error("target", "not an object");
    if (t.contains("triple") && t["triple"].is_string())
      out.triple = t["triple"].get<std::string>();
    if (t.contains("cpu") && t["cpu"].is_string())
      out.cpu = t["cpu"].get<std::string>();
    if (t.contains("features")) {
      if (!t["features"].is_array())
        return r.error("target.features", "not a list of strings");
      for (const json &f : t["features"]) {
        if (!f.is_string())
          return r.error("target.features", "not a list of strings");
        out.features.push_back(f.get<std::string>());
      }
    }
  }
  if (m.contains("options") && m["options"].is_object()) {
    const json &o = m["options"];
    if (o.contains("target_cpu") && o["target_cpu"].is_string())
      out.targetCpu = o["target_cpu"].get<std::string>();
    if (o.contains("fusion") && o["fusion"].is_boolean())
      out.fusion = o["fusion"].get<bool>();
  }
  if (m.contains("train")) {
    auto t = r.train(m["train"]);
    if (!t.ok())
      return t.status();
    out.train = std::move(*t);
  }
  if (m.contains("data_parallel")) {
    auto dp = r.dataParallel(m["data_parallel"]);
    if (!dp.ok())
      return dp.status();
    out.dataParallel = std::move(*dp);
  }
  if (m.contains("model_hash")) {
    if (!m["model_hash"].is_string())
      return r.error("model_hash", "not a string");
    out.modelHash = m["model_hash"].get<std::string>();
  }
  if (m.contains("pipeline")) {
    auto p = r.pipeline(m["pipeline"]);
    if (!p.ok())
      return p.status();
    out.pipeline = std::move(*p);
  }
  if (m.contains("kernels")) {
    if (!m["kernels"].is_array())
      return r.error("kernels", "not a list");
    for (const json &k : m["kernels"]) {
      auto call = r.kernel(k);
      if (!call.ok())
        return call.status();
      out.kernels.push_back(std::move(*call));
    }
  }
  if (m.contains("cuda")) {
    auto c = r.cuda(m["cuda"]);
    if (!c.ok())
      return c.status();
    out.cuda = std::move(*c);
  }
  if (!m.contains("entries") || !m["entries"].is_array())
    return r.error("entries", "missing");
  for (const json &e : m["entries"]) {
    EntrySpec entry;
    auto name = r.str(e, "name", "entries");
    if (!name.ok())
      return name.status();
    auto symbol = r.str(e, "symbol", "entries");
    if (!symbol.ok())
      return symbol.status();
    entry.name = *name;
    entry.symbol = *symbol;
    if (e.contains("kind") && e["kind"].is_string())
      entry.kind = e["kind"].get<std::string>();
    if (e.contains("stage")) {
      if (!e["stage"].is_number_integer() || e["stage"].get<int64_t>() < 0 ||
          !out.pipeline || e["stage"].get<int64_t>() >= out.pipeline->stages)
        return r.error(entry.name, absl::StrCat("'stage' ", e["stage"].dump(),
                                                " is no stage of the pipeline section"));
      entry.stage = e["stage"].get<int>();
    }
    for (auto [key, field] : {std::pair{"arena_bytes", &entry.arenaBytes},
                              std::pair{"temp_bytes", &entry.tempBytes}})
      if (e.contains(key)) {
        if (!e[key].is_number_integer() || e[key].get<int64_t>() < 0)
          return r.error(entry.name, absl::StrCat("'", key, "' must be a byte count"));
        *field = e[key].get<int64_t>();
      }
    if (out.findEntry(entry.name))
      return r.error("entries", absl::StrCat("entry point '", entry.name, "' appears twice"));
    for (const char *list : {"args", "results"}) {
      if (!e.contains(list) || !e[list].is_array())
        return r.error(entry.name, absl::StrCat("missing '", list, "'"));
      bool isArgs = std::string_view(list) == "args";
      for (const json &b : e[list]) {
        auto spec = r.buffer(b, absl::StrCat(entry.name, ".", list));
        if (!spec.ok())
          return spec.status();
        (isArgs ? entry.args : entry.results).push_back(std::move(*spec));
      }
    }
    for (const BufferSpec &res : entry.results)
      if (res.alias >= int(entry.args.size()))
        return r.error(entry.name, absl::StrCat("result '", res.name, "' aliases argument #",
                                                res.alias, ", which does not exist"));
    out.entries.push_back(std::move(entry));
  }
  return out;
}

absl::StatusOr<PipelineSpec> parsePipeline(std::string_view text, std::string_view source) {
  json d = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return Reader(source).pipeline(d);
}

absl::StatusOr<DataParallelSpec> parseDataParallel(std::string_view text, std::string_view source) {
  json d = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return Reader(source).dataParallel(d);
}

std::optional<Compress> parseCompress(std::string_view value) {
  Compress c;
  if (value == "none")
    return c;
  if (value == "bf16") {
    c.kind = Compress::Bf16;
    return c;
  }
  constexpr std::string_view prefix = "threshold:";
  if (value.substr(0, prefix.size()) != prefix)
    return std::nullopt;
  std::string number(value.substr(prefix.size()));
  char *end = nullptr;
  double t = number.empty() ? 0 : std::strtod(number.c_str(), &end);
  // A normal f32 whose largest quantum (T * 2^15) stays finite.
  if (number.empty() || *end != '\0' || !(t >= 1.2e-38) || !(t <= 1e30))
    return std::nullopt;
  c.kind = Compress::Threshold;
  c.threshold = float(t);
  return c;
}

} // namespace tg
