#include "load_connection.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include <zap/zell/io.hpp>
#include <zap/zell/sleep.hpp>
#include <zap/zio/socket.hpp>

#include "byte_pattern.hpp"

namespace zap::load {

namespace {

constexpr std::size_t kSendBufferBytes = 256 * 1024;
constexpr std::size_t kRecvBufferBytes = 256 * 1024;
// While no more than this is in flight, a send may wait for room in the socket without reading:
// the replies all fit in the receive buffer, so the server never has to stop reading for us.
// Past it, sends go as far as the socket takes them and replies are read in between (see
// send_reading()): a server that echoes as it reads stops reading while its replies to us wait,
// and a sender that does not read then waits forever (the two socket buffers full both ways).
constexpr std::uint64_t kBlockingSendLimit = 16 * 1024;

void add(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
  counter.fetch_add(n, std::memory_order_relaxed);
}

enum class Failed { kConnect, kRead, kWrite };

// Counts a failure (by kind: a timeout of any step is a timeout) and keeps the first one's text.
void fail(LiveCounters& live, ConnectionReport& report, Failed step, const std::string& what,
          bool timed_out = false) {
  add(live.errors);
  if (timed_out) {
    add(live.timeouts);
  } else {
    add(step == Failed::kConnect ? live.connect_errors
        : step == Failed::kRead  ? live.read_errors
                                 : live.write_errors);
  }
  if (report.first_error.empty()) report.first_error = what;
}

bool timed_out(const zio::Result& r) { return r.raw() == -ETIMEDOUT; }

std::chrono::steady_clock::time_point at(std::int64_t ns) {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns));
}

// Counts a send's bytes; false (after recording why) if it failed.
bool count_send(const zio::Result& r, LiveCounters& live, ConnectionReport& report) {
  if (!r) {
    fail(live, report, Failed::kWrite, "send: " + r.error().message(), timed_out(r));
    return false;
  }
  add(live.bytes_out, r.bytes());
  return true;
}

class Connection {
 public:
  Connection(std::uint32_t index, const RunPlan& plan, LiveCounters& live, ConnectionReport& report)
      : index_(index),
        plan_(plan),
        options_(*plan.options),
        live_(live),
        report_(report),
        size_(options_.size),
        depth_(options_.pipeline),
        batch_cap_(std::clamp<std::size_t>(kSendBufferBytes / size_, 1, depth_)),
        send_cap_(std::min<std::size_t>(batch_cap_ * size_, kSendBufferBytes)),
        recv_cap_(std::clamp<std::size_t>(std::size_t{size_} * depth_, 4096, kRecvBufferBytes)),
        timeout_(options_.timeout_ms),
        // Written before read: not zeroed (pages a connection that never connects never touches).
        send_buffer_(std::make_unique_for_overwrite<std::byte[]>(send_cap_)),
        recv_buffer_(std::make_unique_for_overwrite<std::byte[]>(recv_cap_)),
        sent_at_(depth_),
        // At a fixed rate the connections take turns: connection i's messages are due i / rate
        // after connection 0's, so the run sends one message every 1 / rate, not all connections'
        // at once once per interval.
        phase_ns_(plan.interval_ns * index / std::max<std::uint32_t>(options_.connections, 1)) {}

