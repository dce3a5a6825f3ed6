//===- ParamFiles.cpp - params in and out of a session by name ------------===//
#include "train/ParamFiles.h"
#include "tg/Checkpoint.h"
#include "tg/Npy.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <cerrno>
#include <filesystem>
#include <set>
#include <vector>

namespace tg {

absl::StatusOr<int> loadParams(const std::string &file, const EntrySpec &entry,
                               rt::Session &session, ParamLoad mode) {
  auto ck = readSafetensors(file);
  if (!ck.ok())
    return ck.status();
  return loadParams(*ck, file, entry, session, mode);
}

absl::StatusOr<int> loadParams(const Checkpoint &checkpoint, const std::string &file,
                               const EntrySpec &entry, rt::Session &session, ParamLoad mode) {
  const Checkpoint *ck = &checkpoint;
  std::vector<std::string> missing, params;
  std::set<std::string> known;
  for (const BufferSpec &a : entry.args)
    if (a.role == Role::Param) {
      params.push_back(a.name);
      known.insert(a.name);
      if (!ck->find(a.name))
        missing.push_back(a.name);
    } else if (a.role == Role::State) {
      known.insert(a.name);
    }
  if (!missing.empty())
    return absl::NotFoundError(absl::StrCat(
        "'", file, "' lacks ", missing.size() == 1 ? "param " : "params ", "'",
        absl::StrJoin(missing, "', '"), "' (the artifact's params: ", absl::StrJoin(params, ", "),
        ")"));
  if (mode == ParamLoad::ParamsExactly && ck->metadata.count("format") &&
      ck->metadata.at("format").rfind("tgc-checkpoint/", 0) == 0)
    return absl::InvalidArgumentError(absl::StrCat(
        "'", file, "' is a tgc train checkpoint (params and optimizer state): continue it with "
        "--resume, or take its params with tgc export --checkpoint"));
  if (mode == ParamLoad::ParamsExactly)
    for (const NamedTensor &t : ck->tensors)
      if (!known.count(t.name))
        return absl::InvalidArgumentError(
            absl::StrCat("'", file, "': tensor '", t.name, "' is not a param of '", entry.name,
                         "' (its params: ", absl::StrJoin(params, ", "), ")"));
  int loaded = 0;
  for (const BufferSpec &a : entry.args) {
    if (mode == ParamLoad::Params ? a.role != Role::Param : !isPersistent(a.role))
      continue;
    const NamedTensor *t = ck->find(a.name);
    if (!t)
      continue; // a state the file lacks keeps its initial value
    if (t->dtype != dtypeName(a.dtype) || t->shape != a.shape)
      return absl::InvalidArgumentError(absl::StrCat("'", file, "': '", a.name, "' is ", t->dtype,
                                                     " ", shapeToString(t->shape),
                                                     ", the artifact's is ", a.typeString()));
    if (absl::Status s = session.write(a.name, t->bytes.data(), t->bytes.size()); !s.ok())
      return s;
    ++loaded;
  }
  return loaded;
}

absl::StatusOr<std::string> checkpointVocabulary(const Checkpoint &ck, const std::string &file) {
  auto it = ck.metadata.find("vocab");
  if (it == ck.metadata.end())
    return std::string();
  nlohmann::json v = nlohmann::json::parse(it->second, nullptr, /*allow_exceptions=*/false);
  if (v.is_string())
    return v.get<std::string>();
  std::string vocab;
  if (v.is_array())
    for (const nlohmann::json &b : v) {
      if (!b.is_number_unsigned() || b.get<uint64_t>() > 255)
        return absl::InvalidArgumentError(
            absl::StrCat("'", file, "': vocab metadata holds a non-byte ", b.dump()));
      vocab += char(b.get<unsigned>());
    }
  else
    return absl::InvalidArgumentError(
        absl::StrCat("'", file, "': vocab metadata is not a JSON list of bytes"));
  return vocab;
}

absl::StatusOr<int> exportParams(const EntrySpec &entry, const rt::Session &session,
                                 const std::string &path, bool npyDirectory, bool withState) {
  Checkpoint out;
  for (const BufferSpec &a : entry.args) {
    if (!(a.role == Role::Param || (withState && a.role == Role::State)))
      continue;
    NamedTensor t{a.name, std::string(dtypeName(a.dtype)), a.shape,
                  std::vector<uint8_t>(a.byteSize())};
    if (absl::Status s = session.read(a.name, t.bytes.data(), t.bytes.size()); !s.ok())
      return s;
    out.tensors.push_back(std::move(t));
  }
  if (!npyDirectory) {
    out.metadata["format"] = "tgc-params/1";
    if (absl::Status s = writeSafetensors(path, out); !s.ok())
      return s;
    return int(out.tensors.size());
  }
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec)
    return absl::ErrnoToStatus(ec.value(), absl::StrCat("cannot create '", path, "'"));
  for (const NamedTensor &t : out.tensors) {
    // A scoped name ("block/conv.kernel") goes into a subdirectory.
    std::filesystem::path file = std::filesystem::path(path) / (t.name + ".npy");
    std::filesystem::create_directories(file.parent_path(), ec);
    NpyArray a{t.dtype, t.shape, t.bytes};
    if (absl::Status s = writeNpy(file.string(), a); !s.ok())
      return s;
  }
  return int(out.tensors.size());
}

} // namespace tg
