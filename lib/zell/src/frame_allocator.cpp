// The default frame allocator: a per-thread cache of free blocks by 64-byte size class, with a
// remote-free stack so that frames freed on another thread go back to the thread that allocated
// them (a spawner on one worker and a runner on another do not drain each other into malloc).
//
// Every block carries a 16-byte header naming its owning cache and size class. A free on the
// owner's thread pushes onto the local list (no atomics); a free elsewhere pushes onto the
// owner's lock-free `remote_` stack (one CAS); the owner takes that whole stack (one exchange)
// when its local list runs dry. When a thread exits, its cache closes `remote_` (later remote
// frees go straight to ::operator delete) and is parked on a global list, never freed, since
// blocks it handed out may still be freed from other threads.
#include "zap/zell/frame_allocator.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>

#include "zap/zync/mutex.hpp"

namespace zap::zell {
namespace {

constexpr std::size_t kClassBytes = 64;
constexpr std::size_t kClassCount = 16;             // payloads up to 1 KiB are cached
constexpr std::uint32_t kMaxBlocksPerClass = 8192;  // beyond this, a local free goes to the heap
constexpr std::size_t kHeaderBytes = 16;            // keeps payloads 16-byte aligned

class ThreadFrameCache;

struct BlockHeader {
  ThreadFrameCache* owner;  // nullptr: a large block, from and back to ::operator new/delete
  std::uint32_t size_class;
  std::uint32_t unused;
};
static_assert(sizeof(BlockHeader) == kHeaderBytes);

struct FreeBlock {
  FreeBlock* next;
};

std::size_t block_bytes(std::size_t size_class) {
  return kHeaderBytes + (size_class + 1) * kClassBytes;
}

class ThreadFrameCache {
 public:
  void* allocate(std::size_t size) {
    const std::size_t c = (size - 1) / kClassBytes;
    if (c >= kClassCount) {
      auto* header = static_cast<BlockHeader*>(::operator new(kHeaderBytes + size));
      header->owner = nullptr;
      header->size_class = 0;
      return header + 1;
    }
    FreeBlock* block = heads_[c];
    if (block == nullptr) {
      take_remote(c);
      block = heads_[c];
    }
    BlockHeader* header;
    if (block != nullptr) {
      heads_[c] = block->next;
      if (counts_[c] > 0) --counts_[c];
      header = reinterpret_cast<BlockHeader*>(block);
    } else {
      header = static_cast<BlockHeader*>(::operator new(block_bytes(c)));
    }
    header->owner = this;
    header->size_class = static_cast<std::uint32_t>(c);
    return header + 1;
  }

  // On this cache's thread.
  void free_local(BlockHeader* header) noexcept {
    const std::size_t c = header->size_class;
    if (counts_[c] >= kMaxBlocksPerClass) return ::operator delete(header, block_bytes(c));
    auto* block = reinterpret_cast<FreeBlock*>(header);
    block->next = heads_[c];
    heads_[c] = block;
    ++counts_[c];
  }

  // From any other thread.
  void free_remote(BlockHeader* header) noexcept {
    const std::size_t c = header->size_class;
    auto* block = reinterpret_cast<FreeBlock*>(header);
    std::atomic<FreeBlock*>& stack = remote_[c];
    // Relaxed: only a first guess; the CAS below validates it.
    FreeBlock* head = stack.load(std::memory_order_relaxed);
    for (;;) {
      if (head == closed()) return ::operator delete(header, block_bytes(c));
      block->next = head;
      // Release: publishes the block's link to the owner's acquire exchange.
      if (stack.compare_exchange_weak(head, block, std::memory_order_release,
                                      std::memory_order_relaxed)) {
        return;
      }
    }
  }

  // Thread exit: give everything back, and refuse remote frees from now on.
  void close() noexcept {
    for (std::size_t c = 0; c < kClassCount; ++c) {
      // Acquire: the blocks pushed before (see free_remote's release).
      release_chain(remote_[c].exchange(closed(), std::memory_order_acquire), c);
      release_chain(heads_[c], c);
      heads_[c] = nullptr;
      counts_[c] = 0;
    }
  }