  zell::Task<void> run() {
    // One connection, or (requests_per_connection) one after another while there is work left.
    // (Not `while (co_await ...)`: GCC 12 miscompiles a co_await in a loop condition here -- the
    // task never ran.)
    const bool churn = options_.requests_per_connection > 0;
    std::uint32_t failures_in_a_row = 0;  // connections that failed without a reply
    bool gave_up = false;                 // the slot ended on a failure, not with the run
    for (;;) {
      const std::uint64_t done_before = done_seq_;
      const Ended ended = co_await run_one_connection();
      gave_up = ended == Ended::kFailed || ended == Ended::kConnectFailed;
      // A failure (a timeout, say) is when the run learned the server was gone: part of its time.
      if (ended == Ended::kFailed || ended == Ended::kConnectFailed) {
        last_activity_ns_ = steady_now_ns();
      }
      if (ended == Ended::kNoMoreWork) break;
      if (ended == Ended::kCarriedItsShare) {
        failures_in_a_row = 0;
        // At a fixed rate the next connection opens when its first message falls due: opened
        // at once, it would sit idle until then (an idle timeout could close it under us), and
        // its connect would be left out of that message's latency.
        co_await wait_until_due();
      } else {
        const bool got_replies = done_seq_ > done_before;
        write_off_in_flight();
        if (!churn) break;  // a persistent connection's failure ends its slot
        failures_in_a_row = got_replies ? 0 : failures_in_a_row + 1;
        // A request-count run has no deadline: a server that never answers must not keep it
        // going forever.
        if (plan_.stop_sending_ns == INT64_MAX && failures_in_a_row >= kMaxFailuresInARow) break;
        // Refused (at connect, or closed on arrival): not straight back in a busy loop.
        if (!got_replies) {
          co_await zell::sleep_until(
              at(std::min(steady_now_ns() + kRetryPauseNs, plan_.stop_sending_ns)));
        }
      }
      // (Not another connection for nothing: the time is up, or the request quota is spent.)
      if (steady_now_ns() >= plan_.stop_sending_ns || stopped()) break;
      if (quota_spent()) break;
    }
    // The run's time ends with the last reply (or, raw, the last send), not with the wait for a
    // sink to close or the main thread noticing. A slot that ran to the end of a duration run
    // lasted that long (or until an interrupt) even if its last reply came earlier (a low rate);
    // one that failed for good ended then.
    // A slot that never had anything to do (a request count the others used up) ended nothing.
    report_.finished_ns = last_activity_ns_ != 0 ? last_activity_ns_ : plan_.start_ns;
    if (!gave_up && plan_.stop_sending_ns != INT64_MAX) {
      report_.finished_ns =
          std::max(report_.finished_ns, std::min(plan_.stop_sending_ns, steady_now_ns()));
    }
    count_unsent();
  }

 private:
  static constexpr std::int64_t kRetryPauseNs = 10'000'000;
  static constexpr std::size_t kFreshClockAfterBytes = 4096;
  static constexpr std::uint32_t kMaxFailuresInARow = 100;
  // How long a full socket is waited on before what came back is looked at again: at first, and
  // at most (the wait doubles while neither side moves).
  static constexpr std::chrono::milliseconds kRoomWait{2};
  static constexpr std::chrono::milliseconds kMaxRoomWait{64};
  // A connection waiting for its next due time looks for an interrupt (SIGINT) this often.
  static constexpr std::int64_t kStopCheckNs = 100'000'000;
  // Raw mode's end: how long a peer may stay silent before it is taken to have nothing more.
  static constexpr std::int64_t kDrainQuietNs = 500'000'000;
  // Fixed rate: messages due this close to the end that did not go are not counted unsent (a
  // timer's lateness, not the server's).
  static constexpr double kUnsentSlackNs = 10'000'000;

  enum class Ended {
    kCarriedItsShare,  // requests_per_connection replies came back: open the next connection
    kNoMoreWork,       // the time is up or the quota spent, and every reply came back
    kConnectFailed,    // no connection (counted as an error)
    kFailed,           // the connection broke (counted as an error)
  };

  zell::Task<Ended> run_one_connection() {
    std::error_code ec;
    zio::UniqueFd socket = zio::open_socket(options_.address.family(), SOCK_STREAM, ec);
    if (ec) {
      fail(live_, report_, Failed::kConnect, "socket: " + ec.message());
      co_return Ended::kConnectFailed;
    }
    fd_ = socket.get();
    const Ended ended = co_await connect_and_run();
    // Through the loop, not ::close: zio's epoll backend keeps per-loop state for each fd number.
    co_await zell::close(socket.release());
    co_return ended;
  }

  // After a broken connection: its messages in flight will never come back (they were counted
  // as one error). The next connection's byte stream starts at the next message.
  void write_off_in_flight() {
    add(live_.requests_lost, next_seq_ - done_seq_);
    if (message_bad_) add(live_.verify_failures);  // wrong bytes came before the failure
    done_seq_ = next_seq_;
    recv_offset_ = next_seq_ * size_;
    message_bad_ = false;
  }

