//===- StandaloneMain.cpp - replay fuzz inputs without libFuzzer ----------===//
//
// tg-fuzz-replay-TARGET FILE|DIR...: runs the target on every file, as
// libFuzzer would, so the committed corpus and crash inputs are regression
// tests of every build (tests/fuzz/CMakeLists.txt adds them to ctest).
//
//===----------------------------------------------------------------------===//
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

void collect(const std::string &path, std::vector<std::string> &files) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0)
    return;
  if (!S_ISDIR(st.st_mode)) {
    files.push_back(path);
    return;
  }
  DIR *d = opendir(path.c_str());
  if (!d)
    return;
  while (dirent *e = readdir(d))
    if (e->d_name[0] != '.')
      collect(path + "/" + e->d_name, files);
  closedir(d);
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i)
    collect(argv[i], files);
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s FILE|DIR... (no input files found)\n", argv[0]);
    return 1;
  }
  // Read them all first: a target may change the working directory (cli).
  std::vector<std::string> inputs;
  for (const std::string &f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "%s: cannot read '%s'\n", argv[0], f.c_str());
      return 1;
    }
    std::ostringstream os;
    os << in.rdbuf();
    inputs.push_back(os.str());
  }
  for (const std::string &bytes : inputs) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
  }
  std::printf("%s: %zu inputs, no crash\n", argv[0], files.size());
  return 0;
}
