//===- Session.cpp - the artifact side of training ------------------------===//
//
// Which entry points and buffers the training loop uses, read from the typed
// manifest: train_step's metrics and in-place buffers, what a checkpoint
// holds, the recurrent state reset at epoch starts, and the session itself.
//
//===----------------------------------------------------------------------===//
#include "train/Internal.h"

#include <set>

namespace tg {
namespace trainer {

StepEntry stepEntry(const Manifest &manifest, std::string_view name) {
  StepEntry e;
  e.spec = manifest.findEntry(name);
  if (!e.spec)
    return e;
  for (const BufferSpec &r : e.spec->results) {
    if (r.alias >= 0)
      e.aliased.push_back(e.spec->bufferOf(r));
    else if (r.dtype == DType::f32 && r.shape.empty())
      e.metrics.push_back(r.name);
  }
  return e;
}

data::ArgSpec argSpec(const BufferSpec &arg) {
  return {arg.name, std::string(dtypeName(arg.dtype)), arg.shape, arg.classes};
}

absl::StatusOr<rt::Session> createSession(const rt::Artifact &artifact, const TrainOptions &o,
                                          const EntrySpec &step, int stage) {
  auto session = stage >= 0 ? rt::Session::createStage(artifact, o.seed, stage)
                            : rt::Session::create(artifact, o.seed);
  if (!session.ok() || !o.lr)
    return session;
  const BufferSpec *lr = step.findArg("lr");
  if (!lr || lr->role != Role::Hyper || lr->dtype != DType::f32 || !lr->shape.empty())
    return absl::InvalidArgumentError("--lr: train_step has no f32 hyper argument 'lr'");
  float value = float(*o.lr);
  if (absl::Status s = session->write("lr", &value, sizeof value); !s.ok())
    return s;
  return session;
}

std::vector<const BufferSpec *> checkpointedArgs(const EntrySpec &step) {
  std::vector<const BufferSpec *> saved;
  for (const BufferSpec &a : step.args)
    if (isPersistent(a.role))
      saved.push_back(&a);
  return saved;
}

// Model state (recurrent h/c) is the state that predict also updates, unlike
// optimizer slots, the step counter and statistics that only training moves
// (BatchNorm's, tg.train_only: not predict's results). Text streams restart
// it at each epoch, as Keras' reset_states: carried across epochs, it can grow
// into a regime that a model run from a fresh state (sampling) never reaches.
bool hasRecurrentState(const Manifest &manifest) {
  const EntrySpec *predict = manifest.findEntry("predict");
  if (!predict)
    return false;
  for (const BufferSpec &r : predict->results)
    if (r.alias >= 0 && size_t(r.alias) < predict->args.size() &&
        predict->args[size_t(r.alias)].role == Role::State)
      return true;
  return false;
}

std::vector<const BufferSpec *> modelStateArgs(const Manifest &manifest, const TrainOptions &o,
                                               const data::Dataset &ds) {
  std::vector<const BufferSpec *> state;
  bool reset = o.resetState == TrainOptions::ResetState::Epoch ||
               (o.resetState == TrainOptions::ResetState::Auto && !ds.shuffles());
  const EntrySpec *predict = manifest.findEntry("predict");
  if (!reset || !predict)
    return state;
  std::set<int> updated;
  for (const BufferSpec &r : predict->results)
    if (r.alias >= 0)
      updated.insert(r.alias);
  for (size_t i = 0; i < predict->args.size(); ++i)
    if (predict->args[i].role == Role::State && updated.count(int(i)))
      state.push_back(&predict->args[i]);
  return state;
}

absl::Status zeroBuffers(rt::Session &session, const std::vector<const BufferSpec *> &args) {
  for (const BufferSpec *a : args) {
    std::vector<uint8_t> zeros(session.size(a->name));
    if (absl::Status s = session.write(a->name, zeros.data(), zeros.size()); !s.ok())
      return s;
  }
  return absl::OkStatus();
}

} // namespace trainer
} // namespace tg