  zell::Task<Ended> connect_and_run() {
    connection_began_ns_ = steady_now_ns();
    zio::Result connected = co_await zell::connect(fd_, options_.address, timeout_);
    if (!connected) {
      fail(live_, report_, Failed::kConnect, "connect: " + connected.error().message(),
           timed_out(connected));
      co_return Ended::kConnectFailed;
    }
    add(live_.connects);
    (void)zio::set_nodelay(fd_, true);
    if (options_.mode == Mode::kRaw) {
      peer_closed_ = false;
      co_await send_raw();
      co_return Ended::kNoMoreWork;
    }
    const std::uint32_t per = options_.requests_per_connection;
    connection_first_seq_ = per == 0 ? UINT64_MAX : next_seq_;
    connection_end_seq_ = per == 0 ? UINT64_MAX : next_seq_ + per;
    const Ended ended = co_await echo_loop();
    if (ended == Ended::kFailed || !nothing_more_came()) co_return Ended::kFailed;
    co_return ended == Ended::kCarriedItsShare && !sending_ ? Ended::kNoMoreWork : ended;
  }

  // Every reply is in: an echo server has nothing more to send. Bytes waiting past the last
  // reply (a message echoed twice, a byte appended) were never asked for -- receive() reads no
  // more than is in flight, so they would go unseen. (Only what has arrived by now is seen: a
  // wait for more would cost every connection's close a round trip.) False (recorded) if any.
  bool nothing_more_came() {
    const ssize_t n = ::recv(fd_, recv_buffer_.get(), recv_cap_, MSG_DONTWAIT);
    if (n <= 0) return true;  // EAGAIN, the server's FIN, or a reset: nothing unasked for
    add(live_.bytes_in, static_cast<std::uint64_t>(n));
    fail(live_, report_, Failed::kRead,
         "the server sent " + std::to_string(n) + " byte(s) more than it was sent");
    return false;
  }

  // The time message `seq` may go: its intended time at a fixed rate, else now.
  std::int64_t intended(std::uint64_t seq, std::int64_t now) const {
    if (plan_.interval_ns <= 0) return now;
    return plan_.start_ns +
           static_cast<std::int64_t>(phase_ns_ + static_cast<double>(seq) * plan_.interval_ns);
  }

  // At a fixed rate, the messages due before the end that never went: a server that stalls holds
  // the connection's next message back (its pipeline is full), and the latency of the ones that
  // did go shows only part of that -- the rest would vanish from the report. Not after an
  // interrupt, which stops sending on purpose.
  void count_unsent() {
    if (plan_.interval_ns <= 0 || plan_.stop_sending_ns == INT64_MAX || stopped()) return;
    // Message k is due at start + phase + k * interval: those due before the end, less the
    // slack, are k = 0 .. floor((window - 1 ns) / interval).
    const double window =
        static_cast<double>(plan_.stop_sending_ns - plan_.start_ns) - phase_ns_ - kUnsentSlackNs;
    if (window <= 0) return;
    const auto due = static_cast<std::uint64_t>(std::floor((window - 1) / plan_.interval_ns)) + 1;
    if (due > next_seq_) add(live_.requests_unsent, due - next_seq_);
  }

  // Until the next message is due (or the end), but no longer than kStopCheckNs: at a low rate
  // a due time may be minutes away, and an interrupt must not wait for it.
  // (The time is computed before the co_await: GCC 12 miscompiles an initializer_list in one.)
  zell::Task<void> sleep_until_due(std::int64_t now) {
    const std::int64_t until =
        std::min(std::min(intended(next_seq_, now), plan_.stop_sending_ns), now + kStopCheckNs);
    co_await zell::sleep_until(at(until));
  }

  // Relaxed: an interrupt only has to be seen soon, and it orders nothing.
  bool stopped() const {
    return plan_.stop != nullptr && plan_.stop->load(std::memory_order_relaxed);
  }

  // A request-count run whose requests are all claimed (relaxed, as claim()).
  bool quota_spent() const {
    return plan_.quota != nullptr && plan_.quota->load(std::memory_order_relaxed) <= 0;
  }

  // No more messages go: what is in flight has one timeout from now to come back, however
  // steadily it trickles in (the run ends at most a timeout past its duration).
  void stop_sending(std::int64_t now) {
    if (!sending_) return;
    sending_ = false;
    drain_deadline_ns_ = now + timeout_ns();
  }

