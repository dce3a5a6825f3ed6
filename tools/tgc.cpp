//===- tgc.cpp - the tgc command line: compile, run, train, inspect -------===//
//
// The top-level usage and the dispatch; each subcommand lives in its own file
// (tools/Commands.h). main is in tgc-main.cpp, so the fuzz harness links the
// same command line (tests/fuzz, target cli).
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include <cstdio>
#include <string>

namespace {

using tg::tools::error;
using tg::tools::takeMissingValue;

const char *kUsage = R"(usage: tgc <command> [options]

Compiles tg dataflow graphs ahead of time and runs the artifacts.

commands:
  compile MODEL.tg.mlir   compile a model (with its training step) into a .tgx artifact
  run MODEL.tgx           run an entry point of an artifact on .npy inputs
  train MODEL.tgx         train an artifact on data files, with checkpoints and metrics
  sample MODEL.tgx CK     write text from a character model and a checkpoint of it
  inspect MODEL.tgx       print an artifact's manifest
  export MODEL.tgx        write its params (initial or trained) as safetensors or .npy
  data pack|inspect|verify  pack a data set into shards read one at a time; check it
  plot METRICS.jsonl      draw training curves (SVG or PNG)
  viz MODEL.tg.mlir       draw a model's graph (Graphviz)

'tgc <command> --help' describes each command.
)";

} // namespace

int tg::tools::tgcMain(int argc, char **argv) {
  (void)takeMissingValue(); // a previous command on this thread may have left one
  if (argc < 2 || std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help") {
    std::printf("%s", kUsage);
    return argc < 2 ? 1 : 0;
  }
  std::string command = argv[1];
  if (command == "compile")
    return tg::tools::compileCommand(argc, argv);
  if (command == "run")
    return tg::tools::runCommand(argc, argv);
  if (command == "inspect")
    return tg::tools::inspectCommand(argc, argv);
  if (command == "train")
    return tg::tools::trainCommand(argc, argv);
  if (command == "plot")
    return tg::tools::plotCommand(argc, argv);
  if (command == "viz")
    return tg::tools::vizCommand(argc, argv);
  if (command == "export")
    return tg::tools::exportCommand(argc, argv);
  if (command == "data")
    return tg::tools::dataCommand(argc, argv);
  if (command == "sample")
    return tg::tools::sampleCommand(argc, argv);
  return error("unknown command '" + command +
               "' (compile, run, train, sample, inspect, export, data, plot, viz; see tgc --help)");
}
