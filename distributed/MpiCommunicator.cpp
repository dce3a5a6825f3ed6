//===- MpiCommunicator.cpp - collectives over MPI -------------------------===//
//
// Non-blocking collectives on a duplicate of MPI_COMM_WORLD, with errors
// returned (MPI_ERRORS_RETURN) rather than aborting the process. Open MPI
// 4.1 has no asynchronous progress, so progress() tests every pending
// request; a caller interleaves it with compute.
//
//===----------------------------------------------------------------------===//
#include "distributed/Communicator.h"
#include "distributed/Reduce.h"

#include "absl/strings/str_cat.h"

#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <climits>
#include <cstdlib>
#include <map>
#include <thread>
#include <vector>

namespace tg::dist {
namespace {

std::string mpiError(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return std::string(text, size_t(length));
}

class MpiCommunicator final : public Communicator {
public:
  MpiCommunicator(MPI_Comm comm, const CommunicatorOptions &options)
      : comm(comm), options(options) {
    MPI_Comm_rank(comm, &rank_);
    MPI_Comm_size(comm, &size_);
  }

  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized)
      return;
    for (auto &[id, p] : pending)
      if (p.request != MPI_REQUEST_NULL)
        MPI_Wait(&p.request, MPI_STATUS_IGNORE); // buffers are still ours to finish
    MPI_Comm_free(&comm);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string kind() const override { return "mpi"; }

  absl::StatusOr<Request> allreduceStart(float *data, size_t count, ReduceOp op,
                                         const std::string &what) override {
    absl::StatusOr<Pending> p = prepare(data, count, op, what);
    if (!p.ok())
      return p.status();
    int rc;
    if (options.reduction == Reduction::RankOrdered)
      rc = MPI_Iallgather(data, int(count), MPI_FLOAT, p->gathered.data(), int(count), MPI_FLOAT,
                          comm, &p->request);
    else
      rc = MPI_Iallreduce(MPI_IN_PLACE, data, int(count), MPI_FLOAT, MPI_SUM, comm, &p->request);
    if (rc != MPI_SUCCESS)
      return absl::InternalError(
          absl::StrCat("rank ", rank_, ": starting ", what, ": ", mpiError(rc)));
    int64_t id = next++;
    pending.emplace(id, std::move(*p));
    return Request{id};
  }

  absl::Status allreduce(float *data, size_t count, ReduceOp op, const std::string &what) override {
    if (options.timeoutSeconds > 0) // only the non-blocking path can give up
      return Communicator::allreduce(data, count, op, what);
    absl::StatusOr<Pending> p = prepare(data, count, op, what);
    if (!p.ok())
      return p.status();
    int rc;
    if (options.reduction == Reduction::RankOrdered)
      rc = MPI_Allgather(data, int(count), MPI_FLOAT, p->gathered.data(), int(count), MPI_FLOAT,
                         comm);
    else
      rc = MPI_Allreduce(MPI_IN_PLACE, data, int(count), MPI_FLOAT, MPI_SUM, comm);
    if (absl::Status s = check(rc, what.c_str()); !s.ok())
      return s;
    finish(*p);
    return absl::OkStatus();
  }

  void progress() override {
    for (auto &[id, p] : pending) {
      if (p.request == MPI_REQUEST_NULL)
        continue;
      int done = 0;
      MPI_Test(&p.request, &done, MPI_STATUS_IGNORE);
    }
  }

  absl::Status wait(Request request) override {
    auto it = pending.find(request.id);
    if (it == pending.end())
      return absl::InvalidArgumentError(
          absl::StrCat("rank ", rank_, ": wait on an unknown or finished request ", request.id));
    Pending &p = it->second;
    if (absl::Status s = complete(p); !s.ok())
      return s;
    finish(p);
    pending.erase(it);
    return absl::OkStatus();
  }

  absl::Status broadcast(void *data, size_t bytes, int root) override {
    if (bytes > size_t(INT_MAX))
      return absl::InvalidArgumentError(absl::StrCat("broadcast of ", bytes, " bytes: too large"));
    if (root < 0 || root >= size_)
      return absl::InvalidArgumentError(absl::StrCat("broadcast from rank ", root, " of ", size_));
    return check(MPI_Bcast(data, int(bytes), MPI_BYTE, root, comm), "broadcast");
  }

