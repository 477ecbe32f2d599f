// Operation and Result basics, and the promise that matters most for servers: a steady-state echo
// loop performs zero heap allocations. A counting global operator new (and, without sanitizers,
// malloc) in this binary proves it for both backends.
#include "zap/zio/operation.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "multishot_test_support.hpp"
#include "zio_test_support.hpp"

// These replacements are the global allocator: free() matches their malloc, which GCC cannot see.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<std::size_t> g_allocations{0};  // relaxed: a counter read by the same thread
}

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const auto align = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(align, (n + align - 1) / align * align)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
// The nothrow forms too (BufferRing registration uses them): otherwise they would come from the
// runtime's allocator while their delete comes here.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& tag) noexcept {
  return operator new(n, tag);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

#ifndef ZAP_SANITIZE  // sanitizers own malloc; there operator new alone is counted
extern "C" void* __libc_malloc(std::size_t);
extern "C" void* __libc_calloc(std::size_t, std::size_t);
extern "C" void* __libc_realloc(void*, std::size_t);
extern "C" void* malloc(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
extern "C" void* calloc(std::size_t n, std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(n, size);
}
extern "C" void* realloc(void* p, std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
#endif

namespace zap::zio {
namespace {

using namespace std::chrono_literals;

using EchoClients = std::vector<std::unique_ptr<testing::EchoClient>>;

// 16 clients echoing 64-byte messages (up to 100,000 round trips each), started.
EchoClients start_echo_clients(Loop& loop, const SocketAddress& addr) {
  EchoClients clients;
  for (int i = 0; i < 16; ++i) {
    clients.push_back(std::make_unique<testing::EchoClient>(loop, addr, 100000, 64));
    clients.back()->start();
  }
  return clients;
}

// A run_until predicate: every client has done `rounds` round trips, or failed.
auto every_client_reached(const EchoClients& clients, int rounds) {
  return [&clients, rounds] {
    for (const auto& c : clients)
      if (!c->error && c->rounds_done < rounds) return false;
    return true;
  };
}

TEST(Result, CarriesBytesFdsOrErrors) {
  EXPECT_TRUE(Result(5).ok());
  EXPECT_EQ(Result(5).bytes(), 5u);
  EXPECT_EQ(Result(7).fd(), 7);
  EXPECT_FALSE(Result(-ECONNRESET));
  EXPECT_EQ(Result(-ECONNRESET).error(), std::errc::connection_reset);
  EXPECT_EQ(Result(-ECONNRESET).bytes(), 0u);
  EXPECT_EQ(Result(-EBADF).fd(), -1);
  EXPECT_EQ(&Result(-EBADF).error().category(), &std::system_category());
}

TEST(Operation, IsSmallAndIdleUntilSubmitted) {
  Operation op;
  EXPECT_FALSE(op.busy());
  op.prep_recv(3, nullptr, 10, 0);
  EXPECT_EQ(op.kind(), OpKind::recv);
  EXPECT_EQ(op.fd(), 3);
  EXPECT_EQ(op.len(), 10u);
  op.set_timeout(1s);
  EXPECT_EQ(op.timeout_ns(), 1'000'000'000);
  op.prep_nop();  // prep_* clears the deadline
  EXPECT_EQ(op.timeout_ns(), 0);
  EXPECT_LE(sizeof(Operation), 160u);
}

class AllocationFreeTest : public testing::BackendTest {};
ZIO_INSTANTIATE_BACKENDS(AllocationFreeTest);

TEST_P(AllocationFreeTest, SteadyStateEchoDoesNotAllocate) {
  UniqueFd listener;
  const auto addr = testing::listen_loopback(listener);
  testing::EchoServer server(loop(), listener.get());
  server.start();
  const EchoClients clients = start_echo_clients(loop(), addr);
  auto all_reached = [&](int rounds) { return every_client_reached(clients, rounds); };
  // Warm up: connections accepted, every vector (fd table, timer heap, events) at its size.
  ASSERT_TRUE(testing::run_until(loop(), all_reached(100)));
  {
    const std::size_t start = g_allocations.load(std::memory_order_relaxed);
    ::operator delete(::operator new(16));  // the hook counts (a call: not elidable like `new`)
    ASSERT_GT(g_allocations.load(std::memory_order_relaxed), start);
  }
  const std::size_t before = g_allocations.load(std::memory_order_relaxed);
  ASSERT_TRUE(testing::run_until(loop(), all_reached(1100)));
  const std::size_t after = g_allocations.load(std::memory_order_relaxed);
  for (auto& c : clients) ASSERT_FALSE(c->error) << c->error.message();
  EXPECT_EQ(after - before, 0u) << "allocations during 16,000 echo round trips";
}

// The same with the server on multishot accept + multishot recv over a BufferRing: kernel
// multishot, emulated (io_uring re-arming single-shot ops) and epoll.
class MultishotAllocationFreeTest : public testing::MultishotTest {};
ZIO_INSTANTIATE_FLAVORS(MultishotAllocationFreeTest);

TEST_P(MultishotAllocationFreeTest, SteadyStateMultishotEchoDoesNotAllocate) {
  ASSERT_FALSE(loop().register_buffer_ring(ring(), 1));
  UniqueFd listener;
  const auto addr = testing::listen_loopback(listener);
  testing::MultishotEchoServer server(loop(), listener.get(), ring());
  server.start();
  const EchoClients clients = start_echo_clients(loop(), addr);
  auto all_reached = [&](int rounds) { return every_client_reached(clients, rounds); };
  ASSERT_TRUE(testing::run_until(loop(), all_reached(100)));
  ASSERT_EQ(server.accepted, 16u);
  const std::size_t before = g_allocations.load(std::memory_order_relaxed);
  ASSERT_TRUE(testing::run_until(loop(), all_reached(1100)));
  const std::size_t after = g_allocations.load(std::memory_order_relaxed);
  for (auto& c : clients) ASSERT_FALSE(c->error) << c->error.message();
  EXPECT_TRUE(server.errors.empty()) << server.errors.front().message();
  EXPECT_EQ(after - before, 0u) << "allocations during 16,000 multishot echo round trips";
}

}  // namespace
}  // namespace zap::zio
