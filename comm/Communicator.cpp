//===- Communicator.cpp - the interface's shared parts and one rank -------===//
#include "comm/Communicator.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <cstdlib>
#include <cstring>
#include <set>
#include <vector>

namespace tg::dist {

absl::Status Communicator::checkSame(const std::string &what, uint64_t value, bool hex) {
  std::vector<uint64_t> all(static_cast<size_t>(size()));
  if (absl::Status s = allgather(&value, sizeof value, all.data()); !s.ok())
    return s;
  bool same = true;
  for (uint64_t v : all)
    same = same && v == all[0];
  if (same)
    return absl::OkStatus();
  std::vector<std::string> parts;
  for (size_t r = 0; r < all.size(); ++r)
    parts.push_back(absl::StrCat("rank ", r, ": ",
                                 hex ? absl::StrCat(absl::Hex(all[r], absl::kZeroPad16))
                                     : absl::StrCat(all[r])));
  return absl::FailedPreconditionError(
      absl::StrCat(what, " differs across ranks (", absl::StrJoin(parts, ", "), ")"));
}

namespace {

/// One rank: every collective is the identity (a mean over one rank divides
/// by 1, which is exact).
class SingleProcessCommunicator final : public Communicator {
public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string kind() const override { return "single-process"; }
  absl::StatusOr<Request> allreduceStart(float *, size_t, ReduceOp, const std::string &) override {
    outstanding.insert(next);
    return Request{next++};
  }
  void progress() override {}
  absl::Status wait(Request request) override {
    if (!outstanding.erase(request.id))
      return absl::InvalidArgumentError(
          absl::StrCat("rank 0: wait on an unknown or finished request ", request.id));
    return absl::OkStatus();
  }
  absl::Status broadcast(void *, size_t, int root) override {
    if (root != 0)
      return absl::InvalidArgumentError(absl::StrCat("broadcast from rank ", root, " of 1"));
    return absl::OkStatus();
  }
  void abort(const std::string &) override {}
  absl::Status allgather(const void *in, size_t bytes, void *out) override {
    if (bytes)
      std::memmove(out, in, bytes);
    return absl::OkStatus();
  }
  absl::Status reduceScatter(const float *in, size_t shard, float *out, ReduceOp,
                             const std::string &) override {
    if (shard)
      std::memmove(out, in, shard * sizeof(float));
    return absl::OkStatus();
  }

private:
  int64_t next = 0;
  std::set<int64_t> outstanding;
};

} // namespace

std::unique_ptr<Communicator> createSingleProcessCommunicator() {
  return std::make_unique<SingleProcessCommunicator>();
}

bool launchedByMpiLauncher() {
  for (const char *var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(var))
      return true;
  return false;
}

absl::StatusOr<std::unique_ptr<Communicator>>
createCommunicator(const CommunicatorOptions &options) {
  if (launchedByMpiLauncher())
    return createMpiCommunicator(options);
  return createSingleProcessCommunicator();
}

} // namespace tg::dist
