//===- PipelineLink.cpp - interpreted pipeline stages in one process ------===//
//
// The interpreter's meaning of tg.send_start / tg.recv_wait: mailboxes keyed
// by (sender stage, receiver stage, tag). A send copies its tensor in and
// returns; a receive waits for it. A receive that waits past a deadline is an
// error naming the transfer, so a wrong schedule fails instead of hanging.
//
//===----------------------------------------------------------------------===//
#include "tg/InterpretOptions.h"

#include "absl/strings/str_cat.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <tuple>

namespace tg {
namespace {

struct Mailboxes {
  int stages = 0;
  std::mutex mu;
  std::condition_variable arrived;
  std::map<std::tuple<int, int, int64_t>, std::deque<Tensor>> boxes;
};

class LocalLink final : public PipelineLink {
public:
  LocalLink(std::shared_ptr<Mailboxes> boxes, int stage)
      : boxes_(std::move(boxes)), stage_(stage) {}
  int stage() const override { return stage_; }

  absl::Status send(int64_t peer, int64_t tag, const Tensor &value) override {
    int to = 0;
    if (absl::Status s = target(peer, "send to", to); !s.ok())
      return s;
    std::lock_guard<std::mutex> lock(boxes_->mu);
    boxes_->boxes[{stage_, to, tag}].push_back(value);
    boxes_->arrived.notify_all();
    return absl::OkStatus();
  }

  absl::StatusOr<Tensor> recv(int64_t peer, int64_t tag) override {
    int from = 0;
    if (absl::Status s = target(peer, "receive from", from); !s.ok())
      return s;
    std::unique_lock<std::mutex> lock(boxes_->mu);
    auto &box = boxes_->boxes[{from, stage_, tag}];
    if (!boxes_->arrived.wait_for(lock, std::chrono::seconds(120), [&] { return !box.empty(); }))
      return absl::DeadlineExceededError(
          absl::StrCat("stage ", stage_, ": nothing from stage ", from, " with tag ", tag,
                       " after 120 s (the stages' schedules do not match)"));
    Tensor t = std::move(box.front());
    box.pop_front();
    return t;
  }

private:
  absl::Status target(int64_t peer, const char *what, int &stage) const {
    int64_t s = stage_ + peer;
    if (peer == 0 || s < 0 || s >= boxes_->stages)
      return absl::InvalidArgumentError(absl::StrCat("stage ", stage_, " cannot ", what,
                                                     " stage ", s, " (a pipeline of ",
                                                     boxes_->stages, " stages)"));
    stage = int(s);
    return absl::OkStatus();
  }

  std::shared_ptr<Mailboxes> boxes_;
  int stage_;
};

} // namespace

std::vector<std::unique_ptr<PipelineLink>> createLocalPipeline(int stages) {
  auto boxes = std::make_shared<Mailboxes>();
  boxes->stages = stages;
  std::vector<std::unique_ptr<PipelineLink>> links;
  for (int k = 0; k < stages; ++k)
    links.push_back(std::make_unique<LocalLink>(boxes, k));
  return links;
}

} // namespace tg
