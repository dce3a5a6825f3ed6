//===- tgc-main.cpp - the tgc executable -----------------------------------===//
#include "tools/Commands.h"

int main(int argc, char **argv) { return tg::tools::tgcMain(argc, argv); }
