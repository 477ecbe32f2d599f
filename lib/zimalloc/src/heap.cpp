// Heaps: the process set-up, the lazily created heap of each thread (abandoned at thread exit),
// explicit heaps (created and destroyed with everything in them; orphaned -- their segments
// abandoned -- if their thread exits first), collection, and fork.
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <new>

#include "internal.hpp"
#include "zap/zimalloc/zimalloc.hpp"
#include "zap/zync/mutex.hpp"
#include "zap/zync/spin_hint.hpp"

namespace zap::zimalloc::detail {

constinit Page g_empty_page{};
constinit HeapCore g_empty_heap{};
Keys g_keys{0, 0};
std::atomic<std::uint32_t> g_purge_delay_ms{static_cast<std::uint32_t>(kDefaultPurgeDelay.count())};
std::atomic<std::int64_t> g_allocated{0};
std::atomic<std::int64_t> g_peak_allocated{0};

namespace {

// 0: nothing yet; 1: being set up by some thread; 2: done. acquire/release: the set-up's writes
// (keys, the pthread key) happen-before any use by a thread that sees 2.
std::atomic<int> g_core_state{0};
std::atomic<int> g_register_state{0};
pthread_key_t g_thread_key;

// Heap structs come from a pool of OS chunks (never from malloc: we are malloc). The registry
// of live heaps lets a forked child disown the heaps of threads that did not survive the fork.
zync::Mutex g_pool_mutex;
HeapCore* g_pool_free = nullptr;
HeapCore* g_registry = nullptr;
constexpr std::size_t kPoolChunk = 64 << 10;

HeapCore* pool_alloc() noexcept {
  std::lock_guard guard(g_pool_mutex);
  if (g_pool_free == nullptr) {
    auto* chunk = static_cast<std::uint8_t*>(os_alloc_aligned(kPoolChunk, 0, 0));
    if (chunk == nullptr) return nullptr;
    constexpr std::size_t kSlot = (sizeof(HeapCore) + 63) / 64 * 64;
    for (std::size_t off = 0; off + kSlot <= kPoolChunk; off += kSlot) {
      auto* slot = reinterpret_cast<HeapCore*>(chunk + off);
      slot->pool_next_ = g_pool_free;
      g_pool_free = slot;
    }
  }
  HeapCore* slot = g_pool_free;
  g_pool_free = slot->pool_next_;
  auto* heap = new (slot) HeapCore();
  heap->registry_next_ = g_registry;
  if (g_registry != nullptr) g_registry->registry_prev_ = heap;
  g_registry = heap;
  return heap;
}

void pool_free(HeapCore* heap) noexcept {
  std::lock_guard guard(g_pool_mutex);
  if (heap->registry_prev_ != nullptr) {
    heap->registry_prev_->registry_next_ = heap->registry_next_;
  } else {
    g_registry = heap->registry_next_;
  }
  if (heap->registry_next_ != nullptr) heap->registry_next_->registry_prev_ = heap->registry_prev_;
  heap->~HeapCore();
  heap->pool_next_ = g_pool_free;
  g_pool_free = heap;
}

void fork_prepare() noexcept {
  g_pool_mutex.lock();
  abandoned_lock();
  huge_lock();
}

void fork_parent() noexcept {
  huge_unlock();
  abandoned_unlock();
  g_pool_mutex.unlock();
}

// In the child only the forking thread lives on. Segments of the other threads' heaps keep
// their blocks (the child may still free them: those frees take the atomic path), but nobody
// may ever take them for its own: a new thread could get a dead thread's id.
void fork_child() noexcept {
  const std::uintptr_t me = thread_id();
  for (HeapCore* heap = g_registry; heap != nullptr; heap = heap->registry_next_) {
    if (heap->thread_id_ == me) continue;
    heap->thread_id_ = 0;
    for (Segment* s = heap->segments_; s != nullptr; s = s->next_) {
      s->thread_id_.store(0, std::memory_order_relaxed);  // relaxed: single thread now
    }
  }
  huge_unlock();
  abandoned_unlock();
  g_pool_mutex.unlock();
}

// Hands the segments of `heap` (and its huge blocks) over to the process: its live blocks
// stay valid and countable, and other threads take the segments over.
void heap_abandon_all(HeapCore* heap) noexcept {
  heap_collect(heap, false);
  heap_tick(heap, true);
  heap_sync_stats(heap);  // its allocated bytes are in g_allocated: they stay there
  huge_disown(heap, false);
  heap_abandon_segments(heap);
}

void heap_attach(HeapCore* owner, HeapCore* heap) noexcept {
  heap->owner_ = owner;
  heap->owned_prev_ = nullptr;
  heap->owned_next_ = owner->owned_first_;
  if (owner->owned_first_ != nullptr) owner->owned_first_->owned_prev_ = heap;
  owner->owned_first_ = heap;
}

void heap_detach(HeapCore* heap) noexcept {
  HeapCore* owner = heap->owner_;
  if (owner == nullptr) return;
  if (heap->owned_prev_ != nullptr) {
    heap->owned_prev_->owned_next_ = heap->owned_next_;
  } else {
    owner->owned_first_ = heap->owned_next_;
  }
  if (heap->owned_next_ != nullptr) heap->owned_next_->owned_prev_ = heap->owned_prev_;
  heap->owner_ = heap->owned_next_ = heap->owned_prev_ = nullptr;
}

// The thread of a zimalloc::Heap exits while the Heap lives: its segments are abandoned (not
// released: they hold live blocks, which any thread may still use and free), and the core is
// left empty, with no owner, for a later adopter (heap_prepare) or ~Heap on any thread.
void heap_orphan(HeapCore* heap) noexcept {
  heap_detach(heap);
  heap_abandon_all(heap);
  for (Page*& slot : heap->direct_) slot = &g_empty_page;  // every malloc takes the slow path
  for (PageQueue& queue : heap->queues_) queue.first_ = queue.last_ = nullptr;
  heap->full_pages_ = 0;
  heap->retired_min_ = kBinCount;
  heap->retired_max_ = 0;
  // The bytes of its blocks now belong to the abandoned segments (still in g_allocated; a
  // reclaiming heap takes them into its own count): ~Heap must not subtract them again.
  heap->allocated_ = heap->synced_allocated_ = 0;
  heap->thread_id_ = 0;
  heap->orphaned_ = true;
}

// pthread key destructor: the thread is exiting. (C++ thread_local objects, a thread_local
// Heap among them, are destroyed before the pthread key destructors run.)
void thread_done(void* value) noexcept {
  auto* heap = static_cast<HeapCore*>(value);
  if (tl_heap == heap) tl_heap = &g_empty_heap;
  while (HeapCore* owned = heap->owned_first_) heap_orphan(owned);
  heap_abandon_all(heap);
  pool_free(heap);
}

void process_register() noexcept {
  // acquire: pairs with the release store of 2 below; g_thread_key is then valid here.
  if (g_register_state.load(std::memory_order_acquire) == 2) return;
  int expected = 0;
  // acquire on success: nothing to see yet, but keeps the pattern symmetric with the waiters.
  if (g_register_state.compare_exchange_strong(expected, 1, std::memory_order_acquire)) {
    pthread_key_create(&g_thread_key, [](void* value) { thread_done(value); });
    pthread_atfork(&fork_prepare, &fork_parent, &fork_child);
    g_register_state.store(2, std::memory_order_release);  // publishes g_thread_key
    return;
  }
  // acquire: as above. Only another thread's set-up can be in progress here (a recursive call
  // cannot happen: tl_heap is set before this runs), and it is a few syscalls long.
  while (g_register_state.load(std::memory_order_acquire) != 2) zync::spin_hint();
}

}  // namespace

void process_init_core() noexcept {
  // acquire: pairs with the release store of 2 below, so g_keys is seen as set.
  if (g_core_state.load(std::memory_order_acquire) == 2) return;
  int expected = 0;
  // acquire on success: symmetric with the waiters; nothing published yet.
  if (g_core_state.compare_exchange_strong(expected, 1, std::memory_order_acquire)) {
    if constexpr (kSecure) g_keys = Keys{os_random(), os_random() | 1};
    g_core_state.store(2, std::memory_order_release);  // publishes g_keys
    return;
  }
  while (g_core_state.load(std::memory_order_acquire) != 2) zync::spin_hint();  // acquire: as above
}

[[noreturn]] void report_error(const char* what, const void* p) noexcept {
  char text[160];
  std::size_t n = 0;
  auto put = [&](const char* s) {
    while (*s != '\0' && n < sizeof text - 1) text[n++] = *s++;
  };
  put("zimalloc: error: ");
  put(what);
  put(" (pointer 0x");
  const auto value = reinterpret_cast<std::uintptr_t>(p);
  for (int shift = 60; shift >= 0; shift -= 4) {
    if (n < sizeof text - 1) text[n++] = "0123456789abcdef"[(value >> shift) & 15];
  }
  put(")\n");
  (void)!write(STDERR_FILENO, text, n);
  abort();
}

HeapCore* heap_create() noexcept {
  process_init_core();
  HeapCore* heap = pool_alloc();
  if (heap == nullptr) return nullptr;
  heap->thread_id_ = thread_id();
  heap->numa_node_ = os_current_node();
  heap->now_ms_ = heap->next_tick_ms_ = os_now_ms();
  for (std::size_t bin = 0; bin < kBinCount; ++bin) {
    heap->queues_[bin].block_size_ = bin_block_size(bin);
  }
  return heap;
}

HeapCore* thread_heap_init() noexcept {
  HeapCore* heap = heap_create();
  if (heap == nullptr) return nullptr;
  heap->is_thread_default_ = true;
  tl_heap = heap;  // before anything below may call malloc (pthread_atfork, setspecific)
  process_register();
  pthread_setspecific(g_thread_key, heap);
  return heap;
}

HeapCore* heap_create_owned() noexcept {
  // The thread's own heap is what its exit is told about (pthread key): make sure it exists.
  HeapCore* owner = tl_heap;
  if (owner == &g_empty_heap && (owner = thread_heap_init()) == nullptr) return nullptr;
  HeapCore* heap = heap_create();
  if (heap != nullptr) heap_attach(owner, heap);
  return heap;
}

HeapCore* heap_prepare(HeapCore* heap) noexcept {
  if (heap == &g_empty_heap) {
    heap = thread_heap_init();
  } else if (heap->orphaned_) {
    // Adopted: from now on the Heap belongs to this thread (and is orphaned again at its exit).
    HeapCore* owner = tl_heap;
    if (owner == &g_empty_heap) owner = thread_heap_init();
    if (owner == nullptr) {
      heap = nullptr;
    } else {
      heap->orphaned_ = false;
      heap->thread_id_ = thread_id();
      heap->numa_node_ = os_current_node();
      heap->now_ms_ = heap->next_tick_ms_ = os_now_ms();
      heap_attach(owner, heap);
    }
  }
  if (heap == nullptr) errno = ENOMEM;
  return heap;
}

void heap_destroy(HeapCore* heap) noexcept {
  heap_detach(heap);
  huge_disown(heap, true);
  heap_release_segments(heap);
  g_allocated.fetch_sub(heap->synced_allocated_, std::memory_order_relaxed);  // statistics
  pool_free(heap);
}

void heap_collect(HeapCore* heap, bool force) noexcept {
  heap_process_notifications(heap);
  for (std::size_t index = 0; index < kQueueCount; ++index) {
    for (Page* page = heap->queues_[index].first_; page != nullptr;) {
      Page* next = page->next_;
      page_collect(page);
      if (page->used_ == 0) {
        page_queue_remove(heap, page);
        page->in_full_ = false;
        if (index == kBinFull) --heap->full_pages_;
        segment_page_free(heap, page);
      } else if (page->in_full_ && page->free_ != nullptr) {
        page_unfull(heap, page);
      }
      page = next;
    }
  }
  if (force && heap->is_thread_default_) heap_reclaim_abandoned(heap, true);
  heap_tick(heap, force);
}

}  // namespace zap::zimalloc::detail
