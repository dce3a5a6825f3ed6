//===- Memory.cpp - the allocator behind compiled code's temporaries ------===//
//
// Compiled code allocates its intermediate buffers through MLIR's generic
// allocation functions. Here they are a caching allocator: a freed block goes
// to a free list keyed by its size and the next step of the same entry point,
// which asks for the same sizes in the same order, gets it back. After the
// first step no system allocation happens. The cache is bounded.
//
//===----------------------------------------------------------------------===//
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

namespace {

constexpr size_t kHeader = 64;                      ///< keeps the payload 64-byte aligned
constexpr size_t kMaxCachedBytes = size_t(1) << 31; ///< 2 GiB held for reuse at most

struct Cache {
  std::mutex mutex;
  std::map<size_t, std::vector<void *>> free; ///< by payload size
  size_t cachedBytes = 0;
};

Cache &cache() {
  static Cache *c = new Cache(); // never destroyed: compiled code may run at exit
  return *c;
}

void *allocate(size_t size) {
  Cache &c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    auto it = c.free.find(size);
    if (it != c.free.end() && !it->second.empty()) {
      void *p = it->second.back();
      it->second.pop_back();
      c.cachedBytes -= size;
      return p;
    }
  }
  auto *block = static_cast<char *>(std::aligned_alloc(kHeader, kHeader + ((size + 63) / 64) * 64));
  if (!block)
    return nullptr;
  *reinterpret_cast<size_t *>(block) = size;
  return block + kHeader;
}

} // namespace

extern "C" void *_mlir_memref_to_llvm_alloc(size_t size) { return allocate(size); }

extern "C" void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size) {
  // Payloads are 64-byte aligned; larger alignments are not requested by tgc.
  return alignment <= kHeader ? allocate(size) : nullptr;
}

extern "C" void _mlir_memref_to_llvm_free(void *ptr) {
  if (!ptr)
    return;
  char *block = static_cast<char *>(ptr) - kHeader;
  size_t size = *reinterpret_cast<size_t *>(block);
  Cache &c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.cachedBytes + size <= kMaxCachedBytes) {
      c.free[size].push_back(ptr);
      c.cachedBytes += size;
      return;
    }
  }
  std::free(block);
}
