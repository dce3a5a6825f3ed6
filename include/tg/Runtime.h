//===- Runtime.h - C++ wrapper of the runtime C API -------------*- C++ -*-===//
//
//   auto artifact = tg::rt::Artifact::open("mlp.tgx");     // absl::StatusOr
//   auto session = tg::rt::Session::create(*artifact, 42);
//   session->write("image", pixels.data(), pixels.size() * sizeof(float));
//   session->run("train_step");
//
//===----------------------------------------------------------------------===//
#ifndef TG_RUNTIME_HPP
#define TG_RUNTIME_HPP

#include "tg/tg_runtime.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include <memory>
#include <string>

namespace tg {
namespace rt {

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

class Artifact {
public:
  static absl::StatusOr<Artifact> open(const std::string &path) {
    tg_artifact *a = nullptr;
    if (absl::Status s = toStatus(tg_artifact_open(path.c_str(), &a)); !s.ok())
      return s;
    return Artifact(std::shared_ptr<tg_artifact>(a, tg_artifact_close));
  }
  std::string manifest() const { return tg_artifact_manifest(handle_.get()); }
  tg_artifact *get() const { return handle_.get(); }

private:
  explicit Artifact(std::shared_ptr<tg_artifact> h) : handle_(std::move(h)) {}
  std::shared_ptr<tg_artifact> handle_;
};

class Session {
public:
  static absl::StatusOr<Session> create(const Artifact &artifact, uint64_t seed) {
    tg_session *s = nullptr;
    if (absl::Status st = toStatus(tg_session_create(artifact.get(), seed, &s)); !st.ok())
      return st;
    return Session(artifact, std::shared_ptr<tg_session>(s, tg_session_destroy));
  }
  absl::Status write(const std::string &name, const void *data, size_t bytes) {
    return toStatus(tg_session_write(handle_.get(), name.c_str(), data, bytes));
  }
  absl::Status read(const std::string &name, void *data, size_t bytes) const {
    return toStatus(tg_session_read(handle_.get(), name.c_str(), data, bytes));
  }
  size_t size(const std::string &name) const {
    return tg_session_buffer_size(handle_.get(), name.c_str());
  }
  /// The communicator (a tg::dist::Communicator *) of the compiled
  /// collectives; null: one rank.
  absl::Status setCommunicator(void *communicator) {
    return toStatus(tg_session_set_communicator(handle_.get(), communicator));
  }
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