  // Sending is over once the time is up, an interrupt came or the request count is used up.
  void check_sending(std::int64_t now) {
    if (now >= plan_.stop_sending_ns || stopped() || quota_spent()) stop_sending(now);
  }

  // Fixed rate: sleeps until the next message is due (in steps, see sleep_until_due()), or
  // sending is over.
  zell::Task<void> wait_until_due() {
    if (plan_.interval_ns <= 0) co_return;
    for (;;) {
      const std::int64_t now = steady_now_ns();
      check_sending(now);
      if (!sending_ || intended(next_seq_, now) <= now) co_return;
      co_await sleep_until_due(now);
    }
  }

  // When the reply awaited now must have come: a timeout after the last whole reply (or the send
  // that found nothing in flight), and no later than a timeout after sending stopped.
  std::int64_t reply_deadline() const {
    return std::min(progress_ns_ + timeout_ns(), drain_deadline_ns_);
  }

  bool claim(std::int64_t now) {
    if (now >= plan_.stop_sending_ns || stopped()) return false;
    // Relaxed: the quota only has to be handed out once per request, in any order.
    return plan_.quota == nullptr || plan_.quota->fetch_sub(1, std::memory_order_relaxed) > 0;
  }

  // Fills the send buffer with the messages that may go now; returns how many.
  std::uint32_t fill_batch(std::int64_t now) {
    std::uint32_t batch = 0;
    while (sending_ && (next_seq_ - done_seq_) + batch < depth_ && batch < batch_cap_ &&
           next_seq_ + batch < connection_end_seq_) {
      const std::uint64_t seq = next_seq_ + batch;
      const std::int64_t when = intended(seq, now);
      if (when > now) break;
      if (!claim(now)) {
        stop_sending(now);
        break;
      }
      // In a closed loop a connection's first request waited for its connect too (connection
      // churn runs); at a fixed rate its due time already charges a connect that ran late.
      sent_at_[seq % depth_] =
          seq == connection_first_seq_ && plan_.interval_ns <= 0 ? connection_began_ns_ : when;
      ++batch;
    }
    return batch;
  }

  // kCarriedItsShare if the connection carried its share of requests and every reply came back:
  // the caller opens the next one (if still sending).
  //
  // The load generator must cost less per request than the servers it measures: the clock is
  // read once per reply (receive() stamps the replies, and that stamp is when the next message
  // goes) or when the pipeline has room after a send, and a send that takes the whole batch at
  // once -- nearly every one -- needs no coroutine of its own.
  zell::Task<Ended> echo_loop() {
    std::int64_t now = steady_now_ns();
    for (;;) {
      if (const std::uint32_t batch = fill_batch(now); batch > 0) {
        if (next_seq_ == done_seq_) progress_ns_ = now;  // replies awaited from now on
        // (Counted sent before the send: if it fails, write_off_in_flight() skips them all.)
        const std::uint64_t offset = next_seq_ * size_;
        next_seq_ += batch;
        const std::size_t len = std::size_t{batch} * size_;
        bool waited = true;  // the send may have taken a while: `now` is stale
        if (len <= send_cap_ && in_flight_bytes() <= kBlockingSendLimit) {
          fill_pattern(index_, offset, send_buffer_.get(), len);
          const zio::Result sent = co_await zell::send(fd_, send_buffer_.get(), len, timeout_);
          if (!count_send(sent, live_, report_)) co_return Ended::kFailed;
          waited = sent.bytes() < len;
          if (waited && !co_await send_reading(offset + sent.bytes(), len - sent.bytes())) {
            co_return Ended::kFailed;
          }
        } else if (!co_await send_reading(offset, len)) {
          co_return Ended::kFailed;
        }
        // A full pipeline waits for a reply whatever the time: no clock read for it, unless
        // the send waited (the reply timeout is measured from `now`).
        if (waited || next_seq_ - done_seq_ < depth_) now = steady_now_ns();
        continue;
      }
      if (next_seq_ == done_seq_) {
        if (!sending_) co_return Ended::kNoMoreWork;
        if (done_seq_ == connection_end_seq_) co_return Ended::kCarriedItsShare;
        // Fixed rate and nothing in flight: sleep until the next message is due.
        check_sending(now);
        if (!sending_) continue;
        co_await sleep_until_due(now);
        now = steady_now_ns();
        check_sending(now);
        continue;
      }
      // At a fixed rate with room in the pipeline, the next message may fall due before a reply
      // comes: wait for replies only until then.
      const bool room = plan_.interval_ns > 0 && sending_ && next_seq_ - done_seq_ < depth_ &&
                        next_seq_ < connection_end_seq_;
      const std::int64_t until =
          room ? std::min(std::min(intended(next_seq_, now), plan_.stop_sending_ns),
                          now + kStopCheckNs)
               : INT64_MAX;
      const Received got = co_await receive(now, until);
      if (got == Received::kFailed) co_return Ended::kFailed;
      now = got == Received::kSome ? received_ns_ : steady_now_ns();
      check_sending(now);
    }
  }