  void abort(const std::string &why) override {
    if (why.rfind("rank ", 0) == 0) // already names the rank
      std::fprintf(stderr, "tgc: %s; aborting the job\n", why.c_str());
    else
      std::fprintf(stderr, "tgc: rank %d of %d: %s; aborting the job\n", rank_, size_, why.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }

  absl::Status allgather(const void *in, size_t bytes, void *out) override {
    if (bytes > size_t(INT_MAX) / size_t(size_))
      return absl::InvalidArgumentError(absl::StrCat("allgather of ", bytes, " bytes: too large"));
    return check(MPI_Allgather(in, int(bytes), MPI_BYTE, out, int(bytes), MPI_BYTE, comm),
                 "allgather");
  }

private:
  struct Pending {
    MPI_Request request = MPI_REQUEST_NULL;
    float *data = nullptr;
    size_t count = 0;
    ReduceOp op = ReduceOp::Sum;
    std::string what;
    std::vector<float> gathered; ///< RankOrdered: every rank's contribution
  };

  /// The bookkeeping of one allreduce (and its gather buffer), or an error
  /// when it is too large for MPI's int counts.
  absl::StatusOr<Pending> prepare(float *data, size_t count, ReduceOp op,
                                  const std::string &what) const {
    if (count > size_t(INT_MAX) / size_t(size_))
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": ", count, " floats is more than one MPI collective carries; split it"));
    Pending p;
    p.data = data;
    p.count = count;
    p.op = op;
    p.what = what;
    if (options.reduction == Reduction::RankOrdered)
      p.gathered.resize(count * size_t(size_));
    return p;
  }

  absl::Status check(int rc, const char *what) {
    if (rc == MPI_SUCCESS)
      return absl::OkStatus();
    return absl::InternalError(absl::StrCat("rank ", rank_, ": ", what, ": ", mpiError(rc)));
  }

  /// Waits for the request, within the timeout when one is set.
  absl::Status complete(Pending &p) {
    if (options.timeoutSeconds <= 0)
      return check(MPI_Wait(&p.request, MPI_STATUS_IGNORE), p.what.c_str());
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(options.timeoutSeconds);
    for (;;) {
      int done = 0;
      if (absl::Status s = check(MPI_Test(&p.request, &done, MPI_STATUS_IGNORE), p.what.c_str());
          !s.ok())
        return s;
      if (done)
        return absl::OkStatus();
      if (std::chrono::steady_clock::now() > deadline)
        return absl::DeadlineExceededError(absl::StrCat(
            "rank ", rank_, " of ", size_, ": ", p.what, " did not complete within ",
            options.timeoutSeconds, " s (a rank died or hangs, or the network is down)"));
      std::this_thread::yield();
    }
  }

  /// The reduction proper: RankOrdered adds the gathered contributions in
  /// rank order (Reduce.h); a mean divides the sum by the world size.
  void finish(Pending &p) {
    if (options.reduction == Reduction::RankOrdered) {
      std::vector<const float *> parts;
      for (int r = 0; r < size_; ++r)
        parts.push_back(p.gathered.data() + size_t(r) * p.count);
      reduceInRankOrder(parts.data(), size_, p.count, p.op, p.data);
      return;
    }
    if (p.op == ReduceOp::Mean) {
      float n = float(size_);
      for (size_t i = 0; i < p.count; ++i)
        p.data[i] /= n;
    }
  }

  MPI_Comm comm;
  CommunicatorOptions options;
  int rank_ = 0, size_ = 1;
  int64_t next = 0;
  std::map<int64_t, Pending> pending;
};

} // namespace

absl::StatusOr<std::unique_ptr<Communicator>>
createMpiCommunicator(const CommunicatorOptions &options) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (finalized)
    return absl::FailedPreconditionError("MPI was already finalized in this process");
  if (!initialized) {
    // Only the calling thread makes MPI calls (the data prefetcher does not).
    int provided = 0;
    int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS)
      return absl::UnavailableError(absl::StrCat("MPI could not start: ", mpiError(rc)));
    // Finalized once at exit, so communicators can come and go.
    std::atexit([] {
      int done = 0;
      MPI_Finalized(&done);
      if (!done)
        MPI_Finalize();
    });
  }
  MPI_Comm comm;
  int rc = MPI_Comm_dup(MPI_COMM_WORLD, &comm);
  if (rc != MPI_SUCCESS)
    return absl::UnavailableError(absl::StrCat("MPI_Comm_dup: ", mpiError(rc)));
  MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
  return std::unique_ptr<Communicator>(new MpiCommunicator(comm, options));
}

} // namespace tg::dist
