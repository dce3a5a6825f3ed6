//===- tg-example.cpp - write an example model as .tg.mlir ----------------===//
#include "examples/Models.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

static void usage(std::FILE *out) {
  std::fprintf(out, "usage: tg-example MODEL [-o FILE] [--batch N]\n"
                    "Builds one of the example models with the C++ frontend and writes it as\n"
                    "tg MLIR (to stdout without -o).\n\n"
                    "MODEL: fashion-mlp | fashion-cnn | char-lstm | char-gpt\n"
                    "  -o FILE      write to FILE\n"
                    "  --batch N    batch size (default: the model's)\n"
                    "  --steps N    char-lstm, char-gpt: characters per window (default 50, 64)\n"
                    "  --vocab N    char-lstm, char-gpt: vocabulary size (default 77)\n"
                    "  --layers N   char-gpt: transformer blocks (default 2)\n"
                    "  --heads N    char-gpt: attention heads (default 4)\n"
                    "  --dim N      char-gpt: model width (default 128)\n"
                    "  --unfused-attention  char-gpt: attention as plain ops (matmul, mask,\n"
                    "               softmax, matmul) instead of one fused tg.attention\n"
                    "  --hidden N   char-lstm: units per LSTM layer (default 200);\n"
                    "               fashion-mlp: units of both hidden layers (default 256, 128)\n"
                    "  --unrolled   char-lstm: one graph step per character instead of a\n"
                    "               tg.scan (compiles in time growing with --steps)\n"
                    "  --recompute  char-lstm: the gradient recomputes each step's gates\n"
                    "               instead of saving them (less memory)\n"
                    "  --optimizer K  the optimizer kind instead of the model's (sgd, momentum,\n"
                    "               nesterov, rmsprop, adam, adamw; with --lr, else lr 0.01)\n"
                    "  --lr X       the optimizer's learning rate (default: the model's;\n"
                    "               char-lstm's RMSProp 0.1 makes 5-step comparisons between\n"
                    "               backends chaotic)\n"
                    "  -h, --help   this text\n");
}

int main(int argc, char **argv) {
  std::string model, out;
  int64_t batch = 0, steps = 0, vocab = 0, hidden = 0, layers = 0, heads = 0, dim = 0;
  double lr = 0;
  std::string optimizer;
  bool unrolled = false, recompute = false, unfusedAttention = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto number = [&](int64_t &dst) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "tg-example: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      char *end = nullptr;
      long long v = std::strtoll(argv[++i], &end, 10);
      if (*end || v <= 0) {
        std::fprintf(stderr, "tg-example: %s needs a positive integer, got '%s'\n", a.c_str(),
                     argv[i]);
        std::exit(2);
      }
      dst = v;
    };
    if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    } else if (a == "-o") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "tg-example: -o needs a file name\n");
        return 2;
      }
      out = argv[++i];
    } else if (a == "--batch") {
      number(batch);
    } else if (a == "--steps") {
      number(steps);
    } else if (a == "--vocab") {
      number(vocab);
    } else if (a == "--layers") {
      number(layers);
    } else if (a == "--heads") {
      number(heads);
    } else if (a == "--dim") {
      number(dim);
    } else if (a == "--hidden") {
      number(hidden);
    } else if (a == "--lr") {
      char *end = nullptr;
      lr = i + 1 < argc ? std::strtod(argv[++i], &end) : 0;
      if (!end || *end || !(lr > 0)) {
        std::fprintf(stderr, "tg-example: --lr needs a positive number\n");
        return 2;
      }
    } else if (a == "--optimizer") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "tg-example: --optimizer needs a kind\n");
        return 2;
      }
      optimizer = argv[++i];
    } else if (a == "--unrolled") {
      unrolled = true;
    } else if (a == "--recompute") {
      recompute = true;
    } else if (a == "--unfused-attention") {
      unfusedAttention = true;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "tg-example: unknown option '%s' (see --help)\n", a.c_str());
      return 2;
    } else if (model.empty()) {
      model = a;
    } else {
      std::fprintf(stderr, "tg-example: unexpected argument '%s'\n", a.c_str());
      return 2;
    }
  }
  if (model.empty()) {
    usage(stderr);
    return 2;
  }
  std::string fnName = model;
  for (char &c : fnName)
    if (c == '-')
      c = '_';
  // The model's optimizer, or another kind, at the given learning rate; an
  // unknown kind is reported by Graph::minimize (below, through save).
  auto configure = [&](tg::optim::Optimizer &o) {
    if (!optimizer.empty())
      o = tg::optim::Optimizer(optimizer, lr > 0 ? lr : 0.01);
    else if (lr > 0)
      o.set("lr", lr);
  };
  // A flag given (non-zero) overrides the model's default.
  auto given = [](int64_t &field, int64_t flag) {
    if (flag)
      field = flag;
  };
  tg::Graph g(fnName);
  if (model == "fashion-mlp") {
    tg::examples::MlpConfig c;
    configure(c.optimizer);
    given(c.batch, batch);
    if (hidden)
      c.hidden = {hidden, hidden};
    tg::examples::buildFashionMlp(g, c);
  } else if (model == "fashion-cnn") {
    tg::examples::CnnConfig c;
    configure(c.optimizer);
    given(c.batch, batch);
    tg::examples::buildFashionCnn(g, c);
  } else if (model == "char-lstm") {
    tg::examples::CharLstmConfig c;
    configure(c.optimizer);
    given(c.batch, batch);
    given(c.steps, steps);
    given(c.vocab, vocab);
    given(c.hidden, hidden);
    c.unrolled = unrolled;
    c.recompute = recompute;
    tg::examples::buildCharLstm(g, c);
  } else if (model == "char-gpt") {
    tg::examples::CharGptConfig c;
    configure(c.optimizer);
    given(c.batch, batch);
    given(c.steps, steps);
    given(c.vocab, vocab);
    given(c.dim, dim);
    given(c.heads, heads);
    given(c.layers, layers);
    c.fusedAttention = !unfusedAttention;
    tg::examples::buildCharGpt(g, c);
  } else {
    std::fprintf(stderr,
                 "tg-example: unknown model '%s' (fashion-mlp, fashion-cnn, char-lstm, char-gpt)\n",
                 model.c_str());
    return 2;
  }
  if (out.empty()) {
    auto text = g.toMlir();
    if (!text.ok()) {
      std::fprintf(stderr, "tg-example: %s\n", std::string(text.status().message()).c_str());
      return 1;
    }
    std::cout << *text;
    return 0;
  }
  if (absl::Status s = g.save(out); !s.ok()) {
    std::fprintf(stderr, "tg-example: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