  std::uint64_t in_flight_bytes() const { return next_seq_ * size_ - recv_offset_; }

  // Sends [offset, offset + len) of this connection's byte stream, a send buffer's worth at a
  // time, never waiting on a full socket without also reading: an echo server that cannot send
  // its replies to us stops reading, so whenever the socket takes no more, what has come back is
  // taken first (echo: checked as always; raw: counted and dropped), then room is waited for a
  // few milliseconds at a time -- what was read may be all the server needed, or it may answer
  // more meanwhile. (zio waits for one direction per operation; this alternates between them.)
  // False (recorded) if the connection failed, or neither happened for the timeout.
  zell::Task<bool> send_reading(std::uint64_t offset, std::uint64_t len) {
    std::int64_t stuck_since = 0;  // when a full socket last stopped us, with nothing to read
    std::chrono::milliseconds room_wait = kRoomWait;  // doubles while nothing moves
    while (len > 0) {
      const auto chunk = static_cast<std::size_t>(std::min<std::uint64_t>(len, send_cap_));
      fill_pattern(index_, offset, send_buffer_.get(), chunk);
      std::size_t done = 0;
      while (done < chunk) {
        const ssize_t n =
            ::send(fd_, send_buffer_.get() + done, chunk - done, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
          add(live_.bytes_out, static_cast<std::uint64_t>(n));
          done += static_cast<std::size_t>(n);
          stuck_since = 0;
          room_wait = kRoomWait;
          continue;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN) {
          fail(live_, report_, Failed::kWrite, std::string("send: ") + std::strerror(errno));
          co_return false;
        }
        const int took = take_ready_replies();
        if (took < 0) co_return false;
        if (took > 0) {  // (the server may read again now)
          stuck_since = 0;
          room_wait = kRoomWait;
          continue;
        }
        const std::int64_t now = steady_now_ns();
        if (stuck_since == 0) stuck_since = now;
        if (now - stuck_since >= timeout_ns()) {
          fail(live_, report_, Failed::kWrite, "send: the peer took nothing for the timeout", true);
          co_return false;
        }
        // A peer that takes a byte now and then never times out the send above: a message it
        // has not taken a timeout past the end of the run is given up.
        if (plan_.stop_sending_ns != INT64_MAX && now >= plan_.stop_sending_ns + timeout_ns()) {
          fail(live_, report_, Failed::kWrite,
               "send: the peer had not taken the message a timeout past the end of the run", true);
          co_return false;
        }
        const zio::Result room = co_await zell::poll(fd_, POLLOUT, room_wait);
        if (!room && room.raw() != -ETIMEDOUT) {
          fail(live_, report_, Failed::kWrite, "send: " + room.error().message());
          co_return false;
        }
        // A server that is merely slow: look less often (thousands of stuck connections must
        // not take the CPU the server under test shares).
        if (!room) room_wait = std::min(room_wait * 2, kMaxRoomWait);
      }
      offset += chunk;
      len -= chunk;
    }
    co_return true;
  }

