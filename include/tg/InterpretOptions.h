//===- InterpretOptions.h - options of the reference interpreter -*- C++ -*-===//
/// \file
/// InterpretOptions: how the reference interpreter (tg/Interpreter.h)
/// rounds the values it computes.

#ifndef TG_INTERPRETOPTIONS_H
#define TG_INTERPRETOPTIONS_H

namespace tg {

/// Options of tg::interpret, tg::interpretNamed and tg::interpretStep.
struct InterpretOptions {
  /// Keep every intermediate in double precision instead of rounding to the
  /// op's element type (for finite-difference gradient checks). Graph
  /// constants keep the precision of their attribute (an f32 constant stays
  /// the f32 value).
  bool float64 = false;
};

} // namespace tg

#endif // TG_INTERPRETOPTIONS_H