  ThreadFrameCache* retired_next = nullptr;  // global retired list, under g_retired_lock

 private:
  static FreeBlock* closed() noexcept { return reinterpret_cast<FreeBlock*>(alignof(FreeBlock)); }

  // Precondition: heads_[c] is empty. Takes the blocks other threads freed, without touching
  // them (they are cold in this core's cache); counts_ then undercounts, which only loosens the
  // cache's bound by what this thread itself allocated.
  void take_remote(std::size_t c) noexcept {
    // Relaxed peek: skip the exchange when there is nothing to take.
    if (remote_[c].load(std::memory_order_relaxed) == nullptr) return;
    // Acquire: pairs with free_remote's release CAS; the links are visible.
    heads_[c] = remote_[c].exchange(nullptr, std::memory_order_acquire);
  }

  static void release_chain(FreeBlock* block, std::size_t c) noexcept {
    while (block != nullptr) {
      FreeBlock* next = block->next;
      ::operator delete(static_cast<void*>(block), block_bytes(c));
      block = next;
    }
  }

  std::array<FreeBlock*, kClassCount> heads_{};
  std::array<std::uint32_t, kClassCount> counts_{};
  std::array<std::atomic<FreeBlock*>, kClassCount> remote_{};
};

// Caches of exited threads: kept (reachable) because their blocks may still be freed elsewhere.
zync::Mutex g_retired_lock;
ThreadFrameCache* g_retired = nullptr;  // guarded by g_retired_lock

struct ThreadCacheHolder {
  ThreadFrameCache* cache = new ThreadFrameCache();
  ThreadCacheHolder() = default;
  ThreadCacheHolder(const ThreadCacheHolder&) = delete;
  ThreadCacheHolder& operator=(const ThreadCacheHolder&) = delete;
  ~ThreadCacheHolder() {
    cache->close();
    std::lock_guard guard(g_retired_lock);
    cache->retired_next = g_retired;
    g_retired = cache;
  }
};

// nullptr once this thread's cache is gone (frames freed by later thread-exit destructors).
ThreadFrameCache* thread_cache() noexcept {
  thread_local ThreadCacheHolder holder;
  thread_local bool alive = true;
  struct Guard {
    bool* flag;
    ~Guard() { *flag = false; }
  };
  thread_local Guard guard{&alive};
  return alive ? holder.cache : nullptr;
}

// Relaxed: installed once at start-up, before any frame exists (see the header); the thread that
// later allocates frames was started after, or synchronized with, the installing thread.
std::atomic<FrameAllocator*> g_allocator{nullptr};

}  // namespace

void set_frame_allocator(FrameAllocator* allocator) noexcept {
  g_allocator.store(allocator, std::memory_order_relaxed);  // relaxed: see g_allocator
}

void* allocate_frame(std::size_t size) {
  if (size == 0) size = 1;
  // Relaxed: see g_allocator.
  if (FrameAllocator* custom = g_allocator.load(std::memory_order_relaxed)) {
    return custom->allocate(size);
  }
  if (ThreadFrameCache* cache = thread_cache()) return cache->allocate(size);
  auto* header = static_cast<BlockHeader*>(::operator new(kHeaderBytes + size));
  header->owner = nullptr;
  return header + 1;
}

void deallocate_frame(void* block, std::size_t size) noexcept {
  if (block == nullptr) return;
  if (size == 0) size = 1;
  // Relaxed: see g_allocator.
  if (FrameAllocator* custom = g_allocator.load(std::memory_order_relaxed)) {
    return custom->deallocate(block, size);
  }
  auto* header = static_cast<BlockHeader*>(block) - 1;
  ThreadFrameCache* owner = header->owner;
  if (owner == nullptr) return ::operator delete(header);
  if (owner == thread_cache()) return owner->free_local(header);
  owner->free_remote(header);
}

}  // namespace zap::zell
