//===- Runtime.h - C++ wrapper of the runtime C API -------------*- C++ -*-===//
//
//   auto artifact = tg::rt::Artifact::open("mlp.tgx");     // absl::StatusOr
//   auto session = tg::rt::Session::create(*artifact, 42);
//   session->write("image", pixels.data(), pixels.size() * sizeof(float));
//   session->run("train_step");
//
//===----------------------------------------------------------------------===//
/// \file
/// tg::rt::Artifact and tg::rt::Session: C++ owners of the runtime C API's
/// handles (tg/tg_runtime.h) that return absl::Status instead of codes.

#ifndef TG_RUNTIME_HPP
#define TG_RUNTIME_HPP

#include "tg/tg_runtime.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include <memory>
#include <string>

namespace tg {
namespace rt {

/// The absl::Status of a C API result: OK for TG_OK, else the matching code
/// (InvalidArgument for an unknown one) with tg_last_error()'s message.
inline absl::Status toStatus(tg_status code) {
  switch (code) {
  case TG_OK:
    return absl::OkStatus();
  case TG_NOT_FOUND:
    return absl::NotFoundError(tg_last_error());
  case TG_FAILED_PRECONDITION:
    return absl::FailedPreconditionError(tg_last_error());
  case TG_INTERNAL:
    return absl::InternalError(tg_last_error());
  default:
    return absl::InvalidArgumentError(tg_last_error());
  }
}

/// An open compiled artifact (.tgx). Copies share the handle, which is closed
/// with the last copy (a Session keeps one).
class Artifact {
public:
  /// Opens and checks `path` (tg_artifact_open): NotFound if it cannot be
  /// opened, InvalidArgument if it is not an intact tgx artifact,
  /// FailedPrecondition for another format version or missing CPU features.
  static absl::StatusOr<Artifact> open(const std::string &path) {
    tg_artifact *a = nullptr;
    if (absl::Status s = toStatus(tg_artifact_open(path.c_str(), &a)); !s.ok())
      return s;
    return Artifact(std::shared_ptr<tg_artifact>(a, tg_artifact_close));
  }
  /// The embedded manifest (JSON): entry points, buffers, target.
  std::string manifest() const { return tg_artifact_manifest(handle_.get()); }
  /// The C handle, owned by this object and its copies.
  tg_artifact *get() const { return handle_.get(); }

private:
  explicit Artifact(std::shared_ptr<tg_artifact> h) : handle_(std::move(h)) {}
  std::shared_ptr<tg_artifact> handle_;
};

/// One set of buffers of an artifact and the entry points that run on them
/// (tg_session_*). Copies share the same session; it keeps its Artifact open.
class Session {
public:
  /// A session with params and state initialized from `seed` (the same seed
  /// gives the same values), hypers at their defaults, other buffers zeroed.
  static absl::StatusOr<Session> create(const Artifact &artifact, uint64_t seed) {
    tg_session *s = nullptr;
    if (absl::Status st = toStatus(tg_session_create(artifact.get(), seed, &s)); !st.ok())
      return st;
    return Session(artifact, std::shared_ptr<tg_session>(s, tg_session_destroy));
  }
  /// A session of pipeline stage `stage` only (tg_session_create_stage).
  static absl::StatusOr<Session> createStage(const Artifact &artifact, uint64_t seed, int stage) {
    tg_session *s = nullptr;
    if (absl::Status st = toStatus(tg_session_create_stage(artifact.get(), seed, stage, &s));
        !st.ok())
      return st;
    return Session(artifact, std::shared_ptr<tg_session>(s, tg_session_destroy));
  }
  /// Copies `bytes` bytes into argument buffer `name`: NotFound if no entry
  /// point has that argument, InvalidArgument unless `bytes` is its size.
  absl::Status write(const std::string &name, const void *data, size_t bytes) {
    return toStatus(tg_session_write(handle_.get(), name.c_str(), data, bytes));
  }
  /// Copies buffer `name` (a result, as the latest run that produced it left
  /// it, else an argument) into `data`; `bytes` must be its size. NotFound if
  /// there is none.
  absl::Status read(const std::string &name, void *data, size_t bytes) const {
    return toStatus(tg_session_read(handle_.get(), name.c_str(), data, bytes));
  }
  /// Size in bytes of buffer `name`; 0 when there is none (yet).
  size_t size(const std::string &name) const {
    return tg_session_buffer_size(handle_.get(), name.c_str());
  }
  /// The communicator (a tg::dist::Communicator *) of the compiled
  /// collectives; null: one rank.
  absl::Status setCommunicator(void *communicator) {
    return toStatus(tg_session_set_communicator(handle_.get(), communicator));
  }
  /// A pipeline stage's data-parallel replicas (tg_session_set_data_communicator).
  absl::Status setDataCommunicator(void *communicator) {
    return toStatus(tg_session_set_data_communicator(handle_.get(), communicator));
  }
  /// Runs entry point `entry` (train_step, eval_step, predict, ...) on the
  /// session's buffers: NotFound for an unknown entry, Internal if a kernel
  /// fails.
  absl::Status run(const std::string &entry) {
    return toStatus(tg_session_run(handle_.get(), entry.c_str()));
  }

private:
  Session(Artifact a, std::shared_ptr<tg_session> h)
      : artifact_(std::move(a)), handle_(std::move(h)) {}
  Artifact artifact_; // keeps the code loaded while the session lives
  std::shared_ptr<tg_session> handle_;
};

} // namespace rt
} // namespace tg

#endif // TG_RUNTIME_HPP
