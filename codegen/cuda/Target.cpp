//===- Target.cpp - CUDA archs, ptxas and fatbinary -----------------------===//
#include "codegen/cuda/Target.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace tg {
namespace {

/// Archs both sides handle: MLIR writes PTX up to sm_90, and CUDA 13's ptxas
/// compiles PTX to SASS from sm_75 up (Blackwell included).
constexpr int kKnownArchs[] = {75, 80, 86, 87, 89, 90, 100, 103, 110, 120, 121};
constexpr int kDefaultArchs[] = {80, 90};
constexpr int kNewestPtxChip = 90; // LLVM 19's NVPTX

/// A temporary file removed when this goes out of scope.
struct TempFile {
  llvm::SmallString<128> path;
  explicit TempFile(llvm::StringRef suffix) {
    llvm::sys::fs::createTemporaryFile("tg-cuda", suffix, path);
  }
  ~TempFile() { llvm::sys::fs::remove(path); }
};

absl::StatusOr<std::string> readFile(llvm::StringRef path) {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buf)
    return absl::InternalError(absl::StrCat("cannot read '", path.str(), "'"));
  return (*buf)->getBuffer().str();
}

/// Runs `argv`; its stdout and stderr together in `log`.
int run(llvm::ArrayRef<llvm::StringRef> argv, std::string &log) {
  TempFile out("log");
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef(out.path),
                                                llvm::StringRef(out.path)};
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(argv[0], argv, std::nullopt, redirects, 0, 0, &error);
  log = readFile(out.path).value_or("");
  if (!error.empty())
    log += error;
  return rc;
}

/// ptxas -v lines for one kernel: "Compiling entry function 'K' for 'sm_80'"
/// then "N bytes stack frame, N bytes spill stores, N bytes spill loads" and
/// "Used N registers, ... N bytes smem".
void parseResources(llvm::StringRef log, const std::string &arch,
                    std::map<std::string, std::map<std::string, KernelResources>> &out) {
  llvm::Regex entry("Compiling entry function '([^']+)'");
  llvm::Regex frame("([0-9]+) bytes stack frame, ([0-9]+) bytes spill stores, ([0-9]+) bytes "
                    "spill loads");
  llvm::Regex used("Used ([0-9]+) registers");
  llvm::Regex smem("([0-9]+) bytes smem");
  std::string current;
  llvm::SmallVector<llvm::StringRef> lines, m;
  log.split(lines, '\n');
  for (llvm::StringRef line : lines) {
    if (entry.match(line, &m)) {
      current = m[1].str();
      out[current][arch] = KernelResources();
      continue;
    }
    if (current.empty())
      continue;
    KernelResources &r = out[current][arch];
    if (frame.match(line, &m)) {
      r.stackBytes = std::atoll(m[1].str().c_str());
      r.spillBytes = std::atoll(m[2].str().c_str()) + std::atoll(m[3].str().c_str());
    }
    if (used.match(line, &m))
      r.registers = std::atoll(m[1].str().c_str());
    if (smem.match(line, &m))
      r.sharedBytes = std::atoll(m[1].str().c_str());
  }
}

std::string knownArchList() {
  std::vector<std::string> names;
  for (int a : kKnownArchs)
    names.push_back(absl::StrCat("sm_", a));
  return absl::StrJoin(names, ", ");
}

} // namespace

absl::StatusOr<std::vector<std::string>> parseCudaArchs(const std::string &archList) {
  std::vector<int> archs;
  if (archList.empty()) {
    archs.assign(std::begin(kDefaultArchs), std::end(kDefaultArchs));
  } else {
    llvm::SmallVector<llvm::StringRef> parts;
    llvm::StringRef(archList).split(parts, ',');
    for (llvm::StringRef p : parts) {
      p = p.trim();
      llvm::StringRef number = p;
      int n = 0;
      if (!number.consume_front("sm_") || number.getAsInteger(10, n) ||
          std::find(std::begin(kKnownArchs), std::end(kKnownArchs), n) == std::end(kKnownArchs))
        return absl::InvalidArgumentError(
            absl::StrCat("unknown --cuda-arch '", p.str(), "' (known: ", knownArchList(), ")"));
      if (std::find(archs.begin(), archs.end(), n) == archs.end())
        archs.push_back(n);
    }
  }
  std::sort(archs.begin(), archs.end());
  std::vector<std::string> out;
  for (int a : archs)
    out.push_back(absl::StrCat("sm_", a));
  return out;
}