  std::int64_t timeout_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(timeout_).count();
  }

  // What has come back and can be read without waiting, taken (see send_reading()): 1 if
  // anything was, 0 if nothing, -1 (recorded) if the connection failed.
  int take_ready_replies() {
    const bool raw = options_.mode == Mode::kRaw;
    int took = 0;
    for (;;) {
      if (raw && peer_closed_) return took;
      const std::size_t want =
          raw ? recv_cap_
              : static_cast<std::size_t>(std::min<std::uint64_t>(recv_cap_, in_flight_bytes()));
      if (want == 0) return took;
      const ssize_t n = ::recv(fd_, recv_buffer_.get(), want, MSG_DONTWAIT);
      if (n > 0) {
        const std::int64_t now = steady_now_ns();
        add(live_.bytes_in, static_cast<std::uint64_t>(n));
        if (!raw) take_replies(static_cast<std::size_t>(n), now);
        took = 1;
        continue;
      }
      if (n == 0) {
        // Raw: the peer only half-closed (it sends no more); it may still take what we send --
        // a send that fails says if it does not.
        if (raw) {
          peer_closed_ = true;
          return took;
        }
        fail(live_, report_, Failed::kRead,
             "server closed the connection with replies outstanding");
        return -1;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return took;
      fail(live_, report_, Failed::kRead, std::string("recv: ") + std::strerror(errno));
      return -1;
    }
  }

  enum class Received { kSome, kNotYet, kFailed };

  // Receives at most what is in flight, checks it byte by byte, completes whole messages. `now`:
  // the caller's last clock read. With `until_ns`, waits no later than then (kNotYet: a message
  // falls due). The reply timeout runs from the last whole reply (see reply_deadline()), not
  // from the last byte, however the waits are cut: a server that trickles a byte at a time
  // cannot hold a connection past it.
  zell::Task<Received> receive(std::int64_t now, std::int64_t until_ns = INT64_MAX) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(recv_cap_, in_flight_bytes()));
    const std::int64_t timeout_at = reply_deadline();
    if (now >= timeout_at) {  // no whole reply for the timeout, over several waits
      fail(live_, report_, Failed::kRead, "recv: no reply for the timeout", true);
      co_return Received::kFailed;
    }
    const bool cut = until_ns < timeout_at;
    // (At least 1 ns: a zero timeout means none at all.)
    const std::chrono::nanoseconds wait(
        std::max<std::int64_t>(1, std::min(until_ns, timeout_at) - now));
    zio::Result r = co_await zell::recv(fd_, recv_buffer_.get(), want, wait);
    if (cut && r.raw() == -ETIMEDOUT) co_return Received::kNotYet;
    if (!r) {
      fail(live_, report_, Failed::kRead, "recv: " + r.error().message(), timed_out(r));
      co_return Received::kFailed;
    }
    if (r.bytes() == 0) {
      fail(live_, report_, Failed::kRead, "server closed the connection with replies outstanding");
      co_return Received::kFailed;
    }
    const std::int64_t arrived = steady_now_ns();
    received_ns_ = arrived;
    add(live_.bytes_in, r.bytes());
    take_replies(r.bytes(), arrived);
    // The next message goes after this check of every byte: past a few KiB it takes long enough
    // to count (microseconds), and a send time taken before it would add it to the next
    // message's latency. Small replies keep the one clock read.
    if (r.bytes() > kFreshClockAfterBytes) received_ns_ = steady_now_ns();
    co_return Received::kSome;
  }

  // Checks `n` bytes received into recv_buffer_ at `now` against the pattern, and completes the
  // messages they end.
  void take_replies(std::size_t n, std::int64_t now) {
    last_activity_ns_ = now;
    std::size_t pos = 0;
    while (pos < n) {
      const std::uint64_t message_end = (done_seq_ + 1) * size_;
      const auto piece =
          static_cast<std::size_t>(std::min<std::uint64_t>(n - pos, message_end - recv_offset_));
      if (count_mismatches(index_, recv_offset_, recv_buffer_.get() + pos, piece) != 0) {
        message_bad_ = true;
      }
      pos += piece;
      recv_offset_ += piece;
      if (recv_offset_ == message_end) {
        report_.latency.record(static_cast<std::uint64_t>(
            std::max<std::int64_t>(0, now - sent_at_[done_seq_ % depth_])));
        add(live_.requests);
        if (message_bad_) add(live_.verify_failures);
        message_bad_ = false;
        ++done_seq_;
        progress_ns_ = now;  // a whole reply: the timeout starts over
      }
    }
  }

  // Raw TCP: messages go out back to back (at the rate, if one is set); what comes back is
  // dropped.
  zell::Task<void> send_raw() {
    for (;;) {
      const std::int64_t now = steady_now_ns();
      std::uint32_t batch = 0;
      while (sending_ && batch < batch_cap_) {
        const std::uint64_t seq = next_seq_ + batch;
        if (intended(seq, now) > now) break;
        if (!claim(now)) {
          stop_sending(now);
          break;
        }
        ++batch;
      }
      if (batch > 0) {
        if (!co_await send_reading(next_seq_ * size_, std::uint64_t{batch} * size_)) co_return;
        next_seq_ += batch;
        add(live_.requests, batch);
        last_activity_ns_ = steady_now_ns();
        continue;
      }
      if (!sending_) co_return co_await finish_raw();
      check_sending(now);
      if (!sending_) continue;
      co_await sleep_until_due(now);
      check_sending(steady_now_ns());
    }
  }

  // A peer that answers (an echo server) may still be sending when the last message has gone,
  // and closing a socket with unread bytes makes the kernel send RST: the peer would lose
  // whatever it had not read yet of what we reported as sent. So half-close and drop what comes
  // back until the peer closes -- or it goes quiet for kDrainQuietNs (a sink that reads and never
  // closes: nothing is unread, the close is clean), the timeout passes in all (a peer that never
  // stops talking), or an interrupt comes.
  zell::Task<void> finish_raw() {
    if (!co_await zell::shutdown(fd_, SHUT_WR)) co_return;
    const std::int64_t give_up_ns = steady_now_ns() + timeout_ns();
    const std::int64_t quiet_ns = std::min(kDrainQuietNs, timeout_ns());
    std::int64_t last_heard_ns = steady_now_ns();
    for (;;) {
      const std::int64_t now = steady_now_ns();
      const std::int64_t until = std::min(give_up_ns, last_heard_ns + quiet_ns);
      if (now >= until || stopped()) co_return;
      const std::chrono::nanoseconds wait(std::min(until - now, kStopCheckNs));
      const zio::Result r = co_await zell::recv(fd_, recv_buffer_.get(), recv_cap_, wait);
      if (r.raw() == -ETIMEDOUT) continue;
      if (!r || r.bytes() == 0) co_return;
      add(live_.bytes_in, r.bytes());
      last_heard_ns = steady_now_ns();
    }
  }

  const std::uint32_t index_;
  const RunPlan& plan_;
  const LoadOptions& options_;
  LiveCounters& live_;
  ConnectionReport& report_;
  const std::uint64_t size_;
  const std::uint32_t depth_;
  const std::size_t batch_cap_;
  const std::size_t send_cap_;
  const std::size_t recv_cap_;
  const std::chrono::milliseconds timeout_;
  std::unique_ptr<std::byte[]> send_buffer_;
  std::unique_ptr<std::byte[]> recv_buffer_;
  std::vector<std::int64_t> sent_at_;  // by seq % depth: when the in-flight message was due
  const double phase_ns_;              // fixed rate: this connection's offset in the schedule
  int fd_ = -1;
  bool sending_ = true;
  bool peer_closed_ = false;  // raw: the peer's FIN came (it may still read)
  bool message_bad_ = false;
  std::uint64_t next_seq_ = 0;     // messages sent
  std::uint64_t done_seq_ = 0;     // messages fully received
  std::uint64_t recv_offset_ = 0;  // bytes received
  // requests_per_connection runs: this connection's first message, the next one's first, and
  // when this one's connect began.
  std::uint64_t connection_first_seq_ = UINT64_MAX;
  std::uint64_t connection_end_seq_ = UINT64_MAX;
  std::int64_t connection_began_ns_ = 0;
  std::int64_t received_ns_ = 0;       // when the last receive() completed
  std::int64_t last_activity_ns_ = 0;  // the last reply (raw: the last send); 0: none yet
  std::int64_t progress_ns_ = 0;       // the last whole reply, or a send with nothing in flight
  std::int64_t drain_deadline_ns_ = INT64_MAX;  // sending stopped: replies in flight due by then
};

}  // namespace

std::int64_t steady_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

zell::Task<void> run_connection(std::uint32_t index, const RunPlan& plan, LiveCounters& live,
                                ConnectionReport& report) {
  Connection connection(index, plan, live, report);
  co_await connection.run();
}

}  // namespace zap::load
