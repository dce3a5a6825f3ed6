//===- InterpretOptions.h - options of the reference interpreter -*- C++ -*-===//
/// \file
/// InterpretOptions: how the reference interpreter (tg/Interpreter.h)
/// rounds the values it computes.

#ifndef TG_INTERPRETOPTIONS_H
#define TG_INTERPRETOPTIONS_H

#include "tg/Tensor.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace tg {

/// How an interpreted pipeline stage (tgc compile --pipeline-stages) reaches
/// the others: tg.send_start hands a copy of its tensor over, tg.recv_wait
/// blocks until the peer's tensor with the same tag arrives. `peer` is
/// relative to this stage (+1: the next stage).
class PipelineLink {
public:
  virtual ~PipelineLink() = default;
  /// This link's stage.
  virtual int stage() const = 0;
  /// Hands a copy of `value` to stage stage() + `peer` under `tag`.
  virtual absl::Status send(int64_t peer, int64_t tag, const Tensor &value) = 0;
  /// The tensor stage stage() + `peer` sent under `tag` (waits for it).
  virtual absl::StatusOr<Tensor> recv(int64_t peer, int64_t tag) = 0;
};

/// `stages` links joined in one process (element k is stage k's), to run
/// one interpreter per stage on its own thread. Sends never block, so any
/// schedule tg-pipeline-split generates completes.
std::vector<std::unique_ptr<PipelineLink>> createLocalPipeline(int stages);

/// Options of tg::interpret, tg::interpretNamed and tg::interpretStep.
struct InterpretOptions {
  /// Keep every intermediate in double precision instead of rounding to the
  /// op's element type (for finite-difference gradient checks). Graph
  /// constants keep the precision of their attribute (an f32 constant stays
  /// the f32 value).
  bool float64 = false;
  /// The pipeline a stage's step (tg.send_start, tg.recv_wait) talks to;
  /// null: such ops are an error.
  PipelineLink *pipeline = nullptr;
};

} // namespace tg

#endif // TG_INTERPRETOPTIONS_H