absl::StatusOr<CudaTarget> selectCudaTarget(const std::string &archList,
                                            const std::string &toolkit) {
  CudaTarget t;
  auto archs = parseCudaArchs(archList);
  if (!archs.ok())
    return archs.status();
  t.archs = *archs;
  int oldest = std::atoi(t.archs.front().c_str() + 3);
  t.ptxChip = absl::StrCat("sm_", std::min(oldest, kNewestPtxChip));

  std::vector<std::string> candidates;
  if (!toolkit.empty()) {
    candidates.push_back(toolkit);
  } else {
    for (const char *env : {"CUDA_HOME", "CUDA_PATH"})
      if (const char *v = std::getenv(env); v && *v)
        candidates.push_back(v);
    candidates.push_back("/usr/local/cuda");
  }
  std::string tried;
  for (const std::string &dir : candidates) {
    llvm::SmallString<128> ptxas(dir), fatbinary(dir), libdevice(dir);
    llvm::sys::path::append(ptxas, "bin", "ptxas");
    llvm::sys::path::append(fatbinary, "bin", "fatbinary");
    llvm::sys::path::append(libdevice, "nvvm", "libdevice", "libdevice.10.bc");
    std::string missing;
    for (const auto &f : {ptxas, fatbinary, libdevice})
      if (!llvm::sys::fs::exists(f))
        missing += (missing.empty() ? "" : ", ") + f.str().str();
    if (!missing.empty()) {
      tried += absl::StrCat("\n  ", dir, ": missing ", missing);
      continue;
    }
    t.toolkit = dir;
    std::string log;
    if (run({ptxas, "--version"}, log) == 0) {
      llvm::Regex release("release ([0-9]+\\.[0-9]+)");
      llvm::SmallVector<llvm::StringRef> m;
      if (release.match(log, &m))
        t.toolkitVersion = m[1].str();
    }
    return t;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "no CUDA toolkit found for --target=cuda (set --cuda-toolkit=DIR or CUDA_HOME; the "
      "toolkit needs bin/ptxas, bin/fatbinary and nvvm/libdevice):",
      tried));
}

absl::StatusOr<Fatbin> buildFatbin(const std::string &ptx, const CudaTarget &target) {
  Fatbin fb;
  llvm::SmallString<128> ptxas(target.toolkit), fatbinary(target.toolkit);
  llvm::sys::path::append(ptxas, "bin", "ptxas");
  llvm::sys::path::append(fatbinary, "bin", "fatbinary");
  TempFile ptxFile("ptx");
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(ptxFile.path, ec);
    if (ec)
      return absl::InternalError(
          absl::StrCat("cannot write '", ptxFile.path.str().str(), "': ", ec.message()));
    os << ptx;
  }
  std::vector<std::unique_ptr<TempFile>> cubins;
  std::vector<std::string> images;
  for (const std::string &arch : target.archs) {
    cubins.push_back(std::make_unique<TempFile>("cubin"));
    std::string archFlag = "-arch=" + arch, log;
    int rc = run(
        {ptxas, archFlag, "-O3", "-v", "--warn-on-spills", ptxFile.path, "-o", cubins.back()->path},
        log);
    if (rc != 0)
      return absl::InternalError(absl::StrCat("ptxas failed for ", arch, ":\n", log));
    parseResources(log, arch, fb.resources);
    llvm::SmallVector<llvm::StringRef> lines;
    llvm::StringRef(log).split(lines, '\n');
    for (llvm::StringRef l : lines)
      if (l.contains("warning"))
        fb.warnings.push_back(absl::StrCat(arch, ": ", l.trim().str()));
    images.push_back(absl::StrCat("--image3=kind=elf,sm=", arch.substr(3),
                                  ",file=", cubins.back()->path.str().str()));
  }
  images.push_back(absl::StrCat("--image3=kind=ptx,sm=", target.ptxChip.substr(3),
                                ",file=", ptxFile.path.str().str()));
  TempFile out("fatbin");
  std::string create = absl::StrCat("--create=", out.path.str().str()), log;
  std::vector<llvm::StringRef> argv = {fatbinary, "-64", create};
  for (const std::string &i : images)
    argv.push_back(i);
  if (run(argv, log) != 0)
    return absl::InternalError(absl::StrCat("fatbinary failed:\n", log));
  auto bytes = readFile(out.path);
  if (!bytes.ok())
    return bytes.status();
  fb.bytes = std::move(*bytes);
  return fb;
}

absl::StatusOr<std::vector<FatbinImage>> listFatbin(const std::string &data) {
  auto bad = [](const std::string &why, uint64_t offset) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid fatbin: ", why, " at byte ", offset));
  };
  auto u16 = [&](uint64_t o) {
    uint16_t v;
    std::memcpy(&v, data.data() + o, 2);
    return v;
  };
  auto u32 = [&](uint64_t o) {
    uint32_t v;
    std::memcpy(&v, data.data() + o, 4);
    return v;
  };
  auto u64 = [&](uint64_t o) {
    uint64_t v;
    std::memcpy(&v, data.data() + o, 8);
    return v;
  };
  if (data.size() < 16 || u32(0) != 0xBA55ED50u)
    return bad("no fatbin magic", 0);
  uint64_t header = u16(6), size = u64(8);
  if (header < 16 || header > data.size() || size > data.size() - header)
    return bad("header or size out of range", 6);
  std::vector<FatbinImage> out;
  for (uint64_t o = header; o < header + size;) {
    if (header + size - o < 32)
      return bad("truncated image header", o);
    uint16_t kind = u16(o);
    uint64_t entryHeader = u32(o + 4), bytes = u64(o + 8);
    uint32_t arch = u32(o + 28);
    if (entryHeader < 32 || entryHeader > header + size - o ||
        bytes > header + size - o - entryHeader)
      return bad("image out of range", o);
    FatbinImage img;
    img.kind = kind == 1 ? "ptx" : kind == 2 ? "sass" : absl::StrCat("kind", kind);
    img.arch = absl::StrCat("sm_", arch);
    img.bytes = bytes;
    out.push_back(img);
    o += entryHeader + bytes;
  }
  return out;
}

} // namespace tg
