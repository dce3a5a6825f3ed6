//===- CheckpointTest.cpp - safetensors files, atomic writes, pruning -----===//
#include "tg/Checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using ::testing::HasSubstr;

namespace {

std::string temp(const std::string &name) { return ::testing::TempDir() + "/" + name; }

std::string slurp(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

tg::Checkpoint sample() {
  tg::Checkpoint c;
  float w[6] = {1, -2, 3.5f, 0, 1e-30f, -0.0f};
  tg::NamedTensor a{"fc1.kernel", "f32", {2, 3}, {}};
  a.bytes.assign(reinterpret_cast<uint8_t *>(w), reinterpret_cast<uint8_t *>(w) + 24);
  int64_t step = 1234;
  tg::NamedTensor b{"step", "i64", {}, {}};
  b.bytes.assign(reinterpret_cast<uint8_t *>(&step), reinterpret_cast<uint8_t *>(&step) + 8);
  c.tensors = {a, b};
  c.metadata = {{"format", "tgc-checkpoint/1"}, {"step", "1234"}};
  return c;
}

std::string errorOfBytes(const std::string &bytes) {
  auto r = tg::decodeSafetensors(bytes, "x.safetensors");
  return r.ok() ? "" : std::string(r.status().message());
}

TEST(Checkpoint, SafetensorsLayout) {
  auto bytes = tg::encodeSafetensors(sample());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  uint64_t len;
  std::memcpy(&len, bytes->data(), 8); // little-endian u64 header length
  EXPECT_EQ(len % 8, 0u);              // data 8-byte aligned
  std::string header = bytes->substr(8, len);
  EXPECT_THAT(header,
              HasSubstr(R"("fc1.kernel":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]})"));
  EXPECT_THAT(header, HasSubstr(R"("step":{"dtype":"I64","shape":[],"data_offsets":[24,32]})"));
  EXPECT_THAT(header, HasSubstr(R"("__metadata__":{"format":"tgc-checkpoint/1","step":"1234"})"));
  EXPECT_EQ(bytes->size(), 8 + len + 32);
  float first;
  std::memcpy(&first, bytes->data() + 8 + len + 8, 4);
  EXPECT_EQ(first, 3.5f);
}

TEST(Checkpoint, RoundTripIsBitExact) {
  tg::Checkpoint c = sample();
  ASSERT_TRUE(tg::writeSafetensors(temp("rt.safetensors"), c).ok());
  auto back = tg::readSafetensors(temp("rt.safetensors"));
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->tensors.size(), 2u);
  for (const tg::NamedTensor &t : c.tensors) {
    const tg::NamedTensor *u = back->find(t.name);
    ASSERT_NE(u, nullptr) << t.name;
    EXPECT_EQ(u->dtype, t.dtype);
    EXPECT_EQ(u->shape, t.shape);
    EXPECT_EQ(u->bytes, t.bytes); // -0.0 and denormals survive
  }
  EXPECT_EQ(back->metadata, c.metadata);
}

TEST(Checkpoint, CorruptFilesAreClearErrors) {
  std::string good = *tg::encodeSafetensors(sample());
  uint64_t len;
  std::memcpy(&len, good.data(), 8);
  EXPECT_THAT(errorOfBytes(good.substr(0, 5)), HasSubstr("less than the 8-byte header length"));
  std::string huge = good;
  huge[7] = 0x7f;
  EXPECT_THAT(errorOfBytes(huge), HasSubstr("runs past the end of the file"));
  EXPECT_THAT(errorOfBytes(good.substr(0, good.size() - 4)),
              HasSubstr("tensor 'step' has data_offsets [24, 32] outside the 28 data bytes"));
  std::string json = good;
  json[8] = '[';
  EXPECT_THAT(errorOfBytes(json), HasSubstr("is not a JSON object"));
  auto withHeader = [&](const std::string &h) {
    std::string padded = h + std::string((8 - h.size() % 8) % 8, ' ');
    std::string out(8, '\0');
    uint64_t n = padded.size();
    std::memcpy(out.data(), &n, 8);
    return out + padded + std::string(32, '\0');
  };
  EXPECT_THAT(errorOfBytes(withHeader(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})")),
              HasSubstr("tensor 'a' spans 8 bytes but F32 [3] needs 12"));
  EXPECT_THAT(errorOfBytes(withHeader(R"({"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})")),
              HasSubstr("unsupported dtype \"Q7\""));
  EXPECT_THAT(
      errorOfBytes(withHeader(
          R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})")),
      HasSubstr("tensors 'a' and 'b' overlap"));
  EXPECT_THAT(
      errorOfBytes(withHeader(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})")),
      HasSubstr("bad dimension -2"));
  EXPECT_THAT(errorOfBytes(withHeader(R"({"a":{"dtype":"F32"}})")),
              HasSubstr("needs dtype, shape and data_offsets"));
  EXPECT_THAT(errorOfBytes(withHeader(R"({"__metadata__":{"step":3}})")),
              HasSubstr("metadata 'step' is not a string"));
}

TEST(Checkpoint, FailedWriteKeepsThePreviousFile) {
  std::string path = temp("keep.safetensors");
  ASSERT_TRUE(tg::writeSafetensors(path, sample()).ok());
  std::string before = slurp(path);
  // A full disk, simulated with a file-size limit in a child process.
  pid_t pid = fork();
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit lim{4096, 4096};
    setrlimit(RLIMIT_FSIZE, &lim);
    absl::Status s = tg::writeFileAtomically(path, std::string(1 << 20, 'x'));
    _exit(!s.ok() && std::string(s.message()).find("earlier checkpoints are untouched") !=
                         std::string::npos
              ? 0
              : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the failed write did not report the error";
  EXPECT_EQ(slurp(path), before);
  // No temp file is left behind (the child's would be .keep.safetensors.tmp-<pid>).
  EXPECT_EQ(access((::testing::TempDir() + "/.keep.safetensors.tmp-" + std::to_string(pid)).c_str(),
                   F_OK),
            -1);
  // A directory that cannot be created: an error, nothing written.
  auto s = tg::writeSafetensors(path + "/sub/x.safetensors", sample());
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("cannot write checkpoint"));
}

TEST(Checkpoint, ListAndPrune) {
  std::string dir = temp("ckdir");
  mkdir(dir.c_str(), 0755);
  for (int64_t step : {5, 100, 20, 1000})
    ASSERT_TRUE(tg::writeSafetensors(tg::checkpointPath(dir, step), sample()).ok());
  std::ofstream(dir + "/.ckpt-0000002000.safetensors.tmp-999999") << "partial";
  std::ofstream(dir + "/notes.txt") << "not a checkpoint";
  auto all = tg::listCheckpoints(dir);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all.back(), dir + "/ckpt-0000001000.safetensors"); // numeric order
  EXPECT_EQ(all.front(), dir + "/ckpt-0000000005.safetensors");
  tg::pruneCheckpoints(dir, 2);
  all = tg::listCheckpoints(dir);
  EXPECT_EQ(all, (std::vector<std::string>{dir + "/ckpt-0000000100.safetensors",
                                           dir + "/ckpt-0000001000.safetensors"}));
  EXPECT_NE(access((dir + "/notes.txt").c_str(), F_OK), -1);
  EXPECT_EQ(access((dir + "/.ckpt-0000002000.safetensors.tmp-999999").c_str(), F_OK), -1);
}

} // namespace
